import { type Selectable, sql } from "kysely";
import type { Cases, OrderDiscounts, Orders, Payments, SupplierOrders, TrackingEvents } from "../db/schema.js";
import { allocate } from "../money/allocate.js";
import { post } from "../money/ledger.js";
import { pendingRefundsSql, refundable, refundableOf } from "../money/refundable.js";
import { audit } from "../platform/audit.js";
import { type BulkColumn, insertMany } from "../platform/bulk.js";
import { type Actor, type Deps, emit } from "../platform/context.js";
import { type Executor, type JsonRowOf, jsonColumn, jsonDate, type Tx } from "../platform/db.js";
import { AppError, invalidTransition, notFound } from "../platform/errors.js";
import { newId, sha256 } from "../platform/ids.js";
import { lockRows } from "../platform/locks.js";
import type { OrderLineJson } from "../policies/policy.repo.js";
import type { OrderInput } from "./order.schemas.js";
import {
  allowedOrderActions,
  deriveOrderStatus,
  nextSupplierOrderStatus,
  type OrderStatus,
  type SupplierOrderStatus,
  supplierOrderActions,
} from "./order.states.js";
import { type LineNeed, routeLines } from "./routing.js";

const fieldError = (field: string, message: string, extra: Record<string, unknown> = {}) =>
  new AppError("validation_failed", `${field}: ${message}`, { fields: [{ field, message }], ...extra });

/** Canonical JSON of the order's content, so a re-sent order can be told from a different one. */
function contentHash(input: OrderInput): string {
  const { placedAt: _p, ...rest } = input;
  return sha256(JSON.stringify(rest));
}

export interface PreparedLine {
  lineNo: number;
  skuCode: string;
  quantity: number;
  unitPrice: number;
  discount: number;
  orderDiscountAlloc: number;
  paidAmount: number;
  isGift: boolean;
  giftPrice: number;
  noReasonReturnWaived: boolean;
  title?: string;
}

/**
 * Checks an order's arithmetic and spreads order-level discounts over the non-gift lines by their
 * net amount (largest remainder), so that Σ line paid + shipping = paid, to the fen.
 */
export function prepareOrder(input: OrderInput): {
  lines: PreparedLine[];
  goodsTotal: number;
  lineDiscountTotal: number;
  orderDiscountTotal: number;
  paidTotal: number;
} {
  const nets = input.lines.map((l, i) => {
    const gross = l.quantity * l.unitPrice;
    if (l.discount > gross) throw fieldError(`lines.${i}.discount`, `larger than the line's ${gross}`);
    return gross - l.discount;
  });
  const goodsTotal = input.lines.reduce((s, l) => s + l.quantity * l.unitPrice, 0);
  const lineDiscountTotal = input.lines.reduce((s, l) => s + l.discount, 0);
  const orderDiscountTotal = input.discounts.reduce((s, d) => s + d.amount, 0);
  const netGoods = nets.reduce((s, n) => s + n, 0);
  if (orderDiscountTotal > netGoods) throw fieldError("discounts", `order discounts ${orderDiscountTotal} exceed the goods' ${netGoods}`);
  input.discounts.forEach((d, i) => {
    if (d.kind === "threshold" && d.threshold === undefined)
      throw fieldError(`discounts.${i}.threshold`, "a threshold discount needs its threshold");
    if (d.kind === "threshold" && (d.threshold ?? 0) > netGoods)
      throw fieldError(`discounts.${i}.threshold`, `the goods (${netGoods}) do not reach the threshold ${d.threshold}`);
  });
  const weights = input.lines.map((l, i) => (l.isGift ? 0 : nets[i]));
  const allocs = allocate(orderDiscountTotal, weights.some((w) => w > 0) ? weights : nets);
  const lines = input.lines.map((l, i) => ({
    lineNo: i + 1,
    skuCode: l.skuCode,
    title: l.title,
    quantity: l.quantity,
    unitPrice: l.unitPrice,
    discount: l.discount,
    orderDiscountAlloc: allocs[i],
    paidAmount: nets[i] - allocs[i],
    isGift: l.isGift,
    giftPrice: l.giftPrice,
    noReasonReturnWaived: l.noReasonReturnWaived,
  }));
  const expected = netGoods - orderDiscountTotal + input.shippingFee;
  const payments = input.payments ?? (input.paid ? [input.paid] : []);
  const paidTotal = payments.reduce((s, p) => s + p.amount, 0);
  if (payments.length > 0 && paidTotal !== expected) {
    const field = input.payments ? "payments" : "paid.amount";
    throw fieldError(field, `paid ${paidTotal} but lines − discounts + shipping = ${expected}`, { expected, paid: paidTotal });
  }
  return { lines, goodsTotal, lineDiscountTotal, orderDiscountTotal, paidTotal };
}

function customerKey(c: OrderInput["customer"]): string | null {
  if (c.phone) return `phone:${c.phone.replace(/\D/g, "")}`;
  if (c.email) return `email:${c.email.toLowerCase()}`;
  return null;
}

export async function createOrder(
  deps: Deps,
  actor: Actor,
  input: OrderInput,
  opts: { source?: string } = {},
): Promise<{ order: OrderView; created: boolean }> {
  const prepared = prepareOrder(input);
  const hash = contentHash(input);
  const now = deps.clock.now();
  const result = await deps.db.transaction().execute(async (tx) => {
    const shop = await tx
      .selectFrom("shops")
      .select(["id", "currency"])
      .where("tenant_id", "=", actor.tenantId)
      .where("id", "=", input.shopId)
      .executeTakeFirst();
    if (!shop) throw fieldError("shopId", "no such shop");
    const existing = await tx
      .selectFrom("orders")
      .select(["id", "content_hash"])
      .where("tenant_id", "=", actor.tenantId)
      .where("shop_id", "=", input.shopId)
      .where("platform_order_no", "=", input.platformOrderNo)
      .executeTakeFirst();
    if (existing) {
      if (existing.content_hash !== hash) {
        throw new AppError("conflict", `order ${input.platformOrderNo} exists with different content`, {
          orderId: existing.id,
          field: "platformOrderNo",
        });
      }
      return { id: existing.id as string, created: false };
    }
    const orderId = await insertOrder(tx, actor, input, prepared, hash, shop.currency, now, opts.source ?? "api");
    await emit(deps, tx, {
      type: "order.created",
      tenantId: actor.tenantId,
      entityId: orderId,
      data: { platformOrderNo: input.platformOrderNo, paidTotal: prepared.paidTotal },
      key: `order.created:${orderId}`,
    });
    await audit(tx, actor, "order.create", "order", orderId, undefined, {
      platformOrderNo: input.platformOrderNo,
      paidTotal: prepared.paidTotal,
    });
    return { id: orderId, created: true };
  });
  return { order: await orderView(deps.db, actor, result.id), created: result.created };
}

/** Writes one order, its lines, discounts, payments and payment posting inside `tx`. */
export async function insertOrder(
  tx: Tx,
  actor: Actor,
  input: OrderInput,
  prepared: ReturnType<typeof prepareOrder>,
  hash: string,
  currency: string,
  now: Date,
  source: string,
  skuMap?: Map<string, { id: string; category: string; title: string }>,
): Promise<string> {
  const codes = [...new Set(input.lines.map((l) => l.skuCode))];
  const skus =
    skuMap ??
    new Map(
      (
        await tx
          .selectFrom("skus as s")
          .innerJoin("products as p", "p.id", "s.product_id")
          .select(["s.id", "s.sku_code", "p.category", "s.title", "p.title as product_title"])
          .where("s.tenant_id", "=", actor.tenantId)
          .where("s.sku_code", "in", codes)
          .execute()
      ).map((s) => [s.sku_code, { id: s.id, category: s.category, title: s.title || s.product_title }]),
    );
  const [id] = await insertOrders(tx, actor.tenantId, currency, now, source, [{ input, prepared, hash }], skus);
  return id;
}

async function postPayment(tx: Tx, tenantId: string, orderId: string, currency: string, amount: number, at: Date) {
  await post(tx, {
    tenantId,
    code: "payment",
    currency,
    orderId,
    sourceKey: `payment:${orderId}`,
    memo: "customer payment",
    at,
    entries: [
      { account: "cash", amount },
      { account: "revenue", amount: -amount },
    ],
  });
}

// Views -----------------------------------------------------------------------------------------

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
  ];
};
/** A supplier order's line as the views select it. */
type SoLineJson = { id: string; order_line_id: string; quantity: number; unit_cost: number; sku_code: string; title: string };
type SupplierOrderJson = JsonRowOf<Selectable<SupplierOrders>> & { supplier_name: string; lines: SoLineJson[] };
type CaseSummaryJson = JsonRowOf<Pick<Selectable<Cases>, "id" | "case_no" | "type" | "reason" | "status" | "created_at">>;
type OrderWithExtras = Selectable<Orders> & {
  lines_json: unknown;
  discounts_json: unknown;
  payments_json: unknown;
  sos_json: unknown;
  cases_json: unknown;
  pending_refunds: string | number;
};

/** The body of an order or supplier-order action as the routes validate it; each action reads its own fields. */
export type OrderActionInput = {
  reason?: string;
  address?: unknown;
  carrier?: string;
  trackingNo?: string;
  shippedAt?: string;
  deliveredAt?: string;
  note?: string;
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
  > & { supplier_name?: string; platform_order_no?: string },
  lines: Omit<SoLineJson, "id">[],
  actor: Actor,
  now?: Date,
) => ({
  id: s.id,
  orderId: s.order_id,
  supplierId: s.supplier_id,
  supplierName: s.supplier_name,
  platformOrderNo: s.platform_order_no,
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
        { ...s, platform_order_no: o.platform_order_no },
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

// Status roll-up ----------------------------------------------------------------------------------

/** Recomputes the order's status and delivered time from its original supplier orders. */
export async function rollUpOrder(tx: Tx, deps: Deps, actor: Actor, orderId: string): Promise<{ before: OrderStatus; after: OrderStatus }> {
  const o = await tx
    .selectFrom("orders")
    .select(["status", "paid_at", "cancelled_at", "completed_at", "delivered_at"])
    .where("id", "=", orderId)
    .executeTakeFirstOrThrow();
  const sos = await tx
    .selectFrom("supplier_orders")
    .select(["status", "delivered_at"])
    .where("order_id", "=", orderId)
    .where("purpose", "=", "original")
    .execute();
  const after = deriveOrderStatus(
    { paid: Boolean(o.paid_at), cancelled: Boolean(o.cancelled_at), completed: Boolean(o.completed_at) },
    sos as { status: SupplierOrderStatus }[],
  );
  const deliveredTimes = sos.flatMap((s) => (s.status === "delivered" && s.delivered_at ? [new Date(s.delivered_at).getTime()] : []));
  const deliveredAt = after === "delivered" && deliveredTimes.length ? new Date(Math.max(...deliveredTimes)) : null;
  if (after !== o.status || String(deliveredAt) !== String(o.delivered_at ? new Date(o.delivered_at) : null)) {
    await tx
      .updateTable("orders")
      .set({ status: after, delivered_at: deliveredAt ?? o.delivered_at, updated_at: deps.clock.now() })
      .where("id", "=", orderId)
      .execute();
    if (after !== o.status) {
      await emit(deps, tx, {
        type: `order.${after}`,
        tenantId: actor.tenantId,
        entityId: orderId,
        data: { from: o.status, to: after },
        key: `order.${after}:${orderId}`,
      });
    }
  }
  return { before: o.status, after };
}

async function lockOrder(tx: Tx, actor: Actor, orderId: string) {
  const o = await tx
    .selectFrom("orders")
    .selectAll()
    .where("tenant_id", "=", actor.tenantId)
    .where("id", "=", orderId)
    .forUpdate()
    .executeTakeFirst();
  if (!o) throw notFound("order");
  return o;
}

// Order actions -----------------------------------------------------------------------------------

export async function runOrderAction(deps: Deps, actor: Actor, orderId: string, action: string, input: OrderActionInput) {
  await deps.db.transaction().execute(async (tx) => {
    const o = await lockOrder(tx, actor, orderId);
    // Its supplier orders next, so that a supplier's answer waits for this action, or this for it.
    const sos = await tx.selectFrom("supplier_orders").selectAll().where("order_id", "=", orderId).orderBy("id").forUpdate().execute();
    const allowed = allowedOrderActions(o.status, sos);
    if (!allowed.includes(action)) throw invalidTransition("order", action, o.status, allowed);
    const now = deps.clock.now();
    switch (action) {
      case "confirm-payment": {
        const p = input as { amount: number; method: string; reference?: string; paidAt?: string };
        if (p.amount !== Number(o.paid_total)) {
          throw fieldError("amount", `the order's total is ${o.paid_total}`, { expected: Number(o.paid_total) });
        }
        const paidAt = p.paidAt ? new Date(p.paidAt) : now;
        await tx
          .insertInto("payments")
          .values({
            id: newId(),
            tenant_id: actor.tenantId,
            order_id: orderId,
            method: p.method,
            amount: p.amount,
            reference: p.reference ?? null,
            paid_at: paidAt,
          })
          .execute();
        await tx.updateTable("orders").set({ paid_at: paidAt, status: "paid", updated_at: now }).where("id", "=", orderId).execute();
        if (p.amount > 0) await postPayment(tx, actor.tenantId, orderId, o.currency, p.amount, paidAt);
        break;
      }
      case "forward":
        await forwardLocked(tx, deps, actor, o, sos);
        break;
      case "cancel": {
        for (const so of sos) {
          if (so.status === "pending" || so.status === "accepted") {
            await tx
              .updateTable("supplier_orders")
              .set({ status: "cancelled", cancelled_at: now, updated_at: now, note: input.reason ?? "order cancelled" })
              .where("id", "=", so.id)
              .execute();
            await releaseStock(tx, so.id);
          }
        }
        await tx.updateTable("orders").set({ status: "cancelled", cancelled_at: now, updated_at: now }).where("id", "=", orderId).execute();
        // What a refund still under way will pay back is not due again.
        const refundDue = Math.max(0, (await refundableOf(tx, orderId)).remaining);
        await emit(deps, tx, {
          type: "order.cancelled",
          tenantId: actor.tenantId,
          entityId: orderId,
          data: { refundDue, reason: input.reason ?? null, actorId: actor.id },
          key: `order.cancelled:${orderId}`,
        });
        break;
      }
      case "change-address":
        await tx
          .updateTable("orders")
          .set({ address: JSON.stringify(input.address), updated_at: now })
          .where("id", "=", orderId)
          .execute();
        break;
      case "complete":
        await tx.updateTable("orders").set({ status: "completed", completed_at: now, updated_at: now }).where("id", "=", orderId).execute();
        await emit(deps, tx, {
          type: "order.completed",
          tenantId: actor.tenantId,
          entityId: orderId,
          data: {},
          key: `order.completed:${orderId}`,
        });
        break;
      default:
        throw invalidTransition("order", action, o.status, allowed);
    }
    await audit(tx, actor, `order.${action}`, "order", orderId, { status: o.status }, input);
  });
  return orderView(deps.db, actor, orderId);
}

async function releaseStock(tx: Tx, supplierOrderId: string) {
  const lines = await tx
    .selectFrom("supplier_order_lines")
    .select(["offer_id", "quantity"])
    .where("supplier_order_id", "=", supplierOrderId)
    .execute();
  for (const l of lines) {
    if (l.offer_id)
      await tx
        .updateTable("offers")
        .set((eb) => ({ stock: eb("stock", "+", l.quantity) }))
        .where("id", "=", l.offer_id)
        .execute();
  }
}

/** Forwards the lines of a paid order that no active supplier order carries yet. */
async function forwardLocked(
  tx: Tx,
  deps: Deps,
  actor: Actor,
  o: { id: string },
  sos: Pick<Selectable<SupplierOrders>, "id" | "purpose" | "status">[],
) {
  const lines = await tx
    .selectFrom("order_lines")
    .select(["id", "sku_id", "sku_code", "quantity"])
    .where("order_id", "=", o.id)
    .orderBy("line_no")
    .execute();
  const active = sos.filter((s) => s.purpose === "original" && !["rejected", "cancelled"].includes(s.status)).map((s) => s.id);
  const carried = active.length
    ? await tx.selectFrom("supplier_order_lines").select(["order_line_id", "quantity"]).where("supplier_order_id", "in", active).execute()
    : [];
  const rejected = sos.filter((s) => s.purpose === "original" && s.status === "rejected").map((s) => s.id);
  const excluded = rejected.length
    ? new Set(
        (await tx.selectFrom("supplier_order_lines").select("offer_id").where("supplier_order_id", "in", rejected).execute()).map(
          (r) => r.offer_id as string,
        ),
      )
    : new Set<string>();
  const needs: LineNeed[] = [];
  for (const l of lines) {
    const have = carried.filter((c) => c.order_line_id === l.id).reduce((s, c) => s + c.quantity, 0);
    if (l.quantity - have > 0) needs.push({ orderLineId: l.id, skuId: l.sku_id, skuCode: l.sku_code, quantity: l.quantity - have });
  }
  if (needs.length === 0) throw new AppError("conflict", "every line of this order is with a supplier already");
  const r = await routeLines(tx, actor, deps.clock.now(), { orderId: o.id, purpose: "original" }, needs, excluded);
  await tx
    .updateTable("orders")
    .set({ needs_sourcing: r.unserved.length > 0, sourcing_note: r.unserved.length ? r.unserved.map((u) => u.reason).join("; ") : null })
    .where("id", "=", o.id)
    .execute();
  await rollUpOrder(tx, deps, actor, o.id);
  if (r.supplierOrderIds.length) {
    await emit(deps, tx, {
      type: "order.forwarded",
      tenantId: actor.tenantId,
      entityId: o.id,
      data: { supplierOrderIds: r.supplierOrderIds, unserved: r.unserved },
      key: `order.forwarded:${r.supplierOrderIds[0]}`,
    });
  }
  return r;
}

// Supplier orders ---------------------------------------------------------------------------------

export async function runSupplierOrderAction(deps: Deps, actor: Actor, soId: string, action: string, input: OrderActionInput) {
  await deps.db.transaction().execute(async (tx) => {
    await supplierOrderActionTx(tx, deps, actor, soId, action, input);
  });
  return supplierOrderView(deps.db, actor, soId);
}

export async function supplierOrderActionTx(tx: Tx, deps: Deps, actor: Actor, soId: string, action: string, input: OrderActionInput) {
  let q = tx.selectFrom("supplier_orders").select("order_id").where("tenant_id", "=", actor.tenantId).where("id", "=", soId);
  if (actor.role === "supplier") q = q.where("supplier_id", "=", actor.supplierId ?? "");
  const found = await q.executeTakeFirst();
  if (!found) throw notFound("supplier order");
  // The order first, then its supplier order: the lock order of src/platform/locks.ts.
  await lockRows(tx, { orders: [found.order_id], supplierOrders: [soId] });
  const so = await tx.selectFrom("supplier_orders").selectAll().where("id", "=", soId).executeTakeFirstOrThrow();
  const who = actor.role === "supplier" ? "supplier" : "staff";
  const allowed = supplierOrderActions(so.status, actor.kind === "system" ? "staff" : who);
  const to = allowed.includes(action) ? nextSupplierOrderStatus(so.status, action, input) : null;
  if (!to) throw invalidTransition("supplier order", action, so.status, allowed);
  const now = deps.clock.now();
  const set: Record<string, unknown> = { status: to, updated_at: now };
  if (action === "accept") set.accepted_at = now;
  if (action === "reject") set.reject_reason = input.reason ?? "rejected by the supplier";
  if (action === "ship") {
    set.carrier = input.carrier;
    set.tracking_no = input.trackingNo;
    set.shipped_at = input.shippedAt ? new Date(input.shippedAt) : now;
  }
  if (action === "deliver") set.delivered_at = input.deliveredAt ? new Date(input.deliveredAt) : now;
  if (action === "confirm-cancel") set.cancelled_at = now;
  if (input.note) set.note = input.note;
  await tx.updateTable("supplier_orders").set(set).where("id", "=", soId).execute();
  if (action === "reject" || action === "confirm-cancel") await releaseStock(tx, soId);
  // Locked above, with the supplier order.
  const order = await tx.selectFrom("orders").selectAll().where("id", "=", so.order_id).executeTakeFirstOrThrow();
  if (action === "ship" && Number(so.cost_total) > 0) {
    await post(tx, {
      tenantId: actor.tenantId,
      code: "supplier_cost",
      currency: order.currency,
      orderId: so.order_id,
      supplierId: so.supplier_id,
      caseId: so.case_id,
      sourceKey: `supplier_cost:${soId}`,
      memo: `goods shipped by the supplier (${so.purpose})`,
      at: now,
      entries: [
        { account: "cost_of_goods", amount: Number(so.cost_total) },
        { account: "supplier_payables", amount: -Number(so.cost_total) },
      ],
    });
  }
  const eventType = {
    ship: "supplier_order.shipped",
    deliver: "supplier_order.delivered",
    reject: "supplier_order.rejected",
    accept: "supplier_order.accepted",
    "confirm-cancel": "supplier_order.cancelled",
    "intercept-result": to === "intercepted" ? "supplier_order.intercepted" : "supplier_order.intercept_failed",
    "mark-returned": "supplier_order.returned",
  }[action];
  if (eventType) {
    await emit(deps, tx, {
      type: eventType,
      tenantId: actor.tenantId,
      entityId: soId,
      data: {
        orderId: so.order_id,
        supplierId: so.supplier_id,
        caseId: so.case_id,
        purpose: so.purpose,
        status: to,
        trackingNo: input.trackingNo ?? so.tracking_no,
      },
      key: `${eventType}:${soId}:${now.getTime()}`,
    });
  }
  await audit(tx, actor, `supplier_order.${action}`, "supplier_order", soId, { status: so.status }, { status: to, ...input });
  // A rejection sends the lines on to the next offer at once (unless the order is cancelled).
  if (action === "reject" && so.purpose === "original" && !order.cancelled_at) {
    const sos = await tx.selectFrom("supplier_orders").selectAll().where("order_id", "=", so.order_id).execute();
    try {
      await forwardLocked(tx, deps, actor, order, sos);
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
    }
  }
  if (so.purpose === "original") await rollUpOrder(tx, deps, actor, so.order_id);
  return { from: so.status as SupplierOrderStatus, to };
}

export async function supplierOrderView(ex: Executor, actor: Actor, soId: string) {
  // One statement: the supplier order with its supplier, order, lines and tracking events.
  let q = ex
    .selectFrom("supplier_orders as so")
    .innerJoin("suppliers as s", "s.id", "so.supplier_id")
    .innerJoin("orders as o", "o.id", "so.order_id")
    .selectAll("so")
    .select(["s.name as supplier_name", "o.platform_order_no", "o.address", "o.customer"])
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
    .where("so.tenant_id", "=", actor.tenantId)
    .where("so.id", "=", soId);
  if (actor.role === "supplier") q = q.where("so.supplier_id", "=", actor.supplierId ?? "");
  const so = await q.executeTakeFirst();
  if (!so) throw notFound("supplier order");
  const events = so.tracking_no ? jsonColumn<typeof so.tracking_json>(so.tracking_json) : [];
  return {
    ...supplierOrderOut(so, jsonColumn<typeof so.lines_json>(so.lines_json), actor),
    shipTo: { address: so.address, customer: { name: (so.customer as { name?: string } | null)?.name } },
    tracking: events.map((e) => ({ status: e.status, occurredAt: new Date(e.occurred_at), description: e.description })),
  };
}

/** A new supplier order for an exchange, reship or repair, routed like a forward. */
export async function createFollowUpSupplierOrder(
  deps: Deps,
  tx: Tx,
  actor: Actor,
  p: { orderId: string; caseId: string; purpose: "exchange" | "reship" | "repair"; lines: { orderLineId: string; quantity: number }[] },
): Promise<string[]> {
  const lines = await tx
    .selectFrom("order_lines")
    .select(["id", "sku_id", "sku_code"])
    .where("order_id", "=", p.orderId)
    .where("tenant_id", "=", actor.tenantId)
    .execute();
  const needs = p.lines.map((l) => {
    const ol = lines.find((x) => x.id === l.orderLineId);
    if (!ol) throw notFound("order line");
    return { orderLineId: ol.id, skuId: ol.sku_id, skuCode: ol.sku_code, quantity: l.quantity };
  });
  const r = await routeLines(tx, actor, deps.clock.now(), { orderId: p.orderId, purpose: p.purpose, caseId: p.caseId }, needs);
  if (r.unserved.length)
    throw new AppError("conflict", `cannot source the ${p.purpose}: ${r.unserved.map((u) => u.reason).join("; ")}`, {
      unserved: r.unserved,
    });
  return r.supplierOrderIds;
}

/** Asks every shipped, undelivered supplier order of the order to be intercepted (拦截). */
export async function requestInterceptForOrder(deps: Deps, tx: Tx, actor: Actor, orderId: string): Promise<string[]> {
  const sos = await tx
    .selectFrom("supplier_orders")
    .select(["id"])
    .where("order_id", "=", orderId)
    .where("tenant_id", "=", actor.tenantId)
    .where("status", "=", "shipped")
    .execute();
  for (const so of sos) await supplierOrderActionTx(tx, deps, actor, so.id, "request-intercept", {});
  return sos.map((s) => s.id);
}

// Tracking ----------------------------------------------------------------------------------------

export async function recordTrackingEvent(
  deps: Deps,
  actor: Actor,
  e: { carrier: string; trackingNo: string; status: Selectable<TrackingEvents>["status"]; occurredAt: string; description?: string },
) {
  return deps.db.transaction().execute(async (tx) => {
    const so = await tx
      .selectFrom("supplier_orders")
      .select(["id", "status"])
      .where("tenant_id", "=", actor.tenantId)
      .where("tracking_no", "=", e.trackingNo)
      .orderBy("created_at", "desc")
      .executeTakeFirst();
    const kase = so
      ? undefined
      : await tx
          .selectFrom("cases")
          .select(["id"])
          .where("tenant_id", "=", actor.tenantId)
          .where("return_tracking_no", "=", e.trackingNo)
          .executeTakeFirst();
    const id = newId();
    await tx
      .insertInto("tracking_events")
      .values({
        id,
        tenant_id: actor.tenantId,
        carrier: e.carrier,
        tracking_no: e.trackingNo,
        status: e.status,
        occurred_at: new Date(e.occurredAt),
        description: e.description ?? null,
        supplier_order_id: so?.id ?? null,
        case_id: kase?.id ?? null,
      })
      .execute();
    let effect: string | null = null;
    const system: Actor = { ...actor, kind: actor.kind === "customer" ? "system" : actor.kind };
    if (so && e.status === "delivered" && ["shipped", "intercept_requested"].includes(so.status)) {
      await supplierOrderActionTx(tx, deps, system, so.id, "deliver", { deliveredAt: e.occurredAt });
      effect = "delivered";
    }
    if (
      so &&
      (e.status === "refused" || e.status === "returned") &&
      ["shipped", "intercept_requested", "intercepted"].includes(so.status)
    ) {
      await supplierOrderActionTx(tx, deps, system, so.id, "mark-returned", {});
      effect = "returned";
    }
    return { id, supplierOrderId: so?.id ?? null, caseId: kase?.id ?? null, effect };
  });
}

const ORDER_COLUMNS: readonly BulkColumn[] = [
  ["id", "uuid"],
  ["tenant_id", "uuid"],
  ["shop_id", "uuid"],
  ["platform_order_no", "text"],
  ["customer_id", "uuid"],
  ["customer", "jsonb"],
  ["address", "jsonb"],
  ["status", "text"],
  ["currency", "text"],
  ["goods_total", "bigint"],
  ["line_discount_total", "bigint"],
  ["order_discount_total", "bigint"],
  ["shipping_fee", "bigint"],
  ["paid_total", "bigint"],
  ["content_hash", "text"],
  ["source", "text"],
  ["placed_at", "timestamptz"],
  ["paid_at", "timestamptz"],
  ["created_at", "timestamptz"],
  ["updated_at", "timestamptz"],
];
const LINE_COLUMNS: readonly BulkColumn[] = [
  ["id", "uuid"],
  ["tenant_id", "uuid"],
  ["order_id", "uuid"],
  ["line_no", "int"],
  ["sku_id", "uuid"],
  ["sku_code", "text"],
  ["title", "text"],
  ["category", "text"],
  ["quantity", "int"],
  ["unit_price", "bigint"],
  ["discount", "bigint"],
  ["order_discount_alloc", "bigint"],
  ["paid_amount", "bigint"],
  ["is_gift", "boolean"],
  ["gift_price", "bigint"],
  ["no_reason_return_waived", "boolean"],
];
const DISCOUNT_COLUMNS: readonly BulkColumn[] = [
  ["id", "uuid"],
  ["tenant_id", "uuid"],
  ["order_id", "uuid"],
  ["kind", "text"],
  ["amount", "bigint"],
  ["threshold", "bigint"],
  ["code", "text"],
];
const PAYMENT_COLUMNS: readonly BulkColumn[] = [
  ["id", "uuid"],
  ["tenant_id", "uuid"],
  ["order_id", "uuid"],
  ["method", "text"],
  ["amount", "bigint"],
  ["reference", "text"],
  ["paid_at", "timestamptz"],
];
const POSTING_COLUMNS: readonly BulkColumn[] = [
  ["id", "uuid"],
  ["tenant_id", "uuid"],
  ["code", "text"],
  ["memo", "text"],
  ["currency", "text"],
  ["order_id", "uuid"],
  ["source_key", "text"],
  ["at", "timestamptz"],
];
const ENTRY_COLUMNS: readonly BulkColumn[] = [
  ["id", "uuid"],
  ["tenant_id", "uuid"],
  ["posting_id", "uuid"],
  ["account", "text"],
  ["amount", "bigint"],
];

/**
 * The ids of the orders' customers, creating the new ones. Known customers are only read (and
 * renamed when the order brings a new name), so that a repeat customer's concurrent orders do
 * not queue on a write lock of the customer row.
 */
async function upsertCustomers(tx: Tx, tenantId: string, customers: Map<string, OrderInput["customer"]>) {
  const ids = new Map<string, string>();
  if (customers.size === 0) return ids;
  const keys = [...customers.keys()];
  const known = await tx
    .selectFrom("customers")
    .select(["id", "key", "name"])
    .where("tenant_id", "=", tenantId)
    .where("key", "in", keys)
    .execute();
  for (const r of known) {
    ids.set(r.key as string, r.id as string);
    const name = customers.get(r.key as string)?.name;
    if (name && name !== r.name) await tx.updateTable("customers").set({ name }).where("id", "=", r.id).execute();
  }
  const missing = keys.filter((k) => !ids.has(k));
  if (missing.length) {
    const made = await tx
      .insertInto("customers")
      .values(
        missing.map((key) => {
          const c = customers.get(key) as OrderInput["customer"];
          return { id: newId(), tenant_id: tenantId, key, name: c.name ?? null, phone: c.phone ?? null, email: c.email ?? null };
        }),
      )
      .onConflict((oc) => oc.columns(["tenant_id", "key"]).doNothing())
      .returning(["id", "key"])
      .execute();
    for (const r of made) ids.set(r.key as string, r.id as string);
    // Created meanwhile by a concurrent order: read them.
    const raced = missing.filter((k) => !ids.has(k));
    if (raced.length) {
      const rows = await tx
        .selectFrom("customers")
        .select(["id", "key"])
        .where("tenant_id", "=", tenantId)
        .where("key", "in", raced)
        .execute();
      for (const r of rows) ids.set(r.key as string, r.id as string);
    }
  }
  return ids;
}

export type PreparedOrder = { input: OrderInput; prepared: ReturnType<typeof prepareOrder>; hash: string };

/**
 * Writes new orders with one multi-row statement per table — customers, orders, lines, discounts,
 * payments and their payment postings — whether one order from the API or a batch from an import.
 */
export async function insertOrders(
  tx: Tx,
  tenantId: string,
  currency: string,
  now: Date,
  source: string,
  items: PreparedOrder[],
  skus: Map<string, { id: string; category: string; title: string }>,
): Promise<string[]> {
  const ids: string[] = [];
  if (items.length === 0) return ids;
  const customers = new Map<string, OrderInput["customer"]>();
  for (const it of items) {
    const k = customerKey(it.input.customer);
    if (k && !customers.has(k)) customers.set(k, it.input.customer);
  }
  const customerIds = await upsertCustomers(tx, tenantId, customers);
  const orders: Record<string, unknown>[] = [];
  const lines: Record<string, unknown>[] = [];
  const discounts: Record<string, unknown>[] = [];
  const payments: Record<string, unknown>[] = [];
  const postings: Record<string, unknown>[] = [];
  const entries: Record<string, unknown>[] = [];
  for (const { input, prepared, hash } of items) {
    const id = newId();
    ids.push(id);
    const pays = input.payments ?? (input.paid ? [input.paid] : []);
    const placedAt = input.placedAt ? new Date(input.placedAt) : now;
    const paidAt = pays.length ? new Date(pays[0].paidAt ?? placedAt) : null;
    const k = customerKey(input.customer);
    orders.push({
      id,
      tenant_id: tenantId,
      shop_id: input.shopId,
      platform_order_no: input.platformOrderNo,
      customer_id: k ? (customerIds.get(k) ?? null) : null,
      customer: JSON.stringify(input.customer),
      address: JSON.stringify(input.address),
      status: pays.length ? "paid" : "pending_payment",
      currency,
      goods_total: prepared.goodsTotal,
      line_discount_total: prepared.lineDiscountTotal,
      order_discount_total: prepared.orderDiscountTotal,
      shipping_fee: input.shippingFee,
      paid_total: prepared.paidTotal,
      content_hash: hash,
      source,
      placed_at: placedAt,
      paid_at: paidAt,
      created_at: now,
      updated_at: now,
    });
    for (const l of prepared.lines) {
      const sku = skus.get(l.skuCode);
      lines.push({
        id: newId(),
        tenant_id: tenantId,
        order_id: id,
        line_no: l.lineNo,
        sku_id: sku?.id ?? null,
        sku_code: l.skuCode,
        title: l.title ?? sku?.title ?? l.skuCode,
        category: sku?.category ?? "general",
        quantity: l.quantity,
        unit_price: l.unitPrice,
        discount: l.discount,
        order_discount_alloc: l.orderDiscountAlloc,
        paid_amount: l.paidAmount,
        is_gift: l.isGift,
        gift_price: l.giftPrice,
        no_reason_return_waived: l.noReasonReturnWaived,
      });
    }
    for (const d of input.discounts)
      discounts.push({
        id: newId(),
        tenant_id: tenantId,
        order_id: id,
        kind: d.kind,
        amount: d.amount,
        threshold: d.threshold ?? null,
        code: d.code ?? null,
      });
    for (const p of pays)
      payments.push({
        id: newId(),
        tenant_id: tenantId,
        order_id: id,
        method: p.method,
        amount: p.amount,
        reference: p.reference ?? null,
        paid_at: new Date(p.paidAt ?? placedAt),
      });
    if (pays.length && prepared.paidTotal > 0) {
      const postingId = newId();
      postings.push({
        id: postingId,
        tenant_id: tenantId,
        code: "payment",
        memo: "customer payment",
        currency,
        order_id: id,
        source_key: `payment:${id}`,
        at: paidAt ?? now,
      });
      entries.push({ id: newId(), tenant_id: tenantId, posting_id: postingId, account: "cash", amount: prepared.paidTotal });
      entries.push({ id: newId(), tenant_id: tenantId, posting_id: postingId, account: "revenue", amount: -prepared.paidTotal });
    }
  }
  await insertMany(tx, "orders", ORDER_COLUMNS, orders);
  await insertMany(tx, "order_lines", LINE_COLUMNS, lines);
  await insertMany(tx, "order_discounts", DISCOUNT_COLUMNS, discounts);
  await insertMany(tx, "payments", PAYMENT_COLUMNS, payments);
  if (postings.length) {
    await insertMany(tx, "ledger_postings", POSTING_COLUMNS, postings);
    await insertMany(tx, "ledger_entries", ENTRY_COLUMNS, entries);
  }
  return ids;
}
