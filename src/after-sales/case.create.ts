import type { Selectable } from "kysely";
import { sql } from "kysely";
import { DEFAULT_TERMS, type SupplierTerms } from "../catalog/catalog.schemas.js";
import type { Cases } from "../db/schema.js";
import { sendAfterCommit } from "../money/refunds.js";
import { audit } from "../platform/audit.js";
import { type Actor, type Deps, emit } from "../platform/context.js";
import type { Tx } from "../platform/db.js";
import { AppError, notFound, validation } from "../platform/errors.js";
import { newId, randomToken } from "../platform/ids.js";
import { decideSubmission, evaluateEligibility, suggestResponsibility } from "../policies/engine.js";
import { claimedQuantities, eligibilityInput, type OrderFacts, orderFacts } from "../policies/policy.repo.js";
import type { CaseType, Reason } from "../policies/rules.js";
import { isBlocked, writeEvent } from "./case.repo.js";
import { applyAction } from "./case.service.js";
import { needsReturn } from "./case.states.js";
import { caseView } from "./case.view.js";
import { customerRisk } from "./risk.js";

// Opening a case: the claimed lines checked against the order, the policy's decision, where the
// return goes, and the case row with its lines and first timeline entry.

const HOUR = 3600_000;

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

type FactLine = OrderFacts["lines"][number];

/** Each claimed line checked against what was bought and what other cases hold, with the policy's option for the type. */
function claimOptions(facts: OrderFacts, claimed: Map<string, number>, input: CaseInput, at: Date) {
  const seen = new Set<string>();
  return input.lines.map((cl, i) => {
    const line = facts.lines.find((l) => l.id === cl.orderLineId);
    if (!line) throw validation(`lines.${i}.orderLineId`, "not a line of this order");
    if (seen.has(cl.orderLineId)) throw validation(`lines.${i}.orderLineId`, "listed twice");
    seen.add(cl.orderLineId);
    const available = line.quantity - (claimed.get(line.id) ?? 0);
    if (cl.quantity > line.quantity)
      throw validation(`lines.${i}.quantity`, `only ${line.quantity} of this item were bought`, { available });
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
}

/** Which supplier shipped the goods in question, and where their return goes (supplier or the shop's warehouse). */
async function returnRoute(tx: Tx, facts: OrderFacts, lines: FactLine[], type: CaseType) {
  // One read: the shop's warehouse, the SKU's own return destination, and the supplier that
  // shipped the goods with its return address and terms.
  const skuId = lines[0].sku_id;
  const r = await tx
    .selectFrom("shops as sh")
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom("supplier_order_lines as sl")
          .innerJoin("supplier_orders as so", "so.id", "sl.supplier_order_id")
          .innerJoin("suppliers as s", "s.id", "so.supplier_id")
          .select(["so.supplier_id", "s.return_address", "s.terms"])
          .where(
            "sl.order_line_id",
            "in",
            lines.map((l) => l.id),
          )
          .where("so.purpose", "=", "original")
          .where("so.status", "not in", ["rejected", "cancelled"])
          .limit(1)
          .as("so"),
      (join) => join.onTrue(),
    )
    .select(["sh.warehouse_address", "so.supplier_id", "so.return_address", "so.terms"])
    .select((eb) =>
      skuId ? eb.selectFrom("skus").select("return_to").where("id", "=", skuId).as("sku_return_to") : sql<null>`null`.as("sku_return_to"),
    )
    .where("sh.id", "=", facts.order.shop_id)
    .executeTakeFirstOrThrow();
  const so = r.supplier_id ? { supplier_id: r.supplier_id, return_address: r.return_address, terms: r.terms } : undefined;
  const terms: SupplierTerms = { ...DEFAULT_TERMS, ...(so?.terms ?? {}) };
  const destination =
    r.sku_return_to ?? (so && terms.acceptsReturns ? terms.returnsTo : "warehouse") ?? facts.policy.rules.returnDestination;
  const returnAddress = needsReturn(type)
    ? destination === "supplier" && so?.return_address
      ? so.return_address
      : r.warehouse_address
    : null;
  return { supplierId: so?.supplier_id ?? null, returnAddress };
}

const newCaseNo = (at: Date) =>
  `AS${at.toISOString().slice(2, 10).replaceAll("-", "")}${randomToken(4)
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, "X")}`;

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
    const options = claimOptions(facts, await claimedQuantities(tx, input.orderId), input, at);
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
    const route = await returnRoute(
      tx,
      facts,
      options.map((o) => o.line),
      input.type,
    );
    const suggestion = suggestResponsibility(input.reason, { trackingDelivered: Boolean(facts.order.delivered_at) });
    const id = newId();
    const caseNo = newCaseNo(at);
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
        supplier_id: route.supplierId,
        policy_id: facts.policy.id,
        decision: JSON.stringify(decision),
        risk_flag: risk.flag || blocked,
        risk_reasons: JSON.stringify(risk.reasons),
        return_address: route.returnAddress ? JSON.stringify(route.returnAddress) : null,
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
  if (refundId) await sendAfterCommit(deps, refundId);
  return caseView(deps.db, actor, caseId, { detail: false });
}
