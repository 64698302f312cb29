import { sql } from "kysely";
import { z } from "zod";
import type { Deps } from "../platform/context.js";
import { actorOf, type ZApp } from "../platform/http.js";

/**
 * Recovery per supplier for the scorecard: what was claimed, what actually came back (cash the
 * platform refunded, `claim_recovered`, and deductions on closed statements, `claim_settled`),
 * the recovery rate, and how many days a settled claim took (median and mean) and the oldest open
 * one has been waiting. Cancelled claims count neither as claimed nor as recovered.
 */
export function recoveryRoutes(app: ZApp, deps: Deps) {
  app.get(
    "/api/v1/recoveries/suppliers",
    {
      config: { roles: ["admin", "finance", "cs", "viewer"] },
      schema: { tags: ["money"], querystring: z.strictObject({ supplierId: z.string().uuid().optional() }) },
    },
    async (req) => {
      const a = actorOf(req);
      const rows = await sql<{
        supplier_id: string;
        name: string;
        claims: string;
        claimed: string;
        recovered: string;
        settled: string;
        median_days: string | null;
        mean_days: string | null;
        oldest_open_days: string | null;
      }>`WITH rec AS (
          SELECT p.claim_id, sum(e.amount) AS got FROM ledger_postings p JOIN ledger_entries e ON e.posting_id = p.id
          WHERE p.tenant_id = ${a.tenantId} AND ((p.code = 'claim_recovered' AND e.account = 'cash')
            OR (p.code = 'claim_settled' AND e.account = 'supplier_payables'))
          GROUP BY p.claim_id),
        c AS (
          SELECT sc.supplier_id, sc.id, sc.status, sc.amount, coalesce(rec.got, 0) AS got,
            CASE WHEN sc.status = 'settled' THEN extract(epoch FROM (sc.settled_at - sc.created_at)) / 86400 END AS days,
            CASE WHEN sc.status IN ('open', 'accepted', 'disputed') THEN extract(epoch FROM (${deps.clock.now()}::timestamptz - sc.created_at)) / 86400 END AS waiting
          FROM supplier_claims sc LEFT JOIN rec ON rec.claim_id = sc.id
          WHERE sc.tenant_id = ${a.tenantId} AND sc.status <> 'cancelled')
        SELECT s.id AS supplier_id, s.name, count(c.id)::text AS claims, coalesce(sum(c.amount), 0)::text AS claimed,
          coalesce(sum(c.got), 0)::text AS recovered, count(c.days)::text AS settled,
          (percentile_cont(0.5) WITHIN GROUP (ORDER BY c.days))::text AS median_days, avg(c.days)::text AS mean_days,
          max(c.waiting)::text AS oldest_open_days
        FROM suppliers s JOIN c ON c.supplier_id = s.id
        WHERE s.tenant_id = ${a.tenantId} ${req.query.supplierId ? sql`AND s.id = ${req.query.supplierId}` : sql``}
        GROUP BY s.id, s.name ORDER BY s.name`.execute(deps.db);
      const days = (v: string | null) => (v === null ? null : Math.round(Number(v) * 10) / 10);
      return {
        items: rows.rows.map((r) => ({
          supplierId: r.supplier_id,
          name: r.name,
          claims: Number(r.claims),
          claimed: Number(r.claimed),
          recovered: Number(r.recovered),
          recoveryRate: Number(r.claimed) > 0 ? Math.round((Number(r.recovered) * 1000) / Number(r.claimed)) / 1000 : null,
          settledClaims: Number(r.settled),
          medianDaysToRecover: days(r.median_days),
          meanDaysToRecover: days(r.mean_days),
          oldestOpenDays: r.oldest_open_days === null ? null : Math.floor(Number(r.oldest_open_days)),
        })),
      };
    },
  );
}
