import { randomUUID } from "node:crypto";
import pg from "pg";
import { fmt, freshPgDb, httpRequest, loop, ratio, type Server, startServer } from "./lib.js";

/**
 * The full after-sales lifecycle over HTTP, as an integrator or the console drives it:
 * create order → forward → accept → ship → deliver → return case → approve → ship return →
 * receive → inspect → refund (confirmed). Reported as lifecycles/s at concurrency 1 and 16, with
 * p50/p99 per step, beside PostgreSQL doing the same steps' writes directly in the same run.
 */
export const STEPS = [
  "order",
  "forward",
  "accept",
  "ship",
  "deliver",
  "case",
  "approve",
  "ship-return",
  "receive",
  "inspect",
  "refund",
] as const;
export type Step = (typeof STEPS)[number];

/** Makes a request and answers the parsed JSON body; throws on an error status. */
export type Call = (step: string, path: string, body?: unknown) => Promise<any>;

/** The bench's catalog: a shop, a supplier with a return address, one product and its offer. */
export async function setupCatalog(call: Call) {
  const shop = await call("(setup) shop", "/api/v1/shops", { name: "Bench shop", platform: "taobao" });
  const supplier = await call("(setup) supplier", "/api/v1/suppliers", {
    name: "Bench supplier",
    returnAddress: { name: "Returns", phone: "13800000000", province: "浙江", city: "义乌", line1: "1 Bench Rd" },
  });
  const product = await call("(setup) product", "/api/v1/products", {
    title: "Bench mug",
    category: "home",
    skus: [{ skuCode: "BENCH-MUG", title: "Mug", price: 3900 }],
  });
  await call("(setup) offer", "/api/v1/offers", {
    supplierId: supplier.id,
    skuId: product.skus[0].id,
    supplierSku: "S-MUG",
    cost: 1500,
    stock: 10_000_000,
    leadTimeDays: 2,
    priority: 1,
    active: true,
  });
  return shop.id as string;
}

/** One after-sales lifecycle, step by step through `call` (eleven requests; approve only if needed). */
export async function runLifecycle(call: Call, shopId: string) {
  const no = `B${randomUUID()}`;
  const order = await call("order", "/api/v1/orders", {
    shopId,
    platformOrderNo: no,
    customer: { name: "张三", phone: "13900001234", email: "c@example.test" },
    address: { name: "张三", phone: "13900001234", province: "上海", city: "上海", line1: "1 Road" },
    lines: [{ skuCode: "BENCH-MUG", quantity: 2, unitPrice: 3900, discount: 0 }],
    discounts: [],
    shippingFee: 0,
    paid: { amount: 7800, method: "alipay", reference: no, paidAt: new Date().toISOString() },
  });
  const fwd = await call("forward", `/api/v1/orders/${order.id}/actions/forward`);
  const soId = (fwd.supplierOrders ?? fwd.order?.supplierOrders ?? [])[0]?.id;
  await call("accept", `/api/v1/supplier-orders/${soId}/actions/accept`);
  await call("ship", `/api/v1/supplier-orders/${soId}/actions/ship`, { carrier: "SF", trackingNo: `SF${no}` });
  await call("deliver", `/api/v1/supplier-orders/${soId}/actions/deliver`, { deliveredAt: new Date().toISOString() });
  const c = await call("case", "/api/v1/cases", {
    orderId: order.id,
    type: "return_refund",
    reason: "quality",
    lines: [{ orderLineId: order.lines[0].id, quantity: 1 }],
    description: "handle cracked",
    channel: "api",
  });
  const approved = c.status === "submitted";
  if (approved) await call("approve", `/api/v1/cases/${c.id}/actions/approve`);
  await call("ship-return", `/api/v1/cases/${c.id}/actions/ship-return`, { carrier: "SF", trackingNo: `R${no}` });
  await call("receive", `/api/v1/cases/${c.id}/actions/receive`);
  await call("inspect", `/api/v1/cases/${c.id}/actions/inspect`, {
    grade: "repairable",
    matchesOrder: true,
    complete: true,
    disposition: "return_to_supplier",
  });
  const refunded = await call("refund", `/api/v1/cases/${c.id}/actions/refund`, { method: "balance" });
  if (!["refunded", "resolved", "closed"].includes(refunded.status)) throw new Error(`refund left the case ${refunded.status}`);
  return { approved };
}

/**
 * Requests to a started server with its admin token, as a client makes them: a 409 "concurrent
 * change, try again" is retried (up to three attempts, timed as one call into `timings` if given).
 */
export function serverCall(server: Server, timings?: Record<Step, number[]>): Call {
  const h = { authorization: `Bearer ${server.token}`, "content-type": "application/json" };
  return async (step, path, body = {}) => {
    const t0 = performance.now();
    let r: { status: number; text: string };
    for (let attempt = 1; ; attempt++) {
      r = await httpRequest(`${server.url}${path}`, { method: "POST", headers: h, body: JSON.stringify(body) });
      if (r.status !== 409 || attempt === 3 || !r.text.includes("try again")) break;
    }
    const text = r.text;
    timings?.[step as Step]?.push(performance.now() - t0);
    if (r.status >= 300) throw new Error(`${step} ${path}: ${r.status} ${text}`);
    return JSON.parse(text);
  };
}

async function oneLifecycle(call: Call, shopId: string, timings: Record<Step, number[]>) {
  const { approved } = await runLifecycle(call, shopId);
  if (!approved) timings.approve.push(0);
}

/** One lifecycle's writes as plain SQL, one transaction per step: the baseline's work, which `tx` runs. */
export type BaselineTx = (step: Step, stmts: [string, unknown[]][]) => Promise<void>;
export async function baselineLifecycle(tx: BaselineTx, ctx: { tenant: string; shop: string; supplier: string; sku: string }) {
  const { tenant, shop, supplier, sku } = ctx;
  const id = randomUUID();
  const line = randomUUID();
  const so = randomUUID();
  const cs = randomUUID();
  const posting = randomUUID();
  const now = new Date();
  await tx("order", [
    [
      "INSERT INTO orders (id, tenant_id, shop_id, platform_order_no, customer, address, status, currency, goods_total, paid_total, content_hash) VALUES ($1,$2,$3,$4,'{}','{}','paid','CNY',7800,7800,'x')",
      [id, tenant, shop, id],
    ],
    [
      "INSERT INTO order_lines (id, tenant_id, order_id, line_no, sku_id, sku_code, quantity, unit_price, paid_amount) VALUES ($1,$2,$3,1,$4,'BENCH-MUG',2,3900,7800)",
      [line, tenant, id, sku],
    ],
    [
      "INSERT INTO payments (id, tenant_id, order_id, method, amount, paid_at) VALUES ($1,$2,$3,'alipay',7800,now())",
      [randomUUID(), tenant, id],
    ],
    ["INSERT INTO ledger_postings (id, tenant_id, code, currency, order_id) VALUES ($1,$2,'payment','CNY',$3)", [posting, tenant, id]],
    [
      "INSERT INTO ledger_entries (id, tenant_id, posting_id, account, amount) VALUES ($1,$2,$3,'cash',7800),($4,$2,$3,'revenue',-7800)",
      [randomUUID(), tenant, posting, randomUUID()],
    ],
  ]);
  await tx("forward", [
    [
      "INSERT INTO supplier_orders (id, tenant_id, order_id, supplier_id, status, cost_total) VALUES ($1,$2,$3,$4,'pending',3000)",
      [so, tenant, id, supplier],
    ],
    [
      "INSERT INTO supplier_order_lines (id, tenant_id, supplier_order_id, order_line_id, quantity, unit_cost) VALUES ($1,$2,$3,$4,2,1500)",
      [randomUUID(), tenant, so, line],
    ],
    ["UPDATE offers SET stock = stock - 2 WHERE sku_id = $1", [sku]],
    ["UPDATE orders SET status = 'forwarded' WHERE id = $1", [id]],
  ]);
  await tx("accept", [["UPDATE supplier_orders SET status = 'accepted', accepted_at = now() WHERE id = $1", [so]]]);
  await tx("ship", [
    ["UPDATE supplier_orders SET status = 'shipped', carrier = 'SF', tracking_no = $2, shipped_at = now() WHERE id = $1", [so, `SF${id}`]],
    ["UPDATE orders SET status = 'shipped' WHERE id = $1", [id]],
  ]);
  await tx("deliver", [
    ["UPDATE supplier_orders SET status = 'delivered', delivered_at = now() WHERE id = $1", [so]],
    ["UPDATE orders SET status = 'delivered', delivered_at = now() WHERE id = $1", [id]],
  ]);
  await tx("case", [
    [
      "INSERT INTO cases (id, tenant_id, shop_id, order_id, case_no, type, reason, status) VALUES ($1,$2,$3,$4,$5,'return_refund','quality','submitted')",
      [cs, tenant, shop, id, cs],
    ],
    ["INSERT INTO case_lines (id, tenant_id, case_id, order_line_id, quantity) VALUES ($1,$2,$3,$4,1)", [randomUUID(), tenant, cs, line]],
    [
      "INSERT INTO case_events (id, tenant_id, case_id, action, actor_type, to_status) VALUES ($1,$2,$3,'submit','token','submitted')",
      [randomUUID(), tenant, cs],
    ],
  ]);
  for (const [action, status] of [
    ["approve", "awaiting_return"],
    ["ship-return", "return_in_transit"],
    ["receive", "received"],
    ["inspect", "inspected"],
  ]) {
    await tx(action as Step, [
      ["UPDATE cases SET status = $2, updated_at = now() WHERE id = $1", [cs, status]],
      [
        "INSERT INTO case_events (id, tenant_id, case_id, action, actor_type, to_status) VALUES ($1,$2,$3,$4,'token',$5)",
        [randomUUID(), tenant, cs, action, status],
      ],
    ]);
  }
  const refund = randomUUID();
  const p2 = randomUUID();
  await tx("refund", [
    ["SELECT id FROM cases WHERE id = $1 FOR UPDATE", [cs]],
    [
      "INSERT INTO refunds (id, tenant_id, order_id, case_id, kind, amount, method, gateway, status, gateway_key) VALUES ($1,$2,$3,$4,'case',3900,'balance','balance','succeeded',$5)",
      [refund, tenant, id, cs, refund],
    ],
    [
      "INSERT INTO ledger_postings (id, tenant_id, code, currency, order_id, case_id, refund_id) VALUES ($1,$2,'refund','CNY',$3,$4,$5)",
      [p2, tenant, id, cs, refund],
    ],
    [
      "INSERT INTO ledger_entries (id, tenant_id, posting_id, account, amount) VALUES ($1,$2,$3,'customer_refunds',3900),($4,$2,$3,'store_credit',-3900)",
      [randomUUID(), tenant, p2, randomUUID()],
    ],
    ["UPDATE orders SET refunded_total = refunded_total + 3900 WHERE id = $1", [id]],
    ["UPDATE cases SET status = 'refunded', refunded_at = $2 WHERE id = $1", [cs, now]],
    [
      "INSERT INTO case_events (id, tenant_id, case_id, action, actor_type, to_status) VALUES ($1,$2,$3,'refund','token','refunded')",
      [randomUUID(), tenant, cs],
    ],
  ]);
}

/** The tenant, shop, supplier and SKU the baseline writes for (the bench catalog's). */
export async function baselineContext(q: { query(text: string): Promise<{ rows: { id: string }[] }> }) {
  const first = async (table: string) => (await q.query(`SELECT id FROM ${table} LIMIT 1`)).rows[0].id;
  return { tenant: await first("tenants"), shop: await first("shops"), supplier: await first("suppliers"), sku: await first("skus") };
}

/** The same rows written straight to PostgreSQL, one transaction per step, as the baseline. */
/** `beforeEnd` runs while the pool's connections are still open (their server processes with them). */
export async function baseline(url: string, seconds: number, concurrency: number, beforeEnd?: () => void) {
  const pool = new pg.Pool({ connectionString: url, max: concurrency });
  pool.on("error", () => {});
  const ctx = await baselineContext(pool);
  const tx: BaselineTx = async (_step, stmts) => {
    const c = await pool.connect();
    try {
      await c.query("BEGIN");
      for (const [q, v] of stmts) await c.query(q, v);
      await c.query("COMMIT");
    } finally {
      c.release();
    }
  };
  const r = await loop(concurrency, seconds, () => baselineLifecycle(tx, ctx));
  beforeEnd?.();
  await pool.end();
  return r;
}

export async function benchLifecycle(seconds: number): Promise<string[]> {
  const lines: string[] = [];
  const db = await freshPgDb();
  const server = await startServer({ databaseUrl: db.url, processes: 2, port: 39820 });
  try {
    const shopId = await setupCatalog(serverCall(server));
    const rows: string[] = [];
    const perStep: Record<number, Record<Step, number[]>> = {};
    for (const concurrency of [1, 16]) {
      const timings = Object.fromEntries(STEPS.map((s) => [s, [] as number[]])) as Record<Step, number[]>;
      perStep[concurrency] = timings;
      const call = serverCall(server, timings);
      const r = await loop(concurrency, seconds, () => oneLifecycle(call, shopId, timings));
      const base = await baseline(db.url, seconds, concurrency);
      rows.push(
        `| ${concurrency} | ${fmt(r.ops, 1)} | ${fmt(r.p50, 0)} | ${fmt(r.p99, 0)} | ${fmt(base.ops, 1)} | ${ratio(r.ops, base.ops)} | ${ratio(r.ops, 1.4)} |`,
      );
    }
    lines.push(
      "| concurrency | lifecycles/s | lifecycle p50 ms | p99 ms | plain PostgreSQL, same writes, lifecycles/s | ratio | vs Medusa (1.4/s) |",
    );
    lines.push("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    lines.push(...rows);
    lines.push("");
    lines.push("| step (concurrency 16) | p50 ms | p99 ms |");
    lines.push("| --- | ---: | ---: |");
    for (const s of STEPS) {
      const v = [...perStep[16][s]].sort((a, b) => a - b);
      const q = (p: number) => v[Math.min(v.length - 1, Math.floor(p * v.length))] ?? 0;
      lines.push(`| ${s} | ${fmt(q(0.5), 1)} | ${fmt(q(0.99), 1)} |`);
    }
  } finally {
    await server.stop();
    await db.drop();
  }
  return lines;
}
