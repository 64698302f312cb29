// `node --import tsx bench/profile.ts`: a CPU profile of the server under the lifecycle load
// (one process, concurrency 8, BENCH_SECONDS), then the functions with the most self time.
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { freshPgDb, loop, startServer } from "./lib.js";
import { runLifecycle, serverCall, setupCatalog } from "./lifecycle.js";

const dir = "/tmp/dd-prof";
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir);
const db = await freshPgDb();
const server = await startServer({ databaseUrl: db.url, processes: 1, port: 39830, nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${dir}`] });
const call = serverCall(server);
const shopId = await setupCatalog(call);
const r = await loop(8, Number(process.env.BENCH_SECONDS ?? 15), async () => {
  await runLifecycle(call, shopId);
});
console.log("lifecycles/s", r.ops);
// The profile is written when the process exits: give it the time stop() does not.
process.kill(server.pid, "SIGTERM");
for (let i = 0; i < 100 && readdirSync(dir).length === 0; i++) await new Promise((res) => setTimeout(res, 200));
await new Promise((res) => setTimeout(res, 1000));
await server.stop();
await db.drop();
for (const f of readdirSync(dir)) {
  const p = JSON.parse(readFileSync(join(dir, f), "utf8"));
  const self = new Map<string, number>();
  // Self time by where the code lives: a package, Node's own modules, Dropdesk's src/, or V8's
  // (program), (garbage collector) and (idle).
  const byPlace = new Map<string, number>();
  const dt = (p.endTime - p.startTime) / p.samples.length;
  const byId = new Map(p.nodes.map((n: any) => [n.id, n]));
  const counts = new Map<number, number>();
  for (const s of p.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
  let total = 0;
  for (const [id, c] of counts) {
    const n: any = byId.get(id);
    const url = String(n.callFrame.url)
      .replace(/.*node_modules\//, "nm:")
      .replace(/.*\/work\/main\//, "");
    const key = `${n.callFrame.functionName || "(anon)"} ${url}:${n.callFrame.lineNumber}`;
    self.set(key, (self.get(key) ?? 0) + c * dt);
    const place = url.startsWith("nm:")
      ? url
          .slice(3)
          .split("/")
          .slice(0, url.slice(3).startsWith("@") ? 2 : 1)
          .join("/")
      : url.startsWith("node:")
        ? "node:internal"
        : url.startsWith("src/")
          ? `src/${url.split("/")[1]}`
          : url || String(n.callFrame.functionName);
    byPlace.set(place, (byPlace.get(place) ?? 0) + c * dt);
    total += c * dt;
  }
  console.log(`\n${f}: ${(total / 1000).toFixed(0)} ms sampled`);
  for (const [k, v] of [...byPlace].sort((a, b) => b[1] - a[1]).slice(0, 25))
    console.log(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
  console.log("");
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40))
    console.log(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
}
