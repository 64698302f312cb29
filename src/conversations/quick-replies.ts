import { currentDeadline } from "../after-sales/case.view.js";
import { formatAmount, render } from "../automation/templates.js";
import { quoteCaseRefund } from "../money/refunds.js";
import type { Actor } from "../platform/context.js";
import type { Executor } from "../platform/db.js";
import { AppError, notFound, requireChanges } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import { conv, type QuickReplyPurpose } from "./tables.js";

/** The variables a quick reply may use, in the order the console lists them. */
export const QUICK_REPLY_VARIABLES = ["customerName", "caseNo", "refundAmount", "returnAddress", "deadline"] as const;
export type QuickReplyVars = Record<(typeof QUICK_REPLY_VARIABLES)[number], string>;

type Row = { id: string; title: string; body: string; purpose: QuickReplyPurpose; created_at: Date; updated_at: Date };
export const quickReplyOut = (r: Row) => ({
  id: r.id,
  title: r.title,
  body: r.body,
  purpose: r.purpose,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export async function listQuickReplies(ex: Executor, actor: Actor, purpose?: QuickReplyPurpose) {
  let q = conv(ex).selectFrom("quick_replies").selectAll().where("tenant_id", "=", actor.tenantId);
  if (purpose) q = q.where("purpose", "=", purpose);
  return (await q.orderBy("title").limit(500).execute()).map(quickReplyOut);
}

export async function getQuickReply(ex: Executor, actor: Actor, id: string) {
  const r = await conv(ex)
    .selectFrom("quick_replies")
    .selectAll()
    .where("tenant_id", "=", actor.tenantId)
    .where("id", "=", id)
    .executeTakeFirst();
  if (!r) throw notFound("quick reply");
  return r;
}

const duplicate = (e: unknown) => {
  if ((e as { code?: string }).code === "23505")
    throw new AppError("conflict", "title: a quick reply with this title exists", { fields: [{ field: "title", message: "taken" }] });
  throw e;
};

export async function createQuickReply(ex: Executor, actor: Actor, b: { title: string; body: string; purpose: QuickReplyPurpose }) {
  const r = await conv(ex)
    .insertInto("quick_replies")
    .values({ id: newId(), tenant_id: actor.tenantId, title: b.title, body: b.body, purpose: b.purpose })
    .returningAll()
    .executeTakeFirstOrThrow()
    .catch(duplicate);
  return quickReplyOut(r);
}

export async function updateQuickReply(
  ex: Executor,
  actor: Actor,
  id: string,
  b: { title?: string; body?: string; purpose?: QuickReplyPurpose },
  now: Date,
) {
  const r = await conv(ex)
    .updateTable("quick_replies")
    .set({ ...requireChanges(b), updated_at: now })
    .where("tenant_id", "=", actor.tenantId)
    .where("id", "=", id)
    .returningAll()
    .executeTakeFirst()
    .catch(duplicate);
  if (!r) throw notFound("quick reply");
  return quickReplyOut(r);
}

export async function deleteQuickReply(ex: Executor, actor: Actor, id: string) {
  const r = await conv(ex).deleteFrom("quick_replies").where("tenant_id", "=", actor.tenantId).where("id", "=", id).executeTakeFirst();
  if (Number(r.numDeletedRows) === 0) throw notFound("quick reply");
}

const addressText = (a: unknown) => {
  const x = a as Record<string, string> | null;
  return x ? [x.province, x.city, x.district, x.line1, x.name, x.phone].filter(Boolean).join(" ") : "";
};

/**
 * The values of the variables for one case (or one order before any case): the customer's name, the
 * case number, the refund (the one made, else what the quote says it will be), the return address
 * and the current deadline in the shop's time zone.
 */
export async function quickReplyVars(
  ex: Executor,
  actor: Actor,
  target: { caseId: string | null; orderId: string },
): Promise<QuickReplyVars> {
  const o = await ex
    .selectFrom("orders as o")
    .innerJoin("shops as s", "s.id", "o.shop_id")
    .select(["o.customer", "o.currency", "s.timezone"])
    .where("o.tenant_id", "=", actor.tenantId)
    .where("o.id", "=", target.orderId)
    .executeTakeFirst();
  if (!o) throw notFound("order");
  const vars: QuickReplyVars = {
    customerName: String((o.customer as { name?: string } | null)?.name ?? ""),
    caseNo: "",
    refundAmount: "",
    returnAddress: "",
    deadline: "",
  };
  if (!target.caseId) return vars;
  const c = await ex
    .selectFrom("cases")
    .selectAll()
    .where("tenant_id", "=", actor.tenantId)
    .where("id", "=", target.caseId)
    .executeTakeFirst();
  if (!c) throw notFound("case");
  const refund = await ex
    .selectFrom("refunds")
    .select("amount")
    .where("case_id", "=", c.id)
    .where("status", "<>", "failed")
    .orderBy("created_at", "desc")
    .executeTakeFirst();
  const quoted = refund ? null : await quoteCaseRefund(ex, actor.tenantId, c.id).catch(() => null);
  const amount = refund ? Number(refund.amount) : quoted ? Number(quoted.total) : null;
  const due = currentDeadline(c);
  vars.caseNo = c.case_no;
  vars.refundAmount = amount === null ? "" : formatAmount(amount, o.currency);
  vars.returnAddress = addressText(c.return_address);
  vars.deadline = due
    ? new Intl.DateTimeFormat("sv-SE", { timeZone: o.timezone, dateStyle: "short", timeStyle: "short" }).format(new Date(due.at))
    : "";
  return vars;
}

/** Renders a quick reply's text (or text taken from one) for the case: `{{caseNo}}` → AS260301…; unknown names become empty. */
export const renderQuickReply = (text: string, vars: QuickReplyVars) => render(text, vars);
