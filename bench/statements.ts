// How many SQL statements each step of the lifecycle sends: the lever the CPU profile points at
// (each statement is one socket write and one round trip). Runs one lifecycle in-process on a
// fresh PostgreSQL database with the job worker off, counting the statements of each request.
//
//   npm run bench -- statements          (prints one row per step; add VERBOSE=1 for the SQL)
import pg from "pg";
import { createApp } from "../src/app.js";
import { sha256 } from "../src/platform/ids.js";
import { freshPgDb } from "./lib.js";

export async function benchStatements(): Promise<string[]> {
  const db = await freshPgDb("dd_stmts");
  const { app, deps, tenantId } = await createApp({ config: { databaseUrl: db.url, workers: false, demo: false }, log: () => {} });
  const out: string[] = [];
  try {
    await app.ready();
    const admin = await deps.db.selectFrom("users").select("id").where("tenant_id", "=", tenantId).executeTakeFirstOrThrow();
    const token = "ddt_statements_bench_0123456789abcdef";
    await deps.db
      .insertInto("api_tokens")
      .values({
        id: crypto.randomUUID(),
        tenant_id: tenantId,
        name: "bench",
        role: "admin",
        token_hash: sha256(token),
        prefix: token.slice(0, 10),
        created_by: admin.id,
      })
      .execute();
    let log: string[] | null = null;
    const original = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      if (log) {
        const q = args[0] as string | { text: string };
        log.push((typeof q === "string" ? q : q.text).replace(/\s+/g, " ").slice(0, 140));
      }
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
    const call = async (step: string, url: string, body: unknown = {}) => {
      log = [];
      const r = await app.inject({ method: "POST", url, payload: body as object, headers: { authorization: `Bearer ${token}` } });
      const sent = log;
      log = null;
      if (r.statusCode >= 300) throw new Error(`${step}: ${r.statusCode} ${r.body}`);
      out.push(`| ${step} | ${sent.filter((s) => !/^(BEGIN|COMMIT)/i.test(s)).length} | ${sent.length} |`);
      if (process.env.VERBOSE) for (const s of sent) out.push(`    ${s}`);
      return r.json();
    };
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
      stock: 1000,
      leadTimeDays: 2,
      priority: 1,
      active: true,
    });
    out.length = 0;
    out.push("| step | statements | with BEGIN/COMMIT |", "|---|---:|---:|");
    const no = `S${Date.now()}`;
    const order = await call("order", "/api/v1/orders", {
      shopId: shop.id,
      platformOrderNo: no,
      customer: { name: "张三", phone: "13900001234", email: "c@example.test" },
      address: { name: "张三", phone: "13900001234", province: "上海", city: "上海", line1: "1 Road" },
      lines: [{ skuCode: "BENCH-MUG", quantity: 2, unitPrice: 3900, discount: 0 }],
      discounts: [],
      shippingFee: 0,
      paid: { amount: 7800, method: "alipay", reference: no, paidAt: new Date().toISOString() },
    });
    const fwd = await call("forward", `/api/v1/orders/${order.id}/actions/forward`);
    const soId = fwd.supplierOrders[0].id;
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
    if (c.status === "submitted") await call("approve", `/api/v1/cases/${c.id}/actions/approve`);
    await call("ship-return", `/api/v1/cases/${c.id}/actions/ship-return`, { carrier: "SF", trackingNo: `R${no}` });
    await call("receive", `/api/v1/cases/${c.id}/actions/receive`);
    await call("inspect", `/api/v1/cases/${c.id}/actions/inspect`, {
      grade: "repairable",
      matchesOrder: true,
      complete: true,
      disposition: "return_to_supplier",
    });
    await call("refund", `/api/v1/cases/${c.id}/actions/refund`, { method: "balance" });
    pg.Client.prototype.query = original;
  } finally {
    await app.close();
    await db.drop();
  }
  return out;
}

if (process.argv[1]?.endsWith("statements.ts")) {
  benchStatements().then(
    (lines) => console.log(lines.join("\n")),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
