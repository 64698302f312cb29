import { type RawBuilder, sql } from "kysely";
import type { Range } from "../analytics/analytics.js";
import type { Executor } from "../platform/db.js";

const hours = (seconds: unknown) => (seconds === null || seconds === undefined ? null : Math.round((Number(seconds) / 3600) * 100) / 100);

/** The periods the first-response report is cut into, in the range's time zone. */
export const FIRST_RESPONSE_PERIODS = ["day", "week", "month"] as const;
export type FirstResponsePeriod = (typeof FIRST_RESPONSE_PERIODS)[number];

export type FirstResponseFigures = {
  /** Customer messages written in the range (in the customer threads of cases and orders). */
  customerMessages: number;
  /** Of those, how many a staff reply has answered, and how long that took (median, p90). */
  answered: number;
  medianHours: number | null;
  p90Hours: number | null;
  /** Against the policy's first-response SLA: answered in time, late, or still waiting past it. */
  sla: { due: number; onTime: number; breached: number; compliance: number | null };
  /** Waiting now (not yet answered), and of those past their deadline. */
  waiting: number;
  waitingOverdue: number;
};
/** The figures of one period; `period` is its first day, YYYY-MM-DD. */
export type FirstResponseRow = FirstResponseFigures & { period: string };
export type FirstResponseReport = FirstResponseFigures & {
  groupBy: FirstResponsePeriod;
  /** The same figures per period that has customer messages, oldest first. */
  items: FirstResponseRow[];
};

function figures(row: Record<string, unknown>): FirstResponseFigures {
  const [p50, p90] = (row.p as (number | null)[] | null) ?? [null, null];
  const due = Number(row.due ?? 0);
  const onTime = Number(row.on_time ?? 0);
  return {
    customerMessages: Number(row.total ?? 0),
    answered: Number(row.answered ?? 0),
    medianHours: hours(p50),
    p90Hours: hours(p90),
    sla: { due, onTime, breached: due - onTime, compliance: due > 0 ? Math.round((onTime / due) * 10000) / 10000 : null },
    waiting: Number(row.waiting ?? 0),
    waitingOverdue: Number(row.waiting_overdue ?? 0),
  };
}

/** One statement over the tenant's customer messages of the range, grouped by `key` (one row when it is constant). */
async function measure(ex: Executor, r: Range, now: Date, key: RawBuilder<unknown>) {
  const shop = r.shopId ? sql`AND o.shop_id = ${r.shopId}` : sql``;
  return (
    await sql<Record<string, unknown>>`SELECT ${key} AS k, count(*) AS total, count(m.answered_at) AS answered,
      percentile_cont(ARRAY[0.5, 0.9]::float8[]) WITHIN GROUP (ORDER BY date_part('epoch', m.answered_at - m.created_at))
        FILTER (WHERE m.answered_at IS NOT NULL) AS p,
      count(*) FILTER (WHERE m.response_due_at IS NOT NULL AND (m.answered_at IS NOT NULL OR m.response_due_at < ${now})) AS due,
      count(*) FILTER (WHERE m.answered_at IS NOT NULL AND m.answered_at <= m.response_due_at) AS on_time,
      count(*) FILTER (WHERE m.answered_at IS NULL) AS waiting,
      count(*) FILTER (WHERE m.answered_at IS NULL AND m.response_due_at < ${now}) AS waiting_overdue
      FROM messages m JOIN orders o ON o.id = m.order_id
      WHERE m.tenant_id = ${r.tenantId} AND m.author_kind = 'customer' AND m.created_at >= ${r.start} AND m.created_at < ${r.end} ${shop}
      GROUP BY 1 ORDER BY 1`.execute(ex)
  ).rows;
}

/**
 * First-response time of customer messages: from the customer's message to the staff reply that
 * answered it (the same reply answers every customer message waiting in the thread), for the whole
 * range and per day, week or month of the range's time zone.
 */
export async function firstResponseReport(
  ex: Executor,
  r: Range,
  now: Date,
  groupBy: FirstResponsePeriod = "day",
): Promise<FirstResponseReport> {
  const [total] = await measure(ex, r, now, sql`0`);
  const period = sql`to_char(date_trunc(${groupBy}, m.created_at AT TIME ZONE ${r.tz}), 'YYYY-MM-DD')`;
  const items = (await measure(ex, r, now, period)).map((row) => ({ period: String(row.k), ...figures(row) }));
  return { ...figures(total ?? {}), groupBy, items };
}
