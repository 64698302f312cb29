import { type Selectable, sql } from "kysely";
import type { Cases, OrderDiscounts, Orders, Payments } from "../db/schema.js";
import { type SupplierOrderJson, supplierOrderOut } from "../fulfilment/supplier-order.view.js";
import { pendingRefundsSql, refundable } from "../money/refundable.js";
import type { Actor } from "../platform/context.js";
import { type Executor, type JsonRowOf, jsonColumn, jsonDate } from "../platform/db.js";
import { notFound } from "../platform/errors.js";
import type { OrderLineJson } from "../policies/policy.repo.js";
import { allowedOrderActions, type OrderStatus } from "./order.states.js";

// The order as the API shows it.

export type OrderView = Awaited<ReturnType<typeof buildOrderView>>;

/**
 * What the order view shows besides the order row, as JSON arrays selected beside it: lines,
 * discounts, payments, supplier orders (with their supplier's name and lines), cases and the
 * refunds in flight — one statement instead of seven round trips.
 */
const orderExtras = (id: ReturnType<typeof sql.ref> | string) => {
  const oid = typeof id === "string" ? sql`${id}::uuid` : id;
  return [
    sql<OrderLineJson[]>`(SELECT coalesce(json_agg(l ORDER BY l.line_no), '[]') FROM order_lines l WHERE l.order_id = ${oid})`.as(
      "lines_json",
    ),
    sql<
      JsonRowOf<Selectable<OrderDiscounts>>[]
    >`(SELECT coalesce(json_agg(d ORDER BY d.id), '[]') FROM order_discounts d WHERE d.order_id = ${oid})`.as("discounts_json"),
    sql<JsonRowOf<Selectable<Payments>>[]>`(SELECT coalesce(json_agg(p ORDER BY p.id), '[]') FROM payments p WHERE p.order_id = ${oid})`.as(
      "payments_json",
    ),
    sql<SupplierOrderJson[]>`(SELECT coalesce(json_agg(x ORDER BY x.created_at, x.id), '[]') FROM (
        SELECT so.*, s.name AS supplier_name, (SELECT coalesce(json_agg(y ORDER BY y.id), '[]') FROM (
          SELECT l.id, l.order_line_id, l.quantity, l.unit_cost, ol.sku_code, ol.title FROM supplier_order_lines l
          JOIN order_lines ol ON ol.id = l.order_line_id WHERE l.supplier_order_id = so.id) y) AS lines
        FROM supplier_orders so JOIN suppliers s ON s.id = so.supplier_id WHERE so.order_id = ${oid}) x)`.as("sos_json"),
    sql<
      CaseSummaryJson[]
    >`(SELECT coalesce(json_agg(c ORDER BY c.created_at, c.id), '[]') FROM (SELECT id, case_no, type, reason, status, created_at
        FROM cases WHERE order_id = ${oid}) c)`.as("cases_json"),
    pendingRefundsSql(oid).as("pending_refunds"),
    sql<string>`(SELECT sh.timezone FROM orders oo JOIN shops sh ON sh.id = oo.shop_id WHERE oo.id = ${oid})`.as("shop_timezone"),
  ];
};
/** A supplier order's line as the views select it. */
type CaseSummaryJson = JsonRowOf<Pick<Selectable<Cases>, "id" | "case_no" | "type" | "reason" | "status" | "created_at">>;
type OrderWithExtras = Selectable<Orders> & {
  lines_json: unknown;
  discounts_json: unknown;
  payments_json: unknown;
  sos_json: unknown;
  cases_json: unknown;
  pending_refunds: string | number;
  shop_timezone: string;
};

export async function orderView(ex: Executor, actor: Actor, orderId: string) {
  const o = await ex
    .selectFrom("orders as o")
    .selectAll("o")
    .select(orderExtras(sql.ref("o.id")))
    .where("o.tenant_id", "=", actor.tenantId)
    .where("o.id", "=", orderId)
    .executeTakeFirst();
  if (!o) throw notFound("order");
  if (actor.role === "customer" && actor.orderId !== orderId) throw notFound("order");
  return buildOrderView(ex, actor, o);
}

async function buildOrderView(ex: Executor, actor: Actor, row: Selectable<Orders> | OrderWithExtras) {
  // Callers holding only the order row read the rest in one statement.
  const o: OrderWithExtras =
    "lines_json" in row ? row : { ...row, ...(await ex.selectNoFrom(orderExtras(String(row.id))).executeTakeFirstOrThrow()) };
  const at = jsonDate;
  const lines = jsonColumn<OrderLineJson[]>(o.lines_json);
  const discounts = jsonColumn<JsonRowOf<Selectable<OrderDiscounts>>[]>(o.discounts_json);
  const payments = jsonColumn<JsonRowOf<Selectable<Payments>>[]>(o.payments_json).map((p) => ({ ...p, paid_at: at(p.paid_at) }));
  const sos = jsonColumn<SupplierOrderJson[]>(o.sos_json).map((x) => ({
    ...x,
    ship_by: at(x.ship_by),
    accepted_at: at(x.accepted_at),
    shipped_at: at(x.shipped_at),
    delivered_at: at(x.delivered_at),
    cancelled_at: at(x.cancelled_at),
    created_at: new Date(x.created_at),
    updated_at: new Date(x.updated_at),
  }));
  const cases = jsonColumn<CaseSummaryJson[]>(o.cases_json).map((c) => ({ ...c, created_at: at(c.created_at) }));
  const pending = { n: Number(o.pending_refunds ?? 0) };
  const soLines = sos.flatMap((so) => so.lines.map((l) => ({ ...l, supplier_order_id: so.id })));
  const supplierScoped = actor.role === "supplier";
  const visibleSos = supplierScoped ? sos.filter((s) => s.supplier_id === actor.supplierId) : sos;
  const isStaff = !["customer", "supplier"].includes(actor.role);
  const refunded = Number(o.refunded_total);
  const pendingRefunds = Number(pending?.n ?? 0);
  return {
    id: o.id as string,
    shopId: o.shop_id,
    /** The shop's IANA time zone: the console shows the order's times in it. */
    shopTimezone: o.shop_timezone,
    platformOrderNo: o.platform_order_no,
    status: o.status as OrderStatus,
    needsSourcing: o.needs_sourcing,
    sourcingNote: o.sourcing_note,
    customer: o.customer,
    address: o.address,
    currency: o.currency,
    goodsTotal: Number(o.goods_total),
    lineDiscountTotal: Number(o.line_discount_total),
    orderDiscountTotal: Number(o.order_discount_total),
    shippingFee: Number(o.shipping_fee),
    paidTotal: Number(o.paid_total),
    placedAt: o.placed_at,
    paidAt: o.paid_at,
    deliveredAt: o.delivered_at,
    completedAt: o.completed_at,
    cancelledAt: o.cancelled_at,
    createdAt: o.created_at,
    lines: lines.map((l) => ({
      id: l.id as string,
      lineNo: l.line_no,
      skuId: l.sku_id,
      skuCode: l.sku_code,
      title: l.title,
      category: l.category,
      quantity: l.quantity,
      unitPrice: Number(l.unit_price),
      discount: Number(l.discount),
      orderDiscountAlloc: Number(l.order_discount_alloc),
      paidAmount: Number(l.paid_amount),
      isGift: l.is_gift,
      giftPrice: Number(l.gift_price),
      noReasonReturnWaived: l.no_reason_return_waived,
    })),
    discounts: discounts.map((d) => ({
      kind: d.kind,
      amount: Number(d.amount),
      threshold: d.threshold === null ? null : Number(d.threshold),
      code: d.code,
    })),
    payments: payments.map((p) => ({ method: p.method, amount: Number(p.amount), reference: p.reference, paidAt: p.paid_at })),
    supplierOrders: visibleSos.map((s) =>
      supplierOrderOut(
        { ...s, platform_order_no: o.platform_order_no, shop_timezone: o.shop_timezone },
        soLines.filter((l) => l.supplier_order_id === s.id),
        actor,
      ),
    ),
    cases: cases.map((c) => ({ id: c.id, caseNo: c.case_no, type: c.type, reason: c.reason, status: c.status, createdAt: c.created_at })),
    money: {
      paid: Number(o.paid_total),
      refunded,
      pending: pendingRefunds,
      refundable: Math.max(0, refundable({ paid: Number(o.paid_total), refunded, pending: pendingRefunds })),
    },
    allowedActions: isStaff ? allowedOrderActions(o.status, sos) : [],
  };
}
