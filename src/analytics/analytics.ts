// Analytics: return and refund rates, reason Pareto, timings, CSAT, after-sales cost and supplier
// scorecards. Every figure is one set-based SQL aggregation over the operational tables, filtered by
// tenant and by a date range read in the shop's time zone (Asia/Shanghai when no shop is given).
// Definitions live in docs/analytics.md.
import { type RawBuilder, sql } from "kysely";
import type { Executor } from "../platform/db.js";
import { AppError, validation } from "../platform/errors.js";
import { addDays, localDate, startOfLocalDay } from "../policies/time.js";
import { DEFAULT_TZ, type RollupState } from "./rollup.js";

export const GROUP_BYS = ["day", "week", "month", "sku", "supplier", "shop", "reason", "type"] as const;
export type GroupBy = (typeof GROUP_BYS)[number];
export const DEFECT_REASONS = ["quality", "not_as_described", "damaged_in_transit"] as const;
/** Statuses after which nothing is left to do on a case (the customer has their answer or money). */
export const DONE_STATUSES = ["refunded", "resolved", "closed", "cancelled", "rejected"] as const;

export interface RangeInput {
  from?: string;
  to?: string;
  shopId?: string;
  /** Read everything from the operational tables, ignoring the rollups (tests compare both). */
  live?: boolean;
}
export interface Range {
  tenantId: string;
  shopId?: string;
  from: string;
  to: string;
  tz: string;
  /** Start of `from` and end of `to` (exclusive) as instants in the range's time zone. */
  start: Date;
  end: Date;
  /** The zone's rollup, when one has been built and is to be read. */
  rollup: RollupState | null;
}
export type DrillDown = Record<string, string>;

const DAY_MS = 86_400_000;

/** Resolves from/to (default: the last 30 days up to today) and the time zone they are read in. */
export async function resolveRange(ex: Executor, tenantId: string, input: RangeInput, now: Date): Promise<Range> {
  let tz = DEFAULT_TZ;
  if (input.shopId) {
    const shop = await ex
      .selectFrom("shops")
      .select("timezone")
      .where("tenant_id", "=", tenantId)
      .where("id", "=", input.shopId)
      .executeTakeFirst();
    if (!shop) throw new AppError("not_found", "shop not found");
    tz = shop.timezone;
  }
  const to = input.to ?? localDate(now, tz);
  const from = input.from ?? addDays(to, -29);
  if (from > to) throw validation("from", "must not be after to");
  if (Date.parse(to) - Date.parse(from) > 3 * 366 * DAY_MS) throw validation("to", "a range spans at most three years");
  const bounds = await sql<{
    start: Date;
    end: Date;
    through: string | null;
    ship_through: string | null;
    live_start: Date | null;
    ship_live_start: Date | null;
    refreshed_at: Date | null;
  }>`SELECT (${from}::date::timestamp AT TIME ZONE ${tz}) AS start, ((${to}::date + 1)::timestamp AT TIME ZONE ${tz}) AS "end",
      r.through::text AS through, r.ship_through::text AS ship_through, r.refreshed_at,
      ((r.through + 1)::timestamp AT TIME ZONE ${tz}) AS live_start, ((r.ship_through + 1)::timestamp AT TIME ZONE ${tz}) AS ship_live_start
    FROM (SELECT 1) one LEFT JOIN analytics_rollups r ON r.tenant_id = ${tenantId} AND r.tz = ${tz} AND ${!input.live}`.execute(ex);
  const b = bounds.rows[0];
  const rollup: RollupState | null =
    b.through && b.ship_through && b.live_start && b.ship_live_start && b.refreshed_at
      ? {
          through: b.through,
          shipThrough: b.ship_through,
          liveStart: new Date(b.live_start),
          shipLiveStart: new Date(b.ship_live_start),
          refreshedAt: new Date(b.refreshed_at),
        }
      : null;
  return { tenantId, shopId: input.shopId, from, to, tz, start: new Date(b.start), end: new Date(b.end), rollup };
}

const n = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 10000) / 10000 : null);
/** Hours with two decimals from a value in hours, or in seconds with `per` = 3600. */
const hours = (v: unknown, per = 1) => (v === null || v === undefined ? null : Math.round((Number(v) / per) * 100) / 100);

const shopFilter = (alias: string, r: Range) => (r.shopId ? sql`AND ${sql.ref(`${alias}.shop_id`)} = ${r.shopId}` : sql``);

const noJoin = sql``;
/** The grouping expression over a case row `c` (joined to its lines for sku). */
function caseKey(g: GroupBy | undefined, r: Range): { key: RawBuilder<unknown>; join: RawBuilder<unknown> } {
  switch (g) {
    case "day":
    case "week":
    case "month":
      return { key: sql`to_char(date_trunc(${g}, c.created_at AT TIME ZONE ${r.tz}), 'YYYY-MM-DD')`, join: noJoin };
    case "sku":
      return {
        key: sql`ol.sku_code`,
        join: sql`JOIN case_lines cl ON cl.case_id = c.id JOIN order_lines ol ON ol.id = cl.order_line_id`,
      };
    case "supplier":
      return { key: sql`c.supplier_id::text`, join: noJoin };
    case "shop":
      return { key: sql`c.shop_id::text`, join: noJoin };
    case "reason":
      return { key: sql`c.reason`, join: noJoin };
    case "type":
      return { key: sql`c.type`, join: noJoin };
    default:
      return { key: sql`'all'`, join: noJoin };
  }
}

type OrderFigures = Map<string | null, { orders: number; sales: number }>;

/**
 * Orders and sales per group (orders placed in the range, excluding unpaid ones): the days the
 * rollup holds from `analytics_order_days`, the days after it from the orders themselves.
 */
async function ordersBy(ex: Executor, r: Range, g: GroupBy | undefined): Promise<OrderFigures> {
  const rolledTo = r.rollup && (r.rollup.through < r.to ? r.rollup.through : r.to);
  if (!r.rollup || !rolledTo || rolledTo < r.from) return ordersLive(ex, r, g);
  const liveStart = r.rollup.liveStart;
  const [rolled, live] = await Promise.all([
    ordersRolled(ex, r, g, rolledTo),
    liveStart < r.end ? ordersLive(ex, { ...r, start: liveStart > r.start ? liveStart : r.start }, g) : (new Map() as OrderFigures),
  ]);
  for (const [k, v] of live) {
    const x = rolled.get(k);
    rolled.set(k, x ? { orders: x.orders + v.orders, sales: x.sales + v.sales } : v);
  }
  return rolled;
}

async function ordersRolled(ex: Executor, r: Range, g: GroupBy | undefined, upTo: string): Promise<OrderFigures> {
  const dim = g === "sku" ? "sku" : g === "supplier" ? "supplier" : "all";
  const key =
    g === "day" || g === "week" || g === "month"
      ? sql`to_char(date_trunc(${g}, d.day::timestamp), 'YYYY-MM-DD')`
      : g === "shop"
        ? sql`d.shop_id::text`
        : g === "sku" || g === "supplier"
          ? sql`d.key`
          : sql`'all'`;
  const rows = (
    await sql<{ k: string | null; orders: string; sales: string }>`SELECT ${key} AS k, sum(d.orders) AS orders, sum(d.sales) AS sales
      FROM analytics_order_days d
      WHERE d.tenant_id = ${r.tenantId} AND d.tz = ${r.tz} AND d.dim = ${dim} AND d.day >= ${r.from}::date AND d.day <= ${upTo}::date
        ${shopFilter("d", r)}
      GROUP BY 1`.execute(ex)
  ).rows;
  return new Map(rows.map((x) => [x.k, { orders: n(x.orders), sales: n(x.sales) }]));
}

async function ordersLive(ex: Executor, r: Range, g: GroupBy | undefined): Promise<OrderFigures> {
  const base = sql`o.tenant_id = ${r.tenantId} AND o.placed_at >= ${r.start} AND o.placed_at < ${r.end} AND o.status <> 'pending_payment' ${shopFilter("o", r)}`;
  let q: RawBuilder<{ k: string | null; orders: string; sales: string }>;
  if (g === "day" || g === "week" || g === "month")
    q = sql`SELECT to_char(date_trunc(${g}, o.placed_at AT TIME ZONE ${r.tz}), 'YYYY-MM-DD') AS k, count(*) AS orders, coalesce(sum(o.paid_total), 0) AS sales
      FROM orders o WHERE ${base} GROUP BY 1`;
  else if (g === "shop")
    q = sql`SELECT o.shop_id::text AS k, count(*) AS orders, coalesce(sum(o.paid_total), 0) AS sales FROM orders o WHERE ${base} GROUP BY 1`;
  else if (g === "sku")
    q = sql`SELECT ol.sku_code AS k, count(DISTINCT o.id) AS orders, coalesce(sum(ol.paid_amount), 0) AS sales
      FROM orders o JOIN order_lines ol ON ol.order_id = o.id WHERE ${base} GROUP BY 1`;
  else if (g === "supplier")
    q = sql`SELECT so.supplier_id::text AS k, count(DISTINCT o.id) AS orders, coalesce(sum(ol.paid_amount), 0) AS sales
      FROM orders o JOIN supplier_orders so ON so.order_id = o.id AND so.purpose = 'original' AND so.status NOT IN ('rejected', 'cancelled')
      JOIN supplier_order_lines sol ON sol.supplier_order_id = so.id JOIN order_lines ol ON ol.id = sol.order_line_id
      WHERE ${base} GROUP BY 1`;
  else q = sql`SELECT 'all' AS k, count(*) AS orders, coalesce(sum(o.paid_total), 0) AS sales FROM orders o WHERE ${base}`;
  const rows = (await q.execute(ex)).rows;
  return new Map(rows.map((x) => [x.k, { orders: n(x.orders), sales: n(x.sales) }]));
}

/**
 * Cases opened in the range and what was refunded on them, per group. A case's refunds are all made
 * after it was opened, so only refunds created since the range's start are read.
 */
async function casesBy(ex: Executor, r: Range, g: GroupBy | undefined) {
  const { key, join } = caseKey(g, r);
  // Time keys: group by the truncated local time, format the few groups afterwards.
  const period = g === "day" || g === "week" || g === "month";
  const groupKey = period ? sql`date_trunc(${g}, c.created_at AT TIME ZONE ${r.tz})` : key;
  const rows = (
    await sql<{ k: string | null; cases: string; refunded: string }>`SELECT ${period ? sql`to_char(x.k, 'YYYY-MM-DD')` : sql`x.k`} AS k,
        count(*) AS cases, coalesce(sum(x.refunded_total), 0) AS refunded
      FROM (SELECT ${join === noJoin ? sql`` : sql`DISTINCT`} c.id, c.refunded_total, ${groupKey} AS k FROM cases c ${join}
        WHERE c.tenant_id = ${r.tenantId} AND c.created_at >= ${r.start} AND c.created_at < ${r.end} ${shopFilter("c", r)}) x
      GROUP BY x.k`.execute(ex)
  ).rows;
  return new Map(rows.map((x) => [x.k, { cases: n(x.cases), refunded: n(x.refunded) }]));
}

async function labels(
  ex: Executor,
  tenantId: string,
  g: GroupBy | undefined,
  keys: (string | null)[],
): Promise<Map<string | null, string>> {
  const ids = keys.filter((k): k is string => !!k);
  const out = new Map<string | null, string>();
  if ((g === "shop" || g === "supplier") && ids.length) {
    const rows = await ex
      .selectFrom(g === "shop" ? "shops" : "suppliers")
      .select(["id", "name"])
      .where("tenant_id", "=", tenantId)
      .where("id", "in", ids)
      .execute();
    for (const x of rows) out.set(x.id, x.name);
  }
  if (g === "supplier") out.set(null, "(no supplier)");
  return out;
}

/** The first day of the period after the one starting on `day`. */
function nextPeriod(g: "day" | "week" | "month", day: string): string {
  if (g === "day") return addDays(day, 1);
  if (g === "week") return addDays(day, 7);
  const [y, m] = day.split("-").map(Number);
  return m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, "0")}-01`;
}

/**
 * The case-list filters (`GET /api/v1/cases?…`) that list the cases behind a row: the range (or
 * the row's period within it) as `createdFrom`/`createdTo`, and the row's dimension.
 */
function drill(g: GroupBy | undefined, k: string | null, r: Range): DrillDown {
  const d: DrillDown = {};
  if (r.shopId) d.shopId = r.shopId;
  let from = r.start;
  let to = r.end;
  if (k !== null) {
    if (g === "reason") d.reason = k;
    else if (g === "type") d.type = k;
    else if (g === "shop") d.shopId = k;
    else if (g === "supplier") d.supplierId = k;
    else if (g === "sku") d.sku = k;
    else if (g === "day" || g === "week" || g === "month") {
      const a = startOfLocalDay(k, r.tz);
      const b = startOfLocalDay(nextPeriod(g, k), r.tz);
      if (a > from) from = a;
      if (b < to) to = b;
    }
  }
  d.createdFrom = from.toISOString();
  d.createdTo = to.toISOString();
  return d;
}

export interface ReturnsRow {
  key: string | null;
  label: string;
  orders: number;
  sales: number;
  cases: number;
  refunded: number;
  returnRate: number | null;
  refundRate: number | null;
  drillDown: DrillDown;
}

/**
 * Return rate (cases / orders) and refund rate (refunded on those cases / sales) per group. For
 * reason and type the denominator is every order of the range, since an order has no reason.
 */
export async function returnsReport(ex: Executor, r: Range, g: GroupBy | undefined): Promise<ReturnsRow[]> {
  const ordersG = g === "reason" || g === "type" ? undefined : g;
  const [orders, cases] = await Promise.all([ordersBy(ex, r, ordersG), casesBy(ex, r, g)]);
  const total = ordersG === undefined ? (orders.get("all") ?? { orders: 0, sales: 0 }) : null;
  const keys = ordersG === undefined ? [...cases.keys()] : [...new Set([...orders.keys(), ...cases.keys()])];
  if (!g && !keys.length) keys.push("all");
  const names = await labels(ex, r.tenantId, g, keys);
  const rows = keys.map((k) => {
    const o = total ?? orders.get(k) ?? { orders: 0, sales: 0 };
    const c = cases.get(k) ?? { cases: 0, refunded: 0 };
    return {
      key: k,
      label: names.get(k) ?? k ?? "",
      orders: o.orders,
      sales: o.sales,
      cases: c.cases,
      refunded: c.refunded,
      returnRate: ratio(c.cases, o.orders),
      refundRate: ratio(c.refunded, o.sales),
      drillDown: drill(g, k, r),
    };
  });
  if (g === "day" || g === "week" || g === "month") rows.sort((a, b) => String(a.key).localeCompare(String(b.key)));
  else rows.sort((a, b) => b.cases - a.cases || String(a.key).localeCompare(String(b.key)));
  return rows;
}

export interface ParetoRow {
  key: string | null;
  label: string;
  count: number;
  share: number;
  cumulativeShare: number;
  drillDown: DrillDown;
}

/** Cases of the range by reason (or another dimension), most frequent first, with cumulative share. */
export async function reasonsReport(ex: Executor, r: Range, g: GroupBy | undefined): Promise<ParetoRow[]> {
  const dim = g ?? "reason";
  const cases = await casesBy(ex, r, dim);
  const entries = [...cases.entries()].sort((a, b) => b[1].cases - a[1].cases || String(a[0]).localeCompare(String(b[0])));
  const total = entries.reduce((s, [, v]) => s + v.cases, 0);
  const names = await labels(
    ex,
    r.tenantId,
    dim,
    entries.map(([k]) => k),
  );
  let cum = 0;
  return entries.map(([k, v]) => {
    cum += v.cases;
    return {
      key: k,
      label: names.get(k) ?? k ?? "",
      count: v.cases,
      share: ratio(v.cases, total) ?? 0,
      cumulativeShare: ratio(cum, total) ?? 0,
      drillDown: drill(dim, k, r),
    };
  });
}

export interface TimingsRow {
  key: string | null;
  label: string;
  cases: number;
  firstResponse: { count: number; medianHours: number | null; p90Hours: number | null };
  approval: { count: number; medianHours: number | null; p90Hours: number | null };
  refund: { count: number; medianHours: number | null; p90Hours: number | null };
  closed: { count: number; medianHours: number | null; p90Hours: number | null };
  sla: { due: number; onTime: number; breached: number; compliance: number | null };
  drillDown: DrillDown;
}

/**
 * Hours from submission to first response, approval, refund and close (median and p90 with
 * percentile_cont), and response-SLA compliance: cases answered by `response_due_at` over cases
 * whose response deadline has been met or has passed.
 */
export async function timingsReport(ex: Executor, r: Range, g: GroupBy | undefined, now: Date): Promise<TimingsRow[]> {
  const { key, join } = caseKey(g, r);
  // Seconds as float8 (date_part), both percentiles from one sort per stage: numeric epochs sorted
  // four times took a year's report from 160 ms to 330 ms.
  const span = (col: string) => sql`date_part('epoch', ${sql.ref(`c.${col}`)} - c.created_at)`;
  const stat = (col: string, name: string) =>
    sql`count(${sql.ref(`c.${col}`)}) AS ${sql.raw(`${name}_n`)},
      percentile_cont(ARRAY[0.5, 0.9]::float8[]) WITHIN GROUP (ORDER BY ${span(col)}) AS ${sql.raw(`${name}_p`)}`;
  const rows = (
    await sql<Record<string, unknown>>`SELECT ${key} AS k, ${join === noJoin ? sql`count(*)` : sql`count(DISTINCT c.id)`} AS cases,
      ${stat("first_response_at", "fr")}, ${stat("approved_at", "ap")}, ${stat("refunded_at", "rf")}, ${stat("closed_at", "cl")},
      count(*) FILTER (WHERE c.response_due_at IS NOT NULL AND (c.first_response_at IS NOT NULL OR c.response_due_at < ${now})) AS sla_due,
      count(*) FILTER (WHERE c.response_due_at IS NOT NULL AND c.first_response_at IS NOT NULL AND c.first_response_at <= c.response_due_at) AS sla_ok
      FROM cases c ${join}
      WHERE c.tenant_id = ${r.tenantId} AND c.created_at >= ${r.start} AND c.created_at < ${r.end} ${shopFilter("c", r)}
      GROUP BY 1`.execute(ex)
  ).rows;
  const names = await labels(
    ex,
    r.tenantId,
    g,
    rows.map((x) => x.k as string | null),
  );
  const pick = (x: Record<string, unknown>, p: string) => {
    const [p50, p90] = (x[`${p}_p`] as (number | null)[] | null) ?? [null, null];
    return { count: n(x[`${p}_n`]), medianHours: hours(p50, 3600), p90Hours: hours(p90, 3600) };
  };
  const out = rows.map((x) => {
    const k = x.k as string | null;
    const due = n(x.sla_due);
    const ok = n(x.sla_ok);
    return {
      key: k,
      label: names.get(k) ?? k ?? "",
      cases: n(x.cases),
      firstResponse: pick(x, "fr"),
      approval: pick(x, "ap"),
      refund: pick(x, "rf"),
      closed: pick(x, "cl"),
      sla: { due, onTime: ok, breached: due - ok, compliance: ratio(ok, due) },
      drillDown: drill(g, k, r),
    };
  });
  out.sort((a, b) => String(a.key).localeCompare(String(b.key)));
  return out;
}

export interface SupplierCard {
  supplierId: string;
  name: string;
  supplierOrders: number;
  cases: number;
  defectCases: number;
  defectRate: number | null;
  wrongItemCases: number;
  wrongItemRate: number | null;
  shipDue: number;
  lateShipments: number;
  lateShipRate: number | null;
  claims: {
    opened: number;
    answered: number;
    accepted: number;
    acceptanceRate: number | null;
    claimed: number;
    recovered: number;
    recoveryRate: number | null;
  };
  costCaused: number;
  netCost: number;
  score: number;
  drillDown: { all: DrillDown; defects: DrillDown; wrongItem: DrillDown };
}

/**
 * Supplier scorecards over a range: supplier orders (original forwards) created in it, cases
 * attributed to the supplier opened in it, claims opened in it.
 */
export async function supplierScorecards(ex: Executor, r: Range, now: Date): Promise<SupplierCard[]> {
  const t = r.tenantId;
  // Supplier orders of the days the rollup holds with final lateness, then the later days live.
  const rolledTo = r.rollup && (r.rollup.shipThrough < r.to ? r.rollup.shipThrough : r.to);
  const useRollup = Boolean(r.rollup && rolledTo && rolledTo >= r.from);
  const liveStart = useRollup && r.rollup && r.rollup.shipLiveStart > r.start ? r.rollup.shipLiveStart : r.start;
  const rolled = useRollup
    ? sql`SELECT d.supplier_id, sum(d.supplier_orders) AS supplier_orders, sum(d.ship_due) AS ship_due, sum(d.late) AS late
        FROM analytics_supplier_days d
        WHERE d.tenant_id = ${t} AND d.tz = ${r.tz} AND d.day >= ${r.from}::date AND d.day <= ${rolledTo}::date
        GROUP BY d.supplier_id UNION ALL`
    : sql``;
  const rows = (
    await sql<Record<string, unknown>>`WITH so AS (
        SELECT x.supplier_id, sum(x.supplier_orders) AS supplier_orders, sum(x.ship_due) AS ship_due, sum(x.late) AS late FROM (
          ${rolled}
          SELECT so.supplier_id, count(*) AS supplier_orders,
            count(*) FILTER (WHERE so.ship_by IS NOT NULL AND (so.shipped_at IS NOT NULL OR so.ship_by < ${now})) AS ship_due,
            count(*) FILTER (WHERE so.ship_by IS NOT NULL AND (so.shipped_at > so.ship_by OR (so.shipped_at IS NULL AND so.ship_by < ${now}))) AS late
          FROM supplier_orders so
          WHERE so.tenant_id = ${t} AND so.purpose = 'original' AND so.status NOT IN ('rejected', 'cancelled')
            AND so.created_at >= ${liveStart} AND so.created_at < ${r.end}
          GROUP BY so.supplier_id) x
        GROUP BY x.supplier_id),
      cs AS (
        SELECT c.supplier_id, count(*) AS cases,
          count(*) FILTER (WHERE c.reason IN ('quality', 'not_as_described', 'damaged_in_transit')) AS defects,
          count(*) FILTER (WHERE c.reason = 'wrong_item') AS wrong_items,
          coalesce(sum(c.refunded_total) FILTER (WHERE c.responsibility = 'supplier'), 0) AS cost_caused
        FROM cases c
        WHERE c.tenant_id = ${t} AND c.supplier_id IS NOT NULL AND c.created_at >= ${r.start} AND c.created_at < ${r.end}
        GROUP BY c.supplier_id),
      cl AS (
        SELECT sc.supplier_id, count(*) AS opened,
          count(*) FILTER (WHERE sc.status IN ('accepted', 'settled', 'disputed')) AS answered,
          count(*) FILTER (WHERE sc.status IN ('accepted', 'settled')) AS accepted,
          coalesce(sum(sc.amount), 0) AS claimed,
          coalesce(sum(sc.amount) FILTER (WHERE sc.status IN ('accepted', 'settled')), 0) AS recovered
        FROM supplier_claims sc
        WHERE sc.tenant_id = ${t} AND sc.status <> 'cancelled' AND sc.created_at >= ${r.start} AND sc.created_at < ${r.end}
        GROUP BY sc.supplier_id)
      SELECT s.id, s.name, so.supplier_orders, so.ship_due, so.late, cs.cases, cs.defects, cs.wrong_items, cs.cost_caused,
        cl.opened, cl.answered, cl.accepted, cl.claimed, cl.recovered
      FROM suppliers s
      LEFT JOIN so ON so.supplier_id = s.id LEFT JOIN cs ON cs.supplier_id = s.id LEFT JOIN cl ON cl.supplier_id = s.id
      WHERE s.tenant_id = ${t}
      ORDER BY s.name, s.id`.execute(ex)
  ).rows;
  const span = { createdFrom: r.start.toISOString(), createdTo: r.end.toISOString() };
  return rows.map((x) => {
    const orders = n(x.supplier_orders);
    const defects = n(x.defects);
    const wrong = n(x.wrong_items);
    const due = n(x.ship_due);
    const late = n(x.late);
    const claimed = n(x.claimed);
    const recovered = n(x.recovered);
    const cost = n(x.cost_caused);
    const id = String(x.id);
    return {
      supplierId: id,
      name: String(x.name),
      supplierOrders: orders,
      cases: n(x.cases),
      defectCases: defects,
      defectRate: ratio(defects, orders),
      wrongItemCases: wrong,
      wrongItemRate: ratio(wrong, orders),
      shipDue: due,
      lateShipments: late,
      lateShipRate: ratio(late, due),
      claims: {
        opened: n(x.opened),
        answered: n(x.answered),
        accepted: n(x.accepted),
        acceptanceRate: ratio(n(x.accepted), n(x.answered)),
        claimed,
        recovered,
        recoveryRate: ratio(recovered, claimed),
      },
      costCaused: cost,
      netCost: cost - recovered,
      score: scoreOf({ orders, defects, wrong, due, late }),
      drillDown: {
        all: { supplierId: id, ...span },
        defects: { supplierId: id, reason: "quality", ...span },
        wrongItem: { supplierId: id, reason: "wrong_item", ...span },
      },
    };
  });
}

/**
 * A supplier's score 0..1 (1 = no problems). Rates are smoothed towards a typical rate over ten
 * pseudo-orders so that one bad parcel does not sink a new supplier, then weighted: defects and
 * wrong items 4 each, late shipments 1.
 */
export function scoreOf(x: { orders: number; defects: number; wrong: number; due: number; late: number }): number {
  const smooth = (bad: number, total: number, prior: number) => (bad + prior * 10) / (total + 10);
  const penalty = 4 * smooth(x.defects, x.orders, 0.02) + 4 * smooth(x.wrong, x.orders, 0.01) + smooth(x.late, x.due, 0.1);
  return Math.round(Math.max(0, Math.min(1, 1 - penalty)) * 1000) / 1000;
}

/**
 * Supplier scores over the last 90 days (in the default time zone), for routing: supplierId → 0..1
 * (higher is better). Every supplier of the tenant is present; one without history scores from
 * the typical rates (0.78).
 */
export async function supplierScores(ex: Executor, tenantId: string, now: Date = new Date()): Promise<Map<string, number>> {
  const to = localDate(now, DEFAULT_TZ);
  const r = await resolveRange(ex, tenantId, { from: addDays(to, -89), to }, now);
  const cards = await supplierScorecards(ex, r, now);
  return new Map(cards.map((c) => [c.supplierId, c.score]));
}

export interface Overview {
  range: { from: string; to: string; timeZone: string };
  orders: number;
  sales: number;
  cases: number;
  refunded: number;
  returnRate: number | null;
  refundRate: number | null;
  refundsToday: { count: number; amount: number };
  openCases: { status: string; count: number; drillDown: DrillDown }[];
  overdue: { count: number; drillDown: DrillDown };
  topReasonsThisMonth: ParetoRow[];
  csat: { responses: number; average: number | null; distribution: { score: number; count: number }[] };
  cost: { refunds: number; freight: number; compensation: number; total: number; recoveredFromSuppliers: number; net: number };
}

/** The overdue condition of the case list (`GET /api/v1/cases?overdue=true`). */
const overdueSql = (now: Date) => sql`(
  (c.status IN ('submitted', 'info_requested') AND c.response_due_at < ${now})
  OR (c.status = 'awaiting_return' AND c.return_ship_due_at < ${now})
  OR (c.status IN ('received', 'inspected', 'refund_pending') AND c.refund_due_at < ${now}))`;

export async function overview(ex: Executor, r: Range, now: Date): Promise<Overview> {
  const t = r.tenantId;
  const [totals] = await returnsReport(ex, r, undefined);
  const today = await resolveRange(ex, t, { from: localDate(now, r.tz), to: localDate(now, r.tz), shopId: r.shopId }, now);
  const monthStart = `${localDate(now, r.tz).slice(0, 8)}01`;
  const month = await resolveRange(ex, t, { from: monthStart, to: localDate(now, r.tz), shopId: r.shopId }, now);
  const refundShop = r.shopId ? sql`AND EXISTS (SELECT 1 FROM orders o WHERE o.id = rf.order_id AND o.shop_id = ${r.shopId})` : sql``;
  const [refToday, open, overdue, csat, cost, freight, recovered, topReasons] = await Promise.all([
    sql<{ count: string; amount: string }>`SELECT count(*) AS count, coalesce(sum(rf.amount), 0) AS amount FROM refunds rf
      WHERE rf.tenant_id = ${t} AND rf.status = 'succeeded' AND rf.confirmed_at >= ${today.start} AND rf.confirmed_at < ${today.end} ${refundShop}`.execute(
      ex,
    ),
    sql<{ status: string; count: string }>`SELECT c.status, count(*) AS count FROM cases c
      WHERE c.tenant_id = ${t} AND c.status NOT IN ('refunded', 'resolved', 'closed', 'cancelled', 'rejected') ${shopFilter("c", r)}
      GROUP BY c.status ORDER BY c.status`.execute(ex),
    sql<{ count: string }>`SELECT count(*) AS count FROM cases c
      WHERE c.tenant_id = ${t} AND c.status IN ('submitted', 'info_requested', 'awaiting_return', 'received', 'inspected', 'refund_pending')
        AND ${overdueSql(now)} ${shopFilter("c", r)}`.execute(ex),
    sql<{ score: number; count: string }>`SELECT c.csat_score AS score, count(*) AS count FROM cases c
      WHERE c.tenant_id = ${t} AND c.csat_score IS NOT NULL AND c.created_at >= ${r.start} AND c.created_at < ${r.end} ${shopFilter("c", r)}
      GROUP BY 1 ORDER BY 1`.execute(ex),
    sql<{
      kind: string;
      amount: string;
    }>`SELECT CASE WHEN rf.kind = 'compensation' THEN 'compensation' ELSE 'refunds' END AS kind, coalesce(sum(rf.amount), 0) AS amount
      FROM refunds rf WHERE rf.tenant_id = ${t} AND rf.status = 'succeeded' AND rf.confirmed_at >= ${r.start} AND rf.confirmed_at < ${r.end} ${refundShop}
      GROUP BY 1`.execute(ex),
    sql<{ amount: string }>`SELECT coalesce(sum(e.amount), 0) AS amount FROM ledger_postings p JOIN ledger_entries e ON e.posting_id = p.id
      WHERE p.tenant_id = ${t} AND e.account = 'freight_expense' AND e.amount > 0 AND p.at >= ${r.start} AND p.at < ${r.end}
      ${r.shopId ? sql`AND EXISTS (SELECT 1 FROM orders o WHERE o.id = p.order_id AND o.shop_id = ${r.shopId})` : sql``}`.execute(ex),
    sql<{ amount: string }>`SELECT coalesce(sum(sc.amount), 0) AS amount FROM supplier_claims sc
      WHERE sc.tenant_id = ${t} AND sc.status IN ('accepted', 'settled') AND sc.created_at >= ${r.start} AND sc.created_at < ${r.end}
      ${r.shopId ? sql`AND EXISTS (SELECT 1 FROM cases c WHERE c.id = sc.case_id AND c.shop_id = ${r.shopId})` : sql``}`.execute(ex),
    reasonsReport(ex, month, "reason"),
  ]);
  const dist = [1, 2, 3, 4, 5].map((s) => ({ score: s, count: n(csat.rows.find((x) => Number(x.score) === s)?.count) }));
  const responses = dist.reduce((s, d) => s + d.count, 0);
  const sum = dist.reduce((s, d) => s + d.score * d.count, 0);
  const refunds = n(cost.rows.find((x) => x.kind === "refunds")?.amount);
  const compensation = n(cost.rows.find((x) => x.kind === "compensation")?.amount);
  const fr = n(freight.rows[0]?.amount);
  const rec = n(recovered.rows[0]?.amount);
  const base: DrillDown = r.shopId ? { shopId: r.shopId } : {};
  return {
    range: { from: r.from, to: r.to, timeZone: r.tz },
    orders: totals.orders,
    sales: totals.sales,
    cases: totals.cases,
    refunded: totals.refunded,
    returnRate: totals.returnRate,
    refundRate: totals.refundRate,
    refundsToday: { count: n(refToday.rows[0]?.count), amount: n(refToday.rows[0]?.amount) },
    openCases: open.rows.map((x) => ({ status: x.status, count: n(x.count), drillDown: { ...base, status: x.status } })),
    overdue: { count: n(overdue.rows[0]?.count), drillDown: { ...base, overdue: "true" } },
    topReasonsThisMonth: topReasons.slice(0, 5),
    csat: { responses, average: responses ? Math.round((sum / responses) * 100) / 100 : null, distribution: dist },
    cost: {
      refunds,
      freight: fr,
      compensation,
      total: refunds + fr + compensation,
      recoveredFromSuppliers: rec,
      net: refunds + fr + compensation - rec,
    },
  };
}
