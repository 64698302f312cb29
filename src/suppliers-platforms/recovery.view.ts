import { sql } from "kysely";
import { CLAIM_MACHINE } from "../money/claim.states.js";
import type { Deps } from "../platform/context.js";
import { notFound } from "../platform/errors.js";
import { disputeOut } from "./channel.disputes.js";
import { cdb } from "./platform.js";
import { platformTermsOf } from "./terms.js";

// What the supplier claims brought back: per case, the outstanding list, and per supplier for the scorecard.

/** A claim is outstanding until its machine's final statuses. */
const OPEN_CLAIM_STATUSES = CLAIM_MACHINE.statuses.filter((st) => !CLAIM_MACHINE.final.includes(st));
const DAY = 86_400_000;

/** The platform disputes of some claims, oldest first. */
const disputesOf = (deps: Deps, claimIds: string[]) =>
  claimIds.length
    ? cdb(deps.db).selectFrom("claim_disputes").selectAll().where("claim_id", "in", claimIds).orderBy("opened_at").execute()
    : Promise.resolve([]);

/** The recovery of one case's claim: refunded to the customer, claimed, recovered, written off, outstanding and for how long. */
export async function recoveryOf(deps: Deps, tenantId: string, caseId: string) {
  const c = await deps.db
    .selectFrom("cases")
    .select(["id", "case_no", "refunded_total", "supplier_id"])
    .where("tenant_id", "=", tenantId)
    .where("id", "=", caseId)
    .executeTakeFirst();
  if (!c) throw notFound("case");
  const claims = await deps.db.selectFrom("supplier_claims").selectAll().where("case_id", "=", caseId).orderBy("created_at").execute();
  const rows = claims.length
    ? await sql<{
        claim_id: string;
        code: string;
        account: string;
        amount: string;
      }>`SELECT p.claim_id, p.code, e.account, sum(e.amount)::text AS amount
        FROM ledger_postings p JOIN ledger_entries e ON e.posting_id = p.id
        WHERE p.tenant_id = ${tenantId} AND p.claim_id = ANY(${claims.map((x) => x.id)}::uuid[]) GROUP BY p.claim_id, p.code, e.account`.execute(
        deps.db,
      )
    : { rows: [] };
  const disputes = await disputesOf(
    deps,
    claims.map((x) => x.id),
  );
  const now = deps.clock.now().getTime();
  const of = (claimId: string, code: string, account: string) =>
    rows.rows.filter((r) => r.claim_id === claimId && r.code === code && r.account === account).reduce((s, r) => s + Number(r.amount), 0);
  const items = claims.map((cl) => {
    // Cash the platform refunded, and deductions on a closed statement, are both recoveries.
    const recovered = of(cl.id, "claim_recovered", "cash") + of(cl.id, "claim_settled", "supplier_payables");
    const writtenOff = of(cl.id, "claim_written_off", "cost_of_goods") + of(cl.id, "claim_cancelled", "cost_of_goods");
    const open = !CLAIM_MACHINE.final.includes(cl.status);
    const outstanding = open ? Math.max(0, Number(cl.amount) - recovered) : 0;
    const end = open ? now : new Date(cl.settled_at ?? cl.updated_at).getTime();
    return {
      claimId: cl.id,
      status: cl.status,
      claimed: Number(cl.amount),
      recovered,
      writtenOff,
      outstanding,
      openedAt: cl.created_at,
      daysOutstanding: open ? Math.floor((now - new Date(cl.created_at).getTime()) / DAY) : 0,
      daysToRecover: open ? null : Math.floor((end - new Date(cl.created_at).getTime()) / DAY),
      disputes: disputes.filter((d) => d.claim_id === cl.id).map(disputeOut),
    };
  });
  const sum = (k: "claimed" | "recovered" | "writtenOff" | "outstanding") =>
    items.filter((i) => i.status !== "cancelled" || k === "writtenOff").reduce((s, i) => s + i[k], 0);
  const refunded = Number(c.refunded_total);
  const recovered = sum("recovered");
  return {
    caseId: c.id,
    caseNo: c.case_no,
    refundedToCustomer: refunded,
    claimed: sum("claimed"),
    recovered,
    writtenOff: sum("writtenOff"),
    outstanding: sum("outstanding"),
    net: refunded - recovered,
    claims: items,
    platformTerms: await platformTermsOf(deps.db, tenantId, caseId),
  };
}

/** Outstanding recoveries, oldest first: every claim not yet settled or cancelled. */
export async function listRecoveries(deps: Deps, tenantId: string, f: { supplierId?: string; limit: number }) {
  let q = deps.db
    .selectFrom("supplier_claims as sc")
    .innerJoin("suppliers as s", "s.id", "sc.supplier_id")
    .leftJoin("cases as c", "c.id", "sc.case_id")
    .select([
      "sc.id",
      "sc.case_id",
      "sc.status",
      "sc.amount",
      "sc.created_at",
      "sc.supplier_id",
      "s.name as supplier_name",
      "c.case_no",
      "c.refunded_total",
    ])
    .where("sc.tenant_id", "=", tenantId)
    .where("sc.status", "in", OPEN_CLAIM_STATUSES);
  if (f.supplierId) q = q.where("sc.supplier_id", "=", f.supplierId);
  const rows = await q.orderBy("sc.created_at").orderBy("sc.id").limit(f.limit).execute();
  const disputes = await disputesOf(
    deps,
    rows.map((r) => r.id),
  );
  const now = deps.clock.now().getTime();
  return {
    items: rows.map((r) => {
      const d = disputes.filter((x) => x.claim_id === r.id).at(-1);
      return {
        claimId: r.id,
        caseId: r.case_id,
        caseNo: r.case_no,
        supplierId: r.supplier_id,
        supplierName: r.supplier_name,
        status: r.status,
        refundedToCustomer: Number(r.refunded_total ?? 0),
        claimed: Number(r.amount),
        outstanding: Number(r.amount),
        openedAt: r.created_at,
        daysOutstanding: Math.floor((now - new Date(r.created_at).getTime()) / DAY),
        dispute: d ? { state: d.state, externalStatus: d.external_status, externalRefundId: d.external_refund_id } : null,
      };
    }),
    total: rows.reduce((s, r) => s + Number(r.amount), 0),
  };
}

/**
 * Recovery per supplier for the scorecard: what was claimed, what actually came back (cash the
 * platform refunded, `claim_recovered`, and deductions on closed statements, `claim_settled`),
 * the recovery rate, and how many days a settled claim took (median and mean) and the oldest open
 * one has been waiting. Cancelled claims count neither as claimed nor as recovered.
 */
export async function supplierRecoveries(deps: Deps, tenantId: string, supplierId: string | undefined) {
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
      WHERE p.tenant_id = ${tenantId} AND ((p.code = 'claim_recovered' AND e.account = 'cash')
        OR (p.code = 'claim_settled' AND e.account = 'supplier_payables'))
      GROUP BY p.claim_id),
    c AS (
      SELECT sc.supplier_id, sc.id, sc.status, sc.amount, coalesce(rec.got, 0) AS got,
        CASE WHEN sc.status = 'settled' THEN extract(epoch FROM (sc.settled_at - sc.created_at)) / 86400 END AS days,
        CASE WHEN sc.status IN ('open', 'accepted', 'disputed') THEN extract(epoch FROM (${deps.clock.now()}::timestamptz - sc.created_at)) / 86400 END AS waiting
      FROM supplier_claims sc LEFT JOIN rec ON rec.claim_id = sc.id
      WHERE sc.tenant_id = ${tenantId} AND sc.status <> 'cancelled')
    SELECT s.id AS supplier_id, s.name, count(c.id)::text AS claims, coalesce(sum(c.amount), 0)::text AS claimed,
      coalesce(sum(c.got), 0)::text AS recovered, count(c.days)::text AS settled,
      (percentile_cont(0.5) WITHIN GROUP (ORDER BY c.days))::text AS median_days, avg(c.days)::text AS mean_days,
      max(c.waiting)::text AS oldest_open_days
    FROM suppliers s JOIN c ON c.supplier_id = s.id
    WHERE s.tenant_id = ${tenantId} ${supplierId ? sql`AND s.id = ${supplierId}` : sql``}
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
}
