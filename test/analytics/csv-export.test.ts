import { request } from "node:http";
import type { AddressInfo } from "node:net";
import v8 from "node:v8";
import vm from "node:vm";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../src/platform/ids.js";
import { DB_KINDS, startTestApp, type TestApp } from "../helpers/harness.js";

// 100k rows on PostgreSQL; the in-process PGlite (single connection, slower) streams 20k to keep the
// file quick, with the same memory bound.
const rowsFor = (kind: string) => (kind === "postgres" ? 100_000 : 20_000);
v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;
/** Live heap after a full collection: what the process really holds, without the collector's slack. */
const liveHeap = () => {
  gc();
  return process.memoryUsage().heapUsed;
};

/** Streams a URL over real HTTP, keeping only counts, while sampling the process's memory. */
async function stream(url: string, token: string) {
  const heapBase = liveHeap();
  let heapPeak = heapBase;
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const heapTimer = setInterval(() => {
    heapPeak = Math.max(heapPeak, liveHeap());
  }, 2000);
  try {
    return await new Promise<{
      status: number;
      bytes: number;
      lines: number;
      head: string;
      base: number;
      peak: number;
      heapBase: number;
      heapPeak: number;
    }>((resolve, reject) => {
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
        res.on("end", () => resolve({ status: res.statusCode ?? 0, bytes, lines, head, base, peak, heapBase, heapPeak }));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end();
    });
  } finally {
    clearInterval(timer);
    clearInterval(heapTimer);
  }
}

describe.each(DB_KINDS)("CSV export of a large list on %s", (kind) => {
  const ROWS = rowsFor(kind);
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
    const heapMb = (r.heapPeak - r.heapBase) / 2 ** 20;
    const sizeMb = r.bytes / 2 ** 20;
    console.info(
      `${kind}: ${sizeMb.toFixed(1)} MB of CSV, RSS growth ${growthMb.toFixed(1)} MB, live heap growth ${heapMb.toFixed(1)} MB, ${Date.now() - started} ms`,
    );
    expect(r.bytes).toBeGreaterThan(ROWS * 200);
    // One page of 1,000 rows is in memory at a time: what the process holds while streaming stays
    // below the size of the export itself (holding it would cost the text plus 100k row objects,
    // well over 100 MB), and the RSS grows by the collector's slack only.
    expect(heapMb).toBeLessThan(sizeMb);
    expect(growthMb).toBeLessThan(192);
  }, 120_000);
});
