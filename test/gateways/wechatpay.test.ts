import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayDown } from "../../src/money/gateways/types.js";
import { readWechatNotification, WechatPayGateway, type WechatPaySettings } from "../../src/money/gateways/wechatpay.js";
import { outboundPolicy } from "../../src/platform/outbound.js";
import { WechatPayEmulator } from "./wechatpay-emulator.js";

describe("WeChat Pay v3 gateway against the API emulator", () => {
  let emu: WechatPayEmulator;
  let settings: WechatPaySettings;
  let gw: WechatPayGateway;
  const policy = outboundPolicy("127.0.0.1");
  beforeAll(async () => {
    emu = await new WechatPayEmulator().start();
    settings = {
      mchId: emu.mchId,
      merchantSerialNo: emu.merchantSerialNo,
      merchantPrivateKey: emu.merchant.privateKey,
      apiV3Key: emu.apiV3Key,
      platformPublicKey: emu.platform.publicKey,
      platformSerial: emu.platformSerial,
      endpoint: emu.endpoint,
    };
    gw = new WechatPayGateway(settings, { policy, timeoutMs: 3000 });
  });
  afterAll(async () => {
    await emu?.stop();
  });
  const pay = (total: number) => {
    const p = emu.addPayment(total);
    return { p, payment: { reference: p.transactionId, amount: total, currency: "CNY" } };
  };

  it("creates a refund with out_refund_no = the key, signed requests and verified answers; a repeat is the same refund", async () => {
    const { p, payment } = pay(8800);
    const first = await gw.refund({
      key: "rf_w1",
      amount: 3000,
      currency: "CNY",
      payment,
      notifyUrl: "http://127.0.0.1:1/hooks/wechatpay/x",
    });
    expect(first.status).toBe("processing");
    expect(first.reference).toMatch(/^503/);
    expect(emu.calls.at(-1)).toMatchObject({ method: "POST", path: "/v3/refund/domestic/refunds", verified: true });
    const again = await gw.refund({ key: "rf_w1", amount: 3000, currency: "CNY", payment });
    expect(again).toEqual(first);
    expect(emu.refundedOf(p)).toBe(3000);
    emu.refunds.get("rf_w1")!.status = "SUCCESS";
    expect(await gw.lookup({ key: "rf_w1", payment })).toEqual({ status: "succeeded", reference: first.reference });
    expect(await gw.lookup({ key: "rf_never_sent", payment })).toEqual({ status: "unknown" });
  });

  it("sends the payment's total, and turns WeChat Pay's signed refusals into failures in words", async () => {
    const { p, payment } = pay(1000);
    const wrongTotal = await gw.refund({ key: "rf_w_total", amount: 100, currency: "CNY", payment: { ...payment, amount: 999 } });
    expect(wrongTotal).toMatchObject({ status: "failed" });
    expect(wrongTotal.error).toContain("INVALID_REQUEST");
    const over = await gw.refund({ key: "rf_w_over", amount: 1001, currency: "CNY", payment });
    expect(over.error).toContain("超过");
    const missing = await gw.refund({
      key: "rf_w_missing",
      amount: 1,
      currency: "CNY",
      payment: { ...payment, reference: "4200000000000000000000000000" },
    });
    expect(missing.error).toContain("RESOURCE_NOT_EXISTS");
    expect(emu.refundedOf(p)).toBe(0);
  });

  it("keeps an outage, throttling and a forged answer as GatewayDown; a refused request signature fails", async () => {
    const { p, payment } = pay(2000);
    emu.faults.push("outage");
    await expect(gw.refund({ key: "rf_w_down", amount: 500, currency: "CNY", payment })).rejects.toThrow(/500 SYSTEM_ERROR/);
    emu.faults.push("busy");
    await expect(gw.refund({ key: "rf_w_down", amount: 500, currency: "CNY", payment })).rejects.toThrow(/FREQUENCY_LIMITED/);
    expect(emu.refundedOf(p)).toBe(0);
    emu.faults.push("forge");
    const forged = await gw.refund({ key: "rf_w_down", amount: 500, currency: "CNY", payment }).catch((e) => e);
    expect(forged).toBeInstanceOf(GatewayDown);
    expect(forged.message).toContain("does not verify with the platform key");
    // The forged answer's refund exists at WeChat Pay; the verified query finds it.
    expect((await gw.lookup({ key: "rf_w_down", payment })).status).toBe("processing");
    const impostor = new WechatPayGateway({ ...settings, merchantPrivateKey: emu.platform.privateKey }, { policy, timeoutMs: 3000 });
    // WeChat Pay's signed 401: nothing was refunded, and the answer says what to check.
    const refused = await impostor.refund({ key: "rf_w_bad", amount: 1, currency: "CNY", payment });
    expect(refused).toMatchObject({ status: "failed", error: expect.stringContaining("SIGN_ERROR") });
    expect(refused.error).toContain("merchant private key");
    expect(emu.calls.at(-1)?.verified).toBe(false);
  });

  it("verifies and decrypts a refund notification, and refuses forged, stale or wrongly keyed ones", async () => {
    const { payment } = pay(500);
    await gw.refund({ key: "rf_w_note", amount: 500, currency: "CNY", payment, notifyUrl: "http://127.0.0.1:1/x" });
    const r = emu.refunds.get("rf_w_note")!;
    r.status = "SUCCESS";
    const n = emu.notification(r);
    const read = readWechatNotification(settings, n.headers, n.body);
    expect(read).toMatchObject({
      ok: true,
      eventType: "REFUND.SUCCESS",
      refund: { out_refund_no: "rf_w_note", refund_status: "SUCCESS", amount: { refund: 500 } },
    });
    expect(readWechatNotification(settings, emu.notification(r, { forge: true }).headers, n.body)).toMatchObject({
      ok: false,
      status: 401,
    });
    expect(readWechatNotification(settings, n.headers, n.body.replace("REFUND.SUCCESS", "REFUND.CLOSED"))).toMatchObject({
      ok: false,
      status: 401,
    });
    expect(readWechatNotification(settings, n.headers, n.body, Date.now() + 10 * 60_000)).toMatchObject({
      ok: false,
      message: expect.stringContaining("five minutes"),
    });
    const otherKey = emu.notification(r, { key: "k".repeat(32) });
    expect(readWechatNotification(settings, otherKey.headers, otherKey.body)).toMatchObject({
      ok: false,
      status: 400,
      message: expect.stringContaining("APIv3 key"),
    });
  });
});
