import { type RawBuilder, type Selectable, sql } from "kysely";
import type { Database, Tx } from "./db.js";
import { precompiled } from "./precompiled.js";
import { setTxMemo } from "./tx-memo.js";

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

/**
 * A fact the rest of an action's transaction will ask for (its events' handlers, mostly), read by
 * `lockWithOrder` in its one statement and left in the transaction's memo (src/platform/tx-memo.ts)
 * under `key`, so the handler finds it there instead of sending its own statement. Slices register
 * theirs when their module loads; a handler that finds no fact in the memo reads it as before.
 */
export interface LockFact {
  key(tenantId: string, orderId: string): string;
  /** A scalar subquery; `order` is the locked order's id. */
  select(tenantId: string, order: RawBuilder<string>): RawBuilder<unknown>;
  parse?(value: unknown): unknown;
}
const lockFacts: LockFact[] = [];
export function readWithLock(fact: LockFact): void {
  lockFacts.push(fact);
}

/** What a locked case or supplier order comes with of its order (locked with it). */
export type WithOrder = { order_currency: string; order_cancelled_at: Date | null; order_shop_id: string };
type LockedRow<K extends "cases" | "supplierOrders"> = Selectable<K extends "cases" ? Database["cases"] : Database["supplier_orders"]> &
  WithOrder;

/**
 * The statement of `lockWithOrder`, made once per kind of row, scope and number of registered facts
 * (the variant): the row is looked up by id within the scope. The second lock reads the first (a
 * one-time filter, evaluated before the row is scanned), so the order is locked before its case or
 * supplier order.
 */
const lockRowWithOrder = precompiled((db, p: { tenantId: string; id: string; orderId: string; supplierId: string }, variant) => {
  const table = sql.table(variant.startsWith("cases") ? "cases" : "supplier_orders");
  const conds = [sql`tenant_id = ${p.tenantId}`, sql`id = ${p.id}`];
  if (variant.includes("+order")) conds.push(sql`order_id = ${p.orderId}`);
  if (variant.includes("+supplier")) conds.push(sql`supplier_id = ${p.supplierId}`);
  const where = sql.join(conds, sql` AND `);
  return sql<Record<string, unknown>>`WITH
    l0 AS (SELECT id, currency, cancelled_at, shop_id FROM orders
           WHERE id = (SELECT order_id FROM ${table} WHERE ${where}) FOR NO KEY UPDATE),
    l1 AS (SELECT * FROM ${table} WHERE ${where} AND EXISTS (SELECT 1 FROM l0) FOR NO KEY UPDATE)
    SELECT l1.*, l0.currency AS order_currency, l0.cancelled_at AS order_cancelled_at, l0.shop_id AS order_shop_id
      ${sql.join(
        lockFacts.map((f, i) => sql`, (${f.select(p.tenantId, sql.ref("l0.id"))}) AS ${sql.id(`fact_${i}`)}`),
        sql``,
      )}
    FROM l1 JOIN l0 ON l0.id = l1.order_id`.compile(db);
});

/**
 * Locks a case or a supplier order together with its order, in LOCK_ORDER (the order first), in
 * one statement that also finds the order and reads both: the row is looked up by id within
 * `scope` (the tenant, and for a customer or a supplier what they may see). Returns the locked
 * row (its latest committed version, as a read after the lock would give) with its order's
 * currency, cancellation and shop, or undefined when no such row is visible (nothing is then
 * locked). The same statement reads the registered facts (`readWithLock`) for the transaction.
 */
export async function lockWithOrder<K extends "cases" | "supplierOrders">(
  tx: Tx,
  kind: K,
  id: string,
  scope: { tenantId: string; orderId?: string; supplierId?: string },
): Promise<LockedRow<K> | undefined> {
  const variant = `${kind}${scope.orderId === undefined ? "" : "+order"}${scope.supplierId === undefined ? "" : "+supplier"}:${lockFacts.length}`;
  const rows = await lockRowWithOrder(
    tx,
    { tenantId: scope.tenantId, id, orderId: scope.orderId ?? "", supplierId: scope.supplierId ?? "" },
    variant,
  );
  const row = rows[0] as (LockedRow<K> & Record<string, unknown>) | undefined;
  if (!row) return undefined;
  lockFacts.forEach((f, i) => {
    const value = row[`fact_${i}`];
    setTxMemo(tx, f.key(scope.tenantId, String(row.order_id)), f.parse ? f.parse(value) : value);
    delete row[`fact_${i}`];
  });
  return row;
}
