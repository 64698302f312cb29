import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { DbHandle } from "./db.js";
import { ROOT } from "./paths.js";

const MIGRATIONS_DIR = join(ROOT, "src", "db", "migrations");

/**
 * Applies the ordered SQL files in src/db/migrations that have not run yet, each in its own
 * transaction. On PostgreSQL an advisory lock lets several processes start at once safely.
 */
export async function migrate(h: DbHandle): Promise<string[]> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith(".sql")).sort();
  const applied: string[] = [];
  // On PostgreSQL one dedicated connection holds the advisory lock for the whole run.
  const client = h.pool ? await h.pool.connect() : undefined;
  const exec = async (text: string) => {
    if (client) await client.query(text);
    else await h.exec(text);
  };
  const query = async (text: string) => (client ? (await client.query(text)).rows : (await h.query(text)).rows);
  if (client) await client.query("SELECT pg_advisory_lock(727274)");
  try {
    await exec("CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
    const done = new Set((await query("SELECT name FROM schema_migrations")).map((r) => String(r.name)));
    for (const file of files) {
      if (done.has(file)) continue;
      const text = await readFile(join(MIGRATIONS_DIR, file), "utf8");
      const name = file.replaceAll("'", "''");
      await exec(`BEGIN;\n${text}\n;INSERT INTO schema_migrations (name) VALUES ('${name}');\nCOMMIT;`);
      applied.push(file);
    }
  } catch (e) {
    await exec("ROLLBACK").catch(() => {});
    throw e;
  } finally {
    if (client) {
      await client.query("SELECT pg_advisory_unlock(727274)").catch(() => {});
      client.release();
    }
  }
  return applied;
}
