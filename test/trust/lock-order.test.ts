import pg from "pg";
import { describe, expect, it } from "vitest";
import { lockWithOrder } from "../../src/platform/locks.js";
import { createDeliveredOrder, createOrder, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, type TestApp } from "../helpers/harness.js";

// Paths that lock more than one row take their locks in one order (src/platform/locks.ts), so
// opposing requests wait for each other and never deadlock. PostgreSQL counts every deadlock it
// breaks in pg_stat_database, which is what this test reads.

const ROUNDS = 200;

async function deadlocks(t: TestApp): Promise<number> {
  const url = (t.deps.h.pool?.options as { connectionString?: string } | undefined)?.connectionString;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    // The statistics collector is flushed at transaction end; ask for a fresh snapshot.
    await c.query("SELECT pg_stat_clear_snapshot()");
    const r = await c.query("SELECT deadlocks::int AS n FROM pg_stat_database WHERE datname = current_database()");
    return r.rows[0].n;
  } finally {
    await c.end();
  }
}

async function race(
  label: string,
  rounds: number,
  make: (i: number) => Promise<[() => Promise<{ status: number }>, () => Promise<{ status: number }>]>,
) {
  const statuses: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const [a, b] = await make(i);
    const [ra, rb] = await Promise.all([a(), b()]);
    statuses.push(ra.status, rb.status);
  }
  expect(
    statuses.filter((s) => s >= 500),
    label,
  ).toEqual([]);
  return statuses;
}

describe.runIf(DB_KINDS.includes("postgres"))("one lock order on PostgreSQL", () => {
  it("runs opposing paths concurrently without a deadlock", async () => {
    process.env.DROPDESK_REFUND_GATEWAY = "manual";
    const t = await startTestApp("postgres");
    try {
      const cat = await setupCatalog(t, { stock: 100_000 });
      const before = await deadlocks(t);

      // Cancel the order while its supplier accepts, ships or rejects it.
      const soActions = ["accept", "reject", "request-cancel"] as const;
      await race("cancel vs supplier order", ROUNDS, async (i) => {
        const order = await createOrder(t, cat, { lines: [{ skuCode: "TEE", quantity: 1 }] });
        const fwd = (await t.api("POST", `/api/v1/orders/${order.id}/actions/forward`)).body;
        const so = fwd.supplierOrders[0];
        const action = soActions[i % soActions.length];
        return [
          () => t.api("POST", `/api/v1/orders/${order.id}/actions/cancel`, { body: { reason: "customer changed their mind" } }),
          () =>
            t.api("POST", `/api/v1/supplier-orders/${so.id}/actions/${action}`, {
              body: action === "reject" ? { reason: "no stock" } : {},
            }),
        ];
      });

      // Settle a goodwill refund while the order takes another refund and a cancellation.
      await race("refund settlement vs order actions", ROUNDS, async (i) => {
        const order = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 2 }] });
        const r = await t.api("POST", `/api/v1/orders/${order.id}/actions/goodwill-refund`, {
          as: "finance",
          body: { amount: 500, reason: "late delivery" },
        });
        return [
          () => t.api("POST", `/api/v1/refunds/${r.body.id}/actions/confirm`, { as: "finance", body: { reference: `BANK-${i}` } }),
          () =>
            i % 2 === 0
              ? t.api("POST", `/api/v1/orders/${order.id}/actions/cancel`, { body: { reason: "cancelled" } })
              : t.api("POST", `/api/v1/orders/${order.id}/actions/goodwill-refund`, {
                  as: "finance",
                  body: { amount: 300, reason: "sorry" },
                }),
        ];
      });

      // Settle a case's refund while staff change the case.
      const caseActions = [
        { action: "set-responsibility", body: { responsibility: "supplier" } },
        { action: "escalate", body: { note: "customer called twice" } },
      ];
      await race("refund settlement vs case action", ROUNDS / 2, async (i) => {
        const order = await createDeliveredOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
        const c = await t.api("POST", "/api/v1/cases", {
          body: { orderId: order.id, type: "refund_only", reason: "quality", lines: [{ orderLineId: order.lines[0].id, quantity: 1 }] },
        });
        await t.api("POST", `/api/v1/cases/${c.body.id}/actions/approve`, { body: {} });
        await t.api("POST", `/api/v1/cases/${c.body.id}/actions/refund`, { as: "finance", body: {} });
        const refund = (await t.api("GET", `/api/v1/refunds?caseId=${c.body.id}`, { as: "finance" })).body.items[0];
        expect(refund?.status, JSON.stringify(refund)).toBe("processing");
        const { action, body } = caseActions[i % caseActions.length];
        return [
          () => t.api("POST", `/api/v1/refunds/${refund.id}/actions/confirm`, { as: "finance", body: { reference: `CASE-${i}` } }),
          () => t.api("POST", `/api/v1/cases/${c.body.id}/actions/${action}`, { body }),
        ];
      });

      // Close a supplier's statement while its claim is being settled.
      await race("claim vs statement close", ROUNDS / 2, async (i) => {
        const order = await createDeliveredOrder(t, cat, { lines: [{ skuCode: "TEE", quantity: 1 }] });
        const c = await t.api("POST", "/api/v1/cases", {
          body: { orderId: order.id, type: "reship", reason: "wrong_item", lines: [{ orderLineId: order.lines[0].id, quantity: 1 }] },
        });
        await t.api("POST", `/api/v1/cases/${c.body.id}/actions/approve`, { body: {} });
        const claim = (await t.api("POST", `/api/v1/cases/${c.body.id}/actions/resolve`, { body: {} })).body.claim;
        await t.api("POST", `/api/v1/supplier-claims/${claim.id}/actions/accept`, { body: { note: "our mistake" } });
        const day = new Date(Date.UTC(2030, 0, 1) + i * 86400_000).toISOString().slice(0, 10);
        const st = await t.api("POST", "/api/v1/supplier-statements", {
          as: "finance",
          body: { supplierId: cat.suppliers.a, from: day, to: day },
        });
        expect(st.status, JSON.stringify(st.body)).toBe(201);
        return [
          () => t.api("POST", `/api/v1/supplier-statements/${st.body.id}/actions/close`, { as: "finance", body: {} }),
          () => t.api("POST", `/api/v1/supplier-claims/${claim.id}/actions/settle`, { body: {} }),
        ];
      });

      const after = await deadlocks(t);
      expect(after - before).toBe(0);
    } finally {
      delete process.env.DROPDESK_REFUND_GATEWAY;
      await t.close();
    }
  }, 600_000);
});

describe.each(DB_KINDS)("locking a row with its order on %s", (kind) => {
  it("finds the order within the caller's scope, and locks nothing outside it", async () => {
    const t = await startTestApp(kind);
    try {
      const cat = await setupCatalog(t);
      const order = await createOrder(t, cat);
      const fwd = (await t.api("POST", `/api/v1/orders/${order.id}/actions/forward`)).body;
      const so = fwd.supplierOrders[0];
      const lock = (scope: { tenantId: string; supplierId?: string; orderId?: string }) =>
        t.deps.db.transaction().execute((tx) => lockWithOrder(tx, "supplierOrders", so.id, scope).then((r) => r?.order_id ?? null));
      expect(await lock({ tenantId: t.t.tenantId })).toBe(order.id);
      expect(await lock({ tenantId: t.t.tenantId, supplierId: so.supplierId })).toBe(order.id);
      const other = so.supplierId === cat.suppliers.a ? cat.suppliers.b : cat.suppliers.a;
      expect(await lock({ tenantId: t.t.tenantId, supplierId: other })).toBeNull();
      expect(await lock({ tenantId: "0190a0a0-0000-7000-8000-000000000009" })).toBeNull();
      // Through the API: a supplier order that is not there is a 404.
      expect((await t.api("POST", "/api/v1/supplier-orders/0190a0a0-0000-7000-8000-00000000000a/actions/accept")).status).toBe(404);
    } finally {
      await t.close();
    }
  }, 60_000);
});
