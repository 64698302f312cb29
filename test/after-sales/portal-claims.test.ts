import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Catalog, createDeliveredOrder, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, supplierSession, type TestApp } from "../helpers/harness.js";

describe.each(DB_KINDS)("customer portal and supplier claims on %s", (kind) => {
  let t: TestApp;
  let cat: Catalog;
  beforeAll(async () => {
    t = await startTestApp(kind);
    cat = await setupCatalog(t);
    t.clock.set("2026-03-02T04:00:00Z");
  });
  afterAll(async () => {
    await t?.close();
  });

  const portal = (token: string) => ({ authorization: `Bearer ${token}` });

  it("lets a customer find their order with the phone's last 4 digits, and nothing else", async () => {
    const mine = await createDeliveredOrder(t, cat, { phone: "13911112222", deliveredAt: "2026-03-01T10:00:00+08:00" });
    const other = await createDeliveredOrder(t, cat, { phone: "13933334444", deliveredAt: "2026-03-01T10:00:00+08:00" });
    const wrong = await t.api("POST", "/portal/api/lookup", {
      body: { platformOrderNo: mine.platformOrderNo, phoneLast4: "4444" },
      headers: { authorization: "" },
    });
    expect(wrong.status).toBe(404);
    const ok = await t.api("POST", "/portal/api/lookup", {
      body: { platformOrderNo: mine.platformOrderNo, phoneLast4: "2222" },
      headers: { authorization: "" },
    });
    expect(ok.status).toBe(200);
    const h = portal(ok.body.token);
    const order = await t.api("GET", "/portal/api/order", { headers: h });
    expect(order.body.platformOrderNo).toBe(mine.platformOrderNo);
    const elig = await t.api("GET", "/portal/api/eligibility?reason=changed_mind", { headers: h });
    expect(elig.body.lines[0].options.find((o: any) => o.type === "return_refund").allowed).toBe(true);
    // Staff routes and other orders stay closed to the portal token.
    expect((await t.api("GET", `/api/v1/orders/${mine.id}`, { headers: h })).status).toBe(403);
    const foreign = await t.api("POST", "/portal/api/cases", {
      headers: h,
      body: { orderId: other.id, type: "return_refund", reason: "quality", lines: [{ orderLineId: other.lines[0].id, quantity: 1 }] },
    });
    expect(foreign.status).toBe(404);
    const c = await t.api("POST", "/portal/api/cases", {
      headers: h,
      body: {
        orderId: mine.id,
        type: "return_refund",
        reason: "changed_mind",
        lines: [{ orderLineId: mine.lines[0].id, quantity: 1 }],
        description: "不喜欢颜色",
      },
    });
    expect(c.status).toBe(201);
    expect(c.body.status).toBe("awaiting_return");
    expect(c.body.channel).toBe("portal");
    const ship = await t.api("POST", `/portal/api/cases/${c.body.id}/return-shipment`, {
      headers: h,
      body: { carrier: "ZTO", trackingNo: "ZT7777777" },
    });
    expect(ship.body.status).toBe("return_in_transit");
    // Another customer's token cannot read this case.
    const tok2 = (
      await t.api("POST", "/portal/api/lookup", {
        body: { platformOrderNo: other.platformOrderNo, phoneLast4: "4444" },
        headers: { authorization: "" },
      })
    ).body.token;
    expect((await t.api("GET", `/portal/api/cases/${c.body.id}`, { headers: portal(tok2) })).status).toBe(404);
  });

  it("lets a supplier accept or dispute its claims, and a closed statement settles the accepted ones", async () => {
    const order = await createDeliveredOrder(t, cat, {
      lines: [{ skuCode: "TEE", quantity: 1 }],
      deliveredAt: "2026-03-01T10:00:00+08:00",
    });
    const c = (
      await t.api("POST", "/api/v1/cases", {
        body: { orderId: order.id, type: "reship", reason: "wrong_item", lines: [{ orderLineId: order.lines[0].id, quantity: 1 }] },
      })
    ).body;
    await t.api("POST", `/api/v1/cases/${c.id}/actions/approve`, { body: {} });
    const resolved = (await t.api("POST", `/api/v1/cases/${c.id}/actions/resolve`, { body: {} })).body;
    expect(resolved.claim.status).toBe("open");
    const a = await supplierSession(t.app, t.deps, t.t.tenantId, cat.suppliers.a);
    const b = await supplierSession(t.app, t.deps, t.t.tenantId, cat.suppliers.b);
    expect((await t.api("GET", "/api/v1/supplier-claims", { headers: b })).body.items).toEqual([]);
    const mine = (await t.api("GET", "/api/v1/supplier-claims", { headers: a })).body.items;
    expect(mine.map((x: any) => x.id)).toContain(resolved.claim.id);
    expect((await t.api("POST", `/api/v1/supplier-claims/${resolved.claim.id}/actions/accept`, { headers: b, body: {} })).status).toBe(404);
    const acc = await t.api("POST", `/api/v1/supplier-claims/${resolved.claim.id}/actions/accept`, {
      headers: a,
      body: { note: "our packing error" },
    });
    expect(acc.body.status).toBe("accepted");
    const st = await t.api("POST", "/api/v1/supplier-statements", {
      as: "finance",
      body: { supplierId: cat.suppliers.a, from: "2026-01-01", to: "2026-12-31" },
    });
    expect(st.status).toBe(201);
    expect(st.body.totals.claims).toBe(resolved.claim.amount);
    expect(st.body.totals.payable).toBe(st.body.totals.supplierOrders - resolved.claim.amount);
    const closed = await t.api("POST", `/api/v1/supplier-statements/${st.body.id}/actions/close`, { as: "finance", body: {} });
    expect(closed.body.status).toBe("closed");
    const claim = (await t.api("GET", "/api/v1/supplier-claims?status=settled")).body.items.find((x: any) => x.id === resolved.claim.id);
    expect(claim.statementId).toBe(st.body.id);
    expect((await t.api("POST", `/api/v1/supplier-statements/${st.body.id}/actions/close`, { as: "finance", body: {} })).status).toBe(409);
    const again = await t.api("POST", "/api/v1/supplier-statements", {
      as: "finance",
      body: { supplierId: cat.suppliers.a, from: "2026-06-01", to: "2026-06-30" },
    });
    expect(again.status).toBe(409);
    const csv = await t.api("GET", `/api/v1/supplier-statements/${st.body.id}/export.csv`, { as: "finance" });
    expect(csv.text).toContain("claim");
    expect((await t.api("GET", "/api/v1/ledger/trial-balance")).body.balanced).toBe(true);
  });
});
