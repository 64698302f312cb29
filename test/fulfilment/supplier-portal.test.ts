import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Catalog, createOrder, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, supplierSession, type TestApp } from "../helpers/harness.js";

function multipart(csv: string | Buffer) {
  const boundary = "----dropdesk-ship";
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="ship.csv"\r\nContent-Type: text/csv\r\n\r\n`),
    Buffer.isBuffer(csv) ? csv : Buffer.from(csv),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

describe.each(DB_KINDS)("routing, supplier portal and parcel flows on %s", (kind) => {
  let t: TestApp;
  let cat: Catalog;
  beforeAll(async () => {
    t = await startTestApp(kind);
    cat = await setupCatalog(t, { stock: 10 });
  });
  afterAll(async () => {
    await t?.close();
  });

  const patchOffer = async (key: string, body: Record<string, unknown>) => {
    const r = await t.api("PATCH", `/api/v1/offers/${cat.offers[key]}`, { body });
    expect(r.status).toBe(200);
  };
  const forward = async (qty = 1) => {
    const order = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: qty }] });
    const r = await t.api("POST", `/api/v1/orders/${order.id}/actions/forward`);
    expect(r.status).toBe(200);
    return r.body;
  };
  const stockOf = async (key: string) =>
    (await t.api("GET", `/api/v1/offers?skuId=${cat.skus.MUG.id}`)).body.items.find((o: any) => o.id === cat.offers[key]).stock;

  it("routes by priority, then cost, skips offers without enough stock, and flags what nobody can serve", async () => {
    // A has the higher priority although B is cheaper.
    expect((await forward()).supplierOrders[0].supplierId).toBe(cat.suppliers.a);
    // Equal priority: the cheaper offer (B, ¥12) wins.
    await patchOffer("A-MUG", { priority: 0 });
    const cheap = await forward(2);
    expect(cheap.supplierOrders[0].supplierId).toBe(cat.suppliers.b);
    expect(cheap.supplierOrders[0].costTotal).toBe(2400);
    expect(await stockOf("B-MUG")).toBe(8);
    // B has 8 left: an order of 9 falls back to A (9 of its 9 left).
    const fallback = await forward(9);
    expect(fallback.supplierOrders.map((s: any) => s.supplierId)).toEqual([cat.suppliers.a]);
    expect(await stockOf("A-MUG")).toBe(0);
    // An inactive offer is never chosen, and nobody has 20: the order needs sourcing, nothing reserved.
    await patchOffer("B-MUG", { active: false });
    const none = await forward(1);
    expect(none.needsSourcing).toBe(true);
    expect(none.status).toBe("paid");
    expect(none.supplierOrders).toEqual([]);
    await patchOffer("B-MUG", { active: true, stock: 100 });
    await patchOffer("A-MUG", { stock: 100, priority: 1 });
    // Once stock is back, forwarding again serves the order.
    const again = await t.api("POST", `/api/v1/orders/${none.id}/actions/forward`);
    expect(again.status).toBe(200);
    expect(again.body.needsSourcing).toBe(false);
    expect(again.body.status).toBe("forwarded");
  });

  it("prefers the supplier with the better analytics score when the shop routes by score", async () => {
    await patchOffer("A-MUG", { priority: 0 });
    const setScores = (a: number | null, b: number | null) =>
      t.deps.db.transaction().execute(async (tx) => {
        await tx.updateTable("suppliers").set({ score: a }).where("id", "=", cat.suppliers.a).execute();
        await tx.updateTable("suppliers").set({ score: b }).where("id", "=", cat.suppliers.b).execute();
      });
    // B is cheaper but causes problems (the analytics job keeps these scores).
    await setScores(0.95, 0.4);
    expect((await forward()).supplierOrders[0].supplierId).toBe(cat.suppliers.b); // the option is off: cost decides
    const shop = await t.api("PATCH", `/api/v1/shops/${cat.shopId}`, { body: { routeBySupplierScore: true } });
    expect(shop.status).toBe(200);
    expect(shop.body.routeBySupplierScore).toBe(true);
    expect((await forward()).supplierOrders[0].supplierId).toBe(cat.suppliers.a);
    // Scores within one 0.05 step are a tie, and cost decides again; so does a missing score (0.78) next to 0.8.
    await setScores(0.81, 0.8);
    expect((await forward()).supplierOrders[0].supplierId).toBe(cat.suppliers.b);
    await setScores(null, 0.8);
    expect((await forward()).supplierOrders[0].supplierId).toBe(cat.suppliers.b);
    const sup = (await t.api("GET", `/api/v1/suppliers/${cat.suppliers.b}`)).body;
    expect(sup.score).toBe(0.8);
    expect((await t.api("PATCH", `/api/v1/shops/${cat.shopId}`, { body: { routeBySupplierScore: "yes" } })).status).toBe(400);
    await t.api("PATCH", `/api/v1/shops/${cat.shopId}`, { body: { routeBySupplierScore: false } });
    await patchOffer("A-MUG", { priority: 1 });
  });

  it("lists supplier orders past their lead time as late, by the domain clock", async () => {
    const fwd = await forward();
    const so = fwd.supplierOrders[0];
    const late = async () => (await t.api("GET", "/api/v1/supplier-orders?late=true&limit=200")).body.items.map((s: any) => s.id);
    expect(await late()).not.toContain(so.id);
    t.clock.advance(3 * 86400_000);
    expect(await late()).toContain(so.id);
    const one = (await t.api("GET", `/api/v1/supplier-orders?orderId=${fwd.id}`)).body.items[0];
    expect(one.late).toBe(true);
    await t.api("POST", `/api/v1/supplier-orders/${so.id}/actions/ship`, { body: { carrier: "SF", trackingNo: "SFLATE0001" } });
    expect(await late()).not.toContain(so.id);
  });

  it("ships a supplier's parcels from a CSV, reporting bad rows by line and field", async () => {
    const a1 = (await forward()).supplierOrders[0];
    const a2 = await forward();
    expect(a1.supplierId).toBe(cat.suppliers.a);
    await patchOffer("A-MUG", { priority: -1 });
    const b1 = (await forward()).supplierOrders[0];
    expect(b1.supplierId).toBe(cat.suppliers.b);
    const sess = await supplierSession(t.app, t.deps, t.t.tenantId, cat.suppliers.a);
    const csv = [
      "代发单号,订单号,快递公司,运单号,发货时间",
      `${a1.id},,顺丰,SF100000001,2026-03-01T10:00:00+08:00`,
      `,${a2.platformOrderNo},中通,ZT200000002,`,
      `${b1.id},,顺丰,SF300000003,`,
      `${a1.id},,顺丰,SF100000004,`,
      "not-an-id,,顺丰,SF5,",
    ].join("\n");
    const upload = async (file: string) => {
      const m = multipart(file);
      const r = await t.app.inject({
        method: "POST",
        url: "/api/v1/supplier-orders/ship-csv",
        headers: { ...sess, "content-type": m.contentType },
        payload: m.body,
      });
      return { status: r.statusCode, body: r.json() };
    };
    const res = await upload(csv);
    expect(res.status).toBe(200);
    expect(res.body.shipped).toBe(2);
    expect(res.body.failed).toBe(3);
    const byLine = Object.fromEntries(res.body.results.map((r: any) => [r.line, r]));
    expect(byLine[2].ok).toBe(true);
    expect(byLine[3].ok).toBe(true);
    // Another supplier's parcel is not found for this supplier; shipping twice is refused.
    expect(byLine[4]).toMatchObject({ ok: false, field: "supplierOrderId" });
    expect(byLine[5]).toMatchObject({ ok: false, field: "supplierOrderId" });
    expect(byLine[6]).toMatchObject({ ok: false, field: "supplierOrderId", message: "not a supplier order id" });
    const shipped = (await t.api("GET", `/api/v1/supplier-orders/${a1.id}`)).body;
    expect(shipped).toMatchObject({ status: "shipped", carrier: "顺丰", trackingNo: "SF100000001" });
    expect(new Date(shipped.shippedAt).toISOString()).toBe("2026-03-01T02:00:00.000Z");
    expect((await t.api("GET", `/api/v1/orders/${a2.id}`)).body.status).toBe("shipped");
    expect((await t.api("GET", `/api/v1/supplier-orders/${b1.id}`)).body.status).toBe("pending");
    // A file without the needed columns is refused as a whole.
    expect((await upload("foo,bar\n1,2\n")).status).toBe(400);
    await patchOffer("A-MUG", { priority: 1 });
  });

  it("shows a supplier user only its own supplier, offers and parcels, and lets it keep only cost and stock", async () => {
    const sess = await supplierSession(t.app, t.deps, t.t.tenantId, cat.suppliers.b);
    const offers = (await t.api("GET", "/api/v1/offers?limit=200", { headers: sess })).body.items;
    expect(offers.length).toBeGreaterThan(0);
    expect(offers.every((o: any) => o.supplierId === cat.suppliers.b)).toBe(true);
    const asked = (await t.api("GET", `/api/v1/offers?supplierId=${cat.suppliers.a}`, { headers: sess })).body.items ?? [];
    expect(asked.every((o: any) => o.supplierId === cat.suppliers.b)).toBe(true);
    const suppliers = (await t.api("GET", "/api/v1/suppliers", { headers: sess })).body.items;
    expect(suppliers.map((s: any) => s.id)).toEqual([cat.suppliers.b]);
    expect((await t.api("GET", `/api/v1/suppliers/${cat.suppliers.a}`, { headers: sess })).status).toBe(404);
    expect((await t.api("PATCH", `/api/v1/offers/${cat.offers["A-MUG"]}`, { headers: sess, body: { stock: 1 } })).status).toBe(404);
    expect((await t.api("PATCH", `/api/v1/offers/${cat.offers["B-MUG"]}`, { headers: sess, body: { priority: 9 } })).status).toBe(403);
    const own = await t.api("PATCH", `/api/v1/offers/${cat.offers["B-CAKE"]}`, { headers: sess, body: { stock: 77 } });
    expect(own.status).toBe(200);
    expect(own.body.stock).toBe(77);
    const parcels = (await t.api("GET", "/api/v1/supplier-orders?limit=200", { headers: sess })).body.items;
    expect(parcels.every((p: any) => p.supplierId === cat.suppliers.b)).toBe(true);
  });

  it("cancels through the supplier before shipping and intercepts a parcel after", async () => {
    const sess = await supplierSession(t.app, t.deps, t.t.tenantId, cat.suppliers.a);
    const fwd = await forward();
    const so = fwd.supplierOrders[0];
    // Only staff ask for a cancel; the supplier answers.
    expect((await t.api("POST", `/api/v1/supplier-orders/${so.id}/actions/request-cancel`, { headers: sess, body: {} })).status).toBe(403);
    expect((await t.api("POST", `/api/v1/supplier-orders/${so.id}/actions/request-cancel`, { body: {} })).body.status).toBe(
      "cancel_requested",
    );
    const refused = await t.api("POST", `/api/v1/supplier-orders/${so.id}/actions/refuse-cancel`, { headers: sess, body: {} });
    expect(refused.body.status).toBe("accepted");
    await t.api("POST", `/api/v1/supplier-orders/${so.id}/actions/request-cancel`, { body: {} });
    const before = await stockOf("A-MUG");
    const confirmed = await t.api("POST", `/api/v1/supplier-orders/${so.id}/actions/confirm-cancel`, { headers: sess, body: {} });
    expect(confirmed.body.status).toBe("cancelled");
    expect(await stockOf("A-MUG")).toBe(before + 1);

    const fwd2 = await forward();
    const so2 = fwd2.supplierOrders[0];
    await t.api("POST", `/api/v1/supplier-orders/${so2.id}/actions/ship`, {
      headers: sess,
      body: { carrier: "SF", trackingNo: "SFINT0001" },
    });
    expect((await t.api("POST", `/api/v1/orders/${fwd2.id}/actions/cancel`, { body: {} })).status).toBe(409);
    expect((await t.api("POST", `/api/v1/supplier-orders/${so2.id}/actions/request-intercept`, { body: {} })).body.status).toBe(
      "intercept_requested",
    );
    const failed = await t.api("POST", `/api/v1/supplier-orders/${so2.id}/actions/intercept-result`, {
      headers: sess,
      body: { outcome: "failed" },
    });
    expect(failed.body.status).toBe("shipped");
    await t.api("POST", `/api/v1/supplier-orders/${so2.id}/actions/request-intercept`, { body: {} });
    const ok = await t.api("POST", `/api/v1/supplier-orders/${so2.id}/actions/intercept-result`, {
      headers: sess,
      body: { outcome: "intercepted" },
    });
    expect(ok.body.status).toBe("intercepted");
    const order = (await t.api("GET", `/api/v1/orders/${fwd2.id}`)).body;
    expect(order.status).toBe("shipped");
  });
});
