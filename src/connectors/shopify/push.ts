import { ServiceError } from "../http.js";
import type { ConnectorContext } from "../kind.js";
import { shopifyGraphql } from "./client.js";

/**
 * Calls back to Shopify. Each first reads what Shopify already has (a fulfillment with this
 * tracking number, a cancelled order) and does nothing when the effect is there, so a retry after
 * a lost answer never fulfils or cancels twice.
 */
const gid = (id: string) => `gid://shopify/Order/${id}`;

async function shopifyOrderId(ctx: ConnectorContext, orderId: string): Promise<string> {
  const rec = await ctx.deps.db
    .selectFrom("connector_records")
    .select("external_id")
    .where("connector_id", "=", ctx.connector.id)
    .where("record_type", "=", "order")
    .where("entity_id", "=", orderId)
    .executeTakeFirst();
  if (!rec) throw new ServiceError("refused", "the order did not come from this Shopify store");
  return rec.external_id;
}

const FULFILLMENT_STATE = `query DropdeskFulfillmentState($id: ID!) {
  order(id: $id) {
    id cancelledAt
    fulfillments(first: 50) { id trackingInfo { number company } }
    fulfillmentOrders(first: 5) { nodes { id status lineItems(first: 20) { nodes { id remainingQuantity lineItem { sku } } } } }
  }
}`;
const FULFILLMENT_CREATE = `mutation DropdeskFulfill($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) { fulfillment { id status } userErrors { field message } }
}`;

type FoState = {
  order: {
    id: string;
    cancelledAt: string | null;
    fulfillments: { id: string; trackingInfo: { number: string | null; company: string | null }[] }[];
    fulfillmentOrders: {
      nodes: {
        id: string;
        status: string;
        lineItems: { nodes: { id: string; remainingQuantity: number; lineItem: { sku: string | null } }[] };
      }[];
    };
  } | null;
};

/** A supplier's shipment → a Shopify fulfillment of its lines, with carrier and tracking number. */
export async function fulfillOnShopify(ctx: ConnectorContext, supplierOrderId: string) {
  const so = await ctx.deps.db
    .selectFrom("supplier_orders")
    .select(["id", "order_id", "carrier", "tracking_no"])
    .where("id", "=", supplierOrderId)
    .where("tenant_id", "=", ctx.connector.tenant_id)
    .executeTakeFirstOrThrow();
  const lines = await ctx.deps.db
    .selectFrom("supplier_order_lines as l")
    .innerJoin("order_lines as ol", "ol.id", "l.order_line_id")
    .select(["ol.sku_code", "l.quantity"])
    .where("l.supplier_order_id", "=", supplierOrderId)
    .execute();
  const id = gid(await shopifyOrderId(ctx, so.order_id));
  const state = await shopifyGraphql<FoState>(ctx, FULFILLMENT_STATE, { id });
  if (!state.order) throw new ServiceError("refused", "Shopify no longer has this order");
  const done = state.order.fulfillments.find((f) => f.trackingInfo.some((t) => t.number === so.tracking_no));
  if (done) return { externalId: done.id, note: "already fulfilled on Shopify" };
  const open = state.order.fulfillmentOrders.nodes.filter((fo) => ["OPEN", "IN_PROGRESS", "SCHEDULED"].includes(fo.status));
  const byFo = new Map<string, { id: string; quantity: number }[]>();
  for (const l of lines) {
    let need = Number(l.quantity);
    for (const fo of open) {
      for (const li of fo.lineItems.nodes) {
        if (need === 0 || li.lineItem.sku !== l.sku_code || li.remainingQuantity <= 0) continue;
        const q = Math.min(need, li.remainingQuantity);
        li.remainingQuantity -= q;
        need -= q;
        byFo.set(fo.id, [...(byFo.get(fo.id) ?? []), { id: li.id, quantity: q }]);
      }
    }
    if (need > 0) throw new ServiceError("refused", `Shopify has no open fulfillment line for ${need} × ${l.sku_code}`);
  }
  const r = await shopifyGraphql<{ fulfillmentCreate: { fulfillment: { id: string } | null; userErrors: { message: string }[] } }>(
    ctx,
    FULFILLMENT_CREATE,
    {
      fulfillment: {
        lineItemsByFulfillmentOrder: [...byFo].map(([fulfillmentOrderId, items]) => ({
          fulfillmentOrderId,
          fulfillmentOrderLineItems: items,
        })),
        trackingInfo: { company: so.carrier, number: so.tracking_no },
        notifyCustomer: true,
      },
    },
  );
  const errs = r.fulfillmentCreate.userErrors;
  if (errs.length || !r.fulfillmentCreate.fulfillment)
    throw new ServiceError("refused", `Shopify refused the fulfillment: ${errs.map((e) => e.message).join("; ")}`);
  return { externalId: r.fulfillmentCreate.fulfillment.id };
}

const ORDER_CANCEL = `mutation DropdeskCancel($orderId: ID!) {
  orderCancel(orderId: $orderId, reason: OTHER, refund: false, restock: true, notifyCustomer: true, staffNote: "Cancelled in Dropdesk") {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}`;

/**
 * A cancellation in Dropdesk → the order cancelled on Shopify, restocked, without a refund there:
 * the money goes back through Dropdesk's own refund (creating the refund in Shopify is for later).
 */
export async function cancelOnShopify(ctx: ConnectorContext, orderId: string) {
  const id = gid(await shopifyOrderId(ctx, orderId));
  const state = await shopifyGraphql<{ order: { cancelledAt: string | null } | null }>(
    ctx,
    "query DropdeskCancelled($id: ID!) { order(id: $id) { cancelledAt } }",
    { id },
  );
  if (!state.order) throw new ServiceError("refused", "Shopify no longer has this order");
  if (state.order.cancelledAt) return { externalId: id, note: "already cancelled on Shopify" };
  const r = await shopifyGraphql<{ orderCancel: { job: { id: string } | null; orderCancelUserErrors: { message: string }[] } }>(
    ctx,
    ORDER_CANCEL,
    { orderId: id },
  );
  const errs = r.orderCancel.orderCancelUserErrors;
  if (errs.length) throw new ServiceError("refused", `Shopify refused the cancellation: ${errs.map((e) => e.message).join("; ")}`);
  return { externalId: id };
}
