import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { preparedStatementTexts } from "../../src/platform/db.js";
import { setupCatalog } from "../helpers/fixtures.js";
import { freshDb, startTestApp } from "../helpers/harness.js";
import { importAndWait } from "../helpers/imports.js";

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

  it("leaves the import's one-use statements unprepared, and still prepares the rest of its work", async () => {
    const t = await startTestApp("postgres");
    try {
      const cat = await setupCatalog(t);
      const csv = ["platform_order_no,customer_name,phone,city,address,sku_code,quantity,unit_price,shipping_fee,paid_amount"];
      for (let i = 0; i < 30; i++) csv.push(`P${i},Ann,1390000${String(i).padStart(4, "0")},Shanghai,Road 1,MUG,1,39.00,0,39.00`);
      const s = await importAndWait(t, cat.shopId, "generic", "orders.csv", Buffer.from(csv.join("\n")));
      expect(s).toMatchObject({ status: "done", imported: 30 });
      const texts = preparedStatementTexts();
      // The statements naming the import's own staging tables, and the batch's look-up of the orders it
      // already has (planned for the table as it grows), are planned per run and never named.
      expect(texts.filter((q) => q.includes("dd_import_"))).toEqual([]);
      expect(texts.filter((q) => q.includes("platform_order_no = ANY"))).toEqual([]);
      // The import's progress updates, a fixed text, are prepared as every other statement is.
      expect(texts.some((q) => /update "imports"/i.test(q))).toBe(true);
    } finally {
      await t.close();
    }
  }, 60_000);
});
