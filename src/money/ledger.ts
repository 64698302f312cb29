import { sql } from "kysely";
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
  // The posting and its entries in one statement: the entries are inserted from what the posting's
  // insert returned, so a posting whose source key was already posted inserts neither.
  const posting = ex.insertInto("ledger_postings").values({
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
  });
  const written = await sql<{ posting_id: string }>`WITH p AS (${posting}
      ON CONFLICT (tenant_id, source_key) DO NOTHING RETURNING id)
    INSERT INTO ledger_entries (id, tenant_id, posting_id, account, amount)
    SELECT e.id, ${p.tenantId}, p.id, e.account, e.amount
    FROM p, unnest(${entries.map(() => newId())}::uuid[], ${entries.map((e) => e.account)}::text[], ${entries.map((e) => e.amount)}::bigint[])
      AS e(id, account, amount)
    RETURNING posting_id`.execute(ex);
  if (written.rows.length > 0) return id;
  const existing = await ex
    .selectFrom("ledger_postings")
    .select("id")
    .where("tenant_id", "=", p.tenantId)
    .where("source_key", "=", p.sourceKey ?? "")
    .executeTakeFirstOrThrow();
  return existing.id;
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
