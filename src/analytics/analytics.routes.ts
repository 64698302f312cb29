// Analytics routes: overview, returns, reasons, timings and supplier scorecards. Every report also
// streams as CSV (`?format=csv`, UTF-8 with BOM for Excel).
import type { FastifyReply } from "fastify";
import { z } from "zod";
import type { Deps } from "../platform/context.js";
import { actorOf, type ZApp } from "../platform/http.js";
import { sendCsv, wantsCsv } from "../platform/list.js";
import { GROUP_BYS, overview, reasonsReport, resolveRange, returnsReport, supplierScorecards, timingsReport } from "./analytics.js";

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

export function analyticsRoutes(app: ZApp, deps: Deps) {
  const range = (tenantId: string, q: { from?: string; to?: string; shopId?: string }) =>
    resolveRange(deps.db, tenantId, q, deps.clock.now());

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
    { config: { roles: REPORT_ROLES }, schema: { tags: ["analytics"], querystring: z.object(rangeQuery) } },
    async (req, reply) => {
      const a = actorOf(req);
      const r = await range(a.tenantId, req.query);
      const items = await supplierScorecards(deps.db, r, deps.clock.now());
      if (wantsCsv(req)) return csv(reply, "analytics-suppliers", items);
      return { range: { from: r.from, to: r.to, timeZone: r.tz }, items };
    },
  );
}
