// How many SQL statements each step of the lifecycle sends: the lever the CPU profile points at
// (each statement is one socket write and one round trip). Runs one lifecycle in-process on a
// fresh PostgreSQL database with the job worker off, counting the statements of each request
// (every `pg` Client.query: Kysely's, pg-boss's and raw ones alike, so one per round trip: a BEGIN
// or an audit entry sent in the same write as the next statement is counted with it), beside the
// statements the lifecycle bench's plain-PostgreSQL baseline sends for the same step, and the statements of the
// event jobs (notifications, webhooks, surveys) each step queued, run right after it as the worker
// would (BEGIN/COMMIT included; the carrier, channel and connector queues are not counted).
//
//   npm run bench -- statements          (prints one row per step; add VERBOSE=1 for the SQL)
import pg from "pg";
import { createApp } from "../src/app.js";
import { addAdminToken, freshPgDb } from "./lib.js";
import { baselineContext, baselineLifecycle, type Call, runLifecycle, STEPS, type Step, setupCatalog } from "./lifecycle.js";

export async function benchStatements(): Promise<string[]> {
  const db = await freshPgDb("dd_stmts");
  const { app, deps, tenantId } = await createApp({ config: { databaseUrl: db.url, workers: false, demo: false }, log: () => {} });
  const out: string[] = [];
  try {
    await app.ready();
    const token = "ddt_statements_bench_0123456789abcdef";
    await addAdminToken(deps, tenantId, token);
    let log: string[] | null = null;
    const original = pg.Client.prototype.query;
    // With VERBOSE=1 each statement is listed with the time from sending it to its answer (one
    // lifecycle alone on the machine: mostly PostgreSQL's own time for it).
    const timed = new Map<string, { n: number; ms: number }>();
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const result = (original as (...a: unknown[]) => unknown).apply(this, args);
      if (log) {
        const q = args[0] as string | { text: string };
        const text = (typeof q === "string" ? q : q.text).replace(/\s+/g, " ").slice(0, 140);
        const entry = { text, ms: 0 };
        log.push(text);
        const t0 = performance.now();
        if (result instanceof Promise)
          result.then(
            () => {
              entry.ms = performance.now() - t0;
              const key = text.slice(0, 90);
              const s = timed.get(key) ?? { n: 0, ms: 0 };
              timed.set(key, { n: s.n + 1, ms: s.ms + entry.ms });
            },
            () => {},
          );
      }
      return result;
    } as typeof original;
    const call: Call = async (step, url, body = {}) => {
      log = [];
      const r = await app.inject({ method: "POST", url, payload: body as object, headers: { authorization: `Bearer ${token}` } });
      const sent = log;
      log = null;
      if (r.statusCode >= 300) throw new Error(`${step}: ${r.statusCode} ${r.body}`);
      // The event jobs the step queued, run at once as the worker would run them after it.
      log = [];
      await (deps.services.runPendingJobs as () => Promise<number>)();
      const jobs = log;
      log = null;
      counts.set(step, { sent: sent.filter((s) => !/^(BEGIN|COMMIT)/i.test(s)).length, all: sent.length, jobs: jobs.length });
      if (process.env.VERBOSE)
        verbose.push(`${step}:`, ...sent.map((s) => `    ${s}`), `  ${step}, event jobs:`, ...jobs.map((s) => `    ${s}`));
      return r.json();
    };
    const counts = new Map<string, { sent: number; all: number; jobs: number }>();
    const verbose: string[] = [];
    const shopId = await setupCatalog(call);
    verbose.length = 0;
    await runLifecycle(call, shopId);
    // A second lifecycle, once the statements are prepared on the connections: statements marked to
    // ride with the next one go alone the first time a connection sees their text.
    const first = new Map(counts);
    const listedFirst = verbose.length;
    await runLifecycle(call, shopId);
    const warm = new Map(counts);
    for (const [k, v] of first) counts.set(k, v);
    verbose.length = listedFirst;
    // The times: three more lifecycles, once every statement has been prepared and planned.
    if (process.env.VERBOSE) {
      const listed = verbose.length;
      timed.clear();
      for (let i = 0; i < 3; i++) await runLifecycle(call, shopId);
      verbose.length = listed;
    }
    pg.Client.prototype.query = original;
    // The baseline's statements per step, counted by running them (one transaction per step).
    const base = new Map<Step, number>();
    const ctx = await baselineContext(deps.h as never);
    await baselineLifecycle(async (step, stmts) => {
      for (const [q, v] of stmts) await deps.h.query(q, v);
      base.set(step, stmts.length);
    }, ctx);
    out.push(
      "| step | statements | with BEGIN/COMMIT | the same, second lifecycle | baseline (plain SQL) | × baseline | event jobs afterwards |",
      "|---|---:|---:|---:|---:|---:|---:|",
    );
    const total = { sent: 0, all: 0, warm: 0, base: 0, jobs: 0 };
    for (const step of STEPS) {
      const c = counts.get(step) ?? { sent: 0, all: 0, jobs: 0 };
      const b = base.get(step) ?? 0;
      total.sent += c.sent;
      total.all += c.all;
      total.base += b;
      total.jobs += c.jobs;
      const w = warm.get(step)?.all ?? 0;
      total.warm += w;
      out.push(`| ${step} | ${c.sent} | ${c.all} | ${w} | ${b} | ${b ? (c.sent / b).toFixed(1) : "—"} | ${c.jobs} |`);
    }
    out.push(
      `| **lifecycle** | **${total.sent}** | **${total.all}** | **${total.warm}** | **${total.base}** | **${(total.sent / total.base).toFixed(1)}** | **${total.jobs}** |`,
    );
    out.push(...verbose);
    if (process.env.VERBOSE) {
      out.push("", "Slowest statements per lifecycle (ms from sending to the answer, summed; mean of three warm lifecycles):");
      for (const [k, v] of [...timed].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25))
        out.push(`${(v.ms / 3).toFixed(1).padStart(7)} ms  ×${v.n / 3}  ${k}`);
    }
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
