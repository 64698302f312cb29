import { LEDGER_ACCOUNTS } from "../domain/vocabulary.js";
import type { Executor } from "../platform/db.js";
import { newId } from "../platform/ids.js";

/**
 * Double-entry ledger. Amounts are integer minor units; a positive amount debits an account and a
 * negative amount credits it; every posting sums to zero (the database checks it at commit too).
 * Postings are never edited: a mistake is corrected by a new posting.
 *
 * Accounts (normal side in brackets):
 * - cash [debit]: money held at the gateway/bank
 * - revenue [credit]: what customers paid for goods and shipping
 * - customer_refunds [debit]: contra-revenue, refunds granted
 * - refunds_payable [credit]: refunds granted but not yet confirmed by the gateway
 * - store_credit [credit]: balance owed to customers as store credit
 * - coupons_outstanding [credit]: coupons issued and not yet used
 * - cost_of_goods [debit]: what suppliers charge for goods shipped
 * - supplier_payables [credit]: what we owe suppliers
 * - supplier_claims_receivable [debit]: what suppliers owe us for cases they caused
 * - freight_expense, compensation_expense [debit]
 * - inventory_returns [debit]: returned goods kept by the merchant
 */
export const ACCOUNTS = LEDGER_ACCOUNTS;
export type Account = (typeof ACCOUNTS)[number];

export interface PostingInput {
  tenantId: string;
  /** Why the money moved: payment, refund_requested, refund_settled, supplier_cost, claim_opened, ... */
  code: string;
  currency: string;
  memo?: string;
  orderId?: string | null;
  caseId?: string | null;
  refundId?: string | null;
  supplierId?: string | null;
  claimId?: string | null;
  /** Makes the posting idempotent: a second post with the same key returns the first posting. */
  sourceKey?: string;
  at?: Date;
  entries: { account: Account; amount: number }[];
}

export class UnbalancedPostingError extends Error {}

/** Writes one balanced posting inside the caller's transaction; returns its id. */
export async function post(ex: Executor, p: PostingInput): Promise<string> {
  const entries = p.entries.filter((e) => e.amount !== 0);
  let sum = 0;
  for (const e of entries) {
    if (!Number.isSafeInteger(e.amount)) throw new UnbalancedPostingError(`amount ${e.amount} is not an integer of minor units`);
    sum += e.amount;
  }
  if (sum !== 0) throw new UnbalancedPostingError(`posting ${p.code} does not balance: ${sum}`);
  if (entries.length === 0) throw new UnbalancedPostingError(`posting ${p.code} moves no money`);
  const id = newId();
  const inserted = await ex
    .insertInto("ledger_postings")
    .values({
      id,
      tenant_id: p.tenantId,
      code: p.code,
      memo: p.memo ?? null,
      currency: p.currency,
      order_id: p.orderId ?? null,
      case_id: p.caseId ?? null,
      refund_id: p.refundId ?? null,
      supplier_id: p.supplierId ?? null,
      claim_id: p.claimId ?? null,
      source_key: p.sourceKey ?? null,
      ...(p.at && { at: p.at }),
    })
    .onConflict((oc) => oc.columns(["tenant_id", "source_key"]).doNothing())
    .returning("id")
    .executeTakeFirst();
  if (!inserted) {
    const existing = await ex
      .selectFrom("ledger_postings")
      .select("id")
      .where("tenant_id", "=", p.tenantId)
      .where("source_key", "=", p.sourceKey ?? "")
      .executeTakeFirstOrThrow();
    return existing.id;
  }
  await ex
    .insertInto("ledger_entries")
    .values(entries.map((e) => ({ id: newId(), tenant_id: p.tenantId, posting_id: id, account: e.account, amount: e.amount })))
    .execute();
  return id;
}

/** Sum per account for a tenant; a balanced ledger sums to zero over all accounts. */
export async function trialBalance(ex: Executor, tenantId: string) {
  const rows = await ex
    .selectFrom("ledger_entries")
    .select(["account", (e) => e.fn.sum<number>("amount").as("balance")])
    .where("tenant_id", "=", tenantId)
    .groupBy("account")
    .orderBy("account")
    .execute();
  const accounts = rows.map((r) => ({ account: r.account as Account, balance: Number(r.balance) }));
  const total = accounts.reduce((s, a) => s + a.balance, 0);
  return { balanced: total === 0, total, accounts };
}
