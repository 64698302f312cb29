import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { precompiled } from "../../src/platform/precompiled.js";
import { DB_KINDS, freshDb } from "../helpers/harness.js";

describe.each(DB_KINDS)("statements made once on %s", (kind) => {
  it("sends each run's arguments in place of the placeholders, with one text per variant", async () => {
    const h = await freshDb(kind);
    try {
      await h.exec("CREATE TABLE pc (id int PRIMARY KEY, owner text NOT NULL, note text, at timestamptz NOT NULL)");
      let built = 0;
      const db = h.db as unknown as import("kysely").Kysely<{ pc: { id: number; owner: string; note: string | null; at: Date } }>;
      const insert = precompiled((_db, p: { id: number; owner: string; note: string | null; at: Date }) => {
        built += 1;
        return db.insertInto("pc").values({ id: p.id, owner: p.owner, note: p.note, at: p.at });
      });
      const find = precompiled((_db, p: { owner: string; id: number }, variant) => {
        built += 1;
        let q = db.selectFrom("pc").selectAll().where("owner", "=", p.owner).orderBy("id");
        if (variant === "one") q = q.where("id", "=", p.id);
        // A value that is not an argument stays as it was given.
        return q.where("id", "<", 1000).where(sql<boolean>`true`);
      });
      const at = new Date("2026-12-03T08:00:00.000Z");
      await insert(h.db, { id: 1, owner: "ann", note: "first", at });
      await insert(h.db, { id: 2, owner: "ann", note: null, at });
      // An argument left undefined goes as null.
      await insert(h.db, { id: 3, owner: "bo", note: undefined as unknown as null, at });
      expect(built).toBe(1);
      expect(await find(h.db, { owner: "ann", id: 0 }, "all")).toEqual([
        { id: 1, owner: "ann", note: "first", at },
        { id: 2, owner: "ann", note: null, at },
      ]);
      expect(await find(h.db, { owner: "bo", id: 0 }, "all")).toEqual([{ id: 3, owner: "bo", note: null, at }]);
      expect(await find(h.db, { owner: "ann", id: 2 }, "one")).toEqual([{ id: 2, owner: "ann", note: null, at }]);
      // Another owner's row is not found through a variant that names the id.
      expect(await find(h.db, { owner: "bo", id: 2 }, "one")).toEqual([]);
      expect(built).toBe(3);
      // Inside a transaction, and rolled back with it.
      await expect(
        h.db.transaction().execute(async (tx) => {
          await insert(tx, { id: 4, owner: "cy", note: null, at });
          expect(await find(tx, { owner: "cy", id: 0 }, "all")).toHaveLength(1);
          throw new Error("undo");
        }),
      ).rejects.toThrow("undo");
      expect(await find(h.db, { owner: "cy", id: 0 }, "all")).toEqual([]);
      expect(built).toBe(3);
    } finally {
      await h.drop();
    }
  }, 60_000);
});
