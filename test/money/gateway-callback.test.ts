import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SandboxGateway, signSandbox } from "../../src/money/gateways.js";
import { sandboxSecretOf } from "../../src/money/sandbox.js";
import { type Catalog, createOrder, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, freshDb, startTestApp, type TestApp } from "../helpers/harness.js";

/** The secret every installation used to share, written in the source. */
const OLD_BUILT_IN_SECRET = "dropdesk-sandbox";

describe.each(DB_KINDS)("money: the sandbox gateway's callback on %s", (kind) => {
  let t: TestApp;
  let cat: Catalog;
  beforeAll(async () => {
    t = await startTestApp(kind);
    cat = await setupCatalog(t);
    // A sandbox that never confirms on its own: the test sends every callback itself.
    (t.deps.services.gateways as Record<string, unknown>).sandbox = new SandboxGateway({ secret: sandboxSecretOf(t.deps) });
  });
  afterAll(async () => {
    await t?.close();
  });

  const goodwill = async (amount: number) => {
    const order = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
    const r = await t.api("POST", `/api/v1/orders/${order.id}/actions/goodwill-refund`, {
      as: "finance",
      body: { amount, reason: "a scratch on the lid" },
    });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe("processing");
    const row = await t.deps.db
      .selectFrom("refunds")
      .select(["gateway_key", "gateway"])
      .where("id", "=", r.body.id)
      .executeTakeFirstOrThrow();
    return { id: r.body.id as string, orderId: order.id, key: String(row.gateway_key), gateway: String(row.gateway) };
  };
  /** A refund the merchant pays by bank transfer: it waits for finance's bank reference. */
  const manualRefund = async (amount: number) => {
    const before = process.env.DROPDESK_REFUND_GATEWAY;
    process.env.DROPDESK_REFUND_GATEWAY = "manual";
    try {
      return await goodwill(amount);
    } finally {
      if (before === undefined) delete process.env.DROPDESK_REFUND_GATEWAY;
      else process.env.DROPDESK_REFUND_GATEWAY = before;
    }
  };
  const callback = (secret: string, msg: Record<string, unknown>) => {
    const body = JSON.stringify(msg);
    return t.app.inject({
      method: "POST",
      url: "/api/v1/gateways/sandbox/callback",
      headers: { "content-type": "application/json", "dropdesk-signature": signSandbox(secret, body) },
      payload: body,
    });
  };
  const refundPostings = async (orderId: string) =>
    t.deps.db.selectFrom("ledger_postings").select("id").where("order_id", "=", orderId).where("code", "=", "refund").execute();
  const statusOf = async (id: string) => (await t.api("GET", `/api/v1/refunds/${id}`, { as: "finance" })).body;

  it("refuses a callback signed with the old built-in secret and settles nothing", async () => {
    expect(sandboxSecretOf(t.deps)).not.toBe(OLD_BUILT_IN_SECRET);
    const sandbox = await goodwill(1100);
    const manual = await manualRefund(1200);
    for (const r of [sandbox, manual]) {
      const forged = await callback(OLD_BUILT_IN_SECRET, { key: r.key, status: "succeeded", reference: "forged" });
      expect(forged.statusCode).toBe(401);
      expect((await statusOf(r.id)).status).toBe("processing");
      expect(await refundPostings(r.orderId)).toHaveLength(0);
    }
  });

  it("refuses a validly signed callback for a manual refund: only finance settles it, with a bank reference", async () => {
    const r = await manualRefund(1300);
    expect(r.gateway).toBe("manual");
    const secret = sandboxSecretOf(t.deps);
    for (const status of ["succeeded", "failed"]) {
      const res = await callback(secret, { key: r.key, status, reference: "sbx_forged" });
      expect(res.statusCode).toBe(404);
      expect(res.json().ok).toBeUndefined();
    }
    const still = await statusOf(r.id);
    expect(still).toMatchObject({ status: "processing", gatewayRef: null, allowedActions: ["confirm"] });
    expect(await refundPostings(r.orderId)).toHaveLength(0);
    // Finance's confirmation needs the bank reference.
    expect((await t.api("POST", `/api/v1/refunds/${r.id}/actions/confirm`, { as: "finance", body: {} })).status).toBe(400);
    const confirmed = await t.api("POST", `/api/v1/refunds/${r.id}/actions/confirm`, { as: "finance", body: { reference: "BANK-0042" } });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ status: "succeeded", gatewayRef: "BANK-0042" });
    expect(await refundPostings(r.orderId)).toHaveLength(1);
  });

  it("settles a sandbox refund from a validly signed callback, once", async () => {
    const r = await goodwill(1400);
    expect(r.gateway).toBe("sandbox");
    const secret = sandboxSecretOf(t.deps);
    const first = await callback(secret, { key: r.key, status: "succeeded", reference: "sbx_ok" });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ ok: true });
    const again = await callback(secret, { key: r.key, status: "succeeded", reference: "sbx_ok" });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ ok: false });
    expect(await statusOf(r.id)).toMatchObject({ status: "succeeded", gatewayRef: "sbx_ok" });
    expect(await refundPostings(r.orderId)).toHaveLength(1);
    // An unknown key settles nothing.
    expect((await callback(secret, { key: "rf_unknown", status: "succeeded" })).statusCode).toBe(404);
  });
});

describe.each(DB_KINDS)("money: the sandbox gateway's secret on %s", (kind) => {
  it("is random per installation, kept across restarts, and a configured one overrides it", async () => {
    const handle = await freshDb(kind);
    const a = await startTestApp(kind, { handle, keepDb: true });
    const secretA = sandboxSecretOf(a.deps);
    await a.close();
    const b = await startTestApp(kind);
    const secretB = sandboxSecretOf(b.deps);
    await b.close();
    expect(secretA.length).toBeGreaterThanOrEqual(32);
    expect(secretA).not.toBe(secretB);
    expect([secretA, secretB]).not.toContain(OLD_BUILT_IN_SECRET);
    const again = await startTestApp(kind, { handle, keepDb: true });
    try {
      expect(sandboxSecretOf(again.deps)).toBe(secretA);
    } finally {
      await again.close();
    }
    const configured = await startTestApp(kind, { handle, config: { sandboxGatewaySecret: "configured-sandbox-secret-for-tests" } });
    try {
      expect(sandboxSecretOf(configured.deps)).toBe("configured-sandbox-secret-for-tests");
    } finally {
      await configured.close();
    }
  });
});
