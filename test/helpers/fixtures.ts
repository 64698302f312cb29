import type { TestApp } from "./harness.js";

export interface Catalog {
  shopId: string;
  suppliers: { a: string; b: string };
  skus: Record<string, { id: string; code: string; price: number }>;
  offers: Record<string, string>;
}

async function ok(res: Promise<{ status: number; body: any; text: string }>, what: string) {
  const r = await res;
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.text}`);
  return r.body;
}

/**
 * A shop with two suppliers and a small catalog through the real API:
 * MUG (¥39, category home) offered by A (priority 1, cost ¥15) and B (priority 0, cost ¥12);
 * TEE (¥99, apparel) by A only; MASK (¥59, hygiene_sealed) and CAKE (¥129, perishable) by B.
 */
export async function setupCatalog(t: TestApp, opts: { timezone?: string; stock?: number } = {}): Promise<Catalog> {
  const shop = await ok(
    t.api("POST", "/api/v1/shops", { body: { name: "Test shop", platform: "taobao", timezone: opts.timezone ?? "Asia/Shanghai" } }),
    "shop",
  );
  const addr = { name: "退货仓", phone: "13800000000", province: "浙江", city: "义乌", line1: "福田路 1 号" };
  const a = await ok(
    t.api("POST", "/api/v1/suppliers", { body: { name: "Supplier A", email: "a@supplier.test", returnAddress: addr } }),
    "supplier a",
  );
  const b = await ok(
    t.api("POST", "/api/v1/suppliers", {
      body: { name: "Supplier B", email: "b@supplier.test", returnAddress: addr, terms: { acceptsReturns: false } },
    }),
    "supplier b",
  );
  const skus: Catalog["skus"] = {};
  const offers: Record<string, string> = {};
  const products = [
    { title: "Ceramic mug", category: "home", code: "MUG", price: 3900 },
    { title: "Cotton tee", category: "apparel", code: "TEE", price: 9900 },
    { title: "Face mask", category: "hygiene_sealed", code: "MASK", price: 5900 },
    { title: "Birthday cake", category: "perishable", code: "CAKE", price: 12900 },
  ];
  for (const p of products) {
    const prod = await ok(
      t.api("POST", "/api/v1/products", {
        body: { title: p.title, category: p.category, skus: [{ skuCode: p.code, title: p.title, price: p.price }] },
      }),
      p.code,
    );
    skus[p.code] = { id: prod.skus[0].id, code: p.code, price: p.price };
  }
  const stock = opts.stock ?? 1000;
  const offer = async (key: string, supplierId: string, sku: string, cost: number, priority: number) => {
    const o = await ok(
      t.api("POST", "/api/v1/offers", {
        body: { supplierId, skuId: skus[sku].id, supplierSku: `${key}`, cost, stock, leadTimeDays: 2, priority },
      }),
      key,
    );
    offers[key] = o.id;
  };
  await offer("A-MUG", a.id, "MUG", 1500, 1);
  await offer("B-MUG", b.id, "MUG", 1200, 0);
  await offer("A-TEE", a.id, "TEE", 4000, 0);
  await offer("B-MASK", b.id, "MASK", 2000, 0);
  await offer("B-CAKE", b.id, "CAKE", 6000, 0);
  return { shopId: shop.id, suppliers: { a: a.id, b: b.id }, skus, offers };
}

let seq = 0;
export interface OrderOpts {
  lines?: {
    skuCode: string;
    quantity: number;
    unitPrice?: number;
    discount?: number;
    isGift?: boolean;
    giftPrice?: number;
    noReasonReturnWaived?: boolean;
  }[];
  discounts?: { kind: "threshold" | "coupon" | "platform" | "points"; amount: number; threshold?: number; code?: string }[];
  shippingFee?: number;
  phone?: string;
  email?: string;
  platformOrderNo?: string;
  payments?: { method: string; amount: number }[];
}

/** A paid order through `POST /api/v1/orders`, its totals computed from the lines. */
export async function createOrder(t: TestApp, cat: Catalog, opts: OrderOpts = {}) {
  const lines = (opts.lines ?? [{ skuCode: "MUG", quantity: 2 }]).map((l) => ({
    skuCode: l.skuCode,
    quantity: l.quantity,
    unitPrice: l.unitPrice ?? (l.isGift ? 0 : cat.skus[l.skuCode].price),
    discount: l.discount ?? 0,
    isGift: l.isGift ?? false,
    giftPrice: l.giftPrice ?? 0,
    noReasonReturnWaived: l.noReasonReturnWaived ?? false,
  }));
  const discounts = opts.discounts ?? [];
  const shippingFee = opts.shippingFee ?? 0;
  const amount =
    lines.reduce((s, l) => s + l.quantity * l.unitPrice - l.discount, 0) - discounts.reduce((s, d) => s + d.amount, 0) + shippingFee;
  seq += 1;
  const no = opts.platformOrderNo ?? `T${Date.now()}${seq}`;
  const body = {
    shopId: cat.shopId,
    platformOrderNo: no,
    customer: { name: "王小明", phone: opts.phone ?? "13912345678", email: opts.email ?? "xm@example.test" },
    address: {
      name: "王小明",
      phone: opts.phone ?? "13912345678",
      province: "上海",
      city: "上海",
      district: "浦东",
      line1: "世纪大道 100 号",
    },
    lines,
    discounts,
    shippingFee,
    ...(opts.payments
      ? { payments: opts.payments.map((p) => ({ ...p, reference: `${no}-${p.method}` })) }
      : { paid: { amount, method: "alipay", reference: `P${no}` } }),
  };
  return ok(t.api("POST", "/api/v1/orders", { body }), "order");
}

/** Forwards, accepts, ships and delivers every supplier order of a new order; returns it fresh. */
export async function createDeliveredOrder(t: TestApp, cat: Catalog, opts: OrderOpts & { deliveredAt?: string } = {}) {
  const order = await createOrder(t, cat, opts);
  return deliverOrder(t, order.id, opts.deliveredAt ?? t.clock.now().toISOString());
}

export async function shipOrder(t: TestApp, orderId: string) {
  const fwd = await ok(t.api("POST", `/api/v1/orders/${orderId}/actions/forward`), "forward");
  for (const so of fwd.supplierOrders) {
    if (so.status !== "pending") continue;
    await ok(t.api("POST", `/api/v1/supplier-orders/${so.id}/actions/accept`), "accept");
    await ok(
      t.api("POST", `/api/v1/supplier-orders/${so.id}/actions/ship`, { body: { carrier: "SF", trackingNo: `SF${so.id.slice(-10)}` } }),
      "ship",
    );
  }
  return ok(t.api("GET", `/api/v1/orders/${orderId}`), "order");
}

export async function deliverOrder(t: TestApp, orderId: string, deliveredAt: string) {
  const shipped = await shipOrder(t, orderId);
  for (const so of shipped.supplierOrders) {
    if (so.status === "shipped")
      await ok(t.api("POST", `/api/v1/supplier-orders/${so.id}/actions/deliver`, { body: { deliveredAt } }), "deliver");
  }
  return ok(t.api("GET", `/api/v1/orders/${orderId}`), "order");
}
