import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../src/platform/ids.js";
import { DB_KINDS, startTestApp, type TestApp } from "../helpers/harness.js";

const ROWS = 100_000;

/** Streams a URL over real HTTP, keeping only counts, while sampling the process's memory. */
async function stream(url: string, token: string) {
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  try {
    return await new Promise<{ status: number; bytes: number; lines: number; head: string; base: number; peak: number }>(
      (resolve, reject) => {
        const req = request(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
          let bytes = 0;
          let lines = 0;
          let head = "";
          res.on("data", (chunk: Buffer) => {
            bytes += chunk.length;
            if (head.length < 500) head += chunk.toString("utf8");
            for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++;
            peak = Math.max(peak, process.memoryUsage().rss);
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, bytes, lines, head, base, peak }));
          res.on("error", reject);
        });
        req.on("error", reject);
        req.end();
      },
    );
  } finally {
    clearInterval(timer);
  }
}

describe.each(DB_KINDS)("CSV export of a 100k-row list on %s", (kind) => {
  let t: TestApp;
  let port = 0;
  beforeAll(async () => {
    t = await startTestApp(kind);
    const tenant = t.t.tenantId;
    const shopId = newId();
    const orderId = newId();
    await t.deps.db.insertInto("shops").values({ id: shopId, tenant_id: tenant, name: "店铺", platform: "taobao" }).execute();
    await t.deps.db
      .insertInto("orders")
      .values({
        id: orderId,
        tenant_id: tenant,
        shop_id: shopId,
        platform_order_no: "P-1",
        customer: JSON.stringify({ name: "张三" }),
        address: JSON.stringify({ city: "杭州" }),
        status: "delivered",
        currency: "CNY",
        goods_total: 10000,
        paid_total: 10000,
        content_hash: "h",
      })
      .execute();
    // One set-based insert: 100k cases with Chinese descriptions.
    await sql`INSERT INTO cases (id, tenant_id, shop_id, order_id, case_no, type, reason, status, description, created_at)
      SELECT gen_random_uuid(), ${tenant}, ${shopId}, ${orderId}, 'AS-' || lpad(g::text, 6, '0'),
        (ARRAY['refund_only', 'return_refund', 'exchange'])[1 + g % 3], (ARRAY['quality', 'wrong_item', 'size_fit', 'changed_mind'])[1 + g % 4],
        'submitted', '商品有瑕疵，申请退款', timestamptz '2026-02-01' + g * interval '10 seconds'
      FROM generate_series(1, ${ROWS}) AS g`.execute(t.deps.db);
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    port = (t.app.server.address() as AddressInfo).port;
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it("streams every case as CSV with a BOM while memory stays bounded", async () => {
    const started = Date.now();
    const r = await stream(`http://127.0.0.1:${port}/api/v1/cases?format=csv`, t.t.tokens.cs as string);
    expect(r.status).toBe(200);
    expect(r.head.startsWith("\uFEFF")).toBe(true);
    expect(r.head).toContain("caseNo");
    expect(r.lines).toBe(ROWS + 1); // header + one line per case
    const growthMb = (r.peak - r.base) / 2 ** 20;
    const sizeMb = r.bytes / 2 ** 20;
    console.info(`${kind}: ${sizeMb.toFixed(1)} MB of CSV, RSS growth ${growthMb.toFixed(1)} MB, ${Date.now() - started} ms`);
    expect(sizeMb).toBeGreaterThan(20);
    // One page of 1,000 rows is in memory at a time. Holding the export would cost the CSV text
    // plus 100k row objects (well over 100 MB); what remains is the heap's own slack.
    expect(growthMb).toBeLessThan(64);
  }, 120_000);
});
