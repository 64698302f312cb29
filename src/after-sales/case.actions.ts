import type { Selectable } from "kysely";
import type { Cases } from "../db/schema.js";
import { createFollowUpSupplierOrder, requestInterceptForOrder } from "../fulfilment/supplier-order.service.js";
import { issueCompensation } from "../money/compensation.js";
import { createCaseRefund, openClaimForCase } from "../money/refunds.js";
import type { Actor, Deps } from "../platform/context.js";
import type { Tx } from "../platform/db.js";
import { AppError, validation } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import { suggestResponsibility } from "../policies/engine.js";
import type { PolicyRules, Responsibility } from "../policies/rules.js";
import type { CaseAction, CaseStatus } from "./case.states.js";

// One handler per case action. The dispatcher (applyAction in case.service.ts) has locked the
// order and the case, checked the transition and the role, and writes `set`, the timeline entry,
// the event and the audit entry after the handler; a handler adds its own columns to `set` and
// does the action's side effects inside the same transaction.

const DAY = 86_400_000;

/** The body of a case action as ACTION_BODIES (case.routes.ts) validates it; each action reads its own fields. */
export interface CaseActionInput {
  note?: string | null;
  responsibility?: Responsibility;
  carrier?: string;
  trackingNo?: string;
  freight?: number;
  grade?: string;
  matchesOrder?: boolean;
  complete?: boolean;
  disposition?: string;
  deduction?: { amount: number; reason: string };
  method?: "original" | "balance";
  kind?: "coupon" | "partial_refund" | "gift";
  amount?: number;
  severity?: "low" | "medium" | "high" | "critical";
  assigneeId?: string | null;
}

export interface ActionContext {
  tx: Tx;
  deps: Deps;
  actor: Actor;
  /** The case row as locked, before the action. */
  c: Selectable<Cases>;
  to: CaseStatus;
  input: CaseActionInput;
  now: Date;
  rules: PolicyRules | undefined;
  /** Columns the dispatcher writes on the case after the handler (status and updated_at are set). */
  set: Record<string, unknown>;
}

/** A handler returns the id of a refund to send to the gateway after commit, if it made one. */
type Handler = (x: ActionContext) => Promise<string | null | undefined> | string | null | undefined;

const needNote = (input: CaseActionInput, what: string) => {
  if (!input.note || String(input.note).trim() === "") throw validation("note", `required to ${what}`);
};

const firstResponse = (x: ActionContext) => {
  x.set.first_response_at = x.c.first_response_at ?? x.now;
};

/** A follow-up supplier order carrying the case's lines (exchange, repair, reship, gift). */
async function followUp(x: ActionContext, purpose: "exchange" | "reship" | "repair") {
  const lines = await x.tx.selectFrom("case_lines").select(["order_line_id", "quantity"]).where("case_id", "=", x.c.id).execute();
  await createFollowUpSupplierOrder(x.deps, x.tx, x.actor, {
    orderId: x.c.order_id,
    caseId: x.c.id,
    purpose,
    lines: lines.map((l) => ({ orderLineId: l.order_line_id, quantity: l.quantity })),
  });
}

const approve: Handler = async (x) => {
  x.set.approved_at = x.now;
  firstResponse(x);
  if (x.to === "awaiting_return") x.set.return_ship_due_at = new Date(x.now.getTime() + (x.rules?.sla.customerReturnShipDays ?? 7) * DAY);
  if (x.c.type === "reship") await followUp(x, "reship");
  if (x.c.type === "refund_only") {
    // A refund after shipping and before delivery stops the parcel (拦截); the refund follows its return.
    const o = await x.tx.selectFrom("orders").select(["delivered_at"]).where("id", "=", x.c.order_id).executeTakeFirstOrThrow();
    if (!o.delivered_at) await requestInterceptForOrder(x.deps, x.tx, x.actor, x.c.order_id);
  }
  return null;
};

const setResponsibility: Handler = (x) => {
  if (!x.input.responsibility) throw validation("responsibility", "required");
  needNote(x.input, "set responsibility");
  x.set.responsibility = x.input.responsibility;
  x.set.responsibility_note = x.input.note;
  x.set.responsibility_source = "manual";
  return null;
};

const shipReturn: Handler = (x) => {
  x.set.return_carrier = x.input.carrier;
  x.set.return_tracking_no = x.input.trackingNo;
  x.set.return_shipped_at = x.now;
  if (x.input.freight !== undefined) x.set.resolution = JSON.stringify({ ...(x.c.resolution ?? {}), returnFreight: x.input.freight });
  return null;
};

const inspect: Handler = (x) => {
  const { input, c } = x;
  x.set.inspection = JSON.stringify({
    grade: input.grade,
    matchesOrder: input.matchesOrder,
    complete: input.complete,
    disposition: input.disposition,
    deduction: input.deduction ?? null,
    note: input.note ?? null,
    inspectedBy: x.actor.id,
    at: x.now.toISOString(),
  });
  if (input.matchesOrder === false) {
    x.set.risk_flag = true;
    x.set.risk_reasons = JSON.stringify([
      ...((c.risk_reasons ?? []) as unknown[]),
      { code: "risk_return_mismatch", message: "退回商品与订单不符", messageEn: "The returned goods do not match the order" },
    ]);
  }
  if (c.responsibility_source !== "manual") {
    const s = suggestResponsibility(c.reason, { inspection: { matchesOrder: input.matchesOrder, grade: input.grade } });
    x.set.responsibility = s.responsibility;
    x.set.responsibility_note = s.note;
  }
  return null;
};

// The case row is locked, so a second refund request for it waits and then finds this one.
const refund: Handler = async (x) => (await createCaseRefund(x.tx, x.deps, x.actor, x.c, { method: x.input.method })).id;

const offerCompensation: Handler = (x) => {
  x.set.offer = JSON.stringify({
    kind: x.input.kind,
    amount: x.input.amount ?? 0,
    note: x.input.note ?? null,
    offeredAt: x.now.toISOString(),
    accepted: false,
  });
  firstResponse(x);
  return null;
};

const acceptOffer: Handler = async (x) => {
  const offer = x.c.offer as { kind: "coupon" | "partial_refund" | "gift"; amount: number } | null;
  if (!offer) throw new AppError("conflict", "there is no offer on this case");
  x.set.offer = JSON.stringify({ ...offer, accepted: true, acceptedAt: x.now.toISOString() });
  x.set.resolved_at = x.now;
  let refundId: string | null = null;
  if (offer.kind === "gift") await followUp(x, "reship");
  else if (offer.amount > 0) {
    const given = await issueCompensation(x.deps, x.tx, x.actor, x.c.id, offer);
    if (given.kind === "partial_refund") refundId = given.refundId;
  }
  if (x.c.responsibility === "supplier") await openClaimForCase(x.tx, x.deps, x.actor, x.c.id);
  return refundId;
};

const resolve: Handler = async (x) => {
  if (x.to === "fulfilling") {
    await followUp(x, x.c.type === "repair" ? "repair" : "exchange");
    return null;
  }
  x.set.resolved_at = x.now;
  x.set.resolution = JSON.stringify({ ...(x.c.resolution ?? {}), note: x.input.note ?? null, withoutMoney: x.c.status === "approved" });
  if (x.c.responsibility === "supplier") await openClaimForCase(x.tx, x.deps, x.actor, x.c.id);
  return null;
};

const escalate: Handler = async (x) => {
  x.set.escalated = true;
  await x.tx
    .insertInto("complaints")
    .values({
      id: newId(),
      tenant_id: x.actor.tenantId,
      order_id: x.c.order_id,
      case_id: x.c.id,
      severity: x.input.severity ?? "medium",
      status: "open",
      subject: `Escalated ${x.c.case_no}`,
      description: x.input.note ?? "",
      due_at: new Date(x.now.getTime() + DAY),
    })
    .execute();
  return null;
};

const assign: Handler = async (x) => {
  if (x.input.assigneeId) {
    const u = await x.tx
      .selectFrom("users")
      .select("id")
      .where("tenant_id", "=", x.actor.tenantId)
      .where("id", "=", x.input.assigneeId)
      .where("role", "in", ["admin", "cs", "warehouse", "finance"])
      .executeTakeFirst();
    if (!u) throw validation("assigneeId", "no such staff user");
  }
  x.set.assignee_id = x.input.assigneeId ?? null;
  return null;
};

export const CASE_ACTION_HANDLERS: Record<CaseAction, Handler> = {
  approve,
  reject: (x) => {
    needNote(x.input, "reject");
    firstResponse(x);
    return null;
  },
  "request-info": (x) => {
    needNote(x.input, "ask for information");
    firstResponse(x);
    return null;
  },
  "provide-info": (x) => {
    needNote(x.input, "provide information");
    return null;
  },
  "set-responsibility": setResponsibility,
  "ship-return": shipReturn,
  receive: (x) => {
    x.set.received_at = x.now;
    x.set.refund_due_at = new Date(x.now.getTime() + (x.rules?.sla.refundDueDays ?? 7) * DAY);
    return null;
  },
  inspect,
  refund,
  "offer-compensation": offerCompensation,
  "accept-offer": acceptOffer,
  resolve,
  close: (x) => {
    x.set.closed_at = x.now;
    return null;
  },
  cancel: (x) => {
    x.set.closed_at = x.now;
    return null;
  },
  escalate,
  assign,
};
