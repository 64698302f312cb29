import type { z } from "zod";
import { OrderBody, type OrderInput } from "../orders/order.schemas.js";

/** A parsed CSV row with the 1-based line it started on. */
export interface Row {
  line: number;
  cells: Record<string, string>;
}
export interface RowError {
  line: number;
  field: string;
  message: string;
}

/** Decimal money text ("12.30", "¥1,299.00") to minor units; null when it is not money. */
export function toMinor(text: string | undefined): number | null {
  if (text === undefined) return null;
  const t = text.replace(/[¥$,\s]|CNY|USD/g, "");
  if (t === "") return null;
  if (!/^-?\d+(\.\d{1,2})?$/.test(t)) return null;
  const [whole, frac = ""] = t.split(".");
  const sign = whole.startsWith("-") ? -1 : 1;
  return sign * (Math.abs(Number(whole)) * 100 + Number(frac.padEnd(2, "0")));
}

/** The generic format's columns, by every header name it accepts (English or Chinese). */
export const GENERIC_COLUMNS: Record<string, string[]> = {
  orderNo: ["platform_order_no", "order_no", "订单号", "订单编号"],
  customerName: ["customer_name", "买家姓名", "收货人"],
  phone: ["phone", "手机", "手机号", "联系电话"],
  email: ["email", "邮箱"],
  province: ["province", "省", "省份"],
  city: ["city", "市", "城市"],
  district: ["district", "区", "区县"],
  address: ["address", "地址", "详细地址"],
  skuCode: ["sku_code", "sku", "商家编码", "SKU"],
  title: ["title", "商品名称"],
  quantity: ["quantity", "数量"],
  unitPrice: ["unit_price", "单价"],
  discount: ["discount", "优惠", "商品优惠"],
  orderDiscount: ["order_discount", "订单优惠"],
  shippingFee: ["shipping_fee", "运费"],
  paid: ["paid_amount", "实付", "实付金额"],
  paymentMethod: ["payment_method", "支付方式"],
  paidAt: ["paid_at", "付款时间", "支付时间"],
};

/** The generic format's field for a header, or undefined for a column it does not read. */
export function genericField(header: string): string | undefined {
  return GENERIC_FIELD.get(header);
}
const GENERIC_FIELD = new Map<string, string>();
for (const [k, names] of Object.entries(GENERIC_COLUMNS)) for (const n of names) if (!GENERIC_FIELD.has(n)) GENERIC_FIELD.set(n, k);

/** The Shopify export's columns the importer reads; the others are ignored. */
export const SHOPIFY_COLUMNS = [
  "Name",
  "Email",
  "Phone",
  "Financial Status",
  "Paid at",
  "Created at",
  "Shipping",
  "Total",
  "Discount Code",
  "Discount Amount",
  "Lineitem quantity",
  "Lineitem name",
  "Lineitem price",
  "Lineitem sku",
  "Lineitem discount",
  "Billing Name",
  "Shipping Name",
  "Shipping Phone",
  "Shipping Address1",
  "Shipping Address2",
  "Shipping City",
  "Shipping Province",
  "Shipping Zip",
  "Shipping Country",
  "Payment Method",
  "Payment Reference",
  "Id",
];

/**
 * Cells the database could not store or that were not decoded: a NUL byte, or U+FFFD where the
 * file's bytes were not valid in its encoding (GBK, or UTF-8). Only the columns the format reads
 * are checked; `fieldOf` names the field as the other errors do, undefined for an unread column.
 */
export function cellErrors(rows: Row[], fieldOf: (header: string) => string | undefined, encoding: string): RowError[] {
  const errors: RowError[] = [];
  for (const r of rows)
    for (const [header, v] of Object.entries(r.cells)) {
      const field = fieldOf(header);
      if (field === undefined || typeof v !== "string") continue;
      if (v.includes("\u0000")) errors.push({ line: r.line, field, message: "contains a NUL byte" });
      if (v.includes("\uFFFD"))
        errors.push({
          line: r.line,
          field,
          message: `bytes that are not valid ${encoding === "gbk" ? "GBK" : "UTF-8"} (shown as \uFFFD): not imported; fix the line or save the file as UTF-8, then import it again`,
        });
    }
  return errors;
}

/** Order fields that are money in minor units (shown to the user as decimal amounts). */
const MONEY_PATH = /(^|\.)(unitPrice|discount|giftPrice|shippingFee|amount|threshold)$/;

/**
 * Checks a built order against the API's schema (`OrderBody`), so a CSV has the API's limits, and
 * names each problem by the row and column it came from. `sources` maps an order field (`lines.*`
 * for a line's own row) to the columns it is read from, the first non-empty one being the source.
 */
function schemaErrors(
  input: OrderInput,
  rows: Row[],
  sources: Record<string, string[]>,
  cellOf: (r: Row, field: string) => string | undefined,
): RowError[] {
  const parsed = OrderBody.safeParse(input);
  if (parsed.success) return [];
  const found = new Map<string, { e: RowError; max: number }>();
  for (const issue of parsed.error.issues) {
    const path = issue.path.map(String);
    const listed = path.length > 1 && (path[0] === "lines" || path[0] === "discounts" || path[0] === "payments");
    const row = (path[0] === "lines" && listed ? rows[Number(path[1])] : undefined) ?? rows[0];
    const key = listed ? [path[0], "*", ...path.slice(2)].join(".") : path.join(".");
    const candidates = sources[key] ?? [];
    const field = candidates.find((c) => cellOf(row, c) !== undefined) ?? candidates[0] ?? path.join(".");
    const max = issue.code === "too_big" ? Number(issue.maximum) : Number.POSITIVE_INFINITY;
    // One message per cell; of two limits broken (safe integer, the schema's maximum) the tighter.
    const id = `${row.line}\u0000${field}`;
    const prior = found.get(id);
    if (prior && !(max < prior.max)) continue;
    found.set(id, { e: { line: row.line, field, message: describeIssue(issue, key, cellOf(row, field)) }, max });
  }
  return [...found.values()].map((x) => x.e);
}

function describeIssue(issue: z.core.$ZodIssue, key: string, raw: string | undefined): string {
  if (issue.code === "too_big") {
    const max = Number(issue.maximum);
    if (issue.origin === "string") return `longer than ${max} characters (${raw?.length ?? "?"})`;
    if (issue.origin === "array") return key === "lines" ? `more than ${max} lines in one order` : `more than ${max} entries`;
    return `too large: ${raw ?? ""} (at most ${MONEY_PATH.test(key) ? (max / 100).toFixed(2) : max})`;
  }
  if (issue.code === "invalid_format" && issue.format === "email") return `not an email address: ${raw ?? ""}`;
  return raw === undefined ? issue.message : `${issue.message}: ${raw}`;
}

/** Which generic fields each order field is read from (see `genericOrder`). */
const GENERIC_SOURCES: Record<string, string[]> = {
  platformOrderNo: ["orderNo"],
  "customer.name": ["customerName"],
  "customer.phone": ["phone"],
  "customer.email": ["email"],
  "address.name": ["customerName"],
  "address.phone": ["phone"],
  "address.province": ["province"],
  "address.city": ["city"],
  "address.district": ["district"],
  "address.line1": ["address"],
  "lines.*.skuCode": ["skuCode"],
  "lines.*.title": ["title"],
  "lines.*.quantity": ["quantity"],
  "lines.*.unitPrice": ["unitPrice"],
  "lines.*.discount": ["discount"],
  "discounts.*.amount": ["orderDiscount"],
  shippingFee: ["shippingFee"],
  "paid.amount": ["paid"],
  "paid.method": ["paymentMethod"],
  "paid.reference": ["orderNo"],
  "paid.paidAt": ["paidAt"],
};
const genericCell = (r: Row, field: string) => (GENERIC_COLUMNS[field] ? pick(r.cells, GENERIC_COLUMNS[field]) : undefined);

/** Which Shopify columns each order field is read from (see `shopifyOrder`). */
const SHOPIFY_SOURCES: Record<string, string[]> = {
  platformOrderNo: ["Name"],
  "customer.name": ["Billing Name", "Shipping Name"],
  "customer.phone": ["Phone", "Shipping Phone"],
  "customer.email": ["Email"],
  "address.name": ["Shipping Name"],
  "address.phone": ["Shipping Phone"],
  "address.line1": ["Shipping Address1"],
  "address.line2": ["Shipping Address2"],
  "address.city": ["Shipping City"],
  "address.province": ["Shipping Province"],
  "address.postalCode": ["Shipping Zip"],
  "address.country": ["Shipping Country"],
  "lines.*.skuCode": ["Lineitem sku"],
  "lines.*.title": ["Lineitem name"],
  "lines.*.quantity": ["Lineitem quantity"],
  "lines.*.unitPrice": ["Lineitem price"],
  "lines.*.discount": ["Lineitem discount"],
  "discounts.*.amount": ["Discount Amount"],
  "discounts.*.code": ["Discount Code"],
  shippingFee: ["Shipping"],
  "paid.amount": ["Total"],
  "paid.method": ["Payment Method"],
  "paid.reference": ["Payment Reference", "Id", "Name"],
  "paid.paidAt": ["Paid at", "Created at"],
  placedAt: ["Created at"],
};
const shopifyCell = (r: Row, col: string) => r.cells[col] || undefined;

export function pick(cells: Record<string, string>, names: string[]): string | undefined {
  for (const n of names) {
    const v = cells[n];
    if (v !== undefined && v !== "") return v.trim();
  }
  return undefined;
}

function parseTime(text: string | undefined): string | undefined {
  if (!text) return undefined;
  // "2026-03-01 10:00:00 +0800" (Shopify) or "2026-03-01 10:00:00" (Chinese exports, local time).
  const m = text.match(/^(\d{4})[-/](\d{1,2})[-/](\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{2}:?\d{2}|Z)?$/);
  if (!m) return undefined;
  const off = m[7] ? (m[7] === "Z" ? "Z" : `${m[7].slice(0, 3)}:${m[7].slice(-2)}`) : "+08:00";
  const p = (s: string) => s.padStart(2, "0");
  return `${m[1]}-${p(m[2])}-${p(m[3])}T${p(m[4])}:${m[5]}:${m[6] ?? "00"}${off}`;
}

export interface Grouped {
  line: number;
  input?: OrderInput;
  errors: RowError[];
}

/** Builds one order from its rows in the generic format (order fields from the first row). */
export function genericOrder(shopId: string, rows: Row[]): Grouped {
  const first = rows[0];
  const errors: RowError[] = [];
  const get = (r: Row, k: keyof typeof GENERIC_COLUMNS) => pick(r.cells, GENERIC_COLUMNS[k]);
  const money = (r: Row, k: keyof typeof GENERIC_COLUMNS, required: boolean) => {
    const raw = get(r, k);
    if (raw === undefined) {
      if (required) errors.push({ line: r.line, field: k, message: "required" });
      return 0;
    }
    const v = toMinor(raw);
    if (v === null || v < 0) {
      errors.push({ line: r.line, field: k, message: `not an amount: ${raw}` });
      return 0;
    }
    return v;
  };
  const orderNo = get(first, "orderNo") ?? "";
  const lines = rows.map((r) => {
    const q = Number(get(r, "quantity"));
    if (!Number.isInteger(q) || q <= 0)
      errors.push({ line: r.line, field: "quantity", message: `not a positive whole number: ${get(r, "quantity") ?? ""}` });
    const skuCode = get(r, "skuCode");
    if (!skuCode) errors.push({ line: r.line, field: "skuCode", message: "required" });
    return {
      skuCode: skuCode ?? "",
      title: get(r, "title"),
      quantity: q > 0 ? q : 1,
      unitPrice: money(r, "unitPrice", true),
      discount: money(r, "discount", false),
      isGift: false,
      giftPrice: 0,
      noReasonReturnWaived: false,
    };
  });
  const shippingFee = money(first, "shippingFee", false);
  const orderDiscount = money(first, "orderDiscount", false);
  const paid = money(first, "paid", true);
  const phone = get(first, "phone");
  const email = get(first, "email");
  if (!phone && !email) errors.push({ line: first.line, field: "phone", message: "a phone or an email is needed to reach the customer" });
  if (errors.length) return { line: first.line, errors };
  const input: OrderInput = {
    shopId,
    platformOrderNo: orderNo,
    customer: { name: get(first, "customerName"), phone, email },
    address: {
      name: get(first, "customerName"),
      phone,
      province: get(first, "province"),
      city: get(first, "city"),
      district: get(first, "district"),
      line1: get(first, "address"),
    },
    lines,
    discounts: orderDiscount > 0 ? [{ kind: "platform", amount: orderDiscount }] : [],
    shippingFee,
    paid: {
      amount: paid,
      method: get(first, "paymentMethod") ?? "platform",
      reference: orderNo,
      paidAt: parseTime(get(first, "paidAt")),
    },
  };
  const invalid = schemaErrors(input, rows, GENERIC_SOURCES, genericCell);
  return invalid.length ? { line: first.line, errors: invalid } : { line: first.line, errors, input };
}

/** Builds one order from Shopify's orders export: one row per line item, order fields on the first. */
export function shopifyOrder(shopId: string, rows: Row[]): Grouped {
  const first = rows[0];
  const c = first.cells;
  const errors: RowError[] = [];
  const amount = (r: Row, col: string, required = false) => {
    const raw = r.cells[col];
    if (raw === undefined || raw === "") {
      if (required) errors.push({ line: r.line, field: col, message: "required" });
      return 0;
    }
    const v = toMinor(raw);
    if (v === null || v < 0) {
      errors.push({ line: r.line, field: col, message: `not an amount: ${raw}` });
      return 0;
    }
    return v;
  };
  const lines = rows.map((r) => {
    const q = Number(r.cells["Lineitem quantity"]);
    if (!Number.isInteger(q) || q <= 0)
      errors.push({
        line: r.line,
        field: "Lineitem quantity",
        message: `not a positive whole number: ${r.cells["Lineitem quantity"] ?? ""}`,
      });
    const sku = r.cells["Lineitem sku"];
    if (!sku) errors.push({ line: r.line, field: "Lineitem sku", message: "required" });
    return {
      skuCode: sku ?? "",
      title: r.cells["Lineitem name"],
      quantity: q > 0 ? q : 1,
      unitPrice: amount(r, "Lineitem price", true),
      discount: amount(r, "Lineitem discount"),
      isGift: false,
      giftPrice: 0,
      noReasonReturnWaived: false,
    };
  });
  const shipping = amount(first, "Shipping");
  const discount = amount(first, "Discount Amount");
  const total = amount(first, "Total", true);
  if (!c.Email && !c.Phone && !c["Shipping Phone"])
    errors.push({ line: first.line, field: "Email", message: "an email or a phone is needed to reach the customer" });
  if (c["Financial Status"] && !["paid", "partially_refunded", "refunded"].includes(c["Financial Status"])) {
    errors.push({ line: first.line, field: "Financial Status", message: `only paid orders are imported (was ${c["Financial Status"]})` });
  }
  if (errors.length) return { line: first.line, errors };
  const input: OrderInput = {
    shopId,
    platformOrderNo: c.Name,
    customer: {
      name: c["Billing Name"] || c["Shipping Name"] || undefined,
      phone: c.Phone || c["Shipping Phone"] || undefined,
      email: c.Email || undefined,
    },
    address: {
      name: c["Shipping Name"] || undefined,
      phone: c["Shipping Phone"] || undefined,
      line1: c["Shipping Address1"] || undefined,
      line2: c["Shipping Address2"] || undefined,
      city: c["Shipping City"] || undefined,
      province: c["Shipping Province"] || undefined,
      postalCode: c["Shipping Zip"] || undefined,
      country: c["Shipping Country"] || undefined,
    },
    lines,
    discounts: discount > 0 ? [{ kind: "coupon", amount: discount, code: c["Discount Code"] || undefined }] : [],
    shippingFee: shipping,
    paid: {
      amount: total,
      method: c["Payment Method"] || "shopify",
      reference: c["Payment Reference"] || c.Id || c.Name,
      paidAt: parseTime(c["Paid at"]) ?? parseTime(c["Created at"]),
    },
    placedAt: parseTime(c["Created at"]),
  };
  const invalid = schemaErrors(input, rows, SHOPIFY_SOURCES, shopifyCell);
  return invalid.length ? { line: first.line, errors: invalid } : { line: first.line, errors, input };
}

/** Which column names the order of a row in each format. */
export const ORDER_KEY = {
  shopify: (cells: Record<string, string>) => cells.Name ?? "",
  generic: (cells: Record<string, string>) => pick(cells, GENERIC_COLUMNS.orderNo) ?? "",
};

const SHOPIFY_READ = new Set(SHOPIFY_COLUMNS);
/** The field a column is reported as in each format; undefined for a column the format ignores. */
export const FIELD_OF_HEADER = {
  shopify: (header: string) => (SHOPIFY_READ.has(header) ? header : undefined),
  generic: genericField,
};
