// Measures every analytics endpoint on the generated 1M-order tenant (npm run bench:data first):
// p50/p95 over HTTP (in-process), next to the plain SQL the same report runs, replayed in the
// same session with the same parameters.
//
//   npm run bench:analytics          DATABASE_URL or postgres://postgres@127.0.0.1:5432/dropdesk_bench
import { Kysely, PostgresDialect } from "kysely";
import type pg from "pg";
import {
  overview,
  reasonsReport,
  resolveRange,
  returnsReport,
  supplierScorecards,
  supplierScores,
  timingsReport,
} from "../src/analytics/analytics.js";
import { createApp } from "../src/app.js";
import { ManualClock } from "../src/platform/clock.js";
import { type Executor, openDb } from "../src/platform/db.js";
import { BENCH_NOW, BENCH_TENANT, BENCH_TOKEN, BENCH_URL } from "./data.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const now = new Date(BENCH_NOW);
const MONTH = "from=2026-10-25&to=2026-11-23";
const QUARTER = "from=2026-08-26&to=2026-11-23";
const YEAR = "from=2025-11-24&to=2026-11-23";

type Run = (ex: Executor) => Promise<unknown>;
const range = (ex: Executor, q: string) => {
  const p = new URLSearchParams(q);
  return resolveRange(ex, BENCH_TENANT, { from: p.get("from") ?? undefined, to: p.get("to") ?? undefined }, now);
};
const CASES: { name: string; url: string; run: Run }[] = [
  { name: "overview, 30 days", url: `/api/v1/analytics/overview?${MONTH}`, run: async (ex) => overview(ex, await range(ex, MONTH), now) },
  { name: "overview, 1 year", url: `/api/v1/analytics/overview?${YEAR}`, run: async (ex) => overview(ex, await range(ex, YEAR), now) },
  {
    name: "returns by day, 30 days",
    url: `/api/v1/analytics/returns?${MONTH}&groupBy=day`,
    run: async (ex) => returnsReport(ex, await range(ex, MONTH), "day"),
  },
  {
    name: "returns by month, 1 year",
    url: `/api/v1/analytics/returns?${YEAR}&groupBy=month`,
    run: async (ex) => returnsReport(ex, await range(ex, YEAR), "month"),
  },
  {
    name: "returns by supplier, 1 year",
    url: `/api/v1/analytics/returns?${YEAR}&groupBy=supplier`,
    run: async (ex) => returnsReport(ex, await range(ex, YEAR), "supplier"),
  },
  {
    name: "returns by SKU, 30 days",
    url: `/api/v1/analytics/returns?${MONTH}&groupBy=sku`,
    run: async (ex) => returnsReport(ex, await range(ex, MONTH), "sku"),
  },
  {
    name: "reasons, 1 year",
    url: `/api/v1/analytics/reasons?${YEAR}`,
    run: async (ex) => reasonsReport(ex, await range(ex, YEAR), "reason"),
  },
  {
    name: "timings, 1 year",
    url: `/api/v1/analytics/timings?${YEAR}`,
    run: async (ex) => timingsReport(ex, await range(ex, YEAR), undefined, now),
  },
  {
    name: "timings by type, 30 days",
    url: `/api/v1/analytics/timings?${MONTH}&groupBy=type`,
    run: async (ex) => timingsReport(ex, await range(ex, MONTH), "type", now),
  },
  {
    name: "suppliers, 90 days",
    url: `/api/v1/analytics/suppliers?${QUARTER}`,
    run: async (ex) => supplierScorecards(ex, await range(ex, QUARTER), now),
  },
  {
    name: "suppliers, 1 year",
    url: `/api/v1/analytics/suppliers?${YEAR}`,
    run: async (ex) => supplierScorecards(ex, await range(ex, YEAR), now),
  },
];

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
async function time(fn: () => Promise<unknown>) {
  await fn();
  await fn();
  const xs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    xs.push(performance.now() - t0);
  }
  return { p50: pct(xs, 50), p95: pct(xs, 95) };
}

async function main() {
  const handle = await openDb({ databaseUrl: BENCH_URL, poolSize: 2 });
  const { app } = await createApp({ handle, clock: new ManualClock(now), config: { workers: false, demo: false }, log: () => {} });
  await app.ready();
  const pool = handle.pool as pg.Pool;
  let captured: { sql: string; parameters: readonly unknown[] }[] = [];
  const logged = new Kysely<any>({
    dialect: new PostgresDialect({ pool }),
    log: (e) => {
      if (e.level === "query") captured.push({ sql: e.query.sql, parameters: e.query.parameters });
    },
  });
  const orders = await pool.query("SELECT count(*) AS n FROM orders WHERE tenant_id = $1", [BENCH_TENANT]);
  const cases = await pool.query("SELECT count(*) AS n FROM cases WHERE tenant_id = $1", [BENCH_TENANT]);
  console.log(`tenant with ${orders.rows[0].n} orders and ${cases.rows[0].n} cases; ${RUNS} runs after 2 warm-ups`);
  const lines = ["| Endpoint | HTTP p50 | HTTP p95 | SQL p50 | SQL p95 | statements |", "|---|---:|---:|---:|---:|---:|"];
  for (const c of CASES) {
    const http = await time(async () => {
      const res = await app.inject({ method: "GET", url: c.url, headers: { authorization: `Bearer ${BENCH_TOKEN}` } });
      if (res.statusCode !== 200) throw new Error(`${c.url}: ${res.statusCode} ${res.body}`);
    });
    captured = [];
    await c.run(logged);
    const statements = captured;
    const plain = await time(async () => {
      for (const s of statements) await pool.query(s.sql, s.parameters as unknown[]);
    });
    const line = `| ${c.name} | ${http.p50.toFixed(0)} ms | ${http.p95.toFixed(0)} ms | ${plain.p50.toFixed(0)} ms | ${plain.p95.toFixed(0)} ms | ${statements.length} |`;
    console.log(line);
    lines.push(line);
  }
  const scores = await time(() => supplierScores(handle.db, BENCH_TENANT, now));
  const line = `| supplierScores() for routing, 90 days | — | — | ${scores.p50.toFixed(0)} ms | ${scores.p95.toFixed(0)} ms | 1 |`;
  console.log(line);
  lines.push(line);
  console.log(`\n${lines.join("\n")}`);
  await app.close();
  await handle.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
