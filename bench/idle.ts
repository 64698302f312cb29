// The embedded server's footprint, as a user gets it from `npm start`: a fresh data directory
// (migrations, the demo business), the time from spawning the process to the first answer of
// /health, its resident memory once seeded, and the CPU it uses over a minute with nothing to do;
// then a second start on the same data directory (no seed), timed to /health again.
//
//   npm run bench -- idle            (BENCH_IDLE_SECONDS sets the idle window, default 60)
//   BENCH_IDLE_CMD="node --import tsx src/cli.ts start" npm run bench -- idle   (another command)
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fmt, SERVER_OPTIONS, sleep } from "./lib.js";

const TICKS = 100; // USER_HZ on Linux

/** The command `npm start` runs once `prestart` has built the server (see package.json). */
export const START_CMD = process.env.BENCH_IDLE_CMD ?? `node ${SERVER_OPTIONS.join(" ")} dist/dropdesk.mjs start`;

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : 0;
}
function cpuTicks(pid: number): number {
  // Fields after the command name (which may hold spaces): utime is the 14th field, stime the 15th.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
}

async function start(dataDir: string, port: number) {
  const [cmd, ...args] = START_CMD.split(" ");
  const t0 = performance.now();
  const child: ChildProcess = spawn(cmd === "node" ? process.execPath : cmd, args, {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: "",
      DROPDESK_DATA_DIR: dataDir,
      DROPDESK_DEMO: "1",
      DROPDESK_ADMIN_EMAIL: "idle@dropdesk.test",
      DROPDESK_ADMIN_PASSWORD: "quiet evening measured twice",
      LOG_LEVEL: "error",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  child.stderr?.on("data", (d) => {
    err += d;
  });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${err}`);
    if (performance.now() - t0 > 300_000) throw new Error(`no /health after 300 s: ${err}`);
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await sleep(50);
  }
  const ms = performance.now() - t0;
  return {
    child,
    ms,
    async stop() {
      child.kill("SIGTERM");
      for (let i = 0; i < 100 && child.exitCode === null; i++) await sleep(100);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}

export async function benchIdle(): Promise<string[]> {
  const idleSeconds = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
  const dataDir = mkdtempSync(join(tmpdir(), "dd-idle-"));
  const port = 39870;
  try {
    const first = await start(dataDir, port);
    const pid = first.child.pid as number;
    // Let start-up work that runs a few seconds after listening (analytics schedule, reconciliation) pass.
    await sleep(10_000);
    const rssSeeded = rssMb(pid);
    const c0 = cpuTicks(pid);
    const w0 = performance.now();
    await sleep(idleSeconds * 1000);
    const cpu = (cpuTicks(pid) - c0) / TICKS / ((performance.now() - w0) / 1000);
    const rssIdle = rssMb(pid);
    await first.stop();
    const second = await start(dataDir, port);
    const rssRestart = rssMb(second.child.pid as number);
    await second.stop();
    return [
      `command: \`${START_CMD}\` (embedded PGlite, demo data)`,
      "",
      "| figure | value |",
      "| --- | ---: |",
      `| first start (migrations + demo seed) to /health | ${fmt(first.ms / 1000, 1)} s |`,
      `| RSS after the demo seed (+10 s) | ${fmt(rssSeeded, 0)} MB |`,
      `| CPU while idle over ${idleSeconds} s | ${fmt(cpu * 100, 2)} % of one core |`,
      `| RSS after the idle minute | ${fmt(rssIdle, 0)} MB |`,
      `| second start (same data) to /health | ${fmt(second.ms / 1000, 1)} s |`,
      `| RSS after the second start | ${fmt(rssRestart, 0)} MB |`,
    ];
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
