import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Catalog, createOrder, setupCatalog, shipOrder } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, supplierSession, type TestApp } from "../helpers/harness.js";

describe.each(DB_KINDS)("interception and refused delivery on %s", (kind) => {
  let t: TestApp;
  let cat: Catalog;
  beforeAll(async () => {
    t = await startTestApp(kind);
    cat = await setupCatalog(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  async function refundOnlyInTransit() {
    const order = await createOrder(t, cat, { lines: [{ skuCode: "TEE", quantity: 1 }] });
    const shipped = await shipOrder(t, order.id);
    const c = (
      await t.api("POST", "/api/v1/cases", {
        body: { orderId: order.id, type: "refund_only", reason: "changed_mind", lines: [{ orderLineId: order.lines[0].id, quantity: 1 }] },
      })
    ).body;
    const approved = (await t.api("POST", `/api/v1/cases/${c.id}/actions/approve`, { body: { note: "stop the parcel" } })).body;
    expect(approved.status).toBe("approved");
    return { order, so: shipped.supplierOrders[0], caseId: c.id as string };
  }

  it("cancels a supplier order about to ship the wrong item, then forwards the line again; no money moves", async () => {
    const order = await createOrder(t, cat, { lines: [{ skuCode: "TEE", quantity: 1 }] });
    const stock = async () =>
      (await t.api("GET", `/api/v1/offers?skuId=${cat.skus.TEE.id}`)).body.items.find((o: { id: string }) => o.id === cat.offers["A-TEE"])
        .stock;
    const before = await stock();
    const so = (await t.api("POST", `/api/v1/orders/${order.id}/actions/forward`)).body.supplierOrders[0];
    expect(await stock()).toBe(before - 1);
    expect((await t.api("POST", `/api/v1/supplier-orders/${so.id}/actions/accept`)).status).toBe(200);
    // The supplier's packer picked the wrong colour; CS asks to cancel before it ships (发错货取消发货).
    const asked = await t.api("POST", `/api/v1/supplier-orders/${so.id}/actions/request-cancel`, { body: { note: "发错货：颜色不对" } });
    expect(asked.status).toBe(200);
    expect(asked.body.status).toBe("cancel_requested");
    // The supplier sees the request in its portal and confirms it (had the parcel left, it would
    // answer by shipping, and CS would ask for an interception instead).
    const supplier = await supplierSession(t.app, t.deps, t.t.tenantId, cat.suppliers.a);
    const waiting = await t.api("GET", "/api/v1/supplier-orders?status=cancel_requested", { headers: supplier });
    expect(waiting.body.items.map((x: { id: string }) => x.id)).toContain(so.id);
    const confirmed = await t.api("POST", `/api/v1/supplier-orders/${so.id}/actions/confirm-cancel`, {
      headers: supplier,
      body: { note: "已取消，重新配货" },
    });
    expect(confirmed.status, confirmed.text).toBe(200);
    expect(await stock()).toBe(before);
    const back = (await t.api("GET", `/api/v1/orders/${order.id}`)).body;
    expect(back.status).toBe("paid");
    expect(back.allowedActions).toContain("forward");
    // Forwarded again, the right item ships; the cancelled supplier order stays on record.
    const again = (await t.api("POST", `/api/v1/orders/${order.id}/actions/forward`)).body;
    const fresh = again.supplierOrders.find((x: { status: string }) => x.status === "pending");
    expect(again.supplierOrders.map((x: { status: string }) => x.status).sort()).toEqual(["cancelled", "pending"]);
    await t.api("POST", `/api/v1/supplier-orders/${fresh.id}/actions/accept`);
    await t.api("POST", `/api/v1/supplier-orders/${fresh.id}/actions/ship`, { body: { carrier: "SF", trackingNo: "SFRIGHT1" } });
    const shipped = (await t.api("GET", `/api/v1/orders/${order.id}`)).body;
    expect(shipped.status).toBe("shipped");
    expect(shipped.money).toMatchObject({ paid: 9900, refunded: 0, pending: 0 });
    expect((await t.api("GET", `/api/v1/refunds?orderId=${order.id}`)).body.items).toEqual([]);
    expect((await t.api("GET", "/api/v1/ledger/trial-balance", { as: "finance" })).body.balanced).toBe(true);
  });

  it("refunds the customer when the parcel is intercepted", async () => {
    const { order, so, caseId } = await refundOnlyInTransit();
    expect((await t.api("GET", `/api/v1/supplier-orders/${so.id}`)).body.status).toBe("intercept_requested");
    const r = await t.api("POST", `/api/v1/supplier-orders/${so.id}/actions/intercept-result`, { body: { outcome: "intercepted" } });
    expect(r.status).toBe(200);
    const refunds = (await t.api("GET", `/api/v1/refunds?caseId=${caseId}`)).body.items;
    expect(refunds).toHaveLength(1);
    expect(refunds[0].amount).toBe(9900);
    const c = (await t.api("GET", `/api/v1/cases/${caseId}`)).body;
    expect(["refund_pending", "refunded"]).toContain(c.status);
    expect(c.timeline.some((e: any) => e.action === "refund" && e.actorType === "system")).toBe(true);
    expect((await t.api("GET", `/api/v1/orders/${order.id}`)).body.money.refundable).toBeGreaterThanOrEqual(0);
  });

  it("refunds the customer when the carrier reports the parcel refused", async () => {
    const { so, caseId } = await refundOnlyInTransit();
    // The interception failed, then the customer refused the parcel at the door.
    await t.api("POST", `/api/v1/supplier-orders/${so.id}/actions/intercept-result`, { body: { outcome: "failed" } });
    const ev = await t.api("POST", "/api/v1/tracking-events", {
      body: { carrier: "SF", trackingNo: so.trackingNo, status: "refused", occurredAt: new Date().toISOString() },
    });
    expect(ev.body.effect).toBe("returned");
    expect((await t.api("GET", `/api/v1/refunds?caseId=${caseId}`)).body.items).toHaveLength(1);
  });
});
