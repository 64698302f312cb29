import { sql } from "kysely";
import { z } from "zod";
import { caseMessageStats, messageFields, replyOverdueExists, unreadExists } from "../conversations/messages.repo.js";
import type { Actor, Deps } from "../platform/context.js";
import { keysetPage, pageQuery } from "../platform/list.js";
import { CASE_TYPES, REASONS } from "../policies/rules.js";
import { CASE_STATUSES } from "./case.states.js";
import { caseListItem } from "./case.view.js";

// The case inbox: GET /api/v1/cases with its filters, one keyset page at a time.

export const CaseListQuery = z.strictObject({
  ...pageQuery,
  status: z.enum(CASE_STATUSES).optional(),
  type: z.enum(CASE_TYPES).optional(),
  reason: z.enum(REASONS).optional(),
  shopId: z.string().uuid().optional(),
  supplierId: z.string().uuid().optional(),
  orderId: z.string().uuid().optional(),
  overdue: z.enum(["true", "false"]).optional(),
  /** `me`, `none`, or a user's id. */
  assignee: z.union([z.enum(["me", "none"]), z.string().uuid()]).optional(),
  riskFlag: z.enum(["true", "false"]).optional(),
  /** Cases with messages the caller has not read (src/conversations). */
  unread: z.enum(["true", "false"]).optional(),
  q: z.string().max(100).optional(),
  /** Cases opened at or after / before these instants (analytics drill-downs carry them). */
  createdFrom: z.string().datetime({ offset: true }).optional(),
  createdTo: z.string().datetime({ offset: true }).optional(),
  /** Cases with a line of this SKU code. */
  sku: z.string().min(1).max(100).optional(),
});

export type CaseListFilters = z.infer<typeof CaseListQuery>;

export async function listCases(deps: Deps, a: Actor, f: CaseListFilters, cursor: string | undefined, limit: number) {
  const now = deps.clock.now();
  let q = deps.db
    .selectFrom("cases as c")
    .innerJoin("orders as o", "o.id", "c.order_id")
    .selectAll("c")
    .select("o.platform_order_no")
    .where("c.tenant_id", "=", a.tenantId);
  const supplierId = a.role === "supplier" ? a.supplierId : f.supplierId;
  if (supplierId) q = q.where("c.supplier_id", "=", supplierId);
  if (f.status) q = q.where("c.status", "=", f.status);
  if (f.type) q = q.where("c.type", "=", f.type);
  if (f.reason) q = q.where("c.reason", "=", f.reason);
  if (f.shopId) q = q.where("c.shop_id", "=", f.shopId);
  if (f.orderId) q = q.where("c.order_id", "=", f.orderId);
  if (f.riskFlag) q = q.where("c.risk_flag", "=", f.riskFlag === "true");
  if (f.unread) q = q.where(f.unread === "true" ? unreadExists(a) : sql<boolean>`NOT ${unreadExists(a)}`);
  if (f.createdFrom) q = q.where("c.created_at", ">=", new Date(f.createdFrom));
  if (f.createdTo) q = q.where("c.created_at", "<", new Date(f.createdTo));
  if (f.sku) {
    const sku = f.sku;
    q = q.where(({ exists, selectFrom }) =>
      exists(
        selectFrom("case_lines as cl")
          .innerJoin("order_lines as ol", "ol.id", "cl.order_line_id")
          .select("cl.id")
          .whereRef("cl.case_id", "=", "c.id")
          .where("ol.sku_code", "=", sku),
      ),
    );
  }
  if (f.assignee === "me") q = q.where("c.assignee_id", "=", a.id);
  else if (f.assignee === "none") q = q.where("c.assignee_id", "is", null);
  else if (f.assignee) q = q.where("c.assignee_id", "=", f.assignee);
  if (f.q) q = q.where((eb) => eb.or([eb("c.case_no", "=", f.q as string), eb("o.platform_order_no", "=", f.q as string)]));
  if (f.overdue === "true") {
    q = q.where((eb) =>
      eb.or([
        eb.and([eb("c.status", "in", ["submitted", "info_requested"]), eb("c.response_due_at", "<", now)]),
        eb.and([eb("c.status", "=", "awaiting_return"), eb("c.return_ship_due_at", "<", now)]),
        eb.and([eb("c.status", "in", ["received", "inspected", "refund_pending"]), eb("c.refund_due_at", "<", now)]),
        replyOverdueExists(now),
      ]),
    );
  }
  const page = await keysetPage(q, "c.id", cursor, limit);
  const stats = await caseMessageStats(
    deps.db,
    a,
    page.items.map((x) => x.id),
    now,
  );
  const items = page.items.map((x) => {
    const item = caseListItem(x, now);
    const m = messageFields(stats.get(x.id));
    return { ...item, ...m, overdue: item.overdue || m.replyOverdue };
  });
  return { ...page, items };
}
