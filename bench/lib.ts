import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import pg from "pg";
// @ts-expect-error: a plain .mjs script without types
import { buildServer, SERVER_BUNDLE, SERVER_NODE_OPTIONS } from "../scripts/build-server.mjs";
import type { Deps } from "../src/platform/context.js";
import { sha256 } from "../src/platform/ids.js";

export const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const ADMIN = { email: "bench@dropdesk.test", password: "lifecycle load 2026 under test" };

/** A new empty PostgreSQL database for one benchmark; dropped by `drop()`. */
export async function freshPgDb(prefix = "dd_bench") {
  const name = `${prefix}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = new pg.Client({ connectionString: PG_ADMIN_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

export interface Server {
  url: string;
  token: string;
  pid: number;
  stop(): Promise<void>;
}

/** The Node options `npm start` runs the server with (scripts/build-server.mjs). */
export const SERVER_OPTIONS: string[] = SERVER_NODE_OPTIONS;

/** Gives an in-process bench's app an admin API token for the tenant's first user. */
export async function addAdminToken(deps: Deps, tenantId: string, token: string): Promise<void> {
  const admin = await deps.db.selectFrom("users").select("id").where("tenant_id", "=", tenantId).executeTakeFirstOrThrow();
  await deps.db
    .insertInto("api_tokens")
    .values({
      id: crypto.randomUUID(),
      tenant_id: tenantId,
      name: "bench",
      role: "admin",
      token_hash: sha256(token),
      prefix: token.slice(0, 10),
      created_by: admin.id,
    })
    .execute();
}

/** Starts Dropdesk as a user would (`npm start`: the compiled `dropdesk start`), signs in and makes an admin API token. */
export async function startServer(opts: { databaseUrl?: string; processes?: number; port: number; nodeArgs?: string[] }): Promise<Server> {
  const dataDir = opts.databaseUrl ? undefined : mkdtempSync(join(tmpdir(), "dd-bench-"));
  // The compiled server that `npm start` runs (built when older than src/), not src/ through tsx.
  await buildServer({ quiet: true });
  // BENCH_NODE_ARGS adds Node options to the server of any bench (a preload that samples memory, --cpu-prof).
  const extra = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...SERVER_OPTIONS, ...extra, ...(opts.nodeArgs ?? []), SERVER_BUNDLE, "start"], {
    env: {
      ...process.env,
      PORT: String(opts.port),
      HOST: "127.0.0.1",
      DROPDESK_DEMO: "0",
      DROPDESK_ADMIN_EMAIL: ADMIN.email,
      DROPDESK_ADMIN_PASSWORD: ADMIN.password,
      DROPDESK_PROCESSES: String(opts.processes ?? 1),
      LOG_LEVEL: "error",
      ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : { DATABASE_URL: "", DROPDESK_DATA_DIR: dataDir }),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 90_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes("Dropdesk is running")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
  const url = `http://127.0.0.1:${opts.port}`;
  // Give the other cluster workers a moment to listen too.
  if ((opts.processes ?? 1) > 1) await new Promise((r) => setTimeout(r, 3000));
  const login = await fetch(`${url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(ADMIN),
  });
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0];
  const tok = await fetch(`${url}/api/v1/api-tokens`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie },
    body: JSON.stringify({ name: "bench", role: "admin" }),
  });
  const token = ((await tok.json()) as { token: string }).token;
  return {
    url,
    token,
    pid: child.pid as number,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 500));
      if (child.exitCode === null) child.kill("SIGKILL");
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A client for the benches' own request loops: node:http over kept-alive connections. Node's
 * `fetch` costs the client ~0.3 ms of CPU more per request (its WHATWG streams), CPU that a bench
 * on these two cores takes from the server and the database it measures; autocannon, which drives
 * the single-route benches, is as lean as this.
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
export function httpRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...opts.headers };
    if (opts.body !== undefined) headers["content-length"] = Buffer.byteLength(opts.body);
    const req = http.request(url, { method: opts.method ?? "GET", agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/** Drives one route with autocannon; `body` may be a function to vary each request. */
export async function load(opts: {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: () => unknown;
  connections?: number;
  seconds?: number;
}): Promise<LoadResult> {
  const r = await autocannon({
    url: opts.url,
    method: opts.method ?? "GET",
    connections: opts.connections ?? 16,
    duration: opts.seconds ?? 10,
    headers: { "content-type": "application/json", ...opts.headers },
    requests: opts.body ? [{ setupRequest: (req) => ({ ...req, body: JSON.stringify(opts.body?.()) }) }] : undefined,
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx };
}

/** Runs `work` from `concurrency` loops for `seconds`; returns operations per second and latency. */
export async function loop(concurrency: number, seconds: number, work: (i: number) => Promise<void>) {
  const until = Date.now() + seconds * 1000;
  const lat: number[] = [];
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        const t0 = performance.now();
        await work(n++);
        lat.push(performance.now() - t0);
      }
    }),
  );
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0;
  return { ops: lat.length / seconds, p50: q(0.5), p99: q(0.99) };
}

export const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
export const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : "n/a");
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
