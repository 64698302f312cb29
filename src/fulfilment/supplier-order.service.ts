import { type Selectable, sql } from "kysely";
import type { SupplierOrders } from "../db/schema.js";
import { post } from "../money/ledger.js";
import { rollUpOrder } from "../orders/order.rollup.js";
import type { OrderActionInput } from "../orders/order.schemas.js";
import { nextSupplierOrderStatus, type SupplierOrderStatus, supplierOrderActions } from "../orders/order.states.js";
import { type LineNeed, reserveStock, routeLines } from "../orders/routing.js";
import { audit } from "../platform/audit.js";
import { type Actor, type Deps, emit } from "../platform/context.js";
import { sendWithNext, type Tx } from "../platform/db.js";
import { AppError, invalidTransition, notFound } from "../platform/errors.js";
import { lockWithOrder } from "../platform/locks.js";
import { supplierOrderView } from "./supplier-order.view.js";

// Supplier orders: forwarding an order's lines, the supplier's and staff's actions on them, and the
// follow-up supplier orders of exchanges, reships and repairs.

export async function releaseStock(tx: Tx, supplierOrderId: string) {
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
export async function forwardLocked(
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
  // Many orders of one SKU forward at once (a promotion): the offer's stock row is the one they all
  // wait for. So its stock is taken last, just before the COMMIT, and the row is held for that
  // round trip only. If a concurrent order took the stock between the read and the taking, the
  // routing is undone to the savepoint and done again, taking the stock as each line is routed.
  await sql`savepoint forward`.execute(tx);
  const r = await routeAndRecord(tx, deps, actor, o.id, needs, excluded, "later");
  if (await reserveStock(tx, r.reservations)) return r;
  await sql`rollback to savepoint forward`.execute(tx);
  return routeAndRecord(tx, deps, actor, o.id, needs, excluded, "now");
}

async function routeAndRecord(
  tx: Tx,
  deps: Deps,
  actor: Actor,
  orderId: string,
  needs: LineNeed[],
  excluded: Set<string>,
  reserve: "now" | "later",
) {
  const r = await routeLines(tx, actor, deps.clock.now(), { orderId, purpose: "original" }, needs, excluded, reserve);
  await rollUpOrder(tx, deps, actor, orderId, {
    needs_sourcing: r.unserved.length > 0,
    sourcing_note: r.unserved.length ? r.unserved.map((u) => u.reason).join("; ") : null,
  });
  if (r.supplierOrderIds.length) {
    await emit(deps, tx, {
      type: "order.forwarded",
      tenantId: actor.tenantId,
      entityId: orderId,
      data: { supplierOrderIds: r.supplierOrderIds, unserved: r.unserved },
      key: `order.forwarded:${r.supplierOrderIds[0]}`,
    });
  }
  return r;
}

export async function runSupplierOrderAction(deps: Deps, actor: Actor, soId: string, action: string, input: OrderActionInput) {
  await deps.db.transaction().execute(async (tx) => {
    await supplierOrderActionTx(tx, deps, actor, soId, action, input);
  });
  return supplierOrderView(deps.db, actor, soId);
}

export async function supplierOrderActionTx(tx: Tx, deps: Deps, actor: Actor, soId: string, action: string, input: OrderActionInput) {
  const scope = actor.role === "supplier" ? { tenantId: actor.tenantId, supplierId: actor.supplierId ?? "" } : { tenantId: actor.tenantId };
  // The order first, then its supplier order, read with what the action needs of its order.
  const so = await lockWithOrder(tx, "supplierOrders", soId, scope);
  if (!so) throw notFound("supplier order");
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
  // Locked above; nothing waits for the update's answer: it goes with the next statement.
  await sendWithNext(tx.updateTable("supplier_orders").set(set).where("id", "=", soId)).execute();
  if (action === "reject" || action === "confirm-cancel") await releaseStock(tx, soId);
  if (action === "ship" && Number(so.cost_total) > 0) {
    await post(tx, {
      tenantId: actor.tenantId,
      code: "supplier_cost",
      currency: so.order_currency,
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
        shopId: so.order_shop_id,
        carrier: input.carrier ?? so.carrier,
        trackingNo: input.trackingNo ?? so.tracking_no,
      },
      key: `${eventType}:${soId}:${now.getTime()}`,
    });
  }
  await audit(tx, actor, `supplier_order.${action}`, "supplier_order", soId, { status: so.status }, { status: to, ...input });
  // A rejection sends the lines on to the next offer at once (unless the order is cancelled).
  if (action === "reject" && so.purpose === "original" && !so.order_cancelled_at) {
    // Locked above, with the supplier order.
    const order = await tx.selectFrom("orders").selectAll().where("id", "=", so.order_id).executeTakeFirstOrThrow();
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
