import { type Selectable, sql } from "kysely";
import { DEFAULT_TERMS, type SupplierTerms } from "../catalog/catalog.schemas.js";
import type { Cases } from "../db/schema.js";
import { quoteCaseRefund } from "../money/refunds.js";
import type { Actor } from "../platform/context.js";
import { type Executor, jsonColumn, jsonDate } from "../platform/db.js";
import { notFound } from "../platform/errors.js";
import { precompiled } from "../platform/precompiled.js";
import { type PolicyReason, returnFreightPayer } from "../policies/engine.js";
import { loadPolicyById } from "../policies/policy.repo.js";
import type { CaseType, Reason, Responsibility } from "../policies/rules.js";
import { checkSupplierTerms, resolutionOptions } from "../policies/supplier.js";
import { roleOf } from "./case.repo.js";
import { allowedCaseActions, type CaseStatus } from "./case.states.js";

// The case as the API shows it: the list item, its current deadline, and the full view.

export const caseListItem = (c: Selectable<Cases> & { platform_order_no: string; shop_timezone: string }, now: Date) => ({
  id: c.id,
  caseNo: c.case_no,
  orderId: c.order_id,
  platformOrderNo: c.platform_order_no,
  shopId: c.shop_id,
  /** The shop's IANA time zone: the console shows the case's times in it. */
  shopTimezone: c.shop_timezone,
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

/**
 * The case view's one statement: the case with its order, shop and supplier, and its lines, timeline,
 * evidence, refunds and open claim as JSON arrays (each statement is a round trip; this view answers
 * every case action). Its text is made once for staff, customers and suppliers each.
 */
const caseViewRow = precompiled((db, p: { tenantId: string; caseId: string; scopeId: string }, scope) => {
  let q = db
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
    .where("c.tenant_id", "=", p.tenantId)
    .where("c.id", "=", p.caseId);
  if (scope === "customer") q = q.where("c.order_id", "=", p.scopeId);
  if (scope === "supplier") q = q.where("c.supplier_id", "=", p.scopeId);
  return q;
});

export async function caseView(ex: Executor, actor: Actor, caseId: string, opts: { detail?: boolean } = {}) {
  const detail = opts.detail ?? true;
  const scope = actor.role === "customer" || actor.role === "supplier" ? actor.role : "staff";
  const scopeId = (actor.role === "customer" ? actor.orderId : actor.supplierId) ?? "";
  const [c] = await caseViewRow(ex, { tenantId: actor.tenantId, caseId, scopeId }, scope);
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
    /** The shop's IANA time zone: the console and the portals show the case's times in it. */
    shopTimezone: shop.timezone,
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
