import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { fmt, freshPgDb, ratio, sleep, startServer } from "./lib.js";

/**
 * Order import: a generic CSV of N orders with 3 lines each, uploaded over HTTP to Dropdesk on
 * PostgreSQL, timed until the import reports done; beside PostgreSQL's COPY of the same rows into a
 * table of the same shape, in the same run. BENCH_IMPORT_ORDERS sets N (default 20,000).
 */
export async function benchImport(): Promise<string[]> {
  const orders = Number(process.env.BENCH_IMPORT_ORDERS ?? 20_000);
  const file = join(tmpdir(), `dd-import-${Date.now()}.csv`);
  const rows = ["platform_order_no,customer_name,phone,city,address,sku_code,quantity,unit_price,shipping_fee,paid_amount"];
  for (let o = 0; o < orders; o++) {
    for (let l = 0; l < 3; l++)
      rows.push(
        `IMP${o},Buyer ${o},139${String(o).padStart(8, "0")},Shanghai,Road ${o},${["BENCH-MUG", "BENCH-TEE", "BENCH-CAP"][l]},1,${["39.00", "99.00", "29.00"][l]},0,167.00`,
      );
  }
  writeFileSync(file, rows.join("\n"));
  const lineCount = rows.length - 1;
  rows.length = 0;
  const db = await freshPgDb();
  const server = await startServer({ databaseUrl: db.url, processes: 1, port: 39830 });
  const lines: string[] = [];
  try {
    const h = { authorization: `Bearer ${server.token}` };
    const post = async (path: string, body: unknown) =>
      (
        await fetch(`${server.url}${path}`, {
          method: "POST",
          headers: { ...h, "content-type": "application/json" },
          body: JSON.stringify(body),
        })
      ).json() as Promise<any>;
    const shop = await post("/api/v1/shops", { name: "Import shop", platform: "taobao" });
    for (const [code, price] of [
      ["BENCH-MUG", 3900],
      ["BENCH-TEE", 9900],
      ["BENCH-CAP", 2900],
    ] as const) {
      await post("/api/v1/products", { title: code, category: "home", skus: [{ skuCode: code, price }] });
    }
    const form = new FormData();
    form.append("shopId", shop.id);
    form.append("format", "generic");
    form.append("file", new Blob([readFileSync(file)]), "orders.csv");
    const rssBefore = readFileSync(`/proc/${server.pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/)?.[1];
    const t0 = performance.now();
    const up = (await (await fetch(`${server.url}/api/v1/orders/import`, { method: "POST", headers: h, body: form })).json()) as {
      id: string;
    };
    let status: any;
    for (;;) {
      status = await (await fetch(`${server.url}/api/v1/imports/${up.id}`, { headers: h })).json();
      if (status.status === "done" || status.status === "failed") break;
      await sleep(250);
    }
    const seconds = (performance.now() - t0) / 1000;
    const hwm = readFileSync(`/proc/${server.pid}/status`, "utf8").match(/VmHWM:\s+(\d+) kB/)?.[1];
    // Baseline: COPY of the same rows into a table of the same columns.
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    await pool.query(
      "CREATE TABLE copy_bench (platform_order_no text, customer_name text, phone text, city text, address text, sku_code text, quantity int, unit_price numeric, shipping_fee numeric, paid_amount numeric)",
    );
    await pool.end();
    const c0 = performance.now();
    execFileSync("psql", [db.url, "-qc", `\\copy copy_bench FROM '${file}' WITH (FORMAT csv, HEADER true)`]);
    const copySeconds = (performance.now() - c0) / 1000;
    const ours = lineCount / seconds;
    const copy = lineCount / copySeconds;
    lines.push(
      `${fmt(orders)} orders, ${fmt(lineCount)} lines; import ${status.status}: ${fmt(status.imported)} imported, ${fmt(status.failed)} failed`,
    );
    lines.push(`server RSS before the upload: ${rssBefore ? `${fmt(Number(rssBefore) / 1024)} MB` : "n/a"}`);
    lines.push("");
    lines.push("| what | rows/s | seconds | peak RSS of the server | vs COPY |");
    lines.push("| --- | ---: | ---: | ---: | ---: |");
    lines.push(`| PostgreSQL COPY of the same rows (baseline) | ${fmt(copy)} | ${fmt(copySeconds, 1)} | — | 1.00× |`);
    lines.push(
      `| Dropdesk import over HTTP (PostgreSQL) | ${fmt(ours)} | ${fmt(seconds, 1)} | ${hwm ? `${fmt(Number(hwm) / 1024)} MB` : "n/a"} | ${ratio(ours, copy)} |`,
    );
  } finally {
    await server.stop();
    await db.drop();
    rmSync(file, { force: true });
  }
  return lines;
}
