// The server's own CPU for a number of lifecycles, in one process: Dropdesk's app (src/, job
// worker off) answers `app.inject` requests at concurrency 4 on an existing PostgreSQL database
// (BENCH_DB_URL and BENCH_SHOP_ID, made with its admin token and catalog by `--prepare`), then prints the CPU the process spent
// on the lifecycles alone (start-up excluded). Made for comparing two trees by their CPU when the
// machine's speed drifts: run the two in turn, several times, and compare the printed figures
// pair by pair.
//
//   node --import tsx bench/inproc.ts --prepare          (prints the settings to reuse)
//   BENCH_DB_URL=… BENCH_SHOP_ID=… BENCH_LIFECYCLES=150 node --import tsx bench/inproc.ts
import { createApp } from "../src/app.js";
import { addAdminToken, freshPgDb } from "./lib.js";
import { type Call, runLifecycle, setupCatalog } from "./lifecycle.js";

const TOKEN = "ddt_inproc_bench_0123456789abcdef";
const caller =
  (app: Awaited<ReturnType<typeof createApp>>["app"]): Call =>
  async (step, path, body = {}) => {
    const r = await app.inject({ method: "POST", url: path, payload: body as object, headers: { authorization: `Bearer ${TOKEN}` } });
    if (r.statusCode >= 300) throw new Error(`${step}: ${r.statusCode} ${r.body}`);
    return r.json();
  };

if (process.argv.includes("--prepare")) {
  const db = await freshPgDb("dd_inproc");
  const { app, deps, tenantId } = await createApp({ config: { databaseUrl: db.url, workers: false, demo: false }, log: () => {} });
  await app.ready();
  await addAdminToken(deps, tenantId, TOKEN);
  const shopId = await setupCatalog(caller(app));
  await app.close();
  console.log(`BENCH_DB_URL=${db.url} BENCH_SHOP_ID=${shopId}`);
  process.exit(0);
}

const url = process.env.BENCH_DB_URL;
if (!url) throw new Error("BENCH_DB_URL: run with --prepare first");
const n = Number(process.env.BENCH_LIFECYCLES ?? 150);
const { app } = await createApp({ config: { databaseUrl: url, workers: false, demo: false }, log: () => {} });
await app.ready();
const call = caller(app);
const shopId = process.env.BENCH_SHOP_ID as string;
for (let i = 0; i < 10; i++) await runLifecycle(call, shopId);
const c0 = process.cpuUsage();
const t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: 4 }, async () => {
    while (next++ < n) await runLifecycle(call, shopId);
  }),
);
const u = process.cpuUsage(c0);
console.log(
  `${n} lifecycles: ${((u.user + u.system) / 1000 / n).toFixed(2)} ms of CPU each, ${((performance.now() - t0) / n).toFixed(1)} ms wall`,
);
await app.close();
process.exit(0);
