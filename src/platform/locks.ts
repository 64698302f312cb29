import { sql } from "kysely";
import type { Tx } from "./db.js";

/**
 * The one order in which Dropdesk locks rows: order → supplier orders → case → refund, then
 * statement → claims; rows of one kind by id. Two transactions that lock in the same order can
 * wait for each other but never deadlock, so every path that locks more than one row goes through
 * `lockRows` (or locks in this order by hand, with a comment saying so).
 */
export const LOCK_ORDER = [
  ["orders", "orders"],
  ["supplierOrders", "supplier_orders"],
  ["cases", "cases"],
  ["refunds", "refunds"],
  ["statements", "supplier_statements"],
  ["claims", "supplier_claims"],
] as const;

export type LockKind = (typeof LOCK_ORDER)[number][0];
export type LockSet = Partial<Record<LockKind, readonly (string | null | undefined)[]>>;

/**
 * Locks the given rows in the fixed order and returns the ids it locked per kind (rows
 * that do not exist are simply absent). Read the rows after locking: a value read before the lock
 * may have changed while waiting for it.
 *
 * One statement whatever the number of kinds: each kind is a locking CTE (materialised, so each
 * locks its rows by id) and the `UNION ALL` reads them one after the other in LOCK_ORDER, so the
 * rows are locked in the same order as one statement per kind would, in one round trip.
 *
 * The lock is `FOR NO KEY UPDATE`, what an UPDATE of the row takes itself: two actions on the same
 * row still wait for each other, but an insert elsewhere that only references the row (its foreign
 * key check takes `FOR KEY SHARE`: a notification, a timeline event, a claim) no longer waits for the
 * action, nor the action for it. With `FOR UPDATE` such an insert, checking its case before its
 * order, deadlocked against an action that held the order and wanted the case. No path deletes
 * these rows or changes their ids, which would need `FOR UPDATE`.
 */
export async function lockRows(tx: Tx, set: LockSet): Promise<Record<LockKind, string[]>> {
  const locked = {} as Record<LockKind, string[]>;
  const parts: { kind: LockKind; table: string; ids: string[] }[] = [];
  for (const [kind, table] of LOCK_ORDER) {
    locked[kind] = [];
    const ids = [...new Set((set[kind] ?? []).filter((id): id is string => typeof id === "string"))].sort();
    if (ids.length > 0) parts.push({ kind, table, ids });
  }
  if (parts.length === 0) return locked;
  const ctes = parts.map(
    (p, i) =>
      sql`${sql.id(`l${i}`)} AS (SELECT id FROM ${sql.table(p.table)} WHERE id = ANY(${p.ids}::uuid[]) ORDER BY id FOR NO KEY UPDATE)`,
  );
  const reads = parts.map((p, i) => sql`SELECT ${sql.lit(p.kind)}::text AS kind, id FROM ${sql.id(`l${i}`)}`);
  const rows = await sql<{ kind: LockKind; id: string }>`WITH ${sql.join(ctes)} ${sql.join(reads, sql` UNION ALL `)}`.execute(tx);
  for (const r of rows.rows) locked[r.kind].push(String(r.id));
  return locked;
}
