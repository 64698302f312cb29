import { type Selectable, sql } from "kysely";
import type { SupplierTerms } from "../catalog/catalog.schemas.js";
import { DEFAULT_TERMS } from "../catalog/catalog.schemas.js";
import type { Blocklist, Cases } from "../db/schema.js";
import { createFollowUpSupplierOrder, requestInterceptForOrder } from "../fulfilment/supplier-order.service.js";
import { post } from "../money/ledger.js";
import { createCaseRefund, createOrderRefund, executeRefund, openClaimForCase, quoteCaseRefund } from "../money/refunds.js";
import { audit } from "../platform/audit.js";
import { type Actor, type Deps, emit } from "../platform/context.js";
import { type Executor, jsonColumn, jsonDate, type Tx } from "../platform/db.js";
import { AppError, invalidTransition, notFound } from "../platform/errors.js";
import { newId, randomToken } from "../platform/ids.js";
import { lockRows } from "../platform/locks.js";
import { decideSubmission, evaluateEligibility, type PolicyReason, returnFreightPayer, suggestResponsibility } from "../policies/engine.js";
import { claimedQuantities, eligibilityInput, loadPolicyById, orderFacts } from "../policies/policy.repo.js";
import type { CaseType, Reason, Responsibility } from "../policies/rules.js";
import { checkSupplierTerms, resolutionOptions } from "../policies/supplier.js";
import {
  ACTION_ROLES,
  allowedCaseActions,
  type CaseAction,
  type CaseRole,
  type CaseStatus,
  needsReturn,
  nextStatus,
} from "./case.states.js";
import { customerRisk } from "./risk.js";

const HOUR = 3600_000;
const DAY = 24 * HOUR;

export interface CaseInput {
  orderId: string;
  type: CaseType;
  reason: Reason;
  lines: { orderLineId: string; quantity: number }[];
  description?: string;
  channel?: Selectable<Cases>["channel"];
  at?: string;
  refundPreference?: "original" | "balance";
}

const roleOf = (a: Actor): CaseRole => (a.kind === "system" ? "system" : (a.role as CaseRole));

async function isBlocked(ex: Executor, tenantId: string, shopId: string, orderCustomer: unknown, customerId: string | null) {
  const customer = orderCustomer as { phone?: unknown; email?: unknown } | null;
  const values: [Selectable<Blocklist>["kind"], string][] = [];
  if (customer?.phone) values.push(["phone", String(customer.phone)]);
  if (customer?.email) values.push(["email", String(customer.email).toLowerCase()]);
  if (customerId) values.push(["customer", customerId]);
  if (!values.length) return false;
  const hit = await ex
    .selectFrom("blocklist")
    .select("id")
    .where("tenant_id", "=", tenantId)
    .where((eb) => eb.or([eb("shop_id", "is", null), eb("shop_id", "=", shopId)]))
    .where((eb) => eb.or(values.map(([k, v]) => eb.and([eb("kind", "=", k), eb("value", "=", v)]))))
    .executeTakeFirst();
  return Boolean(hit);
}

/**
 * Opens a case: checks quantities against what was delivered (or paid) minus what other cases
 * hold, asks the policy, and either refuses (nothing written), approves at once, or leaves it to CS.
 */
export async function createCase(deps: Deps, actor: Actor, input: CaseInput) {
  if (actor.role === "customer" && actor.orderId !== input.orderId) throw notFound("order");
  const at = input.at ? new Date(input.at) : deps.clock.now();
  const now = deps.clock.now();
  let refundId: string | null = null;
  const caseId = await deps.db.transaction().execute(async (tx) => {
    // Locks the order: cases of one order are created one at a time, so quantities add up.
    const facts = await orderFacts(tx, actor, input.orderId, { lock: true });
    const claimed = await claimedQuantities(tx, input.orderId);
    const seen = new Set<string>();
    const options = input.lines.map((cl, i) => {
      const line = facts.lines.find((l) => l.id === cl.orderLineId);
      if (!line)
        throw new AppError("validation_failed", `lines.${i}.orderLineId: not a line of this order`, {
          fields: [{ field: `lines.${i}.orderLineId`, message: "not on this order" }],
        });
      if (seen.has(cl.orderLineId))
        throw new AppError("validation_failed", `lines.${i}.orderLineId: listed twice`, {
          fields: [{ field: `lines.${i}.orderLineId`, message: "duplicate" }],
        });
      seen.add(cl.orderLineId);
      const available = line.quantity - (claimed.get(line.id) ?? 0);
      if (cl.quantity > line.quantity)
        throw new AppError("validation_failed", `lines.${i}.quantity: only ${line.quantity} of this item were bought`, {
          fields: [{ field: `lines.${i}.quantity`, message: `at most ${line.quantity}` }],
          available,
        });
      // Within what was bought, but other cases already hold the units: the order's state, not the
      // request, is in the way.
      if (cl.quantity > available) {
        throw new AppError(
          "conflict",
          `lines.${i}.quantity: only ${available} of this item can still be claimed; other cases hold the rest`,
          {
            fields: [{ field: `lines.${i}.quantity`, message: `at most ${available}` }],
            available,
          },
        );
      }
      const opts = evaluateEligibility(eligibilityInput(facts, line, input.reason, at, claimed.get(line.id) ?? 0));
      return { line, quantity: cl.quantity, option: opts.find((o) => o.type === input.type)! };
    });
    const amount = options.reduce((s, o) => s + Math.round((Number(o.line.paid_amount) * o.quantity) / o.line.quantity), 0);
    const risk = await customerRisk(tx, actor.tenantId, facts.order.customer_id, now);
    const blocked = await isBlocked(tx, actor.tenantId, facts.order.shop_id, facts.order.customer, facts.order.customer_id);
    const decision = decideSubmission({
      rules: facts.policy.rules,
      type: input.type,
      reason: input.reason,
      options: options.map((o) => o.option),
      amount,
      orderShipped: Boolean(facts.shippedAt),
      riskFlag: risk.flag,
      riskReasons: risk.reasons,
      blocked,
    });
    if (decision.outcome === "refuse")
      throw new AppError("policy_refused", decision.reasons[0]?.messageEn ?? "the policy does not allow this request", {
        reasons: decision.reasons,
      });
    // Which supplier shipped the goods in question, and where returns go.
    const so = await tx
      .selectFrom("supplier_order_lines as sl")
      .innerJoin("supplier_orders as so", "so.id", "sl.supplier_order_id")
      .innerJoin("suppliers as s", "s.id", "so.supplier_id")
      .select(["so.supplier_id", "s.return_address", "s.terms"])
      .where(
        "sl.order_line_id",
        "in",
        options.map((o) => o.line.id),
      )
      .where("so.purpose", "=", "original")
      .where("so.status", "not in", ["rejected", "cancelled"])
      .executeTakeFirst();
    const sku = options[0].line.sku_id
      ? await tx.selectFrom("skus").select("return_to").where("id", "=", options[0].line.sku_id).executeTakeFirst()
      : undefined;
    const terms: SupplierTerms = { ...DEFAULT_TERMS, ...(so?.terms ?? {}) };
    const destination =
      sku?.return_to ?? (so && terms.acceptsReturns ? terms.returnsTo : "warehouse") ?? facts.policy.rules.returnDestination;
    const shop = await tx.selectFrom("shops").select("warehouse_address").where("id", "=", facts.order.shop_id).executeTakeFirstOrThrow();
    const returnAddress = needsReturn(input.type)
      ? destination === "supplier" && so?.return_address
        ? so.return_address
        : shop.warehouse_address
      : null;
    const suggestion = suggestResponsibility(input.reason, { trackingDelivered: Boolean(facts.order.delivered_at) });
    const id = newId();
    const caseNo = `AS${at.toISOString().slice(2, 10).replaceAll("-", "")}${randomToken(4)
      .toUpperCase()
      .replace(/[^A-Z0-9]/g, "X")}`;
    await tx
      .insertInto("cases")
      .values({
        id,
        tenant_id: actor.tenantId,
        shop_id: facts.order.shop_id,
        order_id: input.orderId,
        customer_id: facts.order.customer_id,
        case_no: caseNo,
        type: input.type,
        reason: input.reason,
        status: "submitted",
        channel: input.channel ?? (actor.role === "customer" ? "portal" : "api"),
        description: input.description ?? "",
        responsibility: suggestion.responsibility,
        responsibility_note: suggestion.note,
        supplier_id: so?.supplier_id ?? null,
        policy_id: facts.policy.id,
        decision: JSON.stringify(decision),
        risk_flag: risk.flag || blocked,
        risk_reasons: JSON.stringify(risk.reasons),
        return_address: returnAddress ? JSON.stringify(returnAddress) : null,
        refund_preference: input.refundPreference ?? "original",
        response_due_at: new Date(now.getTime() + facts.policy.rules.sla.merchantResponseHours * HOUR),
        created_at: now,
        updated_at: now,
      })
      .execute();
    await tx
      .insertInto("case_lines")
      .values(options.map((o) => ({ id: newId(), tenant_id: actor.tenantId, case_id: id, order_line_id: o.line.id, quantity: o.quantity })))
      .execute();
    await writeEvent(tx, actor, id, "submit", null, "submitted", input.description ?? null, { decision, channel: input.channel }, now);
    await emit(deps, tx, {
      type: "case.submitted",
      tenantId: actor.tenantId,
      entityId: id,
      data: { caseNo, orderId: input.orderId, type: input.type, reason: input.reason },
      key: `case.submitted:${id}`,
    });
    if (decision.outcome === "approve") {
      const system: Actor = { kind: "system", id: "policy", tenantId: actor.tenantId, role: "system", locale: actor.locale };
      const r = await applyAction(tx, deps, system, id, "approve", { note: decision.reasons.map((x) => x.message).join("；") });
      refundId = r.refundId;
    }
    await audit(tx, actor, "case.create", "case", id, undefined, {
      caseNo,
      type: input.type,
      reason: input.reason,
      decision: decision.outcome,
    });
    return id;
  });
  if (refundId) await executeRefund(deps, refundId);
  return caseView(deps.db, actor, caseId, { detail: false });
}

async function writeEvent(
  tx: Tx,
  actor: Actor,
  caseId: string,
  action: string,
  from: string | null,
  to: string | null,
  note: string | null,
  data: unknown,
  at: Date,
) {
  await tx
    .insertInto("case_events")
    .values({
      id: newId(),
      tenant_id: actor.tenantId,
      case_id: caseId,
      action,
      actor_type: actor.kind === "user" || actor.kind === "token" ? String(actor.role) : actor.kind,
      actor_id: actor.id,
      from_status: from,
      to_status: to,
      note,
      data: data === undefined ? null : JSON.stringify(data),
      at,
    })
    .execute();
}

/** Locks the case's order and then the case (the lock order of src/platform/locks.ts) and reads it. */
async function lockCase(tx: Tx, actor: Actor, caseId: string) {
  let q = tx.selectFrom("cases").select("order_id").where("tenant_id", "=", actor.tenantId).where("id", "=", caseId);
  if (actor.role === "customer") q = q.where("order_id", "=", actor.orderId ?? "");
  const found = await q.executeTakeFirst();
  if (!found) throw notFound("case");
  await lockRows(tx, { orders: [found.order_id], cases: [caseId] });
  return tx.selectFrom("cases").selectAll().where("id", "=", caseId).executeTakeFirstOrThrow();
}

/** The single entry point for every case action: routes, the portal and the SLA timers use it. */
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

export async function runCaseAction(deps: Deps, actor: Actor, caseId: string, action: CaseAction, input: CaseActionInput = {}) {
  const r = await deps.db.transaction().execute((tx) => applyAction(tx, deps, actor, caseId, action, input));
  if (r.refundId) await executeRefund(deps, r.refundId);
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
  const rules = policy?.rules;
  const set: Record<string, unknown> = { status: to, updated_at: now };
  let refundId: string | null = null;
  const needNote = (what: string) => {
    if (!input.note || String(input.note).trim() === "")
      throw new AppError("validation_failed", `note: required to ${what}`, { fields: [{ field: "note", message: "required" }] });
  };
  switch (action) {
    case "approve":
      set.approved_at = now;
      set.first_response_at = c.first_response_at ?? now;
      if (to === "awaiting_return") set.return_ship_due_at = new Date(now.getTime() + (rules?.sla.customerReturnShipDays ?? 7) * DAY);
      if (c.type === "reship") {
        const lines = await tx.selectFrom("case_lines").select(["order_line_id", "quantity"]).where("case_id", "=", caseId).execute();
        await createFollowUpSupplierOrder(deps, tx, actor, {
          orderId: c.order_id,
          caseId,
          purpose: "reship",
          lines: lines.map((l) => ({ orderLineId: l.order_line_id, quantity: l.quantity })),
        });
      }
      if (c.type === "refund_only") {
        // A refund after shipping and before delivery stops the parcel (拦截); the refund follows its return.
        const o = await tx.selectFrom("orders").select(["delivered_at"]).where("id", "=", c.order_id).executeTakeFirstOrThrow();
        if (!o.delivered_at) await requestInterceptForOrder(deps, tx, actor, c.order_id);
      }
      break;
    case "reject":
      needNote("reject");
      set.first_response_at = c.first_response_at ?? now;
      break;
    case "request-info":
      needNote("ask for information");
      set.first_response_at = c.first_response_at ?? now;
      break;
    case "provide-info":
      needNote("provide information");
      break;
    case "set-responsibility":
      if (!input.responsibility)
        throw new AppError("validation_failed", "responsibility: required", { fields: [{ field: "responsibility", message: "required" }] });
      needNote("set responsibility");
      set.responsibility = input.responsibility;
      set.responsibility_note = input.note;
      set.responsibility_source = "manual";
      break;
    case "ship-return":
      set.return_carrier = input.carrier;
      set.return_tracking_no = input.trackingNo;
      set.return_shipped_at = now;
      if (input.freight !== undefined) set.resolution = JSON.stringify({ ...(c.resolution ?? {}), returnFreight: input.freight });
      break;
    case "receive":
      set.received_at = now;
      set.refund_due_at = new Date(now.getTime() + (rules?.sla.refundDueDays ?? 7) * DAY);
      break;
    case "inspect": {
      const inspection = {
        grade: input.grade,
        matchesOrder: input.matchesOrder,
        complete: input.complete,
        disposition: input.disposition,
        deduction: input.deduction ?? null,
        note: input.note ?? null,
        inspectedBy: actor.id,
        at: now.toISOString(),
      };
      set.inspection = JSON.stringify(inspection);
      if (input.matchesOrder === false) {
        set.risk_flag = true;
        set.risk_reasons = JSON.stringify([
          ...((c.risk_reasons ?? []) as unknown[]),
          { code: "risk_return_mismatch", message: "退回商品与订单不符", messageEn: "The returned goods do not match the order" },
        ]);
      }
      if (c.responsibility_source !== "manual") {
        const s = suggestResponsibility(c.reason, { inspection: { matchesOrder: input.matchesOrder, grade: input.grade } });
        set.responsibility = s.responsibility;
        set.responsibility_note = s.note;
      }
      break;
    }
    case "refund": {
      // The case row is locked, so a second refund request for it waits and then finds this one.
      const made = await createCaseRefund(tx, deps, actor, caseId, { method: input.method });
      refundId = made.id;
      break;
    }
    case "offer-compensation":
      set.offer = JSON.stringify({
        kind: input.kind,
        amount: input.amount ?? 0,
        note: input.note ?? null,
        offeredAt: now.toISOString(),
        accepted: false,
      });
      set.first_response_at = c.first_response_at ?? now;
      break;
    case "accept-offer": {
      const offer = c.offer as { kind: string; amount: number } | null;
      if (!offer) throw new AppError("conflict", "there is no offer on this case");
      set.offer = JSON.stringify({ ...offer, accepted: true, acceptedAt: now.toISOString() });
      set.resolved_at = now;
      const order = await tx
        .selectFrom("orders")
        .select(["currency", "customer_id", "shop_id"])
        .where("id", "=", c.order_id)
        .executeTakeFirstOrThrow();
      if (offer.kind === "coupon" && offer.amount > 0) {
        const couponId = newId();
        await tx
          .insertInto("coupons")
          .values({
            id: couponId,
            tenant_id: actor.tenantId,
            shop_id: order.shop_id,
            customer_id: order.customer_id,
            case_id: caseId,
            code: `DD${randomToken(6)
              .toUpperCase()
              .replace(/[^A-Z0-9]/g, "7")}`,
            amount: offer.amount,
            expires_at: new Date(now.getTime() + 90 * DAY),
          })
          .execute();
        await post(tx, {
          tenantId: actor.tenantId,
          code: "coupon_issued",
          currency: order.currency,
          orderId: c.order_id,
          caseId,
          sourceKey: `coupon:${couponId}`,
          entries: [
            { account: "compensation_expense", amount: offer.amount },
            { account: "coupons_outstanding", amount: -offer.amount },
          ],
        });
      } else if (offer.kind === "partial_refund" && offer.amount > 0) {
        const r = await createOrderRefund(tx, deps, actor, {
          orderId: c.order_id,
          caseId,
          amount: offer.amount,
          kind: "compensation",
          reason: `compensation for ${c.case_no}`,
        });
        refundId = r.id;
      } else if (offer.kind === "gift") {
        const lines = await tx.selectFrom("case_lines").select(["order_line_id", "quantity"]).where("case_id", "=", caseId).execute();
        await createFollowUpSupplierOrder(deps, tx, actor, {
          orderId: c.order_id,
          caseId,
          purpose: "reship",
          lines: lines.map((l) => ({ orderLineId: l.order_line_id, quantity: l.quantity })),
        });
      }
      if (c.responsibility === "supplier") await openClaimForCase(tx, deps, actor, caseId);
      break;
    }
    case "resolve":
      if (to === "fulfilling") {
        const lines = await tx.selectFrom("case_lines").select(["order_line_id", "quantity"]).where("case_id", "=", caseId).execute();
        await createFollowUpSupplierOrder(deps, tx, actor, {
          orderId: c.order_id,
          caseId,
          purpose: c.type === "repair" ? "repair" : "exchange",
          lines: lines.map((l) => ({ orderLineId: l.order_line_id, quantity: l.quantity })),
        });
      } else {
        set.resolved_at = now;
        set.resolution = JSON.stringify({ ...(c.resolution ?? {}), note: input.note ?? null, withoutMoney: c.status === "approved" });
        if (c.responsibility === "supplier") {
          await tx.updateTable("cases").set({ responsibility: c.responsibility }).where("id", "=", caseId).execute();
          await openClaimForCase(tx, deps, actor, caseId);
        }
      }
      break;
    case "close":
      set.closed_at = now;
      break;
    case "cancel":
      set.closed_at = now;
      break;
    case "escalate":
      set.escalated = true;
      await tx
        .insertInto("complaints")
        .values({
          id: newId(),
          tenant_id: actor.tenantId,
          order_id: c.order_id,
          case_id: caseId,
          severity: input.severity ?? "medium",
          status: "open",
          subject: `Escalated ${c.case_no}`,
          description: input.note ?? "",
          due_at: new Date(now.getTime() + DAY),
        })
        .execute();
      break;
    case "assign":
      if (input.assigneeId) {
        const u = await tx
          .selectFrom("users")
          .select("id")
          .where("tenant_id", "=", actor.tenantId)
          .where("id", "=", input.assigneeId)
          .where("role", "in", ["admin", "cs", "warehouse", "finance"])
          .executeTakeFirst();
        if (!u)
          throw new AppError("validation_failed", "assigneeId: no such staff user", {
            fields: [{ field: "assigneeId", message: "unknown user" }],
          });
      }
      set.assignee_id = input.assigneeId ?? null;
      break;
  }
  await tx.updateTable("cases").set(set).where("id", "=", caseId).execute();
  await writeEvent(tx, actor, caseId, action, c.status, to, input.note ?? null, Object.keys(input).length ? input : undefined, now);
  const past = PAST[action] ?? action;
  await emit(deps, tx, {
    type: `case.${past}`,
    tenantId: actor.tenantId,
    entityId: caseId,
    data: { caseNo: c.case_no, orderId: c.order_id, from: c.status, to },
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
) {
  const c = await tx.selectFrom("cases").selectAll().where("id", "=", caseId).forUpdate().executeTakeFirstOrThrow();
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
  if (c.responsibility === "supplier") await openClaimForCase(tx, deps, actor, caseId);
}

// View ------------------------------------------------------------------------------------------

export const caseListItem = (c: Selectable<Cases> & { platform_order_no: string }, now: Date) => ({
  id: c.id,
  caseNo: c.case_no,
  orderId: c.order_id,
  platformOrderNo: c.platform_order_no,
  shopId: c.shop_id,
  supplierId: c.supplier_id,
  type: c.type,
  reason: c.reason,
  status: c.status as CaseStatus,
  channel: c.channel,
  responsibility: c.responsibility,
  riskFlag: c.risk_flag,
  escalated: c.escalated,
  assigneeId: c.assignee_id,
  deadline: currentDeadline(c),
  overdue: isOverdue(c, now),
  createdAt: c.created_at,
  updatedAt: c.updated_at,
});

type Deadlines = Pick<Selectable<Cases>, "status" | "response_due_at" | "return_ship_due_at" | "refund_due_at">;
export function currentDeadline(c: Deadlines): { kind: string; at: string } | null {
  const pick = (kind: string, at: unknown) => (at ? { kind, at: new Date(at as string).toISOString() } : null);
  if (c.status === "submitted" || c.status === "info_requested") return pick("merchant_response", c.response_due_at);
  if (c.status === "awaiting_return") return pick("customer_return_shipment", c.return_ship_due_at);
  if (["received", "inspected", "refund_pending"].includes(c.status)) return pick("refund_due", c.refund_due_at);
  return null;
}
export function isOverdue(c: Deadlines, now: Date) {
  const d = currentDeadline(c);
  return Boolean(d && new Date(d.at) < now);
}

/**
 * The case as the API shows it. `detail` adds the refund quote and the resolution economics,
 * which cost several queries: GET /cases/:id has them; action responses leave them out.
 */
interface CaseViewLine {
  order_line_id: string;
  quantity: number;
  sku_code: string;
  title: string;
  ordered: number;
  paid_amount: number;
  sku_id: string | null;
}

export async function caseView(ex: Executor, actor: Actor, caseId: string, opts: { detail?: boolean } = {}) {
  const detail = opts.detail ?? true;
  // One statement: the case with its order, shop and supplier, and its lines, timeline, evidence,
  // refunds and open claim as JSON arrays (each statement is a round trip; this view answers
  // every case action).
  let q = ex
    .selectFrom("cases as c")
    .innerJoin("orders as o", "o.id", "c.order_id")
    .innerJoin("shops as sh", "sh.id", "c.shop_id")
    .leftJoin("suppliers as s", "s.id", "c.supplier_id")
    .selectAll("c")
    .select(["o.platform_order_no", "o.currency", "o.delivered_at as order_delivered_at", "o.customer as order_customer"])
    .select(["sh.timezone as shop_timezone", "s.name as supplier_name", "s.terms as supplier_terms"])
    .select(
      sql<CaseViewLine[]>`(SELECT coalesce(json_agg(x), '[]') FROM (SELECT cl.order_line_id, cl.quantity, ol.sku_code, ol.title,
        ol.quantity AS ordered, ol.paid_amount, ol.sku_id FROM case_lines cl JOIN order_lines ol ON ol.id = cl.order_line_id
        WHERE cl.case_id = c.id ORDER BY cl.id) x)`.as("lines_json"),
    )
    .select(
      sql<Record<string, unknown>[]>`(SELECT coalesce(json_agg(e ORDER BY e.at, e.id), '[]') FROM (SELECT id, action, actor_type, actor_id,
        from_status, to_status, note, data, at FROM case_events WHERE case_id = c.id) e)`.as("events_json"),
    )
    .select(
      sql<
        Record<string, unknown>[]
      >`(SELECT coalesce(json_agg(v ORDER BY v.created_at, v.id), '[]') FROM (SELECT id, kind, mime, size_bytes,
        filename, uploaded_by, created_at FROM evidence WHERE case_id = c.id) v)`.as("evidence_json"),
    )
    .select(
      sql<Record<string, unknown>[]>`(SELECT coalesce(json_agg(r ORDER BY r.created_at, r.id), '[]') FROM (SELECT id, kind, amount, method,
        status, created_at, confirmed_at FROM refunds WHERE case_id = c.id) r)`.as("refunds_json"),
    )
    .select(
      sql<Record<string, unknown> | null>`(SELECT row_to_json(k) FROM (SELECT id, status, amount FROM supplier_claims
        WHERE case_id = c.id AND status <> 'cancelled' LIMIT 1) k)`.as("claim_json"),
    )
    .where("c.tenant_id", "=", actor.tenantId)
    .where("c.id", "=", caseId);
  if (actor.role === "customer") q = q.where("c.order_id", "=", actor.orderId ?? "");
  if (actor.role === "supplier") q = q.where("c.supplier_id", "=", actor.supplierId ?? "");
  const c = await q.executeTakeFirst();
  if (!c) throw notFound("case");
  const lines = jsonColumn<CaseViewLine[]>(c.lines_json);
  type Row = Record<string, unknown>;
  const events = jsonColumn<Row[]>(c.events_json).map((e): Row => ({ ...e, at: jsonDate(e.at) }));
  const evidence = jsonColumn<Row[]>(c.evidence_json).map((e): Row => ({ ...e, created_at: jsonDate(e.created_at) }));
  const refunds = jsonColumn<Row[]>(c.refunds_json).map(
    (r): Row => ({ ...r, created_at: jsonDate(r.created_at), confirmed_at: jsonDate(r.confirmed_at) }),
  );
  const claim = jsonColumn<Record<string, unknown> | null>(c.claim_json);
  const supplier =
    c.supplier_id && c.supplier_name
      ? { id: c.supplier_id as string, name: c.supplier_name as string, terms: c.supplier_terms }
      : undefined;
  const shop = { timezone: c.shop_timezone as string };
  const staff = !["customer", "supplier"].includes(actor.role);
  let refundQuote: Awaited<ReturnType<typeof quoteCaseRefund>> | null = null;
  if (
    detail &&
    staff &&
    ["return_refund", "refund_only", "compensation"].includes(c.type) &&
    !["rejected", "cancelled"].includes(c.status)
  ) {
    refundQuote = await quoteCaseRefund(ex, actor.tenantId, caseId).catch(() => null);
  }
  const terms: SupplierTerms = { ...DEFAULT_TERMS, ...(supplier?.terms ?? {}) };
  const supplierCheck = supplier
    ? checkSupplierTerms(terms, {
        reason: c.reason,
        type: c.type,
        responsibility: c.responsibility as Responsibility,
        deliveredAt: c.order_delivered_at ? new Date(c.order_delivered_at) : null,
        at: new Date(c.created_at),
        timezone: shop.timezone,
        evidenceCount: evidence.length,
      })
    : null;
  let economics: ReturnType<typeof resolutionOptions> | null = null;
  if (detail && staff) {
    const itemPaid = lines.reduce((s, l) => s + Math.round((Number(l.paid_amount) * l.quantity) / l.ordered), 0);
    const costs = await ex
      .selectFrom("supplier_order_lines as sl")
      .innerJoin("supplier_orders as so", "so.id", "sl.supplier_order_id")
      .select(["sl.order_line_id", "sl.unit_cost"])
      .where(
        "sl.order_line_id",
        "in",
        lines.map((l) => l.order_line_id),
      )
      .where("so.purpose", "=", "original")
      .execute();
    const itemCost = lines.reduce(
      (s, l) => s + l.quantity * Number(costs.find((x) => x.order_line_id === l.order_line_id)?.unit_cost ?? 0),
      0,
    );
    const policy = c.policy_id ? await loadPolicyById(ex, actor.tenantId, c.policy_id) : null;
    const freight = policy?.rules.defaultReturnFreight ?? 1000;
    const payer = policy ? returnFreightPayer(policy.rules, c.reason, c.responsibility) : "merchant";
    const allowedTypes = ["return_refund", "refund_only", "exchange", "reship"];
    economics = resolutionOptions({
      itemPaid,
      itemCost,
      returnFreight: freight,
      forwardFreight: freight,
      merchantPaysReturn: payer !== "customer",
      supplierCovers: { goods: supplierCheck?.covers.goods ?? false, returnFreight: supplierCheck?.covers.returnFreight ?? false },
      allowed: {
        full_return: allowedTypes.includes("return_refund"),
        refund_keep_item: c.reason !== "changed_mind" && c.reason !== "size_fit",
        partial_refund: true,
        exchange: c.reason !== "not_received",
        reship: ["missing_item", "wrong_item", "damaged_in_transit", "not_received"].includes(c.reason),
      },
    });
  }
  const role = roleOf(actor);
  return {
    id: c.id as string,
    caseNo: c.case_no,
    orderId: c.order_id,
    platformOrderNo: c.platform_order_no,
    shopId: c.shop_id,
    supplierId: c.supplier_id,
    supplierName: supplier?.name ?? null,
    type: c.type as CaseType,
    reason: c.reason as Reason,
    status: c.status as CaseStatus,
    channel: c.channel,
    description: c.description,
    currency: c.currency,
    decision: c.decision as { outcome: string; reasons: PolicyReason[] } | null,
    responsibility: { party: c.responsibility, note: c.responsibility_note, source: c.responsibility_source },
    riskFlag: c.risk_flag,
    riskReasons: staff ? c.risk_reasons : undefined,
    escalated: c.escalated,
    assigneeId: c.assignee_id,
    returnAddress: c.return_address,
    returnShipment: c.return_tracking_no
      ? { carrier: c.return_carrier, trackingNo: c.return_tracking_no, shippedAt: c.return_shipped_at }
      : null,
    receivedAt: c.received_at,
    inspection: c.inspection,
    offer: c.offer,
    resolution: c.resolution,
    refundPreference: c.refund_preference,
    deadlines: {
      responseDueAt: c.response_due_at,
      returnShipDueAt: c.return_ship_due_at,
      refundDueAt: c.refund_due_at,
      current: currentDeadline(c),
    },
    csat: c.csat_score ? { score: c.csat_score, comment: c.csat_comment } : null,
    lines: lines.map((l) => ({ orderLineId: l.order_line_id, skuCode: l.sku_code, title: l.title, quantity: l.quantity })),
    // Messages are on staff's timeline only: the customer and the supplier read their own thread.
    timeline: events
      .filter((e) => staff || e.action !== "message")
      .map((e) => ({
        id: e.id,
        action: e.action,
        actorType: e.actor_type,
        actorId: staff ? e.actor_id : undefined,
        from: e.from_status,
        to: e.to_status,
        note: e.note,
        data: staff ? e.data : undefined,
        at: e.at,
      })),
    evidence: evidence.map((e) => ({
      id: e.id,
      kind: e.kind,
      mime: e.mime,
      sizeBytes: e.size_bytes,
      filename: e.filename,
      createdAt: e.created_at,
      url: `${actor.role === "customer" ? "/portal/api" : "/api/v1"}/evidence/${e.id}`,
    })),
    refunds: refunds.map((r) => ({
      id: r.id,
      kind: r.kind,
      amount: Number(r.amount),
      method: r.method,
      status: r.status,
      createdAt: r.created_at,
      confirmedAt: r.confirmed_at,
    })),
    refundQuote,
    supplierTerms: staff && supplierCheck ? { ...supplierCheck, terms } : null,
    economics,
    claim: staff && claim ? { id: claim.id, status: claim.status, amount: Number(claim.amount) } : null,
    createdAt: c.created_at,
    updatedAt: c.updated_at,
    allowedActions: role === "supplier" ? [] : allowedCaseActions(c.status, c.type, role),
  };
}
