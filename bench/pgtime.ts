// PostgreSQL's own time per statement text during lifecycles (concurrency C, default 1): the bench
// database logs every statement's duration (log_min_duration_statement = 0, set on that database
// only), and the log's new lines are summed per text and per protocol phase (parse, bind — where a
// custom plan is made —, execute). Needs read access to the server's log (BENCH_PG_LOG).
//
//   node --import tsx bench/pgtime.ts        (BENCH_SECONDS, C, TOP)
import { readFileSync, statSync } from "node:fs";
import pg from "pg";
import { freshPgDb, loop, PG_ADMIN_URL, startServer } from "./lib.js";
import { runLifecycle, serverCall, setupCatalog } from "./lifecycle.js";

const LOG = process.env.BENCH_PG_LOG ?? "/var/log/postgresql/postgresql-15-main.log";
const db = await freshPgDb("dd_pgtime");
const dbName = new URL(db.url).pathname.slice(1);
const admin = new pg.Client(PG_ADMIN_URL);
await admin.connect();
await admin.query(`ALTER DATABASE ${dbName} SET log_min_duration_statement = 0`);
const server = await startServer({ databaseUrl: db.url, processes: 2, port: 39850 });
const call = serverCall(server);
const shopId = await setupCatalog(call);
await loop(1, 3, async () => {
  await runLifecycle(call, shopId);
});
const from = statSync(LOG).size;
const r = await loop(Number(process.env.C ?? 1), Number(process.env.BENCH_SECONDS ?? 10), async () => {
  await runLifecycle(call, shopId);
});
const n = r.ops * Number(process.env.BENCH_SECONDS ?? 10);
await new Promise((res) => setTimeout(res, 500));
const to = statSync(LOG).size;
await server.stop();
await admin.query(`ALTER DATABASE ${dbName} RESET log_min_duration_statement`);
await admin.end();
await db.drop();
const text = readFileSync(LOG).subarray(from, to).toString("utf8");
const entries = text.split(/\n(?=\d{4}-\d\d-\d\d )/);
const agg = new Map<string, { n: number; ms: number }>();
let total = 0;
for (const e of entries) {
  const m = /duration: ([\d.]+) ms\s+(?:(parse|bind|execute) [^:]*|statement): ([\s\S]*)/.exec(e);
  if (!m) continue;
  const ms = Number(m[1]);
  const key = `${m[2] ?? "simple"} ${m[3]
    .replace(/^\s+/, "")
    .split("\n")
    .slice(0, 2)
    .join(" ")
    .replace(/\s+/g, " ")
    .replace(/DETAIL:.*/, "")
    .slice(0, 150)}`;
  const s = agg.get(key) ?? { n: 0, ms: 0 };
  agg.set(key, { n: s.n + 1, ms: s.ms + ms });
  total += ms;
}
console.log(`lifecycles ${n}, PostgreSQL statement time per lifecycle ${(total / n).toFixed(2)} ms`);
const byPhase = new Map<string, number>();
for (const [k, v] of agg) byPhase.set(k.split(" ")[0], (byPhase.get(k.split(" ")[0]) ?? 0) + v.ms);
console.log([...byPhase].map(([k, v]) => `${k} ${(v / n).toFixed(2)}`).join(", "));
for (const [k, v] of [...agg].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(process.env.TOP ?? 40)))
  console.log(`${(v.ms / n).toFixed(3).padStart(7)} ms/lc ${(v.n / n).toFixed(1).padStart(5)}×  ${(v.ms / v.n).toFixed(3)}  ${k}`);
