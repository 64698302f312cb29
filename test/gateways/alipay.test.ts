import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AlipayGateway } from "../../src/money/gateways/alipay.js";
import { GatewayDown } from "../../src/money/gateways/types.js";
import { outboundPolicy } from "../../src/platform/outbound.js";
import { AlipayEmulator } from "./alipay-emulator.js";

describe("Alipay gateway against the open-platform emulator", () => {
  let emu: AlipayEmulator;
  let gw: AlipayGateway;
  const policy = outboundPolicy("127.0.0.1");
  beforeAll(async () => {
    emu = await new AlipayEmulator().start();
    gw = new AlipayGateway(
      { appId: emu.appId, privateKey: emu.app.privateKey, alipayPublicKey: emu.alipay.publicKey, gateway: emu.gateway },
      { policy, timeoutMs: 3000 },
    );
  });
  afterAll(async () => {
    await emu?.stop();
  });
  const pay = (total: number) => {
    const t = emu.addTrade(total);
    return { trade: t, payment: { reference: t.tradeNo, amount: total, currency: "CNY" } };
  };

  it("refunds with out_request_no = the key, signed RSA2, and a repeat of the key pays nothing more", async () => {
    const { trade, payment } = pay(5000);
    const first = await gw.refund({ key: "rf_a1", amount: 1230, currency: "CNY", payment, reason: "damaged" });
    expect(first).toEqual({ status: "succeeded", reference: trade.tradeNo });
    expect(emu.calls.at(-1)).toMatchObject({ method: "alipay.trade.refund", outRequestNo: "rf_a1", verified: true });
    // The same key again: Alipay answers fund_change N and the query confirms the one refund.
    const again = await gw.refund({ key: "rf_a1", amount: 1230, currency: "CNY", payment });
    expect(again.status).toBe("succeeded");
    expect(emu.refundedOf(trade)).toBe(1230);
    expect(await gw.lookup({ key: "rf_a1", payment })).toEqual({ status: "succeeded", reference: trade.tradeNo });
    expect(await gw.lookup({ key: "rf_never_sent", payment })).toEqual({ status: "unknown" });
  });

  it("finds the trade by out_trade_no when the payment's reference is the merchant's number", async () => {
    const t = emu.addTrade(800, "DD-OUT-42");
    const byOut = new AlipayGateway(
      {
        appId: emu.appId,
        privateKey: emu.app.privateKey,
        alipayPublicKey: emu.alipay.publicKey,
        gateway: emu.gateway,
        referenceIs: "out_trade_no",
      },
      { policy, timeoutMs: 3000 },
    );
    const r = await byOut.refund({
      key: "rf_out",
      amount: 800,
      currency: "CNY",
      payment: { reference: "DD-OUT-42", amount: 800, currency: "CNY" },
    });
    expect(r).toEqual({ status: "succeeded", reference: t.tradeNo });
  });

  it("turns Alipay's refusals into a failure in words, with nothing refunded", async () => {
    const { trade, payment } = pay(1000);
    const over = await gw.refund({ key: "rf_over", amount: 1001, currency: "CNY", payment });
    expect(over.status).toBe("failed");
    expect(over.error).toContain("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL");
    const missing = await gw.refund({
      key: "rf_missing",
      amount: 100,
      currency: "CNY",
      payment: { ...payment, reference: "2026000000000000000000000000" },
    });
    expect(missing.error).toContain("ACQ.TRADE_NOT_EXIST");
    await gw.refund({ key: "rf_twice", amount: 100, currency: "CNY", payment });
    const discordant = await gw.refund({ key: "rf_twice", amount: 200, currency: "CNY", payment });
    expect(discordant.error).toContain("ACQ.DISCORDANT_REPEAT_REQUEST");
    expect(emu.refundedOf(trade)).toBe(100);
    expect((await gw.refund({ key: "rf_usd", amount: 100, currency: "USD", payment })).status).toBe("failed");
  });

  it("keeps an outage, a busy gateway and a forged answer as GatewayDown, never as an answer", async () => {
    const { trade, payment } = pay(3000);
    emu.faults.push("outage");
    await expect(gw.refund({ key: "rf_down", amount: 300, currency: "CNY", payment })).rejects.toThrow(/HTTP error \(status 502\)/);
    emu.faults.push("busy");
    await expect(gw.refund({ key: "rf_down", amount: 300, currency: "CNY", payment })).rejects.toThrow(/ACQ.SYSTEM_ERROR/);
    expect(emu.refundedOf(trade)).toBe(0);
    // A forged answer is not believed even though the refund went through: the query settles it.
    emu.faults.push("forge");
    const err = await gw.refund({ key: "rf_down", amount: 300, currency: "CNY", payment }).catch((e) => e);
    expect(err).toBeInstanceOf(GatewayDown);
    expect(err.message).toContain("did not verify against the Alipay public key");
    expect(await gw.lookup({ key: "rf_down", payment })).toMatchObject({ status: "succeeded" });
    expect(emu.refundedOf(trade)).toBe(300);
  });

  it("refuses to sign with a key Alipay does not know, and says the request's signature was refused", async () => {
    const other = new AlipayGateway(
      { appId: emu.appId, privateKey: emu.alipay.privateKey, alipayPublicKey: emu.alipay.publicKey, gateway: emu.gateway },
      { policy, timeoutMs: 3000 },
    );
    const { payment } = pay(500);
    const r = await other.refund({ key: "rf_badkey", amount: 100, currency: "CNY", payment });
    expect(r.status).toBe("failed");
    expect(r.error).toContain("isv.invalid-signature");
    expect(emu.calls.at(-1)?.verified).toBe(false);
  });

  it("reports a refund Alipay took but has not settled as processing, then settled by the query", async () => {
    const { payment } = pay(2000);
    emu.deferSettlement = true;
    try {
      const r = await gw.refund({ key: "rf_later", amount: 2000, currency: "CNY", payment });
      expect(r.status).toBe("processing");
      expect((await gw.lookup({ key: "rf_later", payment })).status).toBe("processing");
      emu.settle("rf_later");
      expect((await gw.lookup({ key: "rf_later", payment })).status).toBe("succeeded");
    } finally {
      emu.deferSettlement = false;
    }
  });

  it("calls only addresses the outbound guard allows", async () => {
    const guarded = new AlipayGateway(
      { appId: emu.appId, privateKey: emu.app.privateKey, alipayPublicKey: emu.alipay.publicKey, gateway: emu.gateway },
      { policy: outboundPolicy(undefined), timeoutMs: 3000 },
    );
    const before = emu.calls.length;
    await expect(guarded.refund({ key: "rf_guard", amount: 100, currency: "CNY", payment: pay(100).payment })).rejects.toThrow(
      /may not be called/,
    );
    expect(emu.calls.length).toBe(before);
  });
});
