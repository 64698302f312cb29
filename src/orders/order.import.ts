import { type BulkColumn, insertMany } from "../platform/bulk.js";
import type { Actor } from "../platform/context.js";
import type { Executor, Tx } from "../platform/db.js";
import { newId } from "../platform/ids.js";
import { customerKey, type PreparedOrder, type prepareOrder } from "./order.pricing.js";
import type { OrderInput } from "./order.schemas.js";

// Writing orders in bulk: one multi-row statement per table, for one order from the API or a batch
// from an import or a store connector.

export type SkuMap = Map<string, { id: string; category: string; title: string }>;

/** The tenant's SKUs with these codes, with their category and title (the SKU's, else its product's). */
export async function skuMap(ex: Executor, tenantId: string, codes: readonly string[]): Promise<SkuMap> {
  if (codes.length === 0) return new Map();
  const rows = await ex
    .selectFrom("skus as s")
    .innerJoin("products as p", "p.id", "s.product_id")
    .select(["s.id", "s.sku_code", "p.category", "s.title", "p.title as product_title"])
    .where("s.tenant_id", "=", tenantId)
    .where("s.sku_code", "in", [...codes])
    .execute();
  return new Map(rows.map((s) => [s.sku_code, { id: s.id, category: s.category, title: s.title || s.product_title }]));
}

/** Writes one order, its lines, discounts, payments and payment posting inside `tx`. */
export async function insertOrder(
  tx: Tx,
  actor: Actor,
  input: OrderInput,
  prepared: ReturnType<typeof prepareOrder>,
  hash: string,
  currency: string,
  now: Date,
  source: string,
  skus?: SkuMap,
): Promise<string> {
  const map = skus ?? (await skuMap(tx, actor.tenantId, [...new Set(input.lines.map((l) => l.skuCode))]));
  const [id] = await insertOrders(tx, actor.tenantId, currency, now, source, [{ input, prepared, hash }], map);
  return id;
}

const ORDER_COLUMNS: readonly BulkColumn[] = [
  ["id", "uuid"],
  ["tenant_id", "uuid"],
  ["shop_id", "uuid"],
  ["platform_order_no", "text"],
  ["customer_id", "uuid"],
  ["customer", "jsonb"],
  ["address", "jsonb"],
  ["status", "text"],
  ["currency", "text"],
  ["goods_total", "bigint"],
  ["line_discount_total", "bigint"],
  ["order_discount_total", "bigint"],
  ["shipping_fee", "bigint"],
  ["paid_total", "bigint"],
  ["content_hash", "text"],
  ["source", "text"],
  ["placed_at", "timestamptz"],
  ["paid_at", "timestamptz"],
  ["created_at", "timestamptz"],
  ["updated_at", "timestamptz"],
];
const LINE_COLUMNS: readonly BulkColumn[] = [
  ["id", "uuid"],
  ["tenant_id", "uuid"],
  ["order_id", "uuid"],
  ["line_no", "int"],
  ["sku_id", "uuid"],
  ["sku_code", "text"],
  ["title", "text"],
  ["category", "text"],
  ["quantity", "int"],
  ["unit_price", "bigint"],
  ["discount", "bigint"],
  ["order_discount_alloc", "bigint"],
  ["paid_amount", "bigint"],
  ["is_gift", "boolean"],
  ["gift_price", "bigint"],
  ["no_reason_return_waived", "boolean"],
];
const DISCOUNT_COLUMNS: readonly BulkColumn[] = [
  ["id", "uuid"],
  ["tenant_id", "uuid"],
  ["order_id", "uuid"],
  ["kind", "text"],
  ["amount", "bigint"],
  ["threshold", "bigint"],
  ["code", "text"],
];
const PAYMENT_COLUMNS: readonly BulkColumn[] = [
  ["id", "uuid"],
  ["tenant_id", "uuid"],
  ["order_id", "uuid"],
  ["method", "text"],
  ["amount", "bigint"],
  ["reference", "text"],
  ["paid_at", "timestamptz"],
];
const POSTING_COLUMNS: readonly BulkColumn[] = [
  ["id", "uuid"],
  ["tenant_id", "uuid"],
  ["code", "text"],
  ["memo", "text"],
  ["currency", "text"],
  ["order_id", "uuid"],
  ["source_key", "text"],
  ["at", "timestamptz"],
];
const ENTRY_COLUMNS: readonly BulkColumn[] = [
  ["id", "uuid"],
  ["tenant_id", "uuid"],
  ["posting_id", "uuid"],
  ["account", "text"],
  ["amount", "bigint"],
];

/**
 * The ids of the orders' customers, creating the new ones. Known customers are only read (and
 * renamed when the order brings a new name), so that a repeat customer's concurrent orders do
 * not queue on a write lock of the customer row.
 */
async function upsertCustomers(tx: Tx, tenantId: string, customers: Map<string, OrderInput["customer"]>) {
  const ids = new Map<string, string>();
  if (customers.size === 0) return ids;
  const keys = [...customers.keys()];
  const known = await tx
    .selectFrom("customers")
    .select(["id", "key", "name"])
    .where("tenant_id", "=", tenantId)
    .where("key", "in", keys)
    .execute();
  for (const r of known) {
    ids.set(r.key as string, r.id as string);
    const name = customers.get(r.key as string)?.name;
    if (name && name !== r.name) await tx.updateTable("customers").set({ name }).where("id", "=", r.id).execute();
  }
  const missing = keys.filter((k) => !ids.has(k));
  if (missing.length) {
    const made = await tx
      .insertInto("customers")
      .values(
        missing.map((key) => {
          const c = customers.get(key) as OrderInput["customer"];
          return { id: newId(), tenant_id: tenantId, key, name: c.name ?? null, phone: c.phone ?? null, email: c.email ?? null };
        }),
      )
      .onConflict((oc) => oc.columns(["tenant_id", "key"]).doNothing())
      .returning(["id", "key"])
      .execute();
    for (const r of made) ids.set(r.key as string, r.id as string);
    // Created meanwhile by a concurrent order: read them.
    const raced = missing.filter((k) => !ids.has(k));
    if (raced.length) {
      const rows = await tx
        .selectFrom("customers")
        .select(["id", "key"])
        .where("tenant_id", "=", tenantId)
        .where("key", "in", raced)
        .execute();
      for (const r of rows) ids.set(r.key as string, r.id as string);
    }
  }
  return ids;
}

/** The rows of a batch of new orders, one list per table; `orderCustomerKeys[i]` is `orders[i]`'s customer key. */
export interface OrderRows {
  customers: Map<string, OrderInput["customer"]>;
  orders: Record<string, unknown>[];
  orderCustomerKeys: (string | null)[];
  lines: Record<string, unknown>[];
  discounts: Record<string, unknown>[];
  payments: Record<string, unknown>[];
  postings: Record<string, unknown>[];
  entries: Record<string, unknown>[];
}

/**
 * Builds the rows of new orders — customers (by key, the first order's details), orders, lines,
 * discounts, payments and each paid order's balanced payment posting — without writing them.
 * Orders get `customer_id: null`; the writer fills it from `orderCustomerKeys`.
 */
export function orderRows(tenantId: string, currency: string, now: Date, source: string, items: PreparedOrder[], skus: SkuMap): OrderRows {
  const r: OrderRows = {
    customers: new Map(),
    orders: [],
    orderCustomerKeys: [],
    lines: [],
    discounts: [],
    payments: [],
    postings: [],
    entries: [],
  };
  for (const { input, prepared, hash } of items) {
    const id = newId();
    const pays = input.payments ?? (input.paid ? [input.paid] : []);
    const placedAt = input.placedAt ? new Date(input.placedAt) : now;
    const paidAt = pays.length ? new Date(pays[0].paidAt ?? placedAt) : null;
    const k = customerKey(input.customer);
    if (k && !r.customers.has(k)) r.customers.set(k, input.customer);
    r.orderCustomerKeys.push(k);
    r.orders.push({
      id,
      tenant_id: tenantId,
      shop_id: input.shopId,
      platform_order_no: input.platformOrderNo,
      customer_id: null,
      customer: JSON.stringify(input.customer),
      address: JSON.stringify(input.address),
      status: pays.length ? "paid" : "pending_payment",
      currency,
      goods_total: prepared.goodsTotal,
      line_discount_total: prepared.lineDiscountTotal,
      order_discount_total: prepared.orderDiscountTotal,
      shipping_fee: input.shippingFee,
      paid_total: prepared.paidTotal,
      content_hash: hash,
      source,
      placed_at: placedAt,
      paid_at: paidAt,
      created_at: now,
      updated_at: now,
    });
    for (const l of prepared.lines) {
      const sku = skus.get(l.skuCode);
      r.lines.push({
        id: newId(),
        tenant_id: tenantId,
        order_id: id,
        line_no: l.lineNo,
        sku_id: sku?.id ?? null,
        sku_code: l.skuCode,
        title: l.title ?? sku?.title ?? l.skuCode,
        category: sku?.category ?? "general",
        quantity: l.quantity,
        unit_price: l.unitPrice,
        discount: l.discount,
        order_discount_alloc: l.orderDiscountAlloc,
        paid_amount: l.paidAmount,
        is_gift: l.isGift,
        gift_price: l.giftPrice,
        no_reason_return_waived: l.noReasonReturnWaived,
      });
    }
    for (const d of input.discounts)
      r.discounts.push({
        id: newId(),
        tenant_id: tenantId,
        order_id: id,
        kind: d.kind,
        amount: d.amount,
        threshold: d.threshold ?? null,
        code: d.code ?? null,
      });
    for (const p of pays)
      r.payments.push({
        id: newId(),
        tenant_id: tenantId,
        order_id: id,
        method: p.method,
        amount: p.amount,
        reference: p.reference ?? null,
        paid_at: new Date(p.paidAt ?? placedAt),
      });
    if (pays.length && prepared.paidTotal > 0) {
      const postingId = newId();
      r.postings.push({
        id: postingId,
        tenant_id: tenantId,
        code: "payment",
        memo: "customer payment",
        currency,
        order_id: id,
        source_key: `payment:${id}`,
        at: paidAt ?? now,
      });
      r.entries.push({ id: newId(), tenant_id: tenantId, posting_id: postingId, account: "cash", amount: prepared.paidTotal });
      r.entries.push({ id: newId(), tenant_id: tenantId, posting_id: postingId, account: "revenue", amount: -prepared.paidTotal });
    }
  }
  return r;
}

/**
 * Writes new orders with one multi-row statement per table — customers, orders, lines, discounts,
 * payments and their payment postings — whether one order from the API or a batch from an import.
 */
export async function insertOrders(
  tx: Tx,
  tenantId: string,
  currency: string,
  now: Date,
  source: string,
  items: PreparedOrder[],
  skus: SkuMap,
): Promise<string[]> {
  if (items.length === 0) return [];
  const rows = orderRows(tenantId, currency, now, source, items, skus);
  const customerIds = await upsertCustomers(tx, tenantId, rows.customers);
  rows.orders.forEach((o, i) => {
    const k = rows.orderCustomerKeys[i];
    o.customer_id = k ? (customerIds.get(k) ?? null) : null;
  });
  await insertMany(tx, "orders", ORDER_COLUMNS, rows.orders);
  await insertMany(tx, "order_lines", LINE_COLUMNS, rows.lines);
  await insertMany(tx, "order_discounts", DISCOUNT_COLUMNS, rows.discounts);
  await insertMany(tx, "payments", PAYMENT_COLUMNS, rows.payments);
  if (rows.postings.length) {
    await insertMany(tx, "ledger_postings", POSTING_COLUMNS, rows.postings);
    await insertMany(tx, "ledger_entries", ENTRY_COLUMNS, rows.entries);
  }
  return rows.orders.map((o) => o.id as string);
}
