import type pg from "pg";
import { ORDER_TABLES, orderRows, type SkuMap } from "../orders/order.import.js";
import type { PreparedOrder } from "../orders/order.pricing.js";
import type { OrderInput } from "../orders/order.schemas.js";
import { type BulkColumn, copyRows } from "../platform/bulk.js";
import { newId } from "../platform/ids.js";

/**
 * The order import's writer on PostgreSQL: each batch is streamed with `COPY … FROM STDIN` into
 * staging tables of the import (temporary, on one connection held for the import; emptied at
 * every commit), then moved into the real tables with one `INSERT … SELECT` per table, in one
 * transaction per batch.
 *
 * When the database role may set `session_replication_role` (a superuser, or PostgreSQL 15's
 * `GRANT SET ON PARAMETER`), the batch's transaction runs with it at `replica`: the per-row
 * triggers — the foreign-key checks and the ledger's deferred balance check, ~70 % of the write —
 * do not fire, and the same integrity is checked once per batch instead (below, `checkBatch`):
 * the referenced tenant, shop, SKUs and customers exist and are locked `FOR KEY SHARE` as the
 * foreign-key triggers lock them, every line, discount, payment and posting names an order of the
 * batch, every entry a posting of the batch, and every posting balances. CHECK, NOT NULL and
 * unique constraints are not triggers and hold as always. Without that right the triggers run.
 */
export interface CopyWriter {
  /** Writes fresh orders (none of them in the database yet) in the caller's open transaction. */
  write(tenantId: string, currency: string, now: Date, source: string, items: PreparedOrder[], skus: SkuMap): Promise<void>;
  client: pg.PoolClient;
  /** Per-row triggers off for this batch's transaction, checks once per batch instead. */
  setBased: boolean;
  close(): Promise<void>;
}

const CUSTOMER_COLUMNS: readonly BulkColumn[] = [
  ["id", "uuid"],
  ["tenant_id", "uuid"],
  ["key", "text"],
  ["name", "text"],
  ["phone", "text"],
  ["email", "text"],
];

/** Whether this session may switch its triggers off for a transaction (cached per process). */
let mayReplicate: boolean | undefined;

export async function openCopyWriter(pool: pg.Pool, importId: string): Promise<CopyWriter> {
  const client = await pool.connect();
  const tag = `dd_import_${importId.replace(/-/g, "")}`;
  const staging = (table: string) => `pg_temp.${tag}_${table}`;
  const tables: [real: string, columns: readonly BulkColumn[]][] = [["customers", CUSTOMER_COLUMNS], ...Object.entries(ORDER_TABLES)];
  try {
    if (mayReplicate === undefined) {
      try {
        await client.query("SET session_replication_role = replica");
        await client.query("RESET session_replication_role");
        mayReplicate = true;
      } catch {
        mayReplicate = false;
      }
    }
    // Shaped like the copied columns only (no constraints, no indexes); the orders' staging
    // table also carries each order's customer key, resolved to the customer's id on insert.
    const ddl = tables.map(
      ([real, columns]) =>
        `CREATE TEMP TABLE ${staging(real)} ON COMMIT DELETE ROWS AS SELECT ${columns.map(([c]) => `"${c}"`).join(", ")} FROM ${real} WITH NO DATA;`,
    );
    await client.query(`${ddl.join("\n")}\nALTER TABLE ${staging("orders")} ADD COLUMN customer_key text;`);
  } catch (e) {
    client.release(e as Error);
    throw e;
  }
  const setBased = mayReplicate === true;
  return {
    client,
    setBased,
    async write(tenantId, currency, now, source, items, skus) {
      if (items.length === 0) return;
      if (setBased) await client.query("SET LOCAL session_replication_role = replica");
      const rows = orderRows(tenantId, currency, now, source, items, skus);
      const customers = [...rows.customers].map(([key, c]: [string, OrderInput["customer"]]) => ({
        id: newId(),
        tenant_id: tenantId,
        key,
        name: c.name ?? null,
        phone: c.phone ?? null,
        email: c.email ?? null,
      }));
      const ordersColumns: readonly BulkColumn[] = [...ORDER_TABLES.orders, ["customer_key", "text"]];
      rows.orders.forEach((o, i) => {
        o.customer_key = rows.orderCustomerKeys[i];
      });
      await copyRows(client, staging("customers"), CUSTOMER_COLUMNS, customers);
      await copyRows(client, staging("orders"), ordersColumns, rows.orders);
      await copyRows(client, staging("order_lines"), ORDER_TABLES.order_lines, rows.lines);
      await copyRows(client, staging("order_discounts"), ORDER_TABLES.order_discounts, rows.discounts);
      await copyRows(client, staging("payments"), ORDER_TABLES.payments, rows.payments);
      await copyRows(client, staging("ledger_postings"), ORDER_TABLES.ledger_postings, rows.postings);
      await copyRows(client, staging("ledger_entries"), ORDER_TABLES.ledger_entries, rows.entries);
      const cols = (columns: readonly BulkColumn[], prefix = "") => columns.map(([c]) => `${prefix}"${c}"`).join(", ");
      const orderCols = ORDER_TABLES.orders.filter(([c]) => c !== "customer_id");
      // Known customers are renamed when the order brings a new name; new ones are created (one
      // created meanwhile by a concurrent order is kept); each order then takes its customer's id.
      const moves = [
        `UPDATE customers c SET name = s.name FROM ${staging("customers")} s
          WHERE c.tenant_id = s.tenant_id AND c.key = s.key AND s.name <> '' AND s.name IS DISTINCT FROM c.name`,
        `INSERT INTO customers (${cols(CUSTOMER_COLUMNS)}) SELECT ${cols(CUSTOMER_COLUMNS)} FROM ${staging("customers")}
          ON CONFLICT (tenant_id, key) DO NOTHING`,
        `INSERT INTO orders (${cols(orderCols)}, customer_id)
          SELECT ${cols(orderCols, "o.")}, c.id FROM ${staging("orders")} o
          LEFT JOIN customers c ON c.tenant_id = o.tenant_id AND c.key = o.customer_key`,
        ...(["order_lines", "order_discounts", "payments", "ledger_postings", "ledger_entries"] as const).map(
          (t) => `INSERT INTO ${t} (${cols(ORDER_TABLES[t])}) SELECT ${cols(ORDER_TABLES[t])} FROM ${staging(t)}`,
        ),
      ];
      for (const q of moves) await client.query(q);
      await checkBatch(client, staging, tenantId, rows.orders[0].shop_id as string, setBased);
    },
    async close() {
      try {
        await client.query(tables.map(([real]) => `DROP TABLE IF EXISTS ${staging(real)};`).join("\n"));
        client.release();
      } catch (e) {
        client.release(e as Error);
      }
    },
  };
}

/** A failed check of the batch, with the SQLSTATE the trigger it stands for would raise. */
class BatchCheckError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly constraint?: string,
  ) {
    super(message);
  }
}

/**
 * The batch's integrity, once per batch. Always: every posting of the batch balances (as the
 * ledger's deferred trigger checks it at commit). With the per-row triggers off, also what the
 * foreign keys check, on the same rows they would lock.
 */
async function checkBatch(client: pg.PoolClient, staging: (t: string) => string, tenantId: string, shopId: string, setBased: boolean) {
  const unbalanced = await client.query<{ posting_id: string; s: string }>(
    `SELECT posting_id, sum(amount)::text AS s FROM ${staging("ledger_entries")} GROUP BY posting_id HAVING sum(amount) <> 0 LIMIT 1`,
  );
  if (unbalanced.rows.length) {
    const u = unbalanced.rows[0];
    throw new BatchCheckError(`ledger posting ${u.posting_id} does not balance (${u.s})`, "23514", "ledger_entries_balanced");
  }
  if (!setBased) return;
  const r = await client.query<Record<string, number>>(
    `WITH t AS (SELECT id FROM tenants WHERE id = $1 FOR KEY SHARE),
      sh AS (SELECT id FROM shops WHERE id = $2 FOR KEY SHARE),
      sk AS (SELECT id FROM skus WHERE id IN (SELECT sku_id FROM ${staging("order_lines")}) FOR KEY SHARE),
      cu AS (SELECT c.id FROM customers c JOIN ${staging("orders")} o ON c.tenant_id = o.tenant_id AND c.key = o.customer_key FOR KEY SHARE OF c)
    SELECT
      (SELECT count(*) FROM t)::int AS tenants,
      (SELECT count(*) FROM sh)::int AS shops,
      (SELECT count(*) FROM (SELECT DISTINCT tenant_id, shop_id FROM ${staging("orders")}) x WHERE tenant_id <> $1 OR shop_id <> $2)::int AS foreign_orders,
      (SELECT count(*) FROM sk)::int AS skus,
      (SELECT count(DISTINCT sku_id) FROM ${staging("order_lines")})::int AS skus_wanted,
      (SELECT count(*) FROM cu)::int AS customers,
      (SELECT count(*) FROM ${staging("orders")} WHERE customer_key IS NOT NULL)::int AS customers_wanted,
      (SELECT count(*) FROM (
        SELECT order_id, tenant_id FROM ${staging("order_lines")} UNION ALL SELECT order_id, tenant_id FROM ${staging("order_discounts")}
        UNION ALL SELECT order_id, tenant_id FROM ${staging("payments")} UNION ALL SELECT order_id, tenant_id FROM ${staging("ledger_postings")}
      ) d WHERE d.tenant_id <> $1 OR NOT EXISTS (SELECT 1 FROM ${staging("orders")} o WHERE o.id = d.order_id))::int AS orphans,
      (SELECT count(*) FROM ${staging("ledger_entries")} e
        WHERE e.tenant_id <> $1 OR NOT EXISTS (SELECT 1 FROM ${staging("ledger_postings")} p WHERE p.id = e.posting_id))::int AS orphan_entries`,
    [tenantId, shopId],
  );
  const c = r.rows[0];
  const fail = (what: string, constraint: string) => {
    throw new BatchCheckError(`insert violates a foreign key: ${what}`, "23503", constraint);
  };
  if (c.tenants !== 1) fail("no such tenant", "tenant_id");
  if (c.shops !== 1 || c.foreign_orders !== 0) fail("no such shop", "shop_id");
  if (c.skus !== c.skus_wanted) fail("a line's SKU does not exist", "sku_id");
  if (c.customers !== c.customers_wanted) fail("an order's customer does not exist", "customer_id");
  if (c.orphans !== 0) fail("a row names an order not in the batch", "order_id");
  if (c.orphan_entries !== 0) fail("a ledger entry names a posting not in the batch", "posting_id");
}
