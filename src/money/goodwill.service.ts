import type { z } from "zod";
import { audit } from "../platform/audit.js";
import type { Actor, Deps } from "../platform/context.js";
import { notFound } from "../platform/errors.js";
import type { GoodwillBody } from "./money.schemas.js";
import { createOrderRefund, executeRefund, refundView } from "./refunds.js";

/** A goodwill refund on an order, outside any case: made and audited in one transaction, then sent. */
export async function goodwillRefund(deps: Deps, a: Actor, orderId: string, b: z.infer<typeof GoodwillBody>) {
  const o = await deps.db
    .selectFrom("orders")
    .select(["id", "status"])
    .where("tenant_id", "=", a.tenantId)
    .where("id", "=", orderId)
    .executeTakeFirst();
  if (!o) throw notFound("order");
  const r = await deps.db.transaction().execute(async (tx) => {
    const made = await createOrderRefund(tx, deps, a, {
      orderId: o.id,
      amount: b.amount,
      kind: "goodwill",
      reason: b.reason,
      method: b.method,
    });
    await audit(tx, a, "order.goodwill-refund", "order", o.id, undefined, b);
    return made;
  });
  await executeRefund(deps, r.id);
  return refundView(deps.db, a, r.id);
}
