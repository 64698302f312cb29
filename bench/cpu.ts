// CPU time per lifecycle: what the lifecycle bench's throughput ratio comes down to on a machine
// whose cores are all busy, measured as CPU seconds rather than as a rate, so that it moves much
// less with what else the machine runs. Dropdesk (the compiled server, two processes, PostgreSQL)
// runs lifecycles at concurrency 8 for BENCH_SECONDS; then plain PostgreSQL does the same writes
// (the lifecycle bench's baseline). For each: the CPU milliseconds per lifecycle of the server
// processes, of PostgreSQL's processes and of this process (the client).
import { readdirSync, readFileSync } from "node:fs";
import { fmt, freshPgDb, loop, startServer } from "./lib.js";
import { baseline, runLifecycle, serverCall, setupCatalog } from "./lifecycle.js";

const TICK_MS = 10; // USER_HZ = 100 on Linux

/** utime + stime of the processes whose command matches, in ms (`kernel`: stime alone). */
function cpuOf(match: (pid: number, ppid: number, comm: string) => boolean, kernel = false): number {
  let ms = 0;
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const st = readFileSync(`/proc/${p}/stat`, "utf8");
      const comm = st.slice(st.indexOf("(") + 1, st.lastIndexOf(")"));
      const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
      if (match(Number(p), Number(f[1]), comm)) ms += ((kernel ? 0 : Number(f[11])) + Number(f[12])) * TICK_MS;
    } catch {}
  }
  return ms;
}
const postgresCpu = () => cpuOf((_p, _pp, comm) => comm.startsWith("postgres"));
const selfCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export async function benchCpu(seconds: number): Promise<string[]> {
  const db = await freshPgDb();
  const server = await startServer({ databaseUrl: db.url, processes: 2, port: 39840 });
  const ofServer = (pid: number, ppid: number) => pid === server.pid || ppid === server.pid;
  const serverCpu = () => cpuOf(ofServer);
  const serverKernel = () => cpuOf(ofServer, true);
  const call = serverCall(server);
  try {
    const shopId = await setupCatalog(call);
    await runLifecycle(call, shopId); // warm up
    const before = { server: serverCpu(), kernel: serverKernel(), pg: postgresCpu(), client: selfCpu() };
    const lifecycles = await loop(8, seconds, async () => {
      await runLifecycle(call, shopId);
    });
    const n = Math.round(lifecycles.ops * seconds);
    // The event jobs the lifecycles queued finish within a few seconds; their CPU counts too.
    await new Promise((res) => setTimeout(res, 3000));
    const dd = {
      server: (serverCpu() - before.server) / n,
      kernel: (serverKernel() - before.kernel) / n,
      pg: (postgresCpu() - before.pg) / n,
      client: (selfCpu() - before.client) / n,
    };
    const b0 = { pg: postgresCpu(), client: selfCpu() };
    // Read before the baseline's pool closes: PostgreSQL's processes for its connections end with it.
    let b1 = b0;
    const bn = Math.round((await baseline(db.url, seconds, 8, () => (b1 = { pg: postgresCpu(), client: selfCpu() }))).ops * seconds);
    const base = { server: 0, kernel: 0, pg: (b1.pg - b0.pg) / bn, client: (b1.client - b0.client) / bn };
    const total = (x: typeof dd) => x.server + x.pg + x.client;
    return [
      "| run (concurrency 8) | lifecycles | server ms | of which in the kernel | PostgreSQL ms | client ms | total CPU ms per lifecycle | baseline ÷ this |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      `| Dropdesk (2 processes) | ${n} | ${fmt(dd.server, 1)} | ${fmt(dd.kernel, 1)} | ${fmt(dd.pg, 1)} | ${fmt(dd.client, 1)} | ${fmt(total(dd), 1)} | ${(total(base) / total(dd)).toFixed(2)}× |`,
      `| plain PostgreSQL, same writes | ${bn} | — | — | ${fmt(base.pg, 1)} | ${fmt(base.client, 1)} | ${fmt(total(base), 1)} | 1.00× |`,
    ];
  } finally {
    await server.stop();
    await db.drop();
  }
}
