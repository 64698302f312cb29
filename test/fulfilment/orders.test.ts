import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Catalog, createDeliveredOrder, createOrder, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, supplierSession, type TestApp } from "../helpers/harness.js";

describe.each(DB_KINDS)("orders and fulfilment on %s", (kind) => {
  let t: TestApp;
  let cat: Catalog;
  beforeAll(async () => {
    t = await startTestApp(kind);
    cat = await setupCatalog(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("creates a paid order, spreads order discounts over the lines and posts the payment", async () => {
    const order = await createOrder(t, cat, {
      lines: [
        { skuCode: "MUG", quantity: 3 },
        { skuCode: "TEE", quantity: 1, discount: 900 },
        { skuCode: "MASK", quantity: 1, isGift: true, giftPrice: 1000 },
      ],
      discounts: [{ kind: "threshold", amount: 2000, threshold: 19900 }],
      shippingFee: 800,
    });
    expect(order.status).toBe("paid");
    // Goods net: 11700 + 9000 = 20700; the threshold discount falls on the two paid lines only.
    expect(order.lines.map((l: any) => l.orderDiscountAlloc)).toEqual([1130, 870, 0]);
    expect(order.lines.map((l: any) => l.paidAmount)).toEqual([10570, 8130, 0]);
    expect(order.paidTotal).toBe(10570 + 8130 + 800);
    const tb = await t.deps.db.selectFrom("ledger_entries").select(["account", "amount"]).where("tenant_id", "=", t.t.tenantId).execute();
    expect(tb.reduce((s, e) => s + Number(e.amount), 0)).toBe(0);
    expect(tb.some((e) => e.account === "cash" && Number(e.amount) === order.paidTotal)).toBe(true);
  });

  it("refuses totals that do not add up, naming the field, and writes nothing", async () => {
    const before = (await t.api("GET", "/api/v1/orders?limit=500")).body.items.length;
    const res = await t.api("POST", "/api/v1/orders", {
      body: {
        shopId: cat.shopId,
        platformOrderNo: "BAD-TOTAL",
        customer: { name: "x", phone: "13900000000" },
        address: { line1: "x" },
        lines: [{ skuCode: "MUG", quantity: 1, unitPrice: 3900 }],
        paid: { amount: 3800, method: "alipay" },
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details.fields[0].field).toBe("paid.amount");
    expect(res.body.error.details.expected).toBe(3900);
    expect((await t.api("GET", "/api/v1/orders?limit=500")).body.items.length).toBe(before);
  });

  it("is idempotent on shop and platform order number, and 409s on other content", async () => {
    const first = await createOrder(t, cat, { platformOrderNo: "SAME-1" });
    const again = await createOrder(t, cat, { platformOrderNo: "SAME-1" });
    expect(again.id).toBe(first.id);
    const diff = await t.api("POST", "/api/v1/orders", {
      body: {
        shopId: cat.shopId,
        platformOrderNo: "SAME-1",
        customer: { phone: "1" },
        address: {},
        lines: [{ skuCode: "MUG", quantity: 5, unitPrice: 3900 }],
        paid: { amount: 19500, method: "alipay" },
      },
    });
    expect(diff.status).toBe(409);
  });

  it("routes by priority, reserves stock, ships, delivers and rolls the order up", async () => {
    const order = await createDeliveredOrder(t, cat, {
      lines: [
        { skuCode: "MUG", quantity: 2 },
        { skuCode: "MASK", quantity: 1 },
      ],
      deliveredAt: "2026-03-01T10:00:00+08:00",
    });
    expect(order.status).toBe("delivered");
    expect(new Date(order.deliveredAt).toISOString()).toBe("2026-03-01T02:00:00.000Z");
    const suppliers = order.supplierOrders.map((s: any) => s.supplierId).sort();
    // MUG goes to A (priority 1 beats B's lower cost); MASK only B offers.
    expect(suppliers).toEqual([cat.suppliers.a, cat.suppliers.b].sort());
    const offers = (await t.api("GET", `/api/v1/offers?skuId=${cat.skus.MUG.id}`)).body.items;
    expect(offers.find((o: any) => o.id === cat.offers["A-MUG"]).stock).toBeLessThan(1000);
  });

  it("reroutes a rejected supplier order to the next offer and flags lines nobody can serve", async () => {
    const order = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
    const fwd = (await t.api("POST", `/api/v1/orders/${order.id}/actions/forward`)).body;
    const so = fwd.supplierOrders[0];
    expect(so.supplierId).toBe(cat.suppliers.a);
    const rej = await t.api("POST", `/api/v1/supplier-orders/${so.id}/actions/reject`, { body: { reason: "out of stock" } });
    expect(rej.status).toBe(200);
    const after = (await t.api("GET", `/api/v1/orders/${order.id}`)).body;
    const active = after.supplierOrders.filter((s: any) => s.status === "pending");
    expect(active.map((s: any) => s.supplierId)).toEqual([cat.suppliers.b]);
    const rej2 = await t.api("POST", `/api/v1/supplier-orders/${active[0].id}/actions/reject`, { body: { reason: "no stock either" } });
    expect(rej2.status).toBe(200);
    const last = (await t.api("GET", `/api/v1/orders/${order.id}`)).body;
    expect(last.needsSourcing).toBe(true);
    expect(last.status).toBe("paid");
  });

  it("answers an invalid action with 409 and the allowed actions", async () => {
    const order = await createDeliveredOrder(t, cat);
    const res = await t.api("POST", `/api/v1/orders/${order.id}/actions/cancel`, { body: {} });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("invalid_transition");
    expect(res.body.error.details).toEqual({ status: "delivered", allowedActions: ["complete", "goodwill-refund"] });
  });

  it("sets the delivered time from a carrier's tracking event", async () => {
    const order = await createOrder(t, cat, { lines: [{ skuCode: "TEE", quantity: 1 }] });
    const fwd = (await t.api("POST", `/api/v1/orders/${order.id}/actions/forward`)).body;
    await t.api("POST", `/api/v1/supplier-orders/${fwd.supplierOrders[0].id}/actions/ship`, {
      body: { carrier: "YTO", trackingNo: "YT123456789" },
    });
    const ev = await t.api("POST", "/api/v1/tracking-events", {
      body: { carrier: "YTO", trackingNo: "YT123456789", status: "delivered", occurredAt: "2026-03-02T23:59:00+08:00" },
    });
    expect(ev.status).toBe(201);
    expect(ev.body.effect).toBe("delivered");
    const after = (await t.api("GET", `/api/v1/orders/${order.id}`)).body;
    expect(after.status).toBe("delivered");
    expect(new Date(after.deliveredAt).toISOString()).toBe("2026-03-02T15:59:00.000Z");
  });

  it("shows a supplier user only its own supplier orders", async () => {
    await createDeliveredOrder(t, cat, {
      lines: [
        { skuCode: "MUG", quantity: 1 },
        { skuCode: "CAKE", quantity: 1 },
      ],
    });
    const sess = await supplierSession(t.app, t.deps, t.t.tenantId, cat.suppliers.b);
    const list = await t.api("GET", "/api/v1/supplier-orders?limit=200", { headers: sess });
    expect(list.status).toBe(200);
    expect(list.body.items.length).toBeGreaterThan(0);
    expect(list.body.items.every((s: any) => s.supplierId === cat.suppliers.b)).toBe(true);
    const foreign = (await t.api("GET", `/api/v1/supplier-orders?supplierId=${cat.suppliers.a}&limit=200`)).body.items[0];
    expect((await t.api("GET", `/api/v1/supplier-orders/${foreign.id}`, { headers: sess })).status).toBe(404);
    expect((await t.api("POST", `/api/v1/supplier-orders/${foreign.id}/actions/accept`, { headers: sess, body: {} })).status).toBe(404);
    expect((await t.api("GET", "/api/v1/orders", { headers: sess })).status).toBe(403);
  });

  it("cancels a paid order before shipping and releases the stock", async () => {
    const order = await createOrder(t, cat, { lines: [{ skuCode: "TEE", quantity: 2 }] });
    await t.api("POST", `/api/v1/orders/${order.id}/actions/forward`);
    const stockBefore = (await t.api("GET", `/api/v1/offers?skuId=${cat.skus.TEE.id}`)).body.items[0].stock;
    const res = await t.api("POST", `/api/v1/orders/${order.id}/actions/cancel`, { body: { reason: "customer asked" } });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("cancelled");
    const stockAfter = (await t.api("GET", `/api/v1/offers?skuId=${cat.skus.TEE.id}`)).body.items[0].stock;
    expect(stockAfter).toBe(stockBefore + 2);
  });

  it("keeps other tenants out", async () => {
    const order = await createOrder(t, cat);
    expect((await t.api("GET", `/api/v1/orders/${order.id}`, { as: "other:admin" })).status).toBe(404);
    expect((await t.api("POST", `/api/v1/orders/${order.id}/actions/forward`, { as: "other:admin" })).status).toBe(404);
  });
});

// Orders of one SKU forwarded at once all wait for its offer's stock row: a forward takes the
// stock last, after writing its supplier orders, and routes again if another order took it first.
describe("forwarding orders of one SKU at once on postgres", () => {
  let t: TestApp;
  let cat: Catalog;
  beforeAll(async () => {
    t = await startTestApp("postgres");
    cat = await setupCatalog(t, { stock: 3 });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("holds the offer's row only to take the stock, and routes to the next offer when the stock went meanwhile", async () => {
    const order = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
    const stockOf = async (key: string) =>
      (await t.api("GET", `/api/v1/offers?skuId=${cat.skus.MUG.id}`)).body.items.find((o: any) => o.id === cat.offers[key]).stock;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let locked!: () => void;
    const holding = new Promise<void>((r) => {
      locked = r;
    });
    // Another transaction holds A's offer row as a stock update does (A has priority), then sells
    // its last stock.
    const other = t.deps.db.transaction().execute(async (tx) => {
      await sql`SELECT id FROM offers WHERE id = ${cat.offers["A-MUG"]} FOR NO KEY UPDATE`.execute(tx);
      locked();
      await gate;
      await sql`UPDATE offers SET stock = 0 WHERE id = ${cat.offers["A-MUG"]}`.execute(tx);
    });
    await holding;
    const forward = t.api("POST", `/api/v1/orders/${order.id}/actions/forward`);
    try {
      // The forward waits for the row with its supplier order's lines already written (it holds the
      // lock an insert takes on supplier_order_lines): everything else of the forward came first.
      let waiting: { pid: number }[] = [];
      for (let i = 0; i < 500 && waiting.length === 0; i++) {
        waiting = (
          await sql<{ pid: number }>`SELECT pid FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%offers%'`.execute(t.deps.db)
        ).rows;
        if (waiting.length === 0) await new Promise((r) => setTimeout(r, 10));
      }
      expect(waiting).toHaveLength(1);
      const held = await sql<{ relation: string }>`SELECT relation::regclass::text AS relation FROM pg_locks
      WHERE pid = ${waiting[0].pid} AND granted AND locktype = 'relation' AND mode = 'RowExclusiveLock'`.execute(t.deps.db);
      expect(held.rows.map((r) => r.relation)).toContain("supplier_order_lines");
    } finally {
      release();
      await other;
    }
    const res = await forward;
    expect(res.status).toBe(200);
    // A had none left when the forward came to take it: the line went to B, once.
    expect(res.body.supplierOrders.map((s: any) => s.supplierId)).toEqual([cat.suppliers.b]);
    expect(await stockOf("A-MUG")).toBe(0);
    expect(await stockOf("B-MUG")).toBe(2);
    const lines = await sql<{ n: number }>`SELECT count(*)::int AS n FROM supplier_order_lines l
      JOIN supplier_orders so ON so.id = l.supplier_order_id WHERE so.order_id = ${order.id}`.execute(t.deps.db);
    expect(lines.rows[0].n).toBe(1);
  });

  it("serves many orders of one SKU forwarded together with exactly the stock there is", async () => {
    // 3 of A's… none left (the test above), 2 of B's: eight orders at once, two are served.
    const orders = await Promise.all(Array.from({ length: 8 }, () => createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] })));
    const results = await Promise.all(orders.map((o) => t.api("POST", `/api/v1/orders/${o.id}/actions/forward`)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const served = results.filter((r) => r.body.supplierOrders.length === 1);
    expect(served).toHaveLength(2);
    expect(served.every((r) => r.body.supplierOrders[0].supplierId === cat.suppliers.b)).toBe(true);
    expect(results.filter((r) => r.body.needsSourcing)).toHaveLength(6);
    const offers = (await t.api("GET", `/api/v1/offers?skuId=${cat.skus.MUG.id}`)).body.items;
    expect(offers.every((o: any) => o.stock === 0)).toBe(true);
  });
});
