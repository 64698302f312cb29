import { sendAfterCommit } from "../money/refunds.js";
import type { Actor, Deps, DomainEvent } from "../platform/context.js";
import type { Tx } from "../platform/db.js";
import { applyAction } from "./case.service.js";

/**
 * Refused delivery (拒收) and interception (拦截) as first-class paths: when the parcel of an order
 * is intercepted or comes back to the supplier, the approved refund-only cases waiting on it are
 * refunded, in the same transaction as the parcel's new state; the gateway is called after commit.
 */
export function setupParcelReturns(deps: Deps) {
  const pending: string[] = [];
  deps.eventSinks.push(async (tx: Tx, e: DomainEvent) => {
    if (e.type !== "supplier_order.intercepted" && e.type !== "supplier_order.returned") return;
    const orderId = String(e.data.orderId ?? "");
    if (!orderId) return;
    const waiting = await tx
      .selectFrom("cases")
      .select(["id"])
      .where("tenant_id", "=", e.tenantId)
      .where("order_id", "=", orderId)
      .where("type", "=", "refund_only")
      .where("status", "=", "approved")
      .execute();
    const system: Actor = { kind: "system", id: "parcel-return", tenantId: e.tenantId, role: "system", locale: "zh-CN" };
    for (const c of waiting) {
      const r = await applyAction(tx, deps, system, c.id, "refund", {
        note:
          e.type === "supplier_order.intercepted"
            ? "包裹已拦截，自动退款 / parcel intercepted: refunded"
            : "包裹已退回，自动退款 / parcel returned: refunded",
      });
      if (r.refundId) pending.push(r.refundId);
    }
  });
  if (!deps.services.afterResponse) deps.services.afterResponse = [];
  const after = deps.services.afterResponse as (() => Promise<void>)[];
  after.push(async () => {
    while (pending.length) await sendAfterCommit(deps, pending.shift() as string);
  });
}
