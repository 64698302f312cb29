import { type SelectQueryBuilder, sql } from "kysely";
import { z } from "zod";
import { caseMessageStats, messageFields, replyOverdueExists, unreadExists } from "../conversations/messages.repo.js";
import type { Actor, Deps } from "../platform/context.js";
import { validation } from "../platform/errors.js";
import { keysetPage, type Page, pageQuery } from "../platform/list.js";
import { CASE_TYPES, REASONS } from "../policies/rules.js";
import { CASE_STATUSES } from "./case.states.js";
import { caseListItem } from "./case.view.js";

// The case inbox: GET /api/v1/cases with its filters, one keyset page at a time, newest first or
// in the order `sort` asks for.

/** What the inbox sorts by: `field` ascending, `-field` descending. */
export const CASE_SORT_FIELDS = ["createdAt", "updatedAt", "amount", "deadline"] as const;
type SortField = (typeof CASE_SORT_FIELDS)[number];
const CASE_SORTS = CASE_SORT_FIELDS.flatMap((f) => [f, `-${f}`]) as [string, ...string[]];

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
  /**
   * `createdAt`, `updatedAt`, `amount` (the paid price of the case's lines) or `deadline` (the
   * current SLA deadline; cases without one come last either way), `-` before it for descending.
   * Ties go by id; the cursor carries the sort key, so paging stays stable.
   */
  sort: z.enum(CASE_SORTS).optional(),
});

export type CaseListFilters = z.infer<typeof CaseListQuery>;

export async function listCases(deps: Deps, a: Actor, f: CaseListFilters, cursor: string | undefined, limit: number) {
  const now = deps.clock.now();
  let q = deps.db
    .selectFrom("cases as c")
    .innerJoin("orders as o", "o.id", "c.order_id")
    .innerJoin("shops as sh", "sh.id", "c.shop_id")
    .selectAll("c")
    .select(["o.platform_order_no", "sh.timezone as shop_timezone"])
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
  const page = f.sort ? await sortedPage(q, f.sort, cursor, limit) : await keysetPage(q, "c.id", cursor, limit);
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

/** The SQL sort key of each field, as numeric so the cursor carries it exactly. */
const SORT_KEYS: Record<SortField, ReturnType<typeof sql<string>>> = {
  createdAt: sql<string>`extract(epoch from c.created_at)`,
  updatedAt: sql<string>`extract(epoch from c.updated_at)`,
  amount: sql<string>`(SELECT coalesce(sum(round((ol.paid_amount * cl.quantity)::numeric / greatest(1, ol.quantity))), 0)
    FROM case_lines cl JOIN order_lines ol ON ol.id = cl.order_line_id WHERE cl.case_id = c.id)`,
  // The deadline currentDeadline() shows (case.view.ts).
  deadline: sql<string>`extract(epoch from CASE
    WHEN c.status IN ('submitted', 'info_requested') THEN c.response_due_at
    WHEN c.status = 'awaiting_return' THEN c.return_ship_due_at
    WHEN c.status IN ('received', 'inspected', 'refund_pending') THEN c.refund_due_at END)`,
};
/** Past every real key: where cases without a deadline go, last in either direction. */
const NO_KEY = "1e12";

const encodeSortCursor = (key: string, id: string) => Buffer.from(JSON.stringify([key, id])).toString("base64url");
function decodeSortCursor(cursor: string): [string, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(v) && typeof v[0] === "string" && /^-?[0-9.e+]+$/i.test(v[0]) && /^[0-9a-f-]{36}$/.test(String(v[1])))
      return [v[0], v[1]];
  } catch {}
  throw validation("cursor", { en: "not a cursor this API gave for this sort", "zh-CN": "翻页位置无效，请从第一页重新开始" });
}

/** One page sorted by `sort`, starting after the (key, id) the cursor names. */
async function sortedPage<D, TB extends keyof D, O extends { id: string }>(
  q: SelectQueryBuilder<D, TB, O>,
  sort: string,
  cursor: string | undefined,
  limit: number,
): Promise<Page<O>> {
  const desc = sort.startsWith("-");
  const field = (desc ? sort.slice(1) : sort) as SortField;
  const signed = desc ? sql`-1` : sql`1`;
  // Descending is ascending on the negated key, so one comparison serves both and missing keys stay last.
  const key = sql<string>`coalesce(${signed} * ${SORT_KEYS[field]}, ${sql.raw(NO_KEY)})`;
  let sq = q.select(key.as("sort_key"));
  if (cursor) {
    const [k, id] = decodeSortCursor(cursor);
    sq = sq.where(sql<boolean>`(${key}, c.id) > (${k}::numeric, ${id}::uuid)`);
  }
  const rows = (await sq
    .orderBy(key)
    .orderBy(sql`c.id`)
    .limit(limit + 1)
    .execute()) as (O & { sort_key: string })[];
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  const last = items[items.length - 1];
  return {
    items: items.map(({ sort_key: _k, ...x }) => x as unknown as O),
    nextCursor: more && last ? encodeSortCursor(String(last.sort_key), last.id) : null,
  };
}
