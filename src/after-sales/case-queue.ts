import { type ExpressionBuilder, type Selectable, sql } from "kysely";
import { z } from "zod";
import type { DB } from "../db/schema.js";
import { CASE_STATUSES } from "../domain/vocabulary.js";
import type { Deps } from "../platform/context.js";
import { validation } from "../platform/errors.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";

// The queues people work from: how many cases wait in each status (and how many are new or past
// their deadline), the customer, amount and assignee of the cases on a page of the list, and the
// cases of a customer found by phone number.

type CaseEb = ExpressionBuilder<DB & { c: DB["cases"] }, "c">;

type CaseRow = Selectable<DB["cases"]> & { platform_order_no: string; shop_timezone: string };
/** The deadline of the case's current step, as the case list shows it. */
function deadlineOf(c: CaseRow): { kind: string; at: string } | null {
  const pick = (kind: string, at: unknown) => (at ? { kind, at: new Date(at as string).toISOString() } : null);
  if (c.status === "submitted" || c.status === "info_requested") return pick("merchant_response", c.response_due_at);
  if (c.status === "awaiting_return") return pick("customer_return_shipment", c.return_ship_due_at);
  if (["received", "inspected", "refund_pending"].includes(c.status)) return pick("refund_due", c.refund_due_at);
  return null;
}
/** A row of the case list found by phone: the fields the inbox's rows have. */
const listRow = (c: CaseRow, now: Date) => {
  const deadline = deadlineOf(c);
  return {
    id: c.id,
    caseNo: c.case_no,
    orderId: c.order_id,
    platformOrderNo: c.platform_order_no,
    shopId: c.shop_id,
    shopTimezone: c.shop_timezone,
    supplierId: c.supplier_id,
    type: c.type,
    reason: c.reason,
    status: c.status,
    channel: c.channel,
    riskFlag: c.risk_flag,
    assigneeId: c.assignee_id,
    deadline,
    overdue: Boolean(deadline && new Date(deadline.at) < now),
    createdAt: c.created_at,
    updatedAt: c.updated_at,
  };
};

/** A case past the deadline of its current step (the merchant's answer, the return, the refund). */
const pastDeadline = (now: Date) => (eb: CaseEb) =>
  eb.or([
    eb.and([eb("c.status", "in", ["submitted", "info_requested"]), eb("c.response_due_at", "<", now)]),
    eb.and([eb("c.status", "=", "awaiting_return"), eb("c.return_ship_due_at", "<", now)]),
    eb.and([eb("c.status", "in", ["received", "inspected", "refund_pending"]), eb("c.refund_due_at", "<", now)]),
  ]);

type CaseDetails = {
  id: string;
  customer: { name: string | null; phone: string | null };
  /** The order's delivery address, as one line. */
  address: string | null;
  channel: string;
  description: string;
  /** The customer's return parcel, once they have sent it. */
  returnShipment: { carrier: string | null; trackingNo: string } | null;
  amount: number;
  currency: string;
  assignee: { id: string; name: string } | null;
};

const json = <T>(v: unknown): T | null => (typeof v === "string" ? JSON.parse(v) : (v ?? null)) as T | null;

/** Customer, claimed amount (the paid price of the case's lines) and assignee of these cases. */
async function detailsOf(deps: Deps, tenantId: string, ids: string[]): Promise<CaseDetails[]> {
  if (!ids.length) return [];
  const rows = await deps.db
    .selectFrom("cases as c")
    .innerJoin("orders as o", "o.id", "c.order_id")
    .leftJoin("users as u", "u.id", "c.assignee_id")
    .select([
      "c.id",
      "c.channel",
      "c.description",
      "c.return_carrier",
      "c.return_tracking_no",
      "o.customer",
      "o.address",
      "o.currency",
      "u.id as assignee_id",
      "u.name as assignee_name",
    ])
    .where("c.tenant_id", "=", tenantId)
    .where("c.id", "in", ids)
    .execute();
  const lines = await deps.db
    .selectFrom("case_lines as cl")
    .innerJoin("order_lines as ol", "ol.id", "cl.order_line_id")
    .select(["cl.case_id", "cl.quantity", "ol.quantity as ordered", "ol.paid_amount"])
    .where("cl.tenant_id", "=", tenantId)
    .where("cl.case_id", "in", ids)
    .execute();
  const amounts = new Map<string, number>();
  for (const l of lines) {
    const share = Math.round((Number(l.paid_amount) * l.quantity) / Math.max(1, l.ordered));
    amounts.set(l.case_id, (amounts.get(l.case_id) ?? 0) + share);
  }
  return rows.map((r) => {
    const customer = json<{ name?: string; phone?: string }>(r.customer);
    const a = json<Record<string, string | undefined>>(r.address);
    const address = a ? [a.province, a.city, a.district, a.line1, a.line2].filter(Boolean).join(" ") : "";
    return {
      id: r.id,
      customer: { name: customer?.name ?? a?.name ?? null, phone: customer?.phone ?? a?.phone ?? null },
      address: address || null,
      channel: r.channel,
      description: r.description,
      returnShipment: r.return_tracking_no ? { carrier: r.return_carrier, trackingNo: r.return_tracking_no } : null,
      amount: amounts.get(r.id) ?? 0,
      currency: r.currency,
      assignee: r.assignee_id ? { id: r.assignee_id, name: r.assignee_name ?? "" } : null,
    };
  });
}

const idsQuery = z.strictObject({ ids: z.string().max(200 * 37) });
const phoneQuery = z.strictObject({ phone: z.string().trim().max(40) });

export function caseQueueRoutes(app: ZApp, deps: Deps) {
  const tags = ["cases"];
  // The business numbers of cases and orders (AS…, TB…), for screens that list ids, such as the audit log.
  app.get("/api/v1/case-queue/numbers", { config: { roles: ROLES.staff }, schema: { tags, querystring: idsQuery } }, async (req) => {
    const ids = req.query.ids
      .split(",")
      .filter((id) => z.string().uuid().safeParse(id).success)
      .slice(0, 200);
    const tenantId = actorOf(req).tenantId;
    if (!ids.length) return { numbers: {} };
    const cases = await deps.db
      .selectFrom("cases")
      .select(["id", "case_no as no"])
      .where("tenant_id", "=", tenantId)
      .where("id", "in", ids)
      .execute();
    const orders = await deps.db
      .selectFrom("orders")
      .select(["id", "platform_order_no as no"])
      .where("tenant_id", "=", tenantId)
      .where("id", "in", ids)
      .execute();
    return { numbers: Object.fromEntries([...cases, ...orders].map((r) => [r.id, r.no])) };
  });
  app.get("/api/v1/case-queue/counts", { config: { roles: ROLES.staff }, schema: { tags } }, async (req) => {
    const a = actorOf(req);
    const now = deps.clock.now();
    const base = deps.db.selectFrom("cases as c").where("c.tenant_id", "=", a.tenantId);
    const byStatus = await base
      .select(["c.status", (eb) => eb.fn.countAll<string>().as("n")])
      .groupBy("c.status")
      .execute();
    const counts = Object.fromEntries(CASE_STATUSES.map((s) => [s, 0])) as Record<string, number>;
    for (const r of byStatus) counts[r.status] = Number(r.n);
    const one = async (q: typeof base) => Number((await q.select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirst())?.n ?? 0);
    return {
      byStatus: counts,
      total: Object.values(counts).reduce((s, n) => s + n, 0),
      /** Waiting for a first look: submitted and nobody has taken them. */
      new: await one(base.where("c.status", "=", "submitted").where("c.assignee_id", "is", null)),
      overdue: await one(base.where(pastDeadline(now))),
    };
  });

  app.get("/api/v1/case-queue/details", { config: { roles: ROLES.staff }, schema: { tags, querystring: idsQuery } }, async (req) => {
    const ids = req.query.ids.split(",").filter(Boolean);
    const bad = ids.find((id) => !z.string().uuid().safeParse(id).success);
    if (bad || ids.length > 200)
      throw validation("ids", { en: "up to 200 case ids, comma-separated", "zh-CN": "最多 200 个售后单编号，以逗号分隔" });
    return { items: await detailsOf(deps, actorOf(req).tenantId, ids) };
  });

  app.get("/api/v1/case-queue/by-phone", { config: { roles: ROLES.staff }, schema: { tags, querystring: phoneQuery } }, async (req) => {
    const digits = req.query.phone.replace(/\D/g, "");
    if (digits.length < 4) throw validation("phone", { en: "at least 4 digits", "zh-CN": "手机号至少 4 位数字" });
    const a = actorOf(req);
    const now = deps.clock.now();
    const rows = await deps.db
      .selectFrom("cases as c")
      .innerJoin("orders as o", "o.id", "c.order_id")
      .innerJoin("shops as sh", "sh.id", "c.shop_id")
      .selectAll("c")
      .select(["o.platform_order_no", "sh.timezone as shop_timezone"])
      .where("c.tenant_id", "=", a.tenantId)
      .where(sql<string>`regexp_replace(coalesce(o.customer->>'phone', ''), '[^0-9]', '', 'g')`, "like", `%${digits}`)
      .orderBy("c.created_at", "desc")
      .limit(200)
      .execute();
    const details = new Map(
      (
        await detailsOf(
          deps,
          a.tenantId,
          rows.map((r) => r.id),
        )
      ).map((d) => [d.id, d]),
    );
    return { items: rows.map((r) => ({ ...listRow(r, now), ...details.get(r.id) })), nextCursor: null };
  });
}
