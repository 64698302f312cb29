// `npm run bench`: every benchmark, each printed next to a baseline measured in the same run.
// `npm run bench -- http lifecycle import analytics` runs a selection; BENCH_SECONDS sets each load's length.
// BENCH_NODE_ARGS adds Node options to the server a bench starts (e.g. "--cpu-prof"; the idle bench takes BENCH_IDLE_CMD).
import { benchAnalytics } from "./analytics.js";
import { benchBackfill } from "./backfill.js";
import { benchCpu } from "./cpu.js";
import { benchHttp } from "./http.js";
import { benchIdle } from "./idle.js";
import { benchImport } from "./import.js";
import { benchLifecycle } from "./lifecycle.js";
import { benchStatements } from "./statements.js";
import { benchWeb } from "./web.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const all: Record<string, (s: number) => Promise<string[]>> = {
  http: benchHttp,
  lifecycle: benchLifecycle,
  import: benchImport,
  // CPU milliseconds per lifecycle (server, PostgreSQL, client) beside plain PostgreSQL's: less noisy than rates.
  cpu: benchCpu,
  // A 100k-order Shopify backfill from the emulator beside the CSV import of as many (BENCH_BACKFILL_ORDERS).
  backfill: () => benchBackfill(),
  // On the 1M-order tenant of bench/data.ts (generated on first use, ~2.5 min).
  analytics: () => benchAnalytics(),
  // The embedded server of `npm start`: start to /health, RSS after the demo seed, idle CPU.
  idle: () => benchIdle(),
  // Not a timing: the SQL statements each lifecycle step sends (VERBOSE=1 lists them).
  statements: () => benchStatements(),
  // The portal lookup and the console sign-in in Chromium on Slow 4G with the CPU 4× slower, beside unthrottled.
  web: () => benchWeb(),
};
const chosen = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const names = chosen.length ? chosen : Object.keys(all);

console.log(
  `Dropdesk benchmarks — ${new Date().toISOString()}, ${seconds} s per load, machine: ${(await import("node:os")).cpus().length} cores`,
);
for (const name of names) {
  const run = all[name];
  if (!run) {
    console.error(`unknown benchmark ${name}; known: ${Object.keys(all).join(", ")}`);
    process.exitCode = 2;
    continue;
  }
  console.log(`\n## ${name}\n`);
  try {
    for (const line of await run(seconds)) console.log(line);
  } catch (e) {
    console.error(`benchmark ${name} failed: ${e instanceof Error ? e.stack : e}`);
    process.exitCode = 1;
  }
}
