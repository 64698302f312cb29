import type { Actor, Deps } from "../platform/context.js";
import { emit } from "../platform/context.js";
import type { Tx } from "../platform/db.js";
import { deriveOrderStatus, type OrderStatus, type SupplierOrderStatus } from "./order.states.js";

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
