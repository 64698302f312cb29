// Daily rollups of the order side of analytics. A year of orders is a million rows; a year of
// rollup rows is a few thousand, so reports read closed days from `analytics_order_days` and
// `analytics_supplier_days` and only the days after the rollup's `through` date live.
//
// The refresh runs as a job (queue `dropdesk-analytics`): a worker checks every ten minutes for
// tenants whose rollup misses yesterday, and `POST /api/v1/analytics/actions/refresh` or
// `dropdesk analytics-refresh` asks for one. Each refresh rebuilds, per time zone in use:
// - the closed days not rolled up yet (up to yesterday in that zone),
// - every rolled-up day holding an order or original supplier order changed since the previous
//   refresh started (its `updated_at`), so a late payment or a reroute reaches the rollup,
// and then stores each supplier's 90-day score for routing.
import { sql } from "kysely";
import type { Deps } from "../platform/context.js";
import type { Executor, Tx } from "../platform/db.js";
import { addDays, localDate } from "../policies/time.js";

/** The time zone of reports without a shop. */
export const DEFAULT_TZ = "Asia/Shanghai";
export const ANALYTICS_QUEUE = "dropdesk-analytics";
/** Changes committed this long after the previous refresh started are still seen as changes. */
const CHANGE_MARGIN_MS = 15 * 60_000;

export interface ZoneRefresh {
  tz: string;
  through: string;
  shipThrough: string;
  orderDays: number;
  supplierDays: number;
}

/** Days `(after, upTo]` as YYYY-MM-DD strings. */
function daysBetween(after: string, upTo: string): string[] {
  const out: string[] = [];
  for (let d = addDays(after, 1); d <= upTo; d = addDays(d, 1)) out.push(d);
  return out;
}

/** A filter on a local-day expression: every day up to `upTo`, or the listed days. */
const dayFilter = (expr: ReturnType<typeof sql>, days: string[] | { upTo: string }) =>
  Array.isArray(days) ? sql`${expr} = ANY(${days}::date[])` : sql`${expr} <= ${days.upTo}::date`;

async function rebuildOrderDays(tx: Tx, tenantId: string, tz: string, days: string[] | { upTo: string }) {
  const placed = sql`(o.placed_at AT TIME ZONE ${tz})::date`;
  const day = sql`(d.day)`;
  await sql`DELETE FROM analytics_order_days d WHERE d.tenant_id = ${tenantId} AND d.tz = ${tz} AND ${dayFilter(day, days)}`.execute(tx);
  const paid = sql`o.tenant_id = ${tenantId} AND o.status <> 'pending_payment' AND ${dayFilter(placed, days)}`;
  await sql`INSERT INTO analytics_order_days (tenant_id, tz, dim, day, shop_id, key, orders, sales)
    SELECT ${tenantId}, ${tz}, 'all', ${placed}, o.shop_id, '', count(*), coalesce(sum(o.paid_total), 0)
    FROM orders o WHERE ${paid} GROUP BY 4, 5`.execute(tx);
  await sql`INSERT INTO analytics_order_days (tenant_id, tz, dim, day, shop_id, key, orders, sales)
    SELECT ${tenantId}, ${tz}, 'sku', ${placed}, o.shop_id, ol.sku_code, count(DISTINCT o.id), coalesce(sum(ol.paid_amount), 0)
    FROM orders o JOIN order_lines ol ON ol.order_id = o.id WHERE ${paid} GROUP BY 4, 5, 6`.execute(tx);
  await sql`INSERT INTO analytics_order_days (tenant_id, tz, dim, day, shop_id, key, orders, sales)
    SELECT ${tenantId}, ${tz}, 'supplier', ${placed}, o.shop_id, so.supplier_id::text, count(DISTINCT o.id), coalesce(sum(ol.paid_amount), 0)
    FROM orders o JOIN supplier_orders so ON so.order_id = o.id AND so.purpose = 'original' AND so.status NOT IN ('rejected', 'cancelled')
    JOIN supplier_order_lines sol ON sol.supplier_order_id = so.id JOIN order_lines ol ON ol.id = sol.order_line_id
    WHERE ${paid} GROUP BY 4, 5, 6`.execute(tx);
}

async function rebuildSupplierDays(tx: Tx, tenantId: string, tz: string, days: string[] | { upTo: string }, now: Date) {
  const created = sql`(so.created_at AT TIME ZONE ${tz})::date`;
  await sql`DELETE FROM analytics_supplier_days d WHERE d.tenant_id = ${tenantId} AND d.tz = ${tz} AND ${dayFilter(sql`(d.day)`, days)}`.execute(
    tx,
  );
  await sql`INSERT INTO analytics_supplier_days (tenant_id, tz, day, supplier_id, supplier_orders, ship_due, late)
    SELECT ${tenantId}, ${tz}, ${created}, so.supplier_id, count(*),
      count(*) FILTER (WHERE so.ship_by IS NOT NULL AND (so.shipped_at IS NOT NULL OR so.ship_by < ${now})),
      count(*) FILTER (WHERE so.ship_by IS NOT NULL AND (so.shipped_at > so.ship_by OR (so.shipped_at IS NULL AND so.ship_by < ${now})))
    FROM supplier_orders so
    WHERE so.tenant_id = ${tenantId} AND so.purpose = 'original' AND so.status NOT IN ('rejected', 'cancelled') AND ${dayFilter(created, days)}
    GROUP BY 3, 4`.execute(tx);
}

async function refreshZone(tx: Tx, tenantId: string, tz: string, now: Date, full: boolean): Promise<ZoneRefresh> {
  const state = await sql<{ through: string; ship_through: string; started_at: Date }>`SELECT through::text AS through,
      ship_through::text AS ship_through, started_at FROM analytics_rollups WHERE tenant_id = ${tenantId} AND tz = ${tz} FOR UPDATE`
    .execute(tx)
    .then((r) => r.rows[0]);
  const yesterday = addDays(localDate(now, tz), -1);
  // Lateness is final once a supplier order has shipped or passed its ship-by time; the supplier
  // rollup stops before the first day that still has one inside its window.
  const open = await sql<{ day: string | null }>`SELECT min((so.created_at AT TIME ZONE ${tz})::date)::text AS day FROM supplier_orders so
    WHERE so.tenant_id = ${tenantId} AND so.purpose = 'original' AND so.status NOT IN ('rejected', 'cancelled')
      AND so.shipped_at IS NULL AND so.ship_by >= ${now}`.execute(tx);
  const firstOpen = open.rows[0]?.day;
  const shipThrough = firstOpen && addDays(firstOpen, -1) < yesterday ? addDays(firstOpen, -1) : yesterday;
  let orderDays: string[] | { upTo: string };
  let supplierDays: string[] | { upTo: string };
  if (!state || full) {
    orderDays = { upTo: yesterday };
    supplierDays = { upTo: yesterday };
  } else {
    const since = new Date(new Date(state.started_at).getTime() - CHANGE_MARGIN_MS);
    const changed = await sql<{ dim: string; day: string }>`
      SELECT DISTINCT 'order' AS dim, (o.placed_at AT TIME ZONE ${tz})::date::text AS day FROM orders o
        WHERE o.tenant_id = ${tenantId} AND o.updated_at >= ${since} AND (o.placed_at AT TIME ZONE ${tz})::date <= ${state.through}::date
      UNION
      SELECT DISTINCT 'order', (o.placed_at AT TIME ZONE ${tz})::date::text FROM supplier_orders so JOIN orders o ON o.id = so.order_id
        WHERE so.tenant_id = ${tenantId} AND so.purpose = 'original' AND so.updated_at >= ${since}
          AND (o.placed_at AT TIME ZONE ${tz})::date <= ${state.through}::date
      UNION
      SELECT DISTINCT 'supplier', (so.created_at AT TIME ZONE ${tz})::date::text FROM supplier_orders so
        WHERE so.tenant_id = ${tenantId} AND so.purpose = 'original' AND so.updated_at >= ${since}
          AND (so.created_at AT TIME ZONE ${tz})::date <= ${state.ship_through}::date`.execute(tx);
    const pick = (dim: string) => changed.rows.filter((x) => x.dim === dim).map((x) => x.day);
    orderDays = [...new Set([...pick("order"), ...daysBetween(state.through, yesterday)])];
    supplierDays = [...new Set([...pick("supplier"), ...daysBetween(state.ship_through, yesterday)])];
  }
  await rebuildOrderDays(tx, tenantId, tz, orderDays);
  await rebuildSupplierDays(tx, tenantId, tz, supplierDays, now);
  const count = (d: string[] | { upTo: string }) => (Array.isArray(d) ? d.length : -1);
  await sql`INSERT INTO analytics_rollups (tenant_id, tz, through, ship_through, started_at, refreshed_at, days_rebuilt)
    VALUES (${tenantId}, ${tz}, ${yesterday}::date, ${shipThrough}::date, ${now}, ${now}, ${Math.max(0, count(orderDays))})
    ON CONFLICT (tenant_id, tz) DO UPDATE SET through = excluded.through, ship_through = excluded.ship_through,
      started_at = excluded.started_at, refreshed_at = excluded.refreshed_at, days_rebuilt = excluded.days_rebuilt`.execute(tx);
  return { tz, through: yesterday, shipThrough, orderDays: count(orderDays), supplierDays: count(supplierDays) };
}

/** The time zones a tenant's reports are read in: the default one and every shop's. */
async function zonesOf(ex: Executor, tenantId: string): Promise<string[]> {
  const shops = await ex.selectFrom("shops").select("timezone").distinct().where("tenant_id", "=", tenantId).execute();
  return [...new Set([DEFAULT_TZ, ...shops.map((s) => s.timezone as string)])];
}

/**
 * Refreshes one tenant's rollups (all zones) and supplier scores in one transaction; concurrent
 * refreshes of the same tenant wait for each other. `full` rebuilds every day.
 * `scores` is called inside the transaction, after the rollups, to store the routing scores.
 */
export async function refreshRollups(
  deps: Pick<Deps, "db" | "clock">,
  tenantId: string,
  opts: { full?: boolean; scores?: (tx: Tx, now: Date) => Promise<Map<string, number>> } = {},
): Promise<{ zones: ZoneRefresh[]; scored: number; ms: number }> {
  const t0 = performance.now();
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (tx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext(${`dropdesk-analytics:${tenantId}`}))`.execute(tx);
    const zones: ZoneRefresh[] = [];
    for (const tz of await zonesOf(tx, tenantId)) zones.push(await refreshZone(tx, tenantId, tz, now, Boolean(opts.full)));
    let scored = 0;
    if (opts.scores) {
      const scores = await opts.scores(tx, now);
      const ids = [...scores.keys()];
      if (ids.length) {
        await sql`UPDATE suppliers s SET score = x.score, score_at = ${now}
          FROM unnest(${ids}::uuid[], ${ids.map((id) => scores.get(id))}::numeric[]) AS x(id, score)
          WHERE s.id = x.id AND s.tenant_id = ${tenantId}`.execute(tx);
      }
      scored = ids.length;
    }
    return { zones, scored, ms: Math.round(performance.now() - t0) };
  });
}

/** Tenants whose default-zone rollup misses a closed day with orders (or has none yet). */
export async function tenantsDue(ex: Executor, now: Date): Promise<string[]> {
  const yesterday = addDays(localDate(now, DEFAULT_TZ), -1);
  const rows = await sql<{ id: string }>`SELECT t.id FROM tenants t
    LEFT JOIN analytics_rollups r ON r.tenant_id = t.id AND r.tz = ${DEFAULT_TZ}
    WHERE (r.through IS NULL OR r.through < ${yesterday}::date)
      AND EXISTS (SELECT 1 FROM orders o WHERE o.tenant_id = t.id)`.execute(ex);
  return rows.rows.map((r) => r.id);
}

export interface RollupState {
  through: string;
  shipThrough: string;
  /** The first instant after `through` (and `shipThrough`) in the zone: where live reading starts. */
  liveStart: Date;
  shipLiveStart: Date;
  refreshedAt: Date;
}

/** How far each time zone's rollup reaches, and when it was last refreshed (the rollups screen). */
export async function rollupStates(ex: Executor, tenantId: string) {
  const rows = await ex
    .selectFrom("analytics_rollups")
    .select([
      "tz",
      sql<string>`through::text`.as("through"),
      sql<string>`ship_through::text`.as("ship_through"),
      "refreshed_at",
      "days_rebuilt",
    ])
    .where("tenant_id", "=", tenantId)
    .orderBy("tz")
    .execute();
  return {
    items: rows.map((x) => ({
      timeZone: x.tz,
      through: x.through,
      shipThrough: x.ship_through,
      refreshedAt: x.refreshed_at,
      daysRebuilt: x.days_rebuilt,
    })),
  };
}
