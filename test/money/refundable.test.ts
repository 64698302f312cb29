import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Catalog, createOrder, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, type TestApp } from "../helpers/harness.js";

// The manual gateway leaves every refund processing until finance confirms it with a bank reference.
describe.each(DB_KINDS)("money: one definition of what remains refundable on %s", (kind) => {
  let t: TestApp;
  let cat: Catalog;
  let gatewayBefore: string | undefined;
  beforeAll(async () => {
    gatewayBefore = process.env.DROPDESK_REFUND_GATEWAY;
    process.env.DROPDESK_REFUND_GATEWAY = "manual";
    t = await startTestApp(kind);
    cat = await setupCatalog(t);
  });
  afterAll(async () => {
    if (gatewayBefore === undefined) delete process.env.DROPDESK_REFUND_GATEWAY;
    else process.env.DROPDESK_REFUND_GATEWAY = gatewayBefore;
    await t?.close();
  });

  const goodwill = (orderId: string, amount: number) =>
    t.api("POST", `/api/v1/orders/${orderId}/actions/goodwill-refund`, { as: "finance", body: { amount, reason: "a chipped handle" } });
  const money = async (orderId: string) => (await t.api("GET", `/api/v1/orders/${orderId}`)).body.money;

  it("shows paid − refunded − refunds under way on the order, the same amount the refund checks allow", async () => {
    const order = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 2 }] });
    const first = await goodwill(order.id, 4900);
    expect(first.status).toBe(200);
    expect(first.body.status).toBe("processing");
    expect(await money(order.id)).toEqual({ paid: 7800, refunded: 0, pending: 4900, refundable: 2900 });

    // A goodwill refund may take exactly what the order shows, not a fen more.
    const over = await goodwill(order.id, 2901);
    expect(over.status).toBe(422);
    expect(over.body.error.code).toBe("refund_exceeds_refundable");
    expect(over.body.error.details.remaining).toBe(2900);

    // A case's refund is capped at the same amount.
    const c = await t.api("POST", "/api/v1/cases", {
      as: "cs",
      body: { orderId: order.id, type: "refund_only", reason: "changed_mind", lines: [{ orderLineId: order.lines[0].id, quantity: 2 }] },
    });
    expect(c.status).toBe(201);
    const quote = (await t.api("GET", `/api/v1/cases/${c.body.id}/refund-quote`)).body;
    expect(quote.goods).toBe(7800);
    expect(quote.capped).toBe(true);
    expect(quote.total).toBe(2900);

    // Confirming the refund moves it from under way to refunded; what remains does not change.
    const confirmed = await t.api("POST", `/api/v1/refunds/${first.body.id}/actions/confirm`, {
      as: "finance",
      body: { reference: "BANK-1" },
    });
    expect(confirmed.body.status).toBe("succeeded");
    expect(await money(order.id)).toEqual({ paid: 7800, refunded: 4900, pending: 0, refundable: 2900 });

    const rest = await goodwill(order.id, 2900);
    expect(rest.status).toBe(200);
    expect((await money(order.id)).refundable).toBe(0);
    expect((await goodwill(order.id, 1)).body.error.details.remaining).toBe(0);
  });

  it("cancels an order with a refund under way and refunds only what remains", async () => {
    const order = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 2 }] });
    expect((await goodwill(order.id, 4900)).body.status).toBe("processing");
    const cancelled = await t.api("POST", `/api/v1/orders/${order.id}/actions/cancel`, { body: { reason: "customer asked" } });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe("cancelled");
    const refunds = (await t.api("GET", `/api/v1/refunds?orderId=${order.id}&kind=cancellation`, { as: "finance" })).body.items;
    expect(refunds.map((r: any) => r.amount)).toEqual([2900]);
    expect(await money(order.id)).toEqual({ paid: 7800, refunded: 0, pending: 7800, refundable: 0 });
  });
});
