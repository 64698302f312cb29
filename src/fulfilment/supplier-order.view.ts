import { type Selectable, sql } from "kysely";
import type { SupplierOrders, TrackingEvents } from "../db/schema.js";
import { type SupplierOrderStatus, supplierOrderActions } from "../orders/order.states.js";
import type { Actor } from "../platform/context.js";
import { type Executor, type JsonRowOf, jsonColumn } from "../platform/db.js";
import { notFound } from "../platform/errors.js";
import { precompiled } from "../platform/precompiled.js";

// The supplier order as the API shows it, to staff, to its supplier and (without costs) to the customer.

/** A supplier order's line as the views select it. */
export type SoLineJson = { id: string; order_line_id: string; quantity: number; unit_cost: number; sku_code: string; title: string };
export type SupplierOrderJson = JsonRowOf<Selectable<SupplierOrders>> & { supplier_name: string; lines: SoLineJson[] };

export const supplierOrderOut = (
  s: Pick<
    Selectable<SupplierOrders>,
    | "id"
    | "order_id"
    | "supplier_id"
    | "purpose"
    | "case_id"
    | "status"
    | "cost_total"
    | "carrier"
    | "tracking_no"
    | "reject_reason"
    | "ship_by"
    | "accepted_at"
    | "shipped_at"
    | "delivered_at"
    | "created_at"
  > & { supplier_name?: string; platform_order_no?: string; shop_timezone?: string },
  lines: Omit<SoLineJson, "id">[],
  actor: Actor,
  now?: Date,
) => ({
  id: s.id,
  orderId: s.order_id,
  supplierId: s.supplier_id,
  supplierName: s.supplier_name,
  platformOrderNo: s.platform_order_no,
  /** The shop's IANA time zone, where the view knows it: the portals show the times in it. */
  shopTimezone: s.shop_timezone,
  purpose: s.purpose,
  caseId: s.case_id,
  status: s.status as SupplierOrderStatus,
  costTotal: Number(s.cost_total),
  carrier: s.carrier,
  trackingNo: s.tracking_no,
  rejectReason: s.reject_reason,
  shipBy: s.ship_by,
  late: !s.shipped_at && s.ship_by && new Date(s.ship_by) < (now ?? new Date()) && ["pending", "accepted"].includes(s.status),
  acceptedAt: s.accepted_at,
  shippedAt: s.shipped_at,
  deliveredAt: s.delivered_at,
  createdAt: s.created_at,
  lines: lines.map((l) => ({
    orderLineId: l.order_line_id,
    skuCode: l.sku_code,
    title: l.title,
    quantity: l.quantity,
    unitCost: actor.role === "customer" ? undefined : Number(l.unit_cost),
  })),
  allowedActions: actor.role === "customer" ? [] : supplierOrderActions(s.status, actor.role === "supplier" ? "supplier" : "staff"),
});

/** Supplier orders with what every view of one shows beside it: the supplier's name, the order's number and consignee, the shop's time zone. */
export const supplierOrderRows = (ex: Executor) =>
  ex
    .selectFrom("supplier_orders as so")
    .innerJoin("suppliers as s", "s.id", "so.supplier_id")
    .innerJoin("orders as o", "o.id", "so.order_id")
    .innerJoin("shops as sh", "sh.id", "o.shop_id")
    .selectAll("so")
    .select(["s.name as supplier_name", "o.platform_order_no", "o.address", "o.customer", "sh.timezone as shop_timezone"]);

/**
 * The supplier-order view's one statement: the supplier order with its supplier, order, lines and
 * tracking events; a supplier's variant keeps to its own supplier orders.
 */
const supplierOrderViewRow = precompiled((db, p: { tenantId: string; soId: string; supplierId: string }, scope) => {
  let q = supplierOrderRows(db)
    .select(
      sql<
        SoLineJson[]
      >`(SELECT coalesce(json_agg(x ORDER BY x.id), '[]') FROM (SELECT l.id, l.order_line_id, l.quantity, l.unit_cost, ol.sku_code, ol.title
        FROM supplier_order_lines l JOIN order_lines ol ON ol.id = l.order_line_id WHERE l.supplier_order_id = so.id) x)`.as("lines_json"),
    )
    .select(
      sql<
        JsonRowOf<Pick<Selectable<TrackingEvents>, "id" | "status" | "occurred_at" | "description">>[]
      >`(SELECT coalesce(json_agg(e ORDER BY e.occurred_at, e.id), '[]') FROM (SELECT id, status, occurred_at, description
        FROM tracking_events WHERE tenant_id = so.tenant_id AND tracking_no = so.tracking_no) e)`.as("tracking_json"),
    )
    .where("so.tenant_id", "=", p.tenantId)
    .where("so.id", "=", p.soId);
  if (scope === "supplier") q = q.where("so.supplier_id", "=", p.supplierId);
  return q;
});

export async function supplierOrderView(ex: Executor, actor: Actor, soId: string) {
  const [so] = await supplierOrderViewRow(
    ex,
    { tenantId: actor.tenantId, soId, supplierId: actor.supplierId ?? "" },
    actor.role === "supplier" ? "supplier" : "staff",
  );
  if (!so) throw notFound("supplier order");
  const events = so.tracking_no ? jsonColumn<typeof so.tracking_json>(so.tracking_json) : [];
  return {
    ...supplierOrderOut(so, jsonColumn<typeof so.lines_json>(so.lines_json), actor),
    shipTo: { address: so.address, customer: { name: (so.customer as { name?: string } | null)?.name } },
    tracking: events.map((e) => ({ status: e.status, occurredAt: new Date(e.occurred_at), description: e.description })),
  };
}
