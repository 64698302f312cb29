import type { Tx } from "./db.js";

/**
 * Facts a transaction reads once and reuses for its other statements, kept with the transaction
 * object (and gone with it). A statement sent anyway may read such a fact beside its own work and
 * leave it here, saving the round trip the fact's owner would otherwise make.
 */
const memo = new WeakMap<Tx, Map<string, unknown>>();

export function txMemo<T>(tx: Tx, key: string): T | undefined {
  return memo.get(tx)?.get(key) as T | undefined;
}

export function setTxMemo(tx: Tx, key: string, value: unknown): void {
  const facts = memo.get(tx) ?? new Map<string, unknown>();
  facts.set(key, value);
  memo.set(tx, facts);
}

/**
 * The event patterns of a tenant's active webhooks (one array per webhook), as
 * `eventWanted` (src/automation/delivery.ts) needs them to decide whether an event gets a job.
 */
export const activeWebhooksKey = (tenantId: string) => `active-webhooks:${tenantId}`;

/**
 * A row this transaction has locked, as it stands after the transaction's last change to it: a
 * later step of the same transaction (an event's handler) may use it instead of reading it again.
 */
export const lockedRowKey = (table: string, id: string) => `locked:${table}:${id}`;
