import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StripeGateway } from "../../src/money/gateways/stripe.js";
import { GatewayDown } from "../../src/money/gateways/types.js";
import { outboundPolicy } from "../../src/platform/outbound.js";
import { StripeEmulator } from "./stripe-emulator.js";

describe("Stripe gateway against the API emulator", () => {
  let emu: StripeEmulator;
  let gw: StripeGateway;
  const policy = outboundPolicy("127.0.0.1");
  beforeAll(async () => {
    emu = await new StripeEmulator().start();
    gw = new StripeGateway(
      { secretKey: emu.secretKey, webhookSecret: emu.webhookSecret, endpoint: emu.endpoint },
      { policy, timeoutMs: 3000 },
    );
  });
  afterAll(async () => {
    await emu?.stop();
  });
  const pay = (amount: number, by: "pi" | "ch" = "pi") => {
    const c = emu.addCharge(amount);
    return { c, payment: { reference: by === "pi" ? c.paymentIntent : c.id, amount, currency: "CNY" } };
  };

  it("creates the refund with Idempotency-Key = the key; a repeat replays the same refund", async () => {
    const { c, payment } = pay(9900);
    const first = await gw.refund({ key: "rf_s1", amount: 2500, currency: "CNY", payment });
    expect(first.status).toBe("succeeded");
    expect(first.reference).toMatch(/^re_/);
    expect(emu.calls.at(-1)).toMatchObject({ method: "POST", path: "/v1/refunds", idempotencyKey: "rf_s1" });
    const again = await gw.refund({ key: "rf_s1", amount: 2500, currency: "CNY", payment });
    expect(again).toEqual(first);
    expect(emu.calls.at(-1)?.replayed).toBe(true);
    expect(emu.refundedOf(c)).toBe(2500);
    expect(await gw.lookup({ key: "rf_s1", payment })).toEqual(first);
    expect(await gw.lookup({ key: "rf_never_sent", payment })).toEqual({ status: "unknown" });
  });

  it("refunds a charge by its ch_ id, and finds the refund by its key among many after Stripe forgot the key", async () => {
    const { c, payment } = pay(10_000, "ch");
    for (let i = 0; i < 3; i++) await gw.refund({ key: `rf_many_${i}`, amount: 100, currency: "CNY", payment });
    expect(emu.refunds.filter((r) => r.charge === c.id)).toHaveLength(3);
    expect((await gw.lookup({ key: "rf_many_1", payment })).reference).toBe(
      emu.refunds.find((r) => r.metadata.dropdesk_key === "rf_many_1")?.id,
    );
  });

  it("fails in words on Stripe's refusals, and never calls a key-reuse with other amounts a failure", async () => {
    const { c, payment } = pay(1000);
    const over = await gw.refund({ key: "rf_s_over", amount: 1001, currency: "CNY", payment });
    expect(over).toMatchObject({ status: "failed", error: expect.stringContaining("amount_too_large") });
    const missing = await gw.refund({ key: "rf_s_missing", amount: 1, currency: "CNY", payment: { ...payment, reference: "pi_nope" } });
    expect(missing.error).toContain("resource_missing");
    await gw.refund({ key: "rf_s_same", amount: 100, currency: "CNY", payment });
    // Same key, other parameters: a refund exists under the key, so this is no failure to settle on.
    await expect(gw.refund({ key: "rf_s_same", amount: 200, currency: "CNY", payment })).rejects.toThrow(/idempotency_error/);
    expect(emu.refundedOf(c)).toBe(100);
    const badKey = new StripeGateway({ secretKey: "sk_test_wrong", endpoint: emu.endpoint }, { policy, timeoutMs: 3000 });
    expect(await badKey.refund({ key: "rf_s_auth", amount: 1, currency: "CNY", payment })).toMatchObject({
      status: "failed",
      error: expect.stringContaining("secret key"),
    });
  });

  it("retries a 5xx under the same key itself, and reports a lasting outage or throttling as GatewayDown", async () => {
    const { c, payment } = pay(3000);
    emu.faults.push("outage");
    expect((await gw.refund({ key: "rf_s_retry", amount: 300, currency: "CNY", payment })).status).toBe("succeeded");
    expect(emu.calls.filter((x) => x.idempotencyKey === "rf_s_retry")).toHaveLength(2);
    emu.faults.push("outage", "outage", "outage");
    const down = await gw.refund({ key: "rf_s_down", amount: 300, currency: "CNY", payment }).catch((e) => e);
    expect(down).toBeInstanceOf(GatewayDown);
    expect(down.message).toContain("api_error");
    emu.faults.push("busy");
    await expect(gw.refund({ key: "rf_s_down", amount: 300, currency: "CNY", payment })).rejects.toThrow(/limiting/);
    expect(emu.faults).toEqual([]);
    expect(emu.refundedOf(c)).toBe(300);
  });

  it("maps pending, failed and canceled refunds, and verifies webhooks by Stripe-Signature", async () => {
    const { payment } = pay(700);
    emu.pendingRefunds = true;
    try {
      const r = await gw.refund({ key: "rf_s_pending", amount: 700, currency: "CNY", payment });
      expect(r.status).toBe("processing");
      const refund = emu.settle(r.reference as string, "failed");
      expect(await gw.lookup({ key: "rf_s_pending", payment })).toMatchObject({
        status: "failed",
        error: expect.stringContaining("lost_or_stolen_card"),
      });
      const ev = emu.event("charge.refund.updated", refund);
      const event = await gw.event(ev.body, ev.headers["stripe-signature"]);
      expect(event).toMatchObject({
        type: "charge.refund.updated",
        data: { object: { id: refund.id, metadata: { dropdesk_key: "rf_s_pending" } } },
      });
      const forged = emu.event("refund.updated", refund, { forge: true });
      await expect(gw.event(forged.body, forged.headers["stripe-signature"])).rejects.toThrow(/signature/i);
      const stale = emu.event("refund.updated", refund, { at: Math.floor(Date.now() / 1000) - 3600 });
      await expect(gw.event(stale.body, stale.headers["stripe-signature"])).rejects.toThrow(/tolerance/i);
      await expect(gw.event(ev.body.replace("charge.refund.updated", "refund.updated"), ev.headers["stripe-signature"])).rejects.toThrow(
        /signature/i,
      );
    } finally {
      emu.pendingRefunds = false;
    }
  });
});
