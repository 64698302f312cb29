import type pg from "pg";
import { customerKey, type PreparedOrder } from "../orders/order.pricing.js";
import { copyLine, copyStream } from "../platform/bulk.js";
import { newId } from "../platform/ids.js";

/**
 * The order import's writer on PostgreSQL. Each order is turned into the lines of `COPY`'s text
 * format as soon as it is read (so a batch holds a few strings per order, not its objects); each
 * batch of fresh orders is streamed with `COPY … FROM STDIN` into staging tables of the import
 * (temporary, on one connection held for the import, emptied at every commit), then moved into
 * the real tables with one `INSERT … SELECT` per table in one transaction: the SKUs (id, title,
 * category) and customers (created, renamed, their ids) are resolved there by joins, and the
 * tenant, shop, currency and source are the statement's parameters.
 *
 * When the database role may set `session_replication_role` (a superuser, or PostgreSQL 15's
 * `GRANT SET ON PARAMETER`), the batch's transaction runs with it at `replica`: the per-row
 * triggers — the foreign-key checks and the ledger's deferred balance check, most of the write —
 * do not fire, and the same integrity is checked once per batch instead (`checkBatch`): the
 * tenant, shop, SKUs and customers referred to exist and are locked `FOR KEY SHARE` as the
 * foreign-key triggers lock them, every line, discount, payment and posting names an order of the
 * batch and every entry a posting of the batch. Every posting's balance is checked per batch in
 * both modes. CHECK, NOT NULL and unique constraints are not triggers and hold as always.
 */
export interface CopyWriter {
  /** Writes fresh orders (none of them in the database yet) inside the client's open transaction. */
  write(tenantId: string, shopId: string, currency: string, source: string, items: EncodedOrder[]): Promise<void>;
  client: pg.PoolClient;
  /** A statement with parameters on the import's connection, planned at each run (see `unprepared`). */
  query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>>;
  /** Per-row triggers off in each batch's transaction, their checks once per batch instead. */
  setBased: boolean;
  close(): Promise<void>;
}

/** One order as the lines of each staging table (empty when it has none there). */
export interface EncodedOrder {
  orders: string;
  lines: string;
  discounts: string;
  payments: string;
  postings: string;
  entries: string;
}

/** Staging tables: their columns, as copied. */
const STAGING = {
  orders: [
    "id uuid",
    "seq int",
    "platform_order_no text",
    "customer_key text",
    "customer_id uuid",
    "customer_name text",
    "customer_phone text",
    "customer_email text",
    "customer jsonb",
    "address jsonb",
    "status text",
    "goods_total bigint",
    "line_discount_total bigint",
    "order_discount_total bigint",
    "shipping_fee bigint",
    "paid_total bigint",
    "content_hash text",
    "placed_at timestamptz",
    "paid_at timestamptz",
    "created_at timestamptz",
  ],
  lines: [
    "id uuid",
    "order_id uuid",
    "line_no int",
    "sku_code text",
    "title text",
    "quantity int",
    "unit_price bigint",
    "discount bigint",
    "order_discount_alloc bigint",
    "paid_amount bigint",
    "is_gift boolean",
    "gift_price bigint",
    "no_reason_return_waived boolean",
  ],
  discounts: ["id uuid", "order_id uuid", "kind text", "amount bigint", "threshold bigint", "code text"],
  payments: ["id uuid", "order_id uuid", "method text", "amount bigint", "reference text", "paid_at timestamptz"],
  postings: ["id uuid", "order_id uuid", "at timestamptz"],
  entries: ["id uuid", "posting_id uuid", "account text", "amount bigint"],
} as const;
type StagingTable = keyof typeof STAGING;
const names = (t: StagingTable) => STAGING[t].map((c) => c.split(" ")[0]);

/**
 * The staging lines of one order, as `insertOrders` would write it: `seq` orders the batch (the
 * first order of a customer gives the customer's details), `now` is when it was read.
 */
export function encodeOrder({ input, prepared, hash }: PreparedOrder, seq: number, now: Date): EncodedOrder {
  const id = newId();
  const pays = input.payments ?? (input.paid ? [input.paid] : []);
  const placedAt = input.placedAt ? new Date(input.placedAt) : now;
  const paidAt = pays.length ? new Date(pays[0].paidAt ?? placedAt) : null;
  const c = input.customer;
  const e: EncodedOrder = {
    orders: copyLine([
      id,
      seq,
      input.platformOrderNo,
      customerKey(c),
      newId(),
      c.name,
      c.phone,
      c.email,
      JSON.stringify(c),
      JSON.stringify(input.address),
      pays.length ? "paid" : "pending_payment",
      prepared.goodsTotal,
      prepared.lineDiscountTotal,
      prepared.orderDiscountTotal,
      input.shippingFee,
      prepared.paidTotal,
      hash,
      placedAt,
      paidAt,
      now,
    ]),
    lines: "",
    discounts: "",
    payments: "",
    postings: "",
    entries: "",
  };
  e.lines = prepared.lines
    .map((l) =>
      copyLine([
        newId(),
        id,
        l.lineNo,
        l.skuCode,
        l.title,
        l.quantity,
        l.unitPrice,
        l.discount,
        l.orderDiscountAlloc,
        l.paidAmount,
        l.isGift,
        l.giftPrice,
        l.noReasonReturnWaived,
      ]),
    )
    .join("");
  e.discounts = input.discounts.map((d) => copyLine([newId(), id, d.kind, d.amount, d.threshold, d.code])).join("");
  e.payments = pays.map((p) => copyLine([newId(), id, p.method, p.amount, p.reference, new Date(p.paidAt ?? placedAt)])).join("");
  if (pays.length && prepared.paidTotal > 0) {
    const postingId = newId();
    e.postings = copyLine([postingId, id, paidAt ?? now]);
    e.entries = [
      copyLine([newId(), postingId, "cash", prepared.paidTotal]),
      copyLine([newId(), postingId, "revenue", -prepared.paidTotal]),
    ].join("");
  }
  return e;
}

/**
 * Runs a statement unnamed (`{ text, values }`, which the pool's client passes on unprepared), so
 * PostgreSQL plans it at each run. The import's statements need that: those naming its staging
 * tables would each leave a prepared statement behind the tables, and a plan PostgreSQL caches
 * after a few batches is made for the tables as they were then (near-empty) and kept as the import
 * fills them (4× slower at 100k orders than planning each batch).
 */
const unprepared = <R extends pg.QueryResultRow>(client: pg.PoolClient, text: string, values: unknown[]) =>
  client.query<R>({ text, values });

/** Whether this process's sessions may switch their triggers off for a transaction. */
let mayReplicate: boolean | undefined;

export async function openCopyWriter(pool: pg.Pool, importId: string): Promise<CopyWriter> {
  const client = await pool.connect();
  const tag = `dd_import_${importId.replace(/-/g, "")}`;
  const staging = (t: StagingTable) => `pg_temp.${tag}_${t}`;
  const tables = Object.keys(STAGING) as StagingTable[];
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
    await client.query(tables.map((t) => `CREATE TEMP TABLE ${staging(t)} (${STAGING[t].join(", ")}) ON COMMIT DELETE ROWS;`).join("\n"));
  } catch (e) {
    client.release(e as Error);
    throw e;
  }
  const setBased = mayReplicate === true;
  const list = (t: StagingTable, prefix = "") => names(t).map((c) => `${prefix}${c}`);
  // Parameters: $1 the tenant, then those `more` names (shop, currency, source). Known customers are renamed when the batch's first
  // order of theirs brings a new name; new ones are created from it (one created meanwhile by a
  // concurrent order is kept); each order then takes its customer's id, each line its SKU's.
  const firstOfCustomer = `SELECT DISTINCT ON (customer_key) * FROM ${staging("orders")} WHERE customer_key IS NOT NULL ORDER BY customer_key, seq`;
  type Param = "shop" | "currency" | "source";
  const moves: [sql: string, more: Param[]][] = [
    [
      `UPDATE customers c SET name = s.customer_name FROM (${firstOfCustomer}) s
      WHERE c.tenant_id = $1 AND c.key = s.customer_key AND s.customer_name <> '' AND s.customer_name IS DISTINCT FROM c.name`,
      [],
    ],
    [
      `INSERT INTO customers (id, tenant_id, key, name, phone, email)
      SELECT customer_id, $1, customer_key, customer_name, customer_phone, customer_email FROM (${firstOfCustomer}) s
      ON CONFLICT (tenant_id, key) DO NOTHING`,
      [],
    ],
    [
      `INSERT INTO orders (id, tenant_id, shop_id, platform_order_no, customer_id, customer, address, status, currency, goods_total,
        line_discount_total, order_discount_total, shipping_fee, paid_total, content_hash, source, placed_at, paid_at, created_at, updated_at)
      SELECT o.id, $1, $2, o.platform_order_no, c.id, o.customer, o.address, o.status, $3, o.goods_total,
        o.line_discount_total, o.order_discount_total, o.shipping_fee, o.paid_total, o.content_hash, $4, o.placed_at, o.paid_at, o.created_at, o.created_at
      FROM ${staging("orders")} o LEFT JOIN customers c ON c.tenant_id = $1 AND c.key = o.customer_key`,
      ["shop", "currency", "source"],
    ],
    [
      `INSERT INTO order_lines (id, tenant_id, order_id, line_no, sku_id, sku_code, title, category, quantity, unit_price, discount,
        order_discount_alloc, paid_amount, is_gift, gift_price, no_reason_return_waived)
      SELECT l.id, $1, l.order_id, l.line_no, s.id, l.sku_code, coalesce(l.title, nullif(s.title, ''), p.title, l.sku_code),
        coalesce(p.category, 'general'), l.quantity, l.unit_price, l.discount, l.order_discount_alloc, l.paid_amount, l.is_gift,
        l.gift_price, l.no_reason_return_waived
      FROM ${staging("lines")} l LEFT JOIN skus s ON s.tenant_id = $1 AND s.sku_code = l.sku_code LEFT JOIN products p ON p.id = s.product_id`,
      [],
    ],
    [
      `INSERT INTO order_discounts (id, tenant_id, ${list("discounts").slice(1).join(", ")})
      SELECT id, $1, ${list("discounts").slice(1).join(", ")} FROM ${staging("discounts")}`,
      [],
    ],
    [
      `INSERT INTO payments (id, tenant_id, ${list("payments").slice(1).join(", ")})
      SELECT id, $1, ${list("payments").slice(1).join(", ")} FROM ${staging("payments")}`,
      [],
    ],
    [
      `INSERT INTO ledger_postings (id, tenant_id, code, memo, currency, order_id, source_key, at)
      SELECT id, $1, 'payment', 'customer payment', $2, order_id, 'payment:' || order_id, at FROM ${staging("postings")}`,
      ["currency"],
    ],
    [
      `INSERT INTO ledger_entries (id, tenant_id, posting_id, account, amount) SELECT id, $1, posting_id, account, amount FROM ${staging("entries")}`,
      [],
    ],
  ];
  return {
    client,
    query: (text, values) => unprepared(client, text, values),
    setBased,
    async write(tenantId, shopId, currency, source, items) {
      if (items.length === 0) return;
      if (setBased) await client.query("SET LOCAL session_replication_role = replica");
      const parts: Record<StagingTable, string[]> = { orders: [], lines: [], discounts: [], payments: [], postings: [], entries: [] };
      for (const it of items) for (const t of tables) if (it[t]) parts[t].push(it[t]);
      for (const t of tables)
        if (parts[t].length) await copyStream(client, `COPY ${staging(t)} (${names(t).join(", ")}) FROM STDIN`, parts[t]);
      const params = { shop: shopId, currency, source };
      for (const [text, more] of moves) await unprepared(client, text, [tenantId, ...more.map((k) => params[k])]);
      await checkBatch(client, staging, tenantId, shopId, setBased);
    },
    async close() {
      try {
        await client.query(tables.map((t) => `DROP TABLE IF EXISTS ${staging(t)};`).join("\n"));
        client.release();
      } catch (e) {
        client.release(e as Error);
      }
    },
  };
}

/** A failed check of the batch, with the SQLSTATE of the trigger or constraint it stands for. */
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
 * The batch's integrity, once per batch. Always: every posting of the batch balances (what the
 * ledger's deferred trigger checks at commit). With the per-row triggers off, also what the
 * foreign keys check, locking the rows they would lock.
 */
async function checkBatch(
  client: pg.PoolClient,
  staging: (t: StagingTable) => string,
  tenantId: string,
  shopId: string,
  setBased: boolean,
) {
  const unbalanced = await client.query<{ posting_id: string; s: string }>(
    `SELECT posting_id, sum(amount)::text AS s FROM ${staging("entries")} GROUP BY posting_id HAVING sum(amount) <> 0 LIMIT 1`,
  );
  if (unbalanced.rows.length) {
    const u = unbalanced.rows[0];
    throw new BatchCheckError(`ledger posting ${u.posting_id} does not balance (${u.s})`, "23514", "ledger_entries_balanced");
  }
  if (!setBased) return;
  const r = await unprepared<Record<string, number>>(
    client,
    `WITH t AS (SELECT id FROM tenants WHERE id = $1 FOR KEY SHARE),
      sh AS (SELECT id FROM shops WHERE id = $2 FOR KEY SHARE),
      sk AS (SELECT s.id FROM skus s WHERE s.tenant_id = $1 AND s.sku_code IN (SELECT sku_code FROM ${staging("lines")}) FOR KEY SHARE),
      cu AS (SELECT c.id FROM customers c JOIN ${staging("orders")} o ON c.tenant_id = $1 AND c.key = o.customer_key FOR KEY SHARE OF c)
    SELECT
      (SELECT count(*) FROM t)::int AS tenants,
      (SELECT count(*) FROM sh)::int AS shops,
      (SELECT count(*) FROM sk)::int AS skus,
      (SELECT count(*) FROM cu)::int AS customers,
      (SELECT count(*) FROM ${staging("orders")} WHERE customer_key IS NOT NULL)::int AS customers_wanted,
      (SELECT count(*) FROM (
        SELECT order_id FROM ${staging("lines")} UNION ALL SELECT order_id FROM ${staging("discounts")}
        UNION ALL SELECT order_id FROM ${staging("payments")} UNION ALL SELECT order_id FROM ${staging("postings")}
      ) d WHERE NOT EXISTS (SELECT 1 FROM ${staging("orders")} o WHERE o.id = d.order_id))::int AS orphans,
      (SELECT count(*) FROM ${staging("entries")} e
        WHERE NOT EXISTS (SELECT 1 FROM ${staging("postings")} p WHERE p.id = e.posting_id))::int AS orphan_entries`,
    [tenantId, shopId],
  );
  const c = r.rows[0];
  const fail = (what: string, constraint: string) => {
    throw new BatchCheckError(`insert violates a foreign key: ${what}`, "23503", constraint);
  };
  if (c.tenants !== 1) fail("no such tenant", "tenant_id");
  if (c.shops !== 1) fail("no such shop", "shop_id");
  if (c.customers !== c.customers_wanted) fail("an order's customer does not exist", "customer_id");
  if (c.orphans !== 0) fail("a row names an order not in the batch", "order_id");
  if (c.orphan_entries !== 0) fail("a ledger entry names a posting not in the batch", "posting_id");
}
