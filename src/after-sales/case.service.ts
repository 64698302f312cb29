import type { Selectable } from "kysely";
import type { Cases } from "../db/schema.js";
import { openClaimForCase, sendAfterCommit } from "../money/refunds.js";
import { audit } from "../platform/audit.js";
import { type Actor, type Deps, emit } from "../platform/context.js";
import { sendWithNext, type Tx } from "../platform/db.js";
import { AppError, invalidTransition } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import { lockedRowKey, txMemo } from "../platform/tx-memo.js";
import { loadPolicyById } from "../policies/policy.repo.js";
import { CASE_ACTION_HANDLERS, type CaseActionInput } from "./case.actions.js";
import { lockCase, roleOf, writeEvent } from "./case.repo.js";
import { ACTION_ROLES, allowedCaseActions, type CaseAction, nextStatus } from "./case.states.js";
import { caseView } from "./case.view.js";

// Case actions: the one entry point every route, the portal, the SLA timers and the connectors
// use. Each action's own work is its handler in case.actions.ts; opening a case is case.create.ts.

export type { CaseActionInput } from "./case.actions.js";

export async function runCaseAction(deps: Deps, actor: Actor, caseId: string, action: CaseAction, input: CaseActionInput = {}) {
  const r = await deps.db.transaction().execute((tx) => applyAction(tx, deps, actor, caseId, action, input));
  if (r.refundId) await sendAfterCommit(deps, r.refundId);
  return caseView(deps.db, actor, caseId, { detail: false });
}

const PAST: Partial<Record<CaseAction, string>> = {
  approve: "approved",
  reject: "rejected",
  "request-info": "info_requested",
  "provide-info": "info_provided",
  "ship-return": "return_shipped",
  receive: "received",
  inspect: "inspected",
  refund: "refund_requested",
  "offer-compensation": "offer_made",
  "accept-offer": "offer_accepted",
  resolve: "resolved",
  close: "closed",
  cancel: "cancelled",
  escalate: "escalated",
  assign: "assigned",
  "set-responsibility": "responsibility_set",
};

/**
 * Applies one action inside the caller's transaction: locks the order and the case, checks the
 * transition and the role, runs the action's handler, then writes the case, its timeline entry,
 * the event and the audit entry.
 */
export async function applyAction(
  tx: Tx,
  deps: Deps,
  actor: Actor,
  caseId: string,
  action: CaseAction,
  input: CaseActionInput,
): Promise<{ refundId: string | null }> {
  const c = await lockCase(tx, actor, caseId);
  const role = roleOf(actor);
  const to = nextStatus(c.status, action, c.type);
  const allowed = allowedCaseActions(c.status, c.type, role);
  if (!to) throw invalidTransition("case", action, c.status, allowed);
  if (!ACTION_ROLES[action].includes(role)) throw new AppError("forbidden", `the ${role} role may not ${action} a case`);
  const now = deps.clock.now();
  const policy = c.policy_id ? await loadPolicyById(tx, actor.tenantId, c.policy_id) : null;
  const set: Record<string, unknown> = { status: to, updated_at: now };
  const refundId = (await CASE_ACTION_HANDLERS[action]({ tx, deps, actor, c, to, input, now, rules: policy?.rules, set })) ?? null;
  // Locked above; nothing waits for the update's answer: it goes with the next statement.
  await sendWithNext(tx.updateTable("cases").set(set).where("id", "=", caseId)).execute();
  await writeEvent(tx, actor, caseId, action, c.status, to, input.note ?? null, Object.keys(input).length ? input : undefined, now);
  const past = PAST[action] ?? action;
  await emit(deps, tx, {
    type: `case.${past}`,
    tenantId: actor.tenantId,
    entityId: caseId,
    data: {
      caseNo: c.case_no,
      orderId: c.order_id,
      from: c.status,
      to,
      // A return's parcel, for tracking it without reading the case again.
      ...(action === "ship-return" ? { carrier: set.return_carrier, trackingNo: set.return_tracking_no, shopId: c.shop_id } : {}),
    },
    key: `case.${past}:${caseId}:${now.getTime()}:${newId()}`,
  });
  await audit(tx, actor, `case.${action}`, "case", caseId, { status: c.status }, { status: to, ...input });
  return { refundId };
}

/** Moves the case on when its refund settles, inside money's transaction (see case.events.ts). */
export async function onCaseRefundSettled(
  tx: Tx,
  deps: Deps,
  actor: Actor,
  caseId: string,
  refundId: string,
  outcome: "succeeded" | "failed",
  /** The order's currency, from the settlement that sent the event. */
  currency?: string,
) {
  // The settlement has locked the case; a successful one leaves the row it updated.
  const c =
    txMemo<Selectable<Cases>>(tx, lockedRowKey("cases", caseId)) ??
    (await tx.selectFrom("cases").selectAll().where("id", "=", caseId).forUpdate().executeTakeFirstOrThrow());
  const now = deps.clock.now();
  if (outcome === "failed") {
    await writeEvent(
      tx,
      actor,
      caseId,
      "refund_failed",
      c.status,
      c.status,
      "the payment gateway declined the refund; finance can retry it",
      { refundId },
      now,
    );
    return;
  }
  if (c.status !== "refund_pending") return;
  await tx.updateTable("cases").set({ status: "refunded", refunded_at: now, updated_at: now }).where("id", "=", caseId).execute();
  await writeEvent(tx, actor, caseId, "refund_settled", "refund_pending", "refunded", null, { refundId }, now);
  await emit(deps, tx, {
    type: "case.refunded",
    tenantId: c.tenant_id,
    entityId: caseId,
    data: { caseNo: c.case_no, orderId: c.order_id, refundId },
    key: `case.refunded:${caseId}`,
  });
  // The claim reads nothing the status change above altered: the row read under the lock serves.
  if (c.responsibility === "supplier") await openClaimForCase(tx, deps, actor, caseId, { c, currency });
}
