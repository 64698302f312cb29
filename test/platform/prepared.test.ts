import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { freshDb } from "../helpers/harness.js";

// On PostgreSQL each parameterised statement is prepared once per connection and run by name
// afterwards (src/platform/db.ts); one without parameters keeps the simple protocol.
describe("prepared statements on postgres", () => {
  it("prepares a statement with parameters once per connection and runs it again by name", async () => {
    const h = await freshDb("postgres");
    try {
      const seen = await h.db.connection().execute(async (c) => {
        const lookup = () => sql`SELECT nspname FROM pg_namespace WHERE nspname = ${`n-${Math.random()}`}`.execute(c);
        await lookup();
        await lookup();
        await sql`SELECT 1`.execute(c);
        return (
          await sql<{ statement: string; generic_plans: number; custom_plans: number }>`
            SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE '%pg_namespace%'`.execute(c)
        ).rows;
      });
      // The look-up is prepared once and ran twice under its one name; the view itself is its own.
      const lookups = seen.filter((s) => s.statement.startsWith("SELECT nspname FROM pg_namespace"));
      expect(lookups).toHaveLength(1);
      expect(Number(lookups[0].generic_plans) + Number(lookups[0].custom_plans)).toBe(2);
      const simple = await h.db
        .connection()
        .execute(
          async (c) =>
            (await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = 'SELECT 1'`.execute(c))
              .rows[0].n,
        );
      expect(simple).toBe(0);
    } finally {
      await h.drop();
    }
  }, 60_000);
});
