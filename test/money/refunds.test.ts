import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SandboxGateway, signSandbox } from "../../src/money/gateways.js";
import { orderMoneySummary, reconcileRefunds } from "../../src/money/refunds.js";
import { sandboxSecretOf } from "../../src/money/sandbox.js";
import { type Catalog, createOrder, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, freshDb, startTestApp, type TestApp } from "../helpers/harness.js";

/** A sandbox gateway whose callbacks come in through the public, signed route of `t`. */
function sandboxFor(t: TestApp) {
  const g = new SandboxGateway({
    secret: sandboxSecretOf(t.deps),
    onCallback: async (body, signature) => {
      const r = await t.app.inject({
        method: "POST",
        url: "/api/v1/gateways/sandbox/callback",
        headers: { "content-type": "application/json", "dropdesk-signature": signature },
        payload: body,
      });
      if (r.statusCode !== 200) throw new Error(`callback ${r.statusCode} ${r.body}`);
    },
  });
  (t.deps.services.gateways as Record<string, unknown>).sandbox = g;
  return g;
}

const keyOf = async (t: TestApp, refundId: string) =>
  (await t.deps.db.selectFrom("refunds").select("gateway_key").where("id", "=", refundId).executeTakeFirstOrThrow()).gateway_key as string;

describe.each(DB_KINDS)("money: refund execution on %s", (kind) => {
  let t: TestApp;
  let cat: Catalog;
  beforeAll(async () => {
    t = await startTestApp(kind);
    cat = await setupCatalog(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  const goodwill = (orderId: string, amount: number, method?: "original" | "balance") =>
    t.api("POST", `/api/v1/orders/${orderId}/actions/goodwill-refund`, {
      as: "finance",
      body: { amount, reason: "a scratch on the lid", ...(method ? { method } : {}) },
    });

  it("retries a declined refund under the same gateway key and pays once, confirmed by a signed callback", async () => {
    const sandbox = sandboxFor(t);
    sandbox.failNext = 1;
    const order = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
    const first = await goodwill(order.id, 1200);
    expect(first.status).toBe(200);
    expect(first.body.status).toBe("failed");
    expect(first.body.allowedActions).toEqual(["retry"]);
    const key = await keyOf(t, first.body.id);
    // A failed refund is not money owed any more: the whole amount is refundable again.
    expect((await orderMoneySummary(t.deps.db, t.t.tenantId, order.id)).pending).toBe(0);

    const retried = await t.api("POST", `/api/v1/refunds/${first.body.id}/actions/retry`, { as: "finance", body: {} });
    expect(retried.status).toBe(200);
    expect(retried.body.status).toBe("processing");
    expect(retried.body.attempts).toBe(2);
    expect(sandbox.keys).toEqual([key, key]);
    expect(await keyOf(t, first.body.id)).toBe(key);

    // A forged callback is refused and changes nothing.
    const forgedBody = JSON.stringify({ key, status: "succeeded", reference: "forged" });
    const forged = await t.app.inject({
      method: "POST",
      url: "/api/v1/gateways/sandbox/callback",
      headers: { "content-type": "application/json", "dropdesk-signature": signSandbox("wrong", forgedBody) },
      payload: forgedBody,
    });
    expect(forged.statusCode).toBe(401);
    expect((await t.api("GET", `/api/v1/refunds/${first.body.id}`, { as: "finance" })).body.status).toBe("processing");

    await sandbox.confirm(key);
    const done = (await t.api("GET", `/api/v1/refunds/${first.body.id}`, { as: "finance" })).body;
    expect(done.status).toBe("succeeded");
    // Asking again under the same key never pays twice.
    expect((await sandbox.refund({ key, amount: 1200 })).status).toBe("succeeded");
    await reconcileRefunds(t.deps);
    const postings = (await t.api("GET", `/api/v1/ledger/postings?orderId=${order.id}&code=refund`, { as: "finance" })).body.items;
    expect(postings).toHaveLength(1);
    expect(await orderMoneySummary(t.deps.db, t.t.tenantId, order.id)).toEqual({
      paid: 3900,
      refunded: 1200,
      pending: 0,
      refundable: 2700,
    });
    expect((await t.api("GET", "/api/v1/ledger/trial-balance", { as: "finance" })).body.balanced).toBe(true);
  });

  it("counts a processing refund against what remains and refuses more, writing nothing", async () => {
    sandboxFor(t);
    const order = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
    const a = await goodwill(order.id, 3000);
    expect(a.body.status).toBe("processing");
    const before = await t.deps.db.selectFrom("ledger_postings").select("id").where("order_id", "=", order.id).execute();
    const over = await goodwill(order.id, 1000, "balance");
    expect(over.status).toBe(422);
    expect(over.body.error.code).toBe("refund_exceeds_refundable");
    expect(over.body.error.details.remaining).toBe(900);
    expect((await t.api("GET", `/api/v1/refunds?orderId=${order.id}`, { as: "finance" })).body.items).toHaveLength(1);
    const after = await t.deps.db.selectFrom("ledger_postings").select("id").where("order_id", "=", order.id).execute();
    expect(after).toHaveLength(before.length);
    expect((await orderMoneySummary(t.deps.db, t.t.tenantId, order.id)).refundable).toBe(900);
  });

  it("lists refunds by status and streams them as CSV", async () => {
    const list = await t.api("GET", "/api/v1/refunds?status=processing", { as: "finance" });
    expect(list.status).toBe(200);
    expect(list.body.items.length).toBeGreaterThan(0);
    expect(list.body.items.every((r: any) => r.status === "processing")).toBe(true);
    const csv = await t.api("GET", "/api/v1/refunds?format=csv", { as: "finance" });
    expect(csv.status).toBe(200);
    expect(csv.text.split("\n").length).toBeGreaterThan(2);
    expect((await t.api("GET", "/api/v1/refunds", { as: "other:finance" })).body.items).toHaveLength(0);
    const now = t.clock.now();
    const day = now.toISOString().slice(0, 10);
    const inDay = await t.api("GET", `/api/v1/ledger/postings?code=refund&from=${day}`, { as: "finance" });
    expect(inDay.status).toBe(200);
    expect(inDay.body.items.length).toBeGreaterThan(0);
    expect(inDay.body.items.every((p: any) => p.code === "refund" && new Date(p.at) >= new Date(day))).toBe(true);
    const later = new Date(now.getTime() + 86400_000).toISOString();
    expect((await t.api("GET", `/api/v1/ledger/postings?from=${encodeURIComponent(later)}`, { as: "finance" })).body.items).toHaveLength(0);
    expect((await t.api("GET", `/api/v1/ledger/postings?to=${day}`, { as: "finance" })).body.items).toHaveLength(0);
    expect((await t.api("GET", "/api/v1/ledger/postings?from=yesterday", { as: "finance" })).status).toBe(400);
  });

  it("keeps the trial balance at zero and refunds within what was paid after random sequences", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            amount: fc.integer({ min: 1, max: 2500 }),
            method: fc.constantFrom<"original" | "balance">("original", "balance"),
            decline: fc.boolean(),
            settle: fc.constantFrom("confirm", "retry", "leave"),
          }),
          { minLength: 1, maxLength: 5 },
        ),
        async (ops) => {
          const sandbox = sandboxFor(t);
          const order = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }], shippingFee: 500 });
          for (const op of ops) {
            sandbox.failNext = op.decline ? 1 : 0;
            const r = await goodwill(order.id, op.amount, op.method);
            if (r.status === 422) {
              expect(r.body.error.details.remaining).toBeLessThan(op.amount);
              continue;
            }
            expect(r.status).toBe(200);
            if (r.body.status === "processing" && op.settle === "confirm") await sandbox.confirm(await keyOf(t, r.body.id));
            if (r.body.status === "failed" && op.settle === "retry") {
              const again = await t.api("POST", `/api/v1/refunds/${r.body.id}/actions/retry`, { as: "finance", body: {} });
              expect([200, 422]).toContain(again.status);
            }
          }
          const s = await orderMoneySummary(t.deps.db, t.t.tenantId, order.id);
          expect(s.refunded + s.pending).toBeLessThanOrEqual(s.paid);
          const refunds = (await t.api("GET", `/api/v1/refunds?orderId=${order.id}`, { as: "finance" })).body.items;
          const succeeded = refunds.filter((r: any) => r.status === "succeeded").reduce((n: number, r: any) => n + r.amount, 0);
          expect(succeeded).toBe(s.refunded);
          const tb = (await t.api("GET", "/api/v1/ledger/trial-balance", { as: "finance" })).body;
          expect(tb.balanced).toBe(true);
        },
      ),
      { numRuns: 6 },
    );
  });
});

describe.each(DB_KINDS)("money: crash safety on %s", (kind) => {
  it("settles a refund the gateway accepted before the process died: one refund, one posting, balanced", async () => {
    const handle = await freshDb(kind);
    // The payment gateway outlives our process.
    const gateway = new SandboxGateway({ secret: "no callbacks in this test" });
    const first = await startTestApp(kind, { handle, keepDb: true });
    let refundId = "";
    let tenantId = "";
    try {
      const cat = await setupCatalog(first);
      tenantId = first.t.tenantId;
      (first.deps.services.gateways as Record<string, unknown>).sandbox = {
        name: "sandbox",
        lookup: (key: string) => gateway.lookup(key),
        refund: async (r: { key: string; amount: number }) => {
          await gateway.refund(r);
          throw new Error("process died after the gateway call");
        },
      };
      const order = await createOrder(first, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
      const r = await first.api("POST", `/api/v1/orders/${order.id}/actions/goodwill-refund`, {
        as: "finance",
        body: { amount: 2000, reason: "late delivery" },
      });
      expect(r.status).toBe(200);
      expect(r.body.status).toBe("processing");
      refundId = r.body.id;
    } finally {
      await first.close();
    }

    const second = await startTestApp(kind, { handle });
    try {
      (second.deps.services.gateways as Record<string, unknown>).sandbox = gateway;
      // The gateway has it but has not confirmed yet: reconciliation leaves it processing.
      expect(await reconcileRefunds(second.deps)).toBe(0);
      await gateway.confirm(gateway.keys[0]);
      expect(await reconcileRefunds(second.deps)).toBe(1);
      expect(await reconcileRefunds(second.deps)).toBe(0);
      const refunds = await second.deps.db.selectFrom("refunds").selectAll().where("tenant_id", "=", tenantId).execute();
      expect(refunds).toHaveLength(1);
      expect(refunds[0]).toMatchObject({ id: refundId, status: "succeeded" });
      expect(new Set(gateway.keys)).toEqual(new Set([refunds[0].gateway_key]));
      expect(gateway.attempts).toBe(1);
      const postings = await second.deps.db
        .selectFrom("ledger_postings")
        .select("code")
        .where("tenant_id", "=", tenantId)
        .where("refund_id", "=", refundId)
        .execute();
      expect(postings.map((p) => p.code)).toEqual(["refund"]);
      const tb = await second.deps.db
        .selectFrom("ledger_entries")
        .select((eb) => eb.fn.sum<number>("amount").as("n"))
        .where("tenant_id", "=", tenantId)
        .executeTakeFirstOrThrow();
      expect(Number(tb.n)).toBe(0);
    } finally {
      await second.close();
    }
  });
});
