import { randomUUID } from "node:crypto";
import pg from "pg";
import { fmt, freshPgDb, load, loop, ratio, startServer } from "./lib.js";

/**
 * The foundation's figure: an authenticated write route (create a shop: the row and its audit
 * entry in one transaction) and a read route, over HTTP, on PostgreSQL and on PGlite, next to
 * plain `pg` writing the same rows in the same run.
 */
export async function benchHttp(seconds: number): Promise<string[]> {
  const lines: string[] = [];
  const db = await freshPgDb();
  const server = await startServer({ databaseUrl: db.url, processes: 2, port: 39800 });
  const auth = { authorization: `Bearer ${server.token}` };
  try {
    // Baseline: the same two inserts in one transaction, straight through a pg pool.
    const pool = new pg.Pool({ connectionString: db.url, max: 16 });
    const tenant = (await pool.query("SELECT id FROM tenants LIMIT 1")).rows[0].id;
    const base = await loop(16, seconds, async () => {
      const c = await pool.connect();
      try {
        const id = randomUUID();
        await c.query("BEGIN");
        await c.query(
          "INSERT INTO shops (id, tenant_id, name, platform, timezone, currency) VALUES ($1,$2,$3,'taobao','Asia/Shanghai','CNY')",
          [id, tenant, `s${id}`],
        );
        await c.query(
          "INSERT INTO audit_log (id, tenant_id, actor_type, actor_id, action, entity_type, entity_id, after) VALUES ($1,$2,'token','bench','shop.create','shop',$3,$4)",
          [randomUUID(), tenant, id, JSON.stringify({ name: `s${id}` })],
        );
        await c.query("COMMIT");
      } finally {
        c.release();
      }
    });
    await pool.end();
    let i = 0;
    const write = await load({
      url: `${server.url}/api/v1/shops`,
      method: "POST",
      headers: auth,
      body: () => ({ name: `Shop ${i++}`, platform: "taobao" }),
      seconds,
    });
    const shop = await (
      await fetch(`${server.url}/api/v1/shops`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ name: "Read me", platform: "jd" }),
      })
    ).json();
    const read = await load({ url: `${server.url}/api/v1/shops/${(shop as { id: string }).id}`, headers: auth, seconds });
    lines.push("| route (concurrency 16) | database | requests/s | p50 ms | p99 ms | vs plain pg writes |");
    lines.push("| --- | --- | ---: | ---: | ---: | ---: |");
    lines.push(`| baseline: plain pg, same rows | PostgreSQL | ${fmt(base.ops)} | ${fmt(base.p50, 1)} | ${fmt(base.p99, 1)} | 1.00× |`);
    lines.push(
      `| POST /api/v1/shops | PostgreSQL (2 processes) | ${fmt(write.rps)} | ${write.p50} | ${write.p99} | ${ratio(write.rps, base.ops)} |`,
    );
    lines.push(
      `| GET /api/v1/shops/:id | PostgreSQL (2 processes) | ${fmt(read.rps)} | ${read.p50} | ${read.p99} | ${ratio(read.rps, base.ops)} |`,
    );
    if (write.non2xx || read.non2xx) lines.push(`(non-2xx answers: write ${write.non2xx}, read ${read.non2xx})`);
    await server.stop();
    const lite = await startServer({ port: 39810 });
    try {
      const la = { authorization: `Bearer ${lite.token}` };
      let j = 0;
      const lw = await load({
        url: `${lite.url}/api/v1/shops`,
        method: "POST",
        headers: la,
        body: () => ({ name: `Shop ${j++}`, platform: "taobao" }),
        seconds,
      });
      const ls = await (
        await fetch(`${lite.url}/api/v1/shops`, {
          method: "POST",
          headers: { ...la, "content-type": "application/json" },
          body: JSON.stringify({ name: "Read me", platform: "jd" }),
        })
      ).json();
      const lr = await load({ url: `${lite.url}/api/v1/shops/${(ls as { id: string }).id}`, headers: la, seconds });
      lines.push(`| POST /api/v1/shops | PGlite (embedded) | ${fmt(lw.rps)} | ${lw.p50} | ${lw.p99} | ${ratio(lw.rps, base.ops)} |`);
      lines.push(`| GET /api/v1/shops/:id | PGlite (embedded) | ${fmt(lr.rps)} | ${lr.p50} | ${lr.p99} | ${ratio(lr.rps, base.ops)} |`);
    } finally {
      await lite.stop();
    }
  } finally {
    await server.stop().catch(() => {});
    await db.drop();
  }
  return lines;
}
