import { DB_KINDS, startTestApp } from "../helpers/harness.js";
import { importBatchSuite } from "./import-batch.cases.js";

// The same file gives the same outcome and the same rows on both databases: on PostgreSQL it goes
// through COPY into staging tables and set-based inserts (per-row triggers off, checks once per
// batch), on PGlite through one unnest insert per table.
for (const kind of DB_KINDS) importBatchSuite(`order import batches on ${kind}`, () => startTestApp(kind));
