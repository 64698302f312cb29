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
 * Locks the given rows `FOR UPDATE` in the fixed order, one statement per kind, and returns the
 * ids it locked per kind (rows that do not exist are simply absent). Read the rows after locking:
 * a value read before the lock may have changed while waiting for it.
 */
export async function lockRows(tx: Tx, set: LockSet): Promise<Record<LockKind, string[]>> {
  const locked = {} as Record<LockKind, string[]>;
  for (const [kind, table] of LOCK_ORDER) {
    const ids = [...new Set((set[kind] ?? []).filter((id): id is string => typeof id === "string"))].sort();
    locked[kind] = [];
    if (ids.length === 0) continue;
    const rows = await sql<{
      id: string;
    }>`SELECT id FROM ${sql.table(table)} WHERE id = ANY(${ids}::uuid[]) ORDER BY id FOR UPDATE`.execute(tx);
    locked[kind] = rows.rows.map((r) => String(r.id));
  }
  return locked;
}
