import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Catalog, createOrder, setupCatalog, shipOrder } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, type TestApp } from "../helpers/harness.js";

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
