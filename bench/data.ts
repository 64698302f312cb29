// Generates a realistic Dropdesk tenant into PostgreSQL for the analytics benchmark: 1M orders
// (lines, supplier orders), 200k after-sales cases (lines, timeline events, refunds, surveys,
// supplier claims), all with set-based SQL (INSERT ... SELECT generate_series).
//
//   npm run bench:data        DATABASE_URL or postgres://postgres@127.0.0.1:5432/dropdesk_bench
//
// The database is dropped and created again. Ids are derived from the row number so that the
// tables join without lookups; times spread over the year before BENCH_NOW.
import pg from "pg";
import { openDb } from "../src/platform/db.js";
import { sha256 } from "../src/platform/ids.js";
import { migrate } from "../src/platform/migrate.js";

export const BENCH_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/dropdesk_bench";
export const BENCH_NOW = "2026-11-23T04:00:00Z";
export const BENCH_TENANT = "00000000-0000-4000-8000-00000000be1c";
export const BENCH_TOKEN = "ddt_bench_analytics_0123456789abcdef";
const ORDERS = Number(process.env.BENCH_ORDERS ?? 1_000_000);
const CASES = Number(process.env.BENCH_CASES ?? 200_000);
const SUPPLIERS = 20;
const SHOPS = 3;

/** A uuid made of a two-digit table prefix and a row number. */
const uid = (prefix: string, n: string) => `(('${prefix}000000-0000-4000-8000-' || lpad(to_hex(${n}), 12, '0'))::uuid)`;

async function recreate(url: string) {
  const u = new URL(url);
  const name = u.pathname.slice(1);
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bench database name must be a plain identifier: ${name}`);
  u.pathname = "/postgres";
  const admin = new pg.Client({ connectionString: u.toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
}

export async function generate(url = BENCH_URL) {
  const started = Date.now();
  await recreate(url);
  const h = await openDb({ databaseUrl: url, poolSize: 1 });
  await migrate(h);
  const step = async (label: string, text: string) => {
    const t0 = Date.now();
    const r = await h.exec(text);
    console.log(`${label.padEnd(22)} ${String(r.rowCount).padStart(9)} rows  ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  };
  const now = `timestamptz '${BENCH_NOW}'`;
  await h.exec("SET synchronous_commit = off");
  await step("tenant", `INSERT INTO tenants (id, name, portal_secret) VALUES ('${BENCH_TENANT}', 'Bench merchant', 'bench-secret')`);
  await step(
    "admin user",
    `INSERT INTO users (id, tenant_id, email, name, role, password_hash)
     VALUES (${uid("ff", "1")}, '${BENCH_TENANT}', 'bench@dropdesk.test', 'Bench admin', 'admin', 'x')`,
  );
  await step(
    "api token",
    `INSERT INTO api_tokens (id, tenant_id, name, role, token_hash, prefix, created_by)
     VALUES (${uid("fe", "1")}, '${BENCH_TENANT}', 'bench', 'admin', '${sha256(BENCH_TOKEN)}', '${BENCH_TOKEN.slice(0, 10)}', ${uid("ff", "1")})`,
  );
  await step(
    "shops",
    `INSERT INTO shops (id, tenant_id, name, platform, timezone)
     SELECT ${uid("0c", "g")}, '${BENCH_TENANT}', '店铺 ' || g, (ARRAY['taobao', 'pinduoduo', 'douyin'])[g], 'Asia/Shanghai' FROM generate_series(1, ${SHOPS}) g`,
  );
  await step(
    "suppliers",
    `INSERT INTO suppliers (id, tenant_id, name) SELECT ${uid("0a", "g")}, '${BENCH_TENANT}', '供应商 ' || lpad(g::text, 2, '0') FROM generate_series(1, ${SUPPLIERS}) g`,
  );
  // Orders over the year before BENCH_NOW (one every 31.5 s for 1M), 2% cancelled, the newest still open.
  await step(
    "orders",
    `INSERT INTO orders (id, tenant_id, shop_id, platform_order_no, customer, address, status, currency, goods_total, shipping_fee,
       paid_total, content_hash, source, placed_at, paid_at, delivered_at, cancelled_at, created_at, updated_at)
     SELECT ${uid("01", "g")}, '${BENCH_TENANT}', ${uid("0c", `(1 + g % ${SHOPS})`)}, 'P' || g, '{"name":"顾客"}', '{"province":"浙江省","city":"杭州市"}',
       CASE WHEN g % 50 = 0 THEN 'cancelled' WHEN g <= 3000 THEN 'forwarded' WHEN g <= 8000 THEN 'delivered' ELSE 'completed' END,
       'CNY', p, 0, p, md5(g::text), 'import', t, t,
       CASE WHEN g % 50 <> 0 AND g > 3000 THEN t + interval '4 days' END, CASE WHEN g % 50 = 0 THEN t + interval '2 hours' END, t, t
     FROM (SELECT g, 2000 + (g::bigint * 7919) % 30000 AS p, ${now} - make_interval(secs => g * ${(365 * 86400) / ORDERS}) AS t
           FROM generate_series(1, ${ORDERS}) g) x`,
  );
  await step(
    "order lines",
    `INSERT INTO order_lines (id, tenant_id, order_id, line_no, sku_code, title, quantity, unit_price, paid_amount)
     SELECT ${uid("02", "g")}, '${BENCH_TENANT}', ${uid("01", "g")}, 1, 'SKU-' || lpad((g % 500)::text, 3, '0'), '商品', 1, p, p
     FROM (SELECT g, 2000 + (g::bigint * 7919) % 30000 AS p FROM generate_series(1, ${ORDERS}) g) x`,
  );
  // Every seventh supplier order ships a day after its ship-by time; cancelled orders' are cancelled.
  await step(
    "supplier orders",
    `INSERT INTO supplier_orders (id, tenant_id, order_id, supplier_id, purpose, status, cost_total, carrier, tracking_no, ship_by,
       accepted_at, shipped_at, delivered_at, cancelled_at, created_at, updated_at)
     SELECT ${uid("03", "g")}, '${BENCH_TENANT}', ${uid("01", "g")}, ${uid("0a", `(1 + (g * 13) % ${SUPPLIERS})`)}, 'original',
       CASE WHEN g % 50 = 0 THEN 'cancelled' WHEN g <= 3000 THEN 'accepted' ELSE 'delivered' END, p / 2, 'SF', 'SF' || g,
       t + interval '2 days', t + interval '1 hour',
       CASE WHEN g % 50 <> 0 AND g > 3000 THEN t + CASE WHEN g % 7 = 0 THEN interval '3 days' ELSE interval '1 day' END END,
       CASE WHEN g % 50 <> 0 AND g > 3000 THEN t + interval '4 days' END, CASE WHEN g % 50 = 0 THEN t + interval '2 hours' END,
       t + interval '10 minutes', t + interval '4 days'
     FROM (SELECT g, 2000 + (g::bigint * 7919) % 30000 AS p, ${now} - make_interval(secs => g * ${(365 * 86400) / ORDERS}) AS t
           FROM generate_series(1, ${ORDERS}) g) x`,
  );
  await step(
    "supplier order lines",
    `INSERT INTO supplier_order_lines (id, tenant_id, supplier_order_id, order_line_id, quantity, unit_cost)
     SELECT ${uid("04", "g")}, '${BENCH_TENANT}', ${uid("03", "g")}, ${uid("02", "g")}, 1, (2000 + (g::bigint * 7919) % 30000) / 2 FROM generate_series(1, ${ORDERS}) g`,
  );
  // Cases on every fifth order (skipping cancelled ones), opened two days after the order, with a
  // realistic mix of reasons; the newest are still being handled.
  const step5 = Math.floor(ORDERS / CASES);
  await step(
    "cases",
    `INSERT INTO cases (id, tenant_id, shop_id, order_id, case_no, type, reason, status, channel, responsibility, supplier_id,
       response_due_at, return_ship_due_at, refund_due_at, first_response_at, approved_at, refunded_at, resolved_at, closed_at, csat_score,
       created_at, updated_at)
     SELECT ${uid("05", "k")}, '${BENCH_TENANT}', ${uid("0c", `(1 + g % ${SHOPS})`)}, ${uid("01", "g")}, 'AS' || lpad(k::text, 7, '0'),
       typ, reason, status, (ARRAY['portal','platform','phone','chat'])[1 + k % 4],
       CASE WHEN reason IN ('quality','wrong_item','missing_item','not_as_described','damaged_in_transit') THEN 'supplier'
            WHEN reason IN ('changed_mind','size_fit') THEN 'customer' WHEN reason IN ('not_received','late_delivery') THEN 'carrier' ELSE 'merchant' END,
       ${uid("0a", `(1 + (g * 13) % ${SUPPLIERS})`)},
       c + interval '24 hours', CASE WHEN typ = 'return_refund' THEN c + interval '7 days' END, c + interval '10 days',
       CASE WHEN status <> 'submitted' THEN c + make_interval(hours => 1 + k % 30) END,
       CASE WHEN status NOT IN ('submitted','rejected') THEN c + make_interval(hours => 2 + k % 40) END,
       CASE WHEN status IN ('refunded','closed') AND typ IN ('refund_only','return_refund') THEN c + make_interval(hours => 24 + k % 96) END,
       CASE WHEN status = 'resolved' THEN c + interval '6 days' END,
       CASE WHEN status = 'closed' THEN c + interval '8 days' END,
       CASE WHEN k % 3 = 0 AND status IN ('closed','resolved','refunded') THEN 1 + (k * 7) % 5 END,
       c, c
     FROM (SELECT k, g, c, reason,
             CASE WHEN reason IN ('changed_mind','size_fit','not_as_described') THEN 'return_refund' WHEN reason = 'wrong_item' THEN 'exchange'
                  WHEN reason = 'missing_item' THEN 'reship' ELSE 'refund_only' END AS typ,
             CASE WHEN k <= 600 THEN 'submitted' WHEN k <= 900 THEN 'approved' WHEN k <= 1200 THEN 'awaiting_return' WHEN k <= 1400 THEN 'received'
                  WHEN k % 40 = 0 THEN 'rejected' WHEN k % 11 = 0 THEN 'refunded' WHEN reason IN ('wrong_item','missing_item') THEN 'resolved' ELSE 'closed' END AS status
           FROM (SELECT k, g, ${now} - make_interval(secs => g * ${(365 * 86400) / ORDERS}) + interval '2 days' AS c,
                   (ARRAY['quality','quality','quality','quality','size_fit','size_fit','size_fit','changed_mind','changed_mind','wrong_item',
                          'wrong_item','damaged_in_transit','damaged_in_transit','not_as_described','not_as_described','missing_item','not_received',
                          'late_delivery','other','quality'])[1 + (k * 7) % 20] AS reason
                 FROM (SELECT k, k * ${step5} - (CASE WHEN (k * ${step5}) % 50 = 0 THEN 1 ELSE 0 END) AS g FROM generate_series(1, ${CASES}) k) y) z) w`,
  );
  await step(
    "case lines",
    `INSERT INTO case_lines (id, tenant_id, case_id, order_line_id, quantity)
     SELECT ${uid("06", "k")}, '${BENCH_TENANT}', ${uid("05", "k")}, ${uid("02", "g")}, 1
     FROM (SELECT k, k * ${step5} - (CASE WHEN (k * ${step5}) % 50 = 0 THEN 1 ELSE 0 END) AS g FROM generate_series(1, ${CASES}) k) y`,
  );
  await step(
    "case events",
    `INSERT INTO case_events (id, tenant_id, case_id, action, actor_type, from_status, to_status, at)
     SELECT ${uid("07", "(row_number() OVER ())")}, '${BENCH_TENANT}', c.id, e.action, e.actor, e.fr, e.to_s, e.at
     FROM cases c CROSS JOIN LATERAL (VALUES
       ('submit', 'customer', NULL, 'submitted', c.created_at),
       ('approve', 'user', 'submitted', 'approved', c.approved_at),
       ('close', 'user', 'refunded', 'closed', c.closed_at)) e(action, actor, fr, to_s, at)
     WHERE c.tenant_id = '${BENCH_TENANT}' AND e.at IS NOT NULL`,
  );
  await step(
    "refunds",
    `INSERT INTO refunds (id, tenant_id, order_id, case_id, kind, amount, method, gateway, status, gateway_key, attempts, created_at, updated_at, confirmed_at)
     SELECT gen_random_uuid(), '${BENCH_TENANT}', c.order_id, c.id, 'case', greatest(1, o.paid_total * (CASE WHEN c.type = 'refund_only' THEN 100 ELSE 90 END) / 100),
       'original', 'sandbox', 'succeeded', 'bench-' || c.case_no, 1, c.refunded_at, c.refunded_at, c.refunded_at
     FROM cases c JOIN orders o ON o.id = c.order_id WHERE c.tenant_id = '${BENCH_TENANT}' AND c.refunded_at IS NOT NULL`,
  );
  await step(
    "cancellation refunds",
    `INSERT INTO refunds (id, tenant_id, order_id, kind, amount, method, gateway, status, gateway_key, attempts, created_at, updated_at, confirmed_at)
     SELECT gen_random_uuid(), '${BENCH_TENANT}', o.id, 'cancellation', o.paid_total, 'original', 'sandbox', 'succeeded', 'cancel-' || o.platform_order_no, 1,
       o.cancelled_at, o.cancelled_at, o.cancelled_at
     FROM orders o WHERE o.tenant_id = '${BENCH_TENANT}' AND o.status = 'cancelled'`,
  );
  await step(
    "surveys",
    `INSERT INTO surveys (id, tenant_id, case_id, token, score, sent_at, answered_at)
     SELECT gen_random_uuid(), '${BENCH_TENANT}', c.id, 'bench-' || c.case_no, c.csat_score, c.created_at + interval '8 days', c.created_at + interval '9 days'
     FROM cases c WHERE c.tenant_id = '${BENCH_TENANT}' AND c.csat_score IS NOT NULL`,
  );
  await step(
    "supplier claims",
    `INSERT INTO supplier_claims (id, tenant_id, supplier_id, case_id, status, amount, due_at, answered_at, settled_at, created_at, updated_at)
     SELECT gen_random_uuid(), '${BENCH_TENANT}', c.supplier_id, c.id, s.status, r.amount, r.confirmed_at + interval '7 days',
       CASE WHEN s.status <> 'open' THEN r.confirmed_at + interval '3 days' END, CASE WHEN s.status = 'settled' THEN r.confirmed_at + interval '30 days' END,
       r.confirmed_at, r.confirmed_at
     FROM cases c JOIN refunds r ON r.case_id = c.id AND r.kind = 'case'
     CROSS JOIN LATERAL (SELECT (ARRAY['settled','accepted','disputed','open','settled'])[1 + abs(hashtext(c.case_no)) % 5] AS status) s
     WHERE c.tenant_id = '${BENCH_TENANT}' AND c.responsibility = 'supplier'`,
  );
  await step(
    "case refunded totals",
    `UPDATE cases c SET refunded_total = x.total FROM (SELECT case_id, sum(amount) AS total FROM refunds
       WHERE status = 'succeeded' AND case_id IS NOT NULL GROUP BY case_id) x WHERE x.case_id = c.id`,
  );
  await step("vacuum analyze", "VACUUM ANALYZE");
  await h.close();
  console.log(`generated in ${((Date.now() - started) / 1000).toFixed(0)} s into ${new URL(url).pathname.slice(1)}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  generate().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
