import { readFileSync } from "node:fs";
import pg from "pg";
import { ShopifyEmulator } from "../test/connectors/shopify-emulator.js";
import { benchImport } from "./import.js";
import { fmt, freshPgDb, sleep, startServer } from "./lib.js";

/**
 * Store backfill: N orders of 3 lines in the local Shopify (test/connectors/shopify-emulator.ts,
 * its cost throttling off, so Dropdesk's own pace is measured), pulled by a Shopify connector of
 * Dropdesk on PostgreSQL from the first sync until it reports the sync finished; orders/s and the
 * server's peak RSS, beside the CSV import of the same N orders (bench/import.ts) in the same run.
 * BENCH_BACKFILL_ORDERS sets N (default 100,000).
 */
export async function benchBackfill(): Promise<string[]> {
  const n = Number(process.env.BENCH_BACKFILL_ORDERS ?? 100_000);
  const emu = await new ShopifyEmulator().start();
  emu.throttling = false;
  for (let i = 0; i < n; i++)
    emu.addOrder({
      lines: [
        { sku: "BENCH-MUG", price: "39.00", quantity: 1 },
        { sku: "BENCH-TEE", price: "99.00", quantity: 1 },
        { sku: "BENCH-CAP", price: "29.00", quantity: 1 },
      ],
      shipping: [],
    });
  const db = await freshPgDb();
  process.env.DROPDESK_OUTBOUND_ALLOW = "127.0.0.1";
  process.env.DROPDESK_SECRET_KEY ??= "ab".repeat(32);
  const server = await startServer({ databaseUrl: db.url, processes: 1, port: 39840 });
  const lines: string[] = [];
  try {
    const h = { authorization: `Bearer ${server.token}`, "content-type": "application/json" };
    const call = async (method: string, path: string, body?: unknown) =>
      (
        await fetch(`${server.url}${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) })
      ).json() as Promise<Record<string, any>>;
    const shop = await call("POST", "/api/v1/shops", { name: "Backfill shop", platform: "shopify" });
    for (const [code, price] of [
      ["BENCH-MUG", 3900],
      ["BENCH-TEE", 9900],
      ["BENCH-CAP", 2900],
    ] as const)
      await call("POST", "/api/v1/products", { title: code, category: "home", skus: [{ skuCode: code, price }] });
    const c = await call("POST", "/api/v1/connectors", {
      kind: "shopify",
      shopId: shop.id,
      config: { shopDomain: emu.shopDomain, accessToken: emu.accessToken, webhookSecret: emu.webhookSecret, endpoint: emu.url },
    });
    if (!c.id) throw new Error(`connector not created: ${JSON.stringify(c)}`);
    const t0 = performance.now();
    const started = await call("POST", `/api/v1/connectors/${c.id}/actions/sync`, {});
    if (started.error) throw new Error(`sync not started: ${JSON.stringify(started.error)}`);
    let row: Record<string, any>;
    for (let waited = 0; ; waited++) {
      await sleep(1000);
      row = await call("GET", `/api/v1/connectors/${c.id}`);
      const log = (row.log ?? []) as { message: string }[];
      const finished = log.some((l) => l.message.startsWith("sync finished"));
      if ((finished && !row.syncing) || row.status === "error") break;
      if (waited % 30 === 29)
        console.error(`backfill: ${emu.requests.length} pages asked, ${row.lastError ?? "no error"}, ${log[0]?.message ?? ""}`);
      if (waited > 3600) throw new Error(`the backfill did not finish in an hour: ${JSON.stringify(row).slice(0, 500)}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    const hwm = readFileSync(`/proc/${server.pid}/status`, "utf8").match(/VmHWM:\s+(\d+) kB/)?.[1];
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    const counted = await pool.query("SELECT count(*) AS n, count(DISTINCT platform_order_no) AS d FROM orders");
    await pool.end();
    const imported = Number(counted.rows[0].n);
    const summary = (row.log as { message: string }[]).find((l) => l.message.startsWith("sync finished"))?.message ?? row.lastError;
    // The CSV import of the same number of orders, on its own server, in the same run.
    process.env.BENCH_IMPORT_ORDERS = String(n);
    const importLines = await benchImport();
    const csv = importLines
      .find((l) => l.startsWith("| Dropdesk import over HTTP"))
      ?.split("|")
      .map((x) => x.trim());
    const csvSeconds = csv ? Number(csv[3].replaceAll(",", "")) : Number.NaN;
    lines.push(
      `${fmt(n)} orders of 3 lines in the Shopify emulator (throttling off); ${summary}; ${fmt(imported)} orders in the database, ${fmt(Number(counted.rows[0].d))} distinct numbers`,
    );
    lines.push("");
    lines.push("| what | orders | orders/s | seconds | peak RSS of the server |");
    lines.push("| --- | ---: | ---: | ---: | ---: |");
    lines.push(
      `| Shopify backfill (GraphQL pages of 10, one set-based write per page) | ${fmt(imported)} | ${fmt(imported / seconds)} | ${fmt(seconds, 1)} | ${hwm ? `${fmt(Number(hwm) / 1024)} MB` : "n/a"} |`,
    );
    if (csv) lines.push(`| CSV import over HTTP (batches of 250) | ${fmt(n)} | ${fmt(n / csvSeconds)} | ${csv[3]} | ${csv[4]} |`);
    lines.push("", "The CSV import's own table:", "", ...importLines);
  } finally {
    await server.stop();
    await db.drop();
    await emu.stop();
  }
  return lines;
}
