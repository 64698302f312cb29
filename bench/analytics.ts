// Measures every analytics endpoint on the generated 1M-order tenant (generated first when the
// database is missing): the rollup refresh (full, then after 1,000 changed orders), then per
// endpoint p50/p95 over HTTP (in-process), next to the plain SQL the same report runs, replayed in
// the same session with the same parameters, and next to the same report read without the rollup.
//
//   npm run bench -- analytics       (part of npm run bench)
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
import { refreshAnalytics } from "../src/analytics/analytics.routes.js";
import { createApp } from "../src/app.js";
import { ManualClock } from "../src/platform/clock.js";
import { type Executor, openDb } from "../src/platform/db.js";
import { BENCH_NOW, BENCH_TENANT, BENCH_TOKEN, BENCH_URL, generate } from "./data.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const now = new Date(BENCH_NOW);
const MONTH = "from=2026-10-25&to=2026-11-23";
const QUARTER = "from=2026-08-26&to=2026-11-23";
const YEAR = "from=2025-11-24&to=2026-11-23";

type Run = (ex: Executor, live: boolean) => Promise<unknown>;
const range = (ex: Executor, q: string, live: boolean) => {
  const p = new URLSearchParams(q);
  return resolveRange(ex, BENCH_TENANT, { from: p.get("from") ?? undefined, to: p.get("to") ?? undefined, live }, now);
};
const CASES: { name: string; url: string; run: Run }[] = [
  {
    name: "overview, 30 days",
    url: `/api/v1/analytics/overview?${MONTH}`,
    run: async (ex, live) => overview(ex, await range(ex, MONTH, live), now),
  },
  {
    name: "overview, 1 year",
    url: `/api/v1/analytics/overview?${YEAR}`,
    run: async (ex, live) => overview(ex, await range(ex, YEAR, live), now),
  },
  {
    name: "returns by day, 30 days",
    url: `/api/v1/analytics/returns?${MONTH}&groupBy=day`,
    run: async (ex, live) => returnsReport(ex, await range(ex, MONTH, live), "day"),
  },
  {
    name: "returns by month, 1 year",
    url: `/api/v1/analytics/returns?${YEAR}&groupBy=month`,
    run: async (ex, live) => returnsReport(ex, await range(ex, YEAR, live), "month"),
  },
  {
    name: "returns by supplier, 1 year",
    url: `/api/v1/analytics/returns?${YEAR}&groupBy=supplier`,
    run: async (ex, live) => returnsReport(ex, await range(ex, YEAR, live), "supplier"),
  },
  {
    name: "returns by SKU, 30 days",
    url: `/api/v1/analytics/returns?${MONTH}&groupBy=sku`,
    run: async (ex, live) => returnsReport(ex, await range(ex, MONTH, live), "sku"),
  },
  {
    name: "reasons, 1 year",
    url: `/api/v1/analytics/reasons?${YEAR}`,
    run: async (ex, live) => reasonsReport(ex, await range(ex, YEAR, live), "reason"),
  },
  {
    name: "timings, 1 year",
    url: `/api/v1/analytics/timings?${YEAR}`,
    run: async (ex, live) => timingsReport(ex, await range(ex, YEAR, live), undefined, now),
  },
  {
    name: "timings by type, 30 days",
    url: `/api/v1/analytics/timings?${MONTH}&groupBy=type`,
    run: async (ex, live) => timingsReport(ex, await range(ex, MONTH, live), "type", now),
  },
  {
    name: "suppliers, 90 days",
    url: `/api/v1/analytics/suppliers?${QUARTER}`,
    run: async (ex, live) => supplierScorecards(ex, await range(ex, QUARTER, live), now),
  },
  {
    name: "suppliers, 1 year",
    url: `/api/v1/analytics/suppliers?${YEAR}`,
    run: async (ex, live) => supplierScorecards(ex, await range(ex, YEAR, live), now),
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

/** Whether the bench database holds the generated tenant. */
async function hasDataset(): Promise<boolean> {
  const u = new URL(BENCH_URL);
  const name = u.pathname.slice(1);
  u.pathname = "/postgres";
  const { default: pg } = await import("pg");
  const admin = new pg.Client({ connectionString: u.toString() });
  await admin.connect();
  try {
    const db = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (!db.rowCount) return false;
  } finally {
    await admin.end();
  }
  const c = new pg.Client({ connectionString: BENCH_URL });
  await c.connect();
  try {
    const r = await c.query("SELECT count(*) AS n FROM cases WHERE tenant_id = $1", [BENCH_TENANT]).catch(() => ({ rows: [{ n: 0 }] }));
    return Number(r.rows[0].n) > 0;
  } finally {
    await c.end();
  }
}

export async function benchAnalytics(): Promise<string[]> {
  if (!(await hasDataset())) {
    console.log("generating the 1M-order dataset (npm run bench:data) …");
    await generate();
  }
  const handle = await openDb({ databaseUrl: BENCH_URL, poolSize: 2 });
  const { app, deps } = await createApp({ handle, clock: new ManualClock(now), config: { workers: false, demo: false }, log: () => {} });
  await app.ready();
  const pool = handle.pool as pg.Pool;
  const out: string[] = [];
  const say = (line: string) => out.push(line);
  try {
    let captured: { sql: string; parameters: readonly unknown[] }[] = [];
    const logged = new Kysely<any>({
      dialect: new PostgresDialect({ pool }),
      log: (e) => {
        if (e.level === "query") captured.push({ sql: e.query.sql, parameters: e.query.parameters });
      },
    });
    const orders = await pool.query("SELECT count(*) AS n FROM orders WHERE tenant_id = $1", [BENCH_TENANT]);
    const cases = await pool.query("SELECT count(*) AS n FROM cases WHERE tenant_id = $1", [BENCH_TENANT]);
    say(`tenant with ${orders.rows[0].n} orders and ${cases.rows[0].n} cases; ${RUNS} runs after 2 warm-ups`);
    // Undo the changes an earlier run made (orders are generated with updated_at = placed_at).
    await pool.query("UPDATE orders SET updated_at = placed_at WHERE tenant_id = $1 AND updated_at <> placed_at", [BENCH_TENANT]);
    const full = await refreshAnalytics(deps, BENCH_TENANT, true);
    await pool.query(
      `UPDATE orders SET updated_at = $2 WHERE id IN (SELECT id FROM orders WHERE tenant_id = $1
        AND placed_at >= $2::timestamptz - interval '14 days' ORDER BY md5(id::text) LIMIT 1000)`,
      [BENCH_TENANT, now],
    );
    const inc = await refreshAnalytics(deps, BENCH_TENANT);
    say(
      `rollup refresh: full ${(full.ms / 1000).toFixed(1)} s; after 1,000 changed orders of the last two weeks ${(inc.ms / 1000).toFixed(1)} s (${inc.zones[0].orderDays} days rebuilt)`,
    );
    say("");
    say("| Endpoint | HTTP p50 | HTTP p95 | SQL p50 | SQL p95 | statements | without rollup, SQL p50 |");
    say("|---|---:|---:|---:|---:|---:|---:|");
    const replay = async (c: (typeof CASES)[number], live: boolean) => {
      captured = [];
      await c.run(logged, live);
      const statements = captured;
      const t = await time(async () => {
        for (const s of statements) await pool.query(s.sql, s.parameters as unknown[]);
      });
      return { ...t, statements: statements.length };
    };
    for (const c of CASES) {
      const http = await time(async () => {
        const res = await app.inject({ method: "GET", url: c.url, headers: { authorization: `Bearer ${BENCH_TOKEN}` } });
        if (res.statusCode !== 200) throw new Error(`${c.url}: ${res.statusCode} ${res.body}`);
      });
      const plain = await replay(c, false);
      const live = await replay(c, true);
      say(
        `| ${c.name} | ${http.p50.toFixed(0)} ms | ${http.p95.toFixed(0)} ms | ${plain.p50.toFixed(0)} ms | ${plain.p95.toFixed(0)} ms | ${plain.statements} | ${live.p50.toFixed(0)} ms |`,
      );
    }
    const scores = await time(() => supplierScores(handle.db, BENCH_TENANT, now));
    say(`| supplierScores() for routing, 90 days | — | — | ${scores.p50.toFixed(0)} ms | ${scores.p95.toFixed(0)} ms | 1 | — |`);
  } finally {
    await app.close();
    await handle.close();
  }
  return out;
}

if (process.argv[1]?.endsWith("analytics.ts")) {
  benchAnalytics().then(
    (lines) => console.log(lines.join("\n")),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
