import { expect, it } from "vitest";
import { DB_KINDS, freshDbAsPlainRole, startTestApp } from "../helpers/harness.js";
import { importBatchSuite } from "./import-batch.cases.js";

// A role that may not set session_replication_role (not a superuser, no GRANT SET) keeps the
// foreign-key triggers on for the import's set-based inserts: the same file gives the same rows,
// errors and ledger as with the triggers off (import-batch.test.ts). Its own file, because whether
// the role may switch them is learnt once per process.
if (DB_KINDS.includes("postgres")) {
  it("runs as a role that may not switch triggers off", async () => {
    const h = await freshDbAsPlainRole();
    try {
      await expect(h.query("SET session_replication_role = replica")).rejects.toThrow(/permission denied/);
    } finally {
      await h.drop();
    }
  });
  importBatchSuite("order import batches on postgres as a role without replication rights", async () =>
    startTestApp("postgres", { handle: await freshDbAsPlainRole() }),
  );
}
