import { sql } from "kysely";
import type { Actor, Deps } from "../platform/context.js";
import { emit } from "../platform/context.js";
import { sendWithNext, type Tx } from "../platform/db.js";
import { precompiled } from "../platform/precompiled.js";
import { deriveOrderStatus, type OrderStatus, type SupplierOrderStatus } from "./order.states.js";

// Status roll-up ----------------------------------------------------------------------------------

/** The order and its original supplier orders in one read (the supplier orders as JSON beside it). */
const orderWithSupplierOrders = precompiled((db, p: { orderId: string }) =>
  db
    .selectFrom("orders")
    .select(["status", "paid_at", "cancelled_at", "completed_at", "delivered_at"])
    .select(
      sql<
        { status: SupplierOrderStatus; delivered_at: string | null }[]
      >`(SELECT coalesce(json_agg(json_build_object('status', so.status, 'delivered_at', so.delivered_at)), '[]') FROM supplier_orders so WHERE so.order_id = orders.id AND so.purpose = 'original')`.as(
        "sos",
      ),
    )
    .where("id", "=", p.orderId),
);

/**
 * The order's new status (variant "status") and its sourcing flags ("+sourcing"). Nothing waits
 * for the update's answer: it goes with the transaction's next statement.
 */
const updateRollUp = precompiled(
  (
    db,
    p: {
      id: string;
      status: OrderStatus;
      delivered_at: Date | null;
      updated_at: Date;
      needs_sourcing: boolean;
      sourcing_note: string | null;
    },
    variant,
  ) =>
    sendWithNext(
      db
        .updateTable("orders")
        .set({
          ...(variant.startsWith("status") ? { status: p.status, delivered_at: p.delivered_at, updated_at: p.updated_at } : {}),
          ...(variant.endsWith("+sourcing") ? { needs_sourcing: p.needs_sourcing, sourcing_note: p.sourcing_note } : {}),
        })
        .where("id", "=", p.id),
    ),
);

/**
 * Recomputes the order's status and delivered time from its original supplier orders. `sourcing`
 * (a forward's outcome: whether some line found no supplier, and why) is written in the same update.
 */
export async function rollUpOrder(
  tx: Tx,
  deps: Deps,
  actor: Actor,
  orderId: string,
  sourcing?: { needs_sourcing: boolean; sourcing_note: string | null },
): Promise<{ before: OrderStatus; after: OrderStatus }> {
  const [o] = await orderWithSupplierOrders(tx, { orderId });
  if (!o) throw new Error(`order ${orderId} not found`);
  const sos = o.sos;
  const after = deriveOrderStatus(
    { paid: Boolean(o.paid_at), cancelled: Boolean(o.cancelled_at), completed: Boolean(o.completed_at) },
    sos,
  );
  const deliveredTimes = sos.flatMap((s) => (s.status === "delivered" && s.delivered_at ? [new Date(s.delivered_at).getTime()] : []));
  const deliveredAt = after === "delivered" && deliveredTimes.length ? new Date(Math.max(...deliveredTimes)) : null;
  const changed = after !== o.status || String(deliveredAt) !== String(o.delivered_at ? new Date(o.delivered_at) : null);
  if (changed || sourcing) {
    // Nothing waits for the update's answer: it goes with the transaction's next statement.
    await updateRollUp(
      tx,
      {
        id: orderId,
        status: after,
        delivered_at: deliveredAt ?? o.delivered_at,
        updated_at: deps.clock.now(),
        needs_sourcing: sourcing?.needs_sourcing ?? false,
        sourcing_note: sourcing?.sourcing_note ?? null,
      },
      `${changed ? "status" : ""}${sourcing ? "+sourcing" : ""}`,
    );
  }
  if (after !== o.status) {
    await emit(deps, tx, {
      type: `order.${after}`,
      tenantId: actor.tenantId,
      entityId: orderId,
      data: { from: o.status, to: after },
      key: `order.${after}:${orderId}`,
    });
  }
  return { before: o.status, after };
}
