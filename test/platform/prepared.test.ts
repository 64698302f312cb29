import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { preparedStatementTexts, WITH_NEXT } from "../../src/platform/db.js";
import { setupCatalog } from "../helpers/fixtures.js";
import { freshDb, startTestApp } from "../helpers/harness.js";
import { importAndWait } from "../helpers/imports.js";

/** Counts a protocol message (e.g. ReadyForQuery: round trips) the server sends on the pool's connections. */
function countOnConnections(h: { pool?: unknown }, message: string): { n: number } {
  const count = { n: 0 };
  const pool = h.pool as { on(e: string, f: (c: { connection: { on(e: string, f: () => void): void } }) => void): void };
  const counted = new WeakSet<object>();
  pool.on("acquire", (c) => {
    if (counted.has(c)) return;
    counted.add(c);
    c.connection.on(message, () => {
      count.n += 1;
    });
  });
  return count;
}

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

  it("asks for a prepared statement's result description once per connection, and reads its rows the same", async () => {
    const h = await freshDb("postgres");
    try {
      await h.exec("CREATE TABLE t (id int PRIMARY KEY, v text, n bigint, at timestamptz, doc jsonb)");
      // Row descriptions the server sends on the pool's connection (one per Describe answered with columns).
      const descriptions = countOnConnections(h, "rowDescription");
      const at = new Date("2026-12-03T10:00:00.000Z");
      const ins = (trx: typeof h.db, id: number, v: string | null) =>
        sql`INSERT INTO t (id, v, n, at, doc) VALUES (${id}, ${v}, ${id * 10}, ${at}, ${JSON.stringify({ id })})`.execute(trx);
      const read = (trx: typeof h.db, id: number) =>
        sql<{ id: number; v: string | null; n: number; at: Date; doc: { id: number } }>`SELECT * FROM t WHERE id = ${id}`.execute(trx);
      for (let i = 1; i <= 3; i++) await ins(h.db, i, i === 2 ? null : `v${i}`);
      // An insert has no result columns: no description is sent for it, the first time or later.
      expect(descriptions.n).toBe(0);
      const rows = [];
      for (let i = 1; i <= 3; i++) rows.push(...(await read(h.db, i)).rows);
      // The select was described once, and its later runs still give named, parsed columns.
      expect(descriptions.n).toBe(1);
      expect(rows).toEqual([
        { id: 1, v: "v1", n: 10, at, doc: { id: 1 } },
        { id: 2, v: null, n: 20, at, doc: { id: 2 } },
        { id: 3, v: "v3", n: 30, at, doc: { id: 3 } },
      ]);
      // Inside a transaction (the statement going with its BEGIN) the kept shape is used as well.
      const inTx = await h.db.transaction().execute(async (trx) => (await read(trx, 2)).rows);
      expect(inTx).toEqual([rows[1]]);
      expect(descriptions.n).toBe(1);
      // A statement returning nothing now returns an empty result, with the same shape.
      expect((await read(h.db, 99)).rows).toEqual([]);
      // A prepared statement whose result changed shape is refused by PostgreSQL, not read with the
      // kept shape; a new text is described on its own.
      await h.exec("ALTER TABLE t ADD COLUMN extra int");
      await expect(read(h.db, 1)).rejects.toThrow(/cached plan must not change result type/);
      const other = await sql<{ id: number; extra: number | null }>`SELECT id, extra FROM t WHERE id = ${1}`.execute(h.db);
      expect(other.rows).toEqual([{ id: 1, extra: null }]);
      expect(descriptions.n).toBe(2);
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

  it("sends a transaction's BEGIN with its first statement: one round trip fewer, same outcome", async () => {
    const h = await freshDb("postgres");
    try {
      await h.exec("CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL)");
      // Answers (ReadyForQuery) the server sends on the pool's one connection, i.e. round trips.
      const trips = countOnConnections(h, "readyForQuery");
      const ins = (trx: typeof h.db, id: number, v: string) => sql`INSERT INTO t (id, v) VALUES (${id}, ${v})`.execute(trx);
      const before = trips.n;
      await h.db.transaction().execute(async (trx) => {
        await ins(trx, 1, "a");
        await ins(trx, 2, "b");
      });
      // BEGIN + the first insert, the second insert, COMMIT: three (four when BEGIN went alone).
      expect(trips.n - before).toBe(3);

      // The first statement fails (a duplicate key), or the second does after the first wrote: nothing
      // of either transaction stays (the first statement ran inside it), and the connection goes on.
      await expect(
        h.db.transaction().execute(async (trx) => {
          await ins(trx, 1, "again");
          await ins(trx, 3, "c");
        }),
      ).rejects.toThrow(/duplicate key/);
      await expect(
        h.db.transaction().execute(async (trx) => {
          await ins(trx, 4, "d");
          await ins(trx, 2, "again");
        }),
      ).rejects.toThrow(/duplicate key/);
      const rows = await sql<{ id: number; v: string }>`SELECT id, v FROM t ORDER BY id`.execute(h.db);
      expect(rows.rows).toEqual([
        { id: 1, v: "a" },
        { id: 2, v: "b" },
      ]);

      // A statement that does not parse, first in its transaction, fails the same way each time
      // (it is not taken as prepared), and the statement after it on that connection runs.
      const bad = (trx: typeof h.db) => sql`SELECT v FROM no_such_table WHERE id = ${1}`.execute(trx);
      for (let i = 0; i < 2; i++) await expect(h.db.transaction().execute(async (trx) => bad(trx))).rejects.toThrow(/no_such_table/);
      const after = await h.db
        .transaction()
        .execute(async (trx) => (await sql<{ v: string }>`SELECT v FROM t WHERE id = ${2}`.execute(trx)).rows);
      expect(after).toEqual([{ v: "b" }]);

      // A savepoint goes with the statement after it; rolling back to it undoes what came after.
      const sp = trips.n;
      await h.db.transaction().execute(async (trx) => {
        await ins(trx, 5, "e");
        await sql`savepoint s1`.execute(trx);
        await ins(trx, 6, "undone");
        await sql`rollback to savepoint s1`.execute(trx);
        await ins(trx, 7, "g");
      });
      // BEGIN + 5, SAVEPOINT + 6, ROLLBACK TO, 7, COMMIT: five (six with the savepoint alone).
      expect(trips.n - sp).toBe(5);
      const kept = await sql<{ id: number }>`SELECT id FROM t WHERE id >= 5 ORDER BY id`.execute(h.db);
      expect(kept.rows.map((r) => r.id)).toEqual([5, 7]);

      // A transaction that runs nothing costs no round trip.
      const idle = trips.n;
      await h.db.transaction().execute(async () => {});
      expect(trips.n).toBe(idle);
    } finally {
      await h.drop();
    }
  }, 60_000);

  it("sends a statement nobody waits for with the transaction's next statement or its COMMIT", async () => {
    const h = await freshDb("postgres");
    try {
      await h.exec("CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE note (id int PRIMARY KEY, t_id int NOT NULL REFERENCES t)");
      const trips = countOnConnections(h, "readyForQuery");
      const row = (trx: typeof h.db, id: number) => sql`INSERT INTO t (id) VALUES (${id})`.execute(trx);
      const note = (trx: typeof h.db, id: number, tId: number) =>
        sql`INSERT INTO note (id, t_id) VALUES (${id}, ${tId}) ${sql.raw(WITH_NEXT)}`.execute(trx);
      // The first time on a connection a marked statement is prepared and sent as any other.
      await h.db.transaction().execute(async (trx) => {
        await row(trx, 1);
        await note(trx, 1, 1);
      });
      const before = trips.n;
      const seen = await h.db.transaction().execute(async (trx) => {
        await row(trx, 2);
        await note(trx, 2, 2);
        // A later statement of the transaction sees the note: it went first, in the same write.
        return (await sql<{ n: number }>`SELECT count(*)::int AS n FROM note WHERE t_id = ${2}`.execute(trx)).rows[0].n;
      });
      expect(seen).toBe(1);
      // BEGIN + the row, the note + the count, COMMIT.
      expect(trips.n - before).toBe(3);
      const mid = trips.n;
      await h.db.transaction().execute(async (trx) => {
        await row(trx, 3);
        await note(trx, 3, 3);
      });
      // BEGIN + the row, the note + COMMIT.
      expect(trips.n - mid).toBe(2);

      // A marked statement that fails (no such t) fails the COMMIT it went with: nothing of the
      // transaction stays.
      await expect(
        h.db.transaction().execute(async (trx) => {
          await row(trx, 4);
          await note(trx, 4, 99);
        }),
      ).rejects.toThrow(/foreign key/);
      // ... or the statement it went with.
      await expect(
        h.db.transaction().execute(async (trx) => {
          await row(trx, 5);
          await note(trx, 5, 98);
          await row(trx, 6);
        }),
      ).rejects.toThrow(/foreign key/);
      const rows = await sql<{ id: number }>`SELECT id FROM t ORDER BY id`.execute(h.db);
      expect(rows.rows.map((r) => r.id)).toEqual([1, 2, 3]);
      const notes = await sql<{ id: number }>`SELECT id FROM note ORDER BY id`.execute(h.db);
      expect(notes.rows.map((r) => r.id)).toEqual([1, 2, 3]);

      // Outside a transaction a marked statement is sent at once (nothing would carry it).
      await row(h.db, 7);
      await note(h.db, 7, 7);
      expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM note WHERE id = 7`.execute(h.db)).rows[0].n).toBe(1);
    } finally {
      await h.drop();
    }
  }, 60_000);
});
