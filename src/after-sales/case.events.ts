import { refundOut } from "../money/refunds.js";
import type { Actor, Deps, DomainEvent } from "../platform/context.js";
import type { Tx } from "../platform/db.js";
import { onCaseRefundSettled, runCaseAction } from "./case.service.js";

/**
 * After-sales listens to money instead of money calling back into it: a case's refund settling
 * (`refund.succeeded`) moves the case to refunded and opens the supplier's claim; one failing
 * (`refund.failed`) notes it on the timeline. Both run inside the settling transaction.
 */
export function setupCaseEvents(deps: Deps): void {
  deps.eventSinks.push(async (tx: Tx, e: DomainEvent) => {
    if (e.type !== "refund.succeeded" && e.type !== "refund.failed") return;
    const caseId = e.data.caseId;
    if (typeof caseId !== "string" || e.data.kind !== "case") return;
    const gateway: Actor = { kind: "system", id: "gateway", tenantId: e.tenantId, role: "system", locale: "zh-CN" };
    const currency = typeof e.data.currency === "string" ? e.data.currency : undefined;
    await onCaseRefundSettled(tx, deps, gateway, caseId, e.entityId, e.type === "refund.succeeded" ? "succeeded" : "failed", currency);
  });
}

/**
 * Asks for a case's refund: the case's `refund` action locks the order and case rows, writes the
 * refund (one per case, at most what remains refundable) and sends it to the gateway after commit.
 */
export async function requestCaseRefund(deps: Deps, actor: Actor, caseId: string, opts: { method?: "original" | "balance" } = {}) {
  await runCaseAction(deps, actor, caseId, "refund", opts);
  const r = await deps.db
    .selectFrom("refunds")
    .selectAll()
    .where("tenant_id", "=", actor.tenantId)
    .where("case_id", "=", caseId)
    .where("kind", "=", "case")
    .executeTakeFirstOrThrow();
  return refundOut(r);
}
