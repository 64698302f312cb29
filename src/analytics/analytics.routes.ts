// Analytics routes: overview, returns, reasons, timings and supplier scorecards. Every report also
// streams as CSV (`?format=csv`, UTF-8 with BOM for Excel).
import type { FastifyReply } from "fastify";
import type PgBoss from "pg-boss";
import { z } from "zod";
import { audit } from "../platform/audit.js";
import type { Deps } from "../platform/context.js";
import { actorOf, type ZApp } from "../platform/http.js";
import { ensureQueue, type Jobs } from "../platform/jobs.js";
import { sendCsv, wantsCsv } from "../platform/list.js";
import {
  GROUP_BYS,
  overview,
  reasonsReport,
  resolveRange,
  returnsReport,
  supplierScorecards,
  supplierScores,
  timingsReport,
} from "./analytics.js";
import { ANALYTICS_QUEUE, refreshRollups, rollupStates, tenantsDue } from "./rollup.js";

const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "a date YYYY-MM-DD")
  .max(10);
const rangeQuery = {
  from: date.optional(),
  to: date.optional(),
  shopId: z.string().uuid().optional(),
  format: z.enum(["json", "csv"]).optional(),
};
const reportQuery = z.object({ ...rangeQuery, groupBy: z.enum(GROUP_BYS).optional() });
const REPORT_ROLES = ["admin", "cs", "finance", "viewer"] as const;
const OVERVIEW_ROLES = ["admin", "cs", "finance", "viewer", "warehouse"] as const;

/** Sends a whole report (a few hundred rows at most) as one CSV page. */
function csv(reply: FastifyReply, name: string, rows: object[]) {
  return sendCsv(reply, name, async () => ({ items: rows as Record<string, unknown>[], nextCursor: null }));
}

/** Refreshes a tenant's rollups and the supplier scores routing reads. */
export function refreshAnalytics(deps: Deps, tenantId: string, full = false) {
  return refreshRollups(deps, tenantId, { full, scores: (tx, now) => supplierScores(tx, tenantId, now) });
}

/**
 * The rollup job: queue `dropdesk-analytics`, one job per tenant refresh. Workers look every ten
 * minutes (and at start) for tenants whose rollup misses yesterday.
 */
export async function setupAnalytics(deps: Deps) {
  const jobs = deps.services.jobs as Jobs | undefined;
  if (!jobs) return;
  const boss = jobs.boss;
  await ensureQueue(deps, ANALYTICS_QUEUE, { retryLimit: 3, retryDelay: 60, expireInSeconds: 3600 });
  const run = async (job: PgBoss.Job<{ tenantId: string; full?: boolean }>) => {
    const r = await refreshAnalytics(deps, job.data.tenantId, job.data.full);
    console.log(
      `analytics rollup for ${job.data.tenantId}: ${r.zones.map((z) => `${z.tz} through ${z.through}`).join(", ")} in ${r.ms} ms`,
    );
  };
  const request = (tenantId: string, full = false) =>
    boss.send(ANALYTICS_QUEUE, { tenantId, full }, { singletonKey: `${tenantId}:${full}` });
  const schedule = async () => {
    for (const tenantId of await tenantsDue(deps.db, deps.clock.now())) await request(tenantId);
  };
  deps.services.requestAnalyticsRefresh = request;
  // Tests and the CLI drive the queue in-process.
  deps.services.runAnalyticsJobs = async () => {
    let ran = 0;
    for (;;) {
      const batch = await boss.fetch<{ tenantId: string; full?: boolean }>(ANALYTICS_QUEUE, { batchSize: 10 });
      if (!batch?.length) return ran;
      for (const job of batch) {
        await run(job);
        await boss.complete(ANALYTICS_QUEUE, job.id);
        ran += 1;
      }
    }
  };
  deps.services.scheduleAnalytics = schedule;
  if (!deps.config.workers) return;
  await boss.work<{ tenantId: string; full?: boolean }>(ANALYTICS_QUEUE, { batchSize: 1, pollingIntervalSeconds: 5 }, async ([job]) =>
    run(job),
  );
  const tick = () => void schedule().catch((e) => console.warn(`analytics schedule: ${e.message}`));
  const first = setTimeout(tick, 5_000);
  const timer = setInterval(tick, 10 * 60_000);
  first.unref();
  timer.unref();
  const prevStop = deps.services.stop as (() => Promise<void>) | undefined;
  deps.services.stop = async () => {
    clearTimeout(first);
    clearInterval(timer);
    await prevStop?.();
  };
}

export function analyticsRoutes(app: ZApp, deps: Deps) {
  const range = (tenantId: string, q: { from?: string; to?: string; shopId?: string }) =>
    resolveRange(deps.db, tenantId, q, deps.clock.now());

  app.post(
    "/api/v1/analytics/actions/refresh",
    {
      config: { roles: ["admin", "finance"] },
      schema: { tags: ["analytics"], body: z.strictObject({ full: z.boolean().optional() }).optional() },
    },
    async (req, reply) => {
      const a = actorOf(req);
      const full = req.body?.full ?? false;
      const request = deps.services.requestAnalyticsRefresh as ((t: string, f: boolean) => Promise<unknown>) | undefined;
      await audit(deps.db, a, "analytics.refresh_requested", "tenant", a.tenantId, undefined, { full });
      if (request) {
        await request(a.tenantId, full);
        return reply.code(202).send({ queued: true });
      }
      // Without a job queue (DROPDESK_JOBS=0) the refresh runs now.
      const r = await refreshAnalytics(deps, a.tenantId, full);
      return { queued: false, zones: r.zones, ms: r.ms };
    },
  );

  app.get("/api/v1/analytics/rollups", { config: { roles: REPORT_ROLES }, schema: { tags: ["analytics"] } }, async (req) =>
    rollupStates(deps.db, actorOf(req).tenantId),
  );

  app.get(
    "/api/v1/analytics/overview",
    { config: { roles: OVERVIEW_ROLES }, schema: { tags: ["analytics"], querystring: z.object(rangeQuery) } },
    async (req, reply) => {
      const a = actorOf(req);
      const r = await range(a.tenantId, req.query);
      const o = await overview(deps.db, r, deps.clock.now());
      if (!wantsCsv(req)) return o;
      const rows: Record<string, unknown>[] = [
        ["orders", o.orders],
        ["sales", o.sales],
        ["cases", o.cases],
        ["refunded", o.refunded],
        ["return_rate", o.returnRate],
        ["refund_rate", o.refundRate],
        ["refunds_today.count", o.refundsToday.count],
        ["refunds_today.amount", o.refundsToday.amount],
        ["overdue", o.overdue.count],
        ...o.openCases.map((x) => [`open.${x.status}`, x.count]),
        ...o.topReasonsThisMonth.map((x) => [`top_reason.${x.key}`, x.count]),
        ["csat.average", o.csat.average],
        ...o.csat.distribution.map((x) => [`csat.${x.score}`, x.count]),
        ...Object.entries(o.cost).map(([k, v]) => [`cost.${k}`, v]),
      ].map(([figure, value]) => ({ figure, value, from: o.range.from, to: o.range.to }));
      return csv(reply, "analytics-overview", rows);
    },
  );

  app.get(
    "/api/v1/analytics/returns",
    { config: { roles: REPORT_ROLES }, schema: { tags: ["analytics"], querystring: reportQuery } },
    async (req, reply) => {
      const a = actorOf(req);
      const r = await range(a.tenantId, req.query);
      const items = await returnsReport(deps.db, r, req.query.groupBy ?? "day");
      if (wantsCsv(req)) return csv(reply, "analytics-returns", items);
      return { range: { from: r.from, to: r.to, timeZone: r.tz }, groupBy: req.query.groupBy ?? "day", items };
    },
  );

  app.get(
    "/api/v1/analytics/reasons",
    { config: { roles: REPORT_ROLES }, schema: { tags: ["analytics"], querystring: reportQuery } },
    async (req, reply) => {
      const a = actorOf(req);
      const r = await range(a.tenantId, req.query);
      const items = await reasonsReport(deps.db, r, req.query.groupBy ?? "reason");
      if (wantsCsv(req)) return csv(reply, "analytics-reasons", items);
      return {
        range: { from: r.from, to: r.to, timeZone: r.tz },
        groupBy: req.query.groupBy ?? "reason",
        total: items.reduce((s, x) => s + x.count, 0),
        items,
      };
    },
  );

  app.get(
    "/api/v1/analytics/timings",
    { config: { roles: REPORT_ROLES }, schema: { tags: ["analytics"], querystring: reportQuery } },
    async (req, reply) => {
      const a = actorOf(req);
      const r = await range(a.tenantId, req.query);
      const items = await timingsReport(deps.db, r, req.query.groupBy, deps.clock.now());
      if (wantsCsv(req)) return csv(reply, "analytics-timings", items);
      return { range: { from: r.from, to: r.to, timeZone: r.tz }, groupBy: req.query.groupBy ?? null, items };
    },
  );

  app.get(
    "/api/v1/analytics/suppliers",
    // A supplier user sees its own scorecard only, to see what it is measured on.
    { config: { roles: [...REPORT_ROLES, "supplier"] }, schema: { tags: ["analytics"], querystring: z.object(rangeQuery) } },
    async (req, reply) => {
      const a = actorOf(req);
      const r = await range(a.tenantId, a.role === "supplier" ? { from: req.query.from, to: req.query.to } : req.query);
      const all = await supplierScorecards(deps.db, r, deps.clock.now());
      const items = a.role === "supplier" ? all.filter((x) => x.supplierId === a.supplierId) : all;
      if (wantsCsv(req)) return csv(reply, "analytics-suppliers", items);
      return { range: { from: r.from, to: r.to, timeZone: r.tz }, items };
    },
  );
}
