import { type RawBuilder, sql } from "kysely";
import type { Actor } from "../platform/context.js";
import type { Executor } from "../platform/db.js";
import { notFound } from "../platform/errors.js";
import { type AuthorKind, conv, type Visibility } from "./tables.js";

/** Whom a caller speaks for in a conversation: staff (any staff role or the system), the customer, a supplier. */
export type Side = "staff" | "customer" | "supplier";
export const sideOf = (a: Actor): Side => (a.role === "customer" ? "customer" : a.role === "supplier" ? "supplier" : "staff");
/** The `uploaded_by` / `read_by` stamp of a caller. */
export const actorKey = (a: Actor) => `${a.kind}:${a.id}`;

/** The threads each side may read. */
export const READABLE: Record<Side, readonly Visibility[]> = {
  staff: ["customer", "supplier", "internal"],
  customer: ["customer"],
  supplier: ["supplier"],
};

/** A case or an order (before any case) that threads hang on, as far as the caller may reach it. */
export interface ThreadOwner {
  tenantId: string;
  orderId: string;
  caseId: string | null;
  caseNo: string | null;
  shopId: string;
  supplierId: string | null;
  status: string | null;
  policyId: string | null;
  closedAt: Date | null;
  customer: { name?: string; phone?: string; email?: string } | null;
}

/** The case, if the caller may reach it: its tenant, its order for a customer, its supplier for a supplier. */
export async function caseOwner(ex: Executor, actor: Actor, caseId: string): Promise<ThreadOwner> {
  let q = ex
    .selectFrom("cases as c")
    .innerJoin("orders as o", "o.id", "c.order_id")
    .select(["c.id", "c.case_no", "c.order_id", "c.shop_id", "c.supplier_id", "c.status", "c.policy_id", "c.closed_at", "c.updated_at"])
    .select("o.customer")
    .where("c.tenant_id", "=", actor.tenantId)
    .where("c.id", "=", caseId);
  if (actor.role === "customer") q = q.where("c.order_id", "=", actor.orderId ?? "");
  if (actor.role === "supplier") q = q.where("c.supplier_id", "=", actor.supplierId ?? "");
  const c = await q.executeTakeFirst();
  if (!c) throw notFound("case");
  const ended = ["closed", "cancelled", "rejected"].includes(c.status);
  return {
    tenantId: actor.tenantId,
    orderId: c.order_id,
    caseId: c.id,
    caseNo: c.case_no,
    shopId: c.shop_id,
    supplierId: c.supplier_id,
    status: c.status,
    policyId: c.policy_id,
    // Rejected and cancelled cases have no closing time of their own: they ended when last changed.
    closedAt: ended ? new Date((c.closed_at ?? c.updated_at) as Date) : null,
    customer: c.customer as ThreadOwner["customer"],
  };
}

/** The order, if the caller may reach it (staff of the tenant, or the order's customer). */
export async function orderOwner(ex: Executor, actor: Actor, orderId: string): Promise<ThreadOwner> {
  if (actor.role === "supplier" || (actor.role === "customer" && actor.orderId !== orderId)) throw notFound("order");
  const o = await ex
    .selectFrom("orders")
    .select(["id", "shop_id", "customer"])
    .where("tenant_id", "=", actor.tenantId)
    .where("id", "=", orderId)
    .executeTakeFirst();
  if (!o) throw notFound("order");
  return {
    tenantId: actor.tenantId,
    orderId: o.id,
    caseId: null,
    caseNo: null,
    shopId: o.shop_id,
    supplierId: null,
    status: null,
    policyId: null,
    closedAt: null,
    customer: o.customer as ThreadOwner["customer"],
  };
}

/**
 * The messages a side has not read yet: for staff, what the customer and the supplier wrote; for the
 * customer or the supplier, what staff (or the system) wrote in their thread.
 */
export function unreadFor(side: Side): { visibility: readonly Visibility[]; authors: readonly AuthorKind[] } {
  if (side === "staff") return { visibility: ["customer", "supplier"], authors: ["customer", "supplier"] };
  return { visibility: [side], authors: ["staff", "system"] };
}

/** `EXISTS` an unread message for the caller on the case aliased `c` (the inbox's `unread=true`). */
export function unreadExists(actor: Actor): RawBuilder<boolean> {
  const u = unreadFor(sideOf(actor));
  return sql<boolean>`EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = c.tenant_id AND m.case_id = c.id AND m.read_at IS NULL
    AND m.visibility IN (${sql.join(u.visibility)}) AND m.author_kind IN (${sql.join(u.authors)}))`;
}

/** `EXISTS` a customer message on the case aliased `c` that is past its first-response deadline unanswered. */
export function replyOverdueExists(now: Date): RawBuilder<boolean> {
  return sql<boolean>`EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = c.tenant_id AND m.case_id = c.id
    AND m.answered_at IS NULL AND m.response_due_at < ${now})`;
}

export interface CaseMessageStats {
  unreadMessages: number;
  replyOverdue: boolean;
}

/** Unread counts (for the caller) and overdue replies of many cases in one statement. */
export async function caseMessageStats(ex: Executor, actor: Actor, caseIds: string[], now: Date): Promise<Map<string, CaseMessageStats>> {
  const out = new Map<string, CaseMessageStats>();
  if (!caseIds.length) return out;
  const u = unreadFor(sideOf(actor));
  const staff = sideOf(actor) === "staff";
  const rows = await conv(ex)
    .selectFrom("messages")
    .select("case_id")
    .select((eb) => [
      eb.fn
        .count<number>("id")
        .filterWhere((w) => w.and([w("read_at", "is", null), w("visibility", "in", u.visibility), w("author_kind", "in", u.authors)]))
        .as("unread"),
      eb.fn
        .count<number>("id")
        .filterWhere((w) => w.and([w("answered_at", "is", null), w("response_due_at", "<", now)]))
        .as("overdue"),
    ])
    .where("tenant_id", "=", actor.tenantId)
    .where("case_id", "in", caseIds)
    .groupBy("case_id")
    .execute();
  for (const r of rows) out.set(r.case_id as string, { unreadMessages: Number(r.unread), replyOverdue: staff && Number(r.overdue) > 0 });
  return out;
}

/** The fields a case (list item or view) carries about its conversation, for the caller. */
export const messageFields = (s: CaseMessageStats | undefined) => ({
  unreadMessages: s?.unreadMessages ?? 0,
  /** A customer message is past the policy's first-response SLA without a reply (staff only). */
  replyOverdue: s?.replyOverdue ?? false,
});
