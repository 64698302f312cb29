import type { OrderInput } from "../orders/order.schemas.js";

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
  return {
    line: first.line,
    errors,
    input: {
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
    },
  };
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
  return {
    line: first.line,
    errors,
    input: {
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
    },
  };
}

/** Which column names the order of a row in each format. */
export const ORDER_KEY = {
  shopify: (cells: Record<string, string>) => cells.Name ?? "",
  generic: (cells: Record<string, string>) => pick(cells, GENERIC_COLUMNS.orderNo) ?? "",
};
