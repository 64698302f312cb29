// How many SQL statements each step of the lifecycle sends: the lever the CPU profile points at
// (each statement is one socket write and one round trip). Runs one lifecycle in-process on a
// fresh PostgreSQL database with the job worker off, counting the statements of each request.
//
//   npm run bench -- statements          (prints one row per step; add VERBOSE=1 for the SQL)
import pg from "pg";
import { createApp } from "../src/app.js";
import { sha256 } from "../src/platform/ids.js";
import { freshPgDb } from "./lib.js";
import { type Call, runLifecycle, setupCatalog } from "./lifecycle.js";

export async function benchStatements(): Promise<string[]> {
  const db = await freshPgDb("dd_stmts");
  const { app, deps, tenantId } = await createApp({ config: { databaseUrl: db.url, workers: false, demo: false }, log: () => {} });
  const out: string[] = [];
  try {
    await app.ready();
    const admin = await deps.db.selectFrom("users").select("id").where("tenant_id", "=", tenantId).executeTakeFirstOrThrow();
    const token = "ddt_statements_bench_0123456789abcdef";
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
    let log: string[] | null = null;
    const original = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      if (log) {
        const q = args[0] as string | { text: string };
        log.push((typeof q === "string" ? q : q.text).replace(/\s+/g, " ").slice(0, 140));
      }
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
    const call: Call = async (step, url, body = {}) => {
      log = [];
      const r = await app.inject({ method: "POST", url, payload: body as object, headers: { authorization: `Bearer ${token}` } });
      const sent = log;
      log = null;
      if (r.statusCode >= 300) throw new Error(`${step}: ${r.statusCode} ${r.body}`);
      out.push(`| ${step} | ${sent.filter((s) => !/^(BEGIN|COMMIT)/i.test(s)).length} | ${sent.length} |`);
      if (process.env.VERBOSE) for (const s of sent) out.push(`    ${s}`);
      return r.json();
    };
    const shopId = await setupCatalog(call);
    out.length = 0;
    out.push("| step | statements | with BEGIN/COMMIT |", "|---|---:|---:|");
    await runLifecycle(call, shopId);
    pg.Client.prototype.query = original;
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
