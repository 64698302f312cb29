import type { z } from "zod";
import type { Actor, Deps } from "../platform/context.js";
import { notFound } from "../platform/errors.js";
import { keysetPage } from "../platform/list.js";
import type { PostingListQuery } from "./money.schemas.js";

// The ledger as the API shows it: an order's or a case's postings with their P&L, and the list of postings.

async function postingsOf(deps: Deps, tenantId: string, where: { orderId?: string; caseId?: string }) {
  let q = deps.db.selectFrom("ledger_postings").selectAll().where("tenant_id", "=", tenantId);
  if (where.orderId) q = q.where("order_id", "=", where.orderId);
  if (where.caseId) q = q.where("case_id", "=", where.caseId);
  const postings = await q.orderBy("at").orderBy("id").execute();
  const entries = postings.length
    ? await deps.db
        .selectFrom("ledger_entries")
        .select(["posting_id", "account", "amount"])
        .where(
          "posting_id",
          "in",
          postings.map((p) => p.id),
        )
        .execute()
    : [];
  const items = postings.map((p) => ({
    id: p.id,
    code: p.code,
    memo: p.memo,
    currency: p.currency,
    at: p.at,
    orderId: p.order_id,
    caseId: p.case_id,
    refundId: p.refund_id,
    claimId: p.claim_id,
    entries: entries.filter((e) => e.posting_id === p.id).map((e) => ({ account: e.account, amount: Number(e.amount) })),
  }));
  const sum = (acc: string[]) => entries.filter((e) => acc.includes(e.account)).reduce((s, e) => s + Number(e.amount), 0);
  // P&L from the merchant's side: what came in, what went back out, what the supplier returns.
  const pnl = {
    revenue: -sum(["revenue"]),
    refunds: sum(["customer_refunds"]),
    costOfGoods: sum(["cost_of_goods"]),
    freight: sum(["freight_expense"]),
    compensation: sum(["compensation_expense"]),
    recoveredFromSupplier: sum(["supplier_claims_receivable"]),
  };
  return { items, pnl };
}

export async function orderLedger(deps: Deps, a: Actor, orderId: string) {
  if (!(await deps.db.selectFrom("orders").select("id").where("tenant_id", "=", a.tenantId).where("id", "=", orderId).executeTakeFirst()))
    throw notFound("order");
  const r = await postingsOf(deps, a.tenantId, { orderId });
  return {
    postings: r.items,
    pnl: { ...r.pnl, net: r.pnl.revenue - r.pnl.refunds - r.pnl.costOfGoods - r.pnl.freight - r.pnl.compensation },
  };
}

export async function caseLedger(deps: Deps, a: Actor, caseId: string) {
  const c = await deps.db
    .selectFrom("cases")
    .select(["id", "order_id"])
    .where("tenant_id", "=", a.tenantId)
    .where("id", "=", caseId)
    .executeTakeFirst();
  if (!c) throw notFound("case");
  const r = await postingsOf(deps, a.tenantId, { caseId: c.id });
  const cost = r.pnl.refunds + r.pnl.costOfGoods + r.pnl.freight + r.pnl.compensation;
  const recovered = r.pnl.recoveredFromSupplier;
  return {
    postings: r.items,
    pnl: {
      ...r.pnl,
      cost,
      recovered,
      net: cost - recovered,
      summary: `this case cost ${(cost / 100).toFixed(2)}, ${(recovered / 100).toFixed(2)} recovered from the supplier`,
    },
  };
}

export async function listPostings(
  deps: Deps,
  a: Actor,
  f: Omit<z.infer<typeof PostingListQuery>, "cursor" | "limit">,
  cursor: string | undefined,
  limit: number,
) {
  let q = deps.db.selectFrom("ledger_postings").selectAll().where("tenant_id", "=", a.tenantId);
  if (f.code) q = q.where("code", "=", f.code);
  if (f.orderId) q = q.where("order_id", "=", f.orderId);
  if (f.caseId) q = q.where("case_id", "=", f.caseId);
  if (f.from) q = q.where("at", ">=", new Date(f.from));
  if (f.to) q = q.where("at", "<", new Date(f.to));
  const page = await keysetPage(q, "id", cursor, limit);
  return {
    ...page,
    items: page.items.map((p) => ({
      id: p.id,
      code: p.code,
      memo: p.memo,
      currency: p.currency,
      orderId: p.order_id,
      caseId: p.case_id,
      refundId: p.refund_id,
      at: p.at,
    })),
  };
}
