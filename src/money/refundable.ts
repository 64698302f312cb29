import { type RawBuilder, sql } from "kysely";
import type { Executor } from "../platform/db.js";

/**
 * What remains refundable on an order, the one definition: what was paid, less the refunds that
 * succeeded, less the refunds still under way (pending or processing). A failed refund is not
 * money owed any more. The order view, the refund checks and the case quote all use it.
 */
export const refundable = (m: { paid: number; refunded: number; pending: number }) => m.paid - m.refunded - m.pending;

/** The sum of an order's refunds still under way (pending or processing), as a scalar subquery. */
export const pendingRefundsSql = (orderId: RawBuilder<unknown> | ReturnType<typeof sql.ref> | string) =>
  sql<string | number>`(SELECT coalesce(sum(r.amount), 0) FROM refunds r WHERE r.order_id = ${
    typeof orderId === "string" ? sql`${orderId}::uuid` : orderId
  } AND r.status IN ('pending', 'processing'))`;

/** Paid, refunded, refunds under way and what remains refundable (possibly negative) on one order. */
export async function refundableOf(ex: Executor, orderId: string) {
  const o = await ex
    .selectFrom("orders as o")
    .select(["o.paid_total", "o.refunded_total", pendingRefundsSql(sql.ref("o.id")).as("pending")])
    .where("o.id", "=", orderId)
    .executeTakeFirstOrThrow();
  const m = { paid: Number(o.paid_total), refunded: Number(o.refunded_total), pending: Number(o.pending) };
  return { ...m, remaining: refundable(m) };
}
