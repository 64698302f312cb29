import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { sql } from "kysely";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { Executor } from "./db.js";

/** A column of a bulk insert: its name and PostgreSQL type (jsonb values are passed as JSON text). */
export type BulkColumn = readonly [name: string, type: "uuid" | "text" | "bigint" | "int" | "boolean" | "timestamptz" | "jsonb"];

/**
 * Inserts many rows in one statement whose parameters are one array per column
 * (`INSERT … SELECT … FROM unnest($1::uuid[], $2::text[], …)`). A multi-row VALUES list sends one
 * parameter per value, and PostgreSQL parses and types each of them: for 750 order lines of 16
 * columns that was 12,000 parameters and most of an import's time; here it is 16.
 */
export async function insertMany(ex: Executor, table: string, columns: readonly BulkColumn[], rows: Record<string, unknown>[]) {
  if (rows.length === 0) return;
  // A value without a column would be dropped silently: refuse it instead.
  const known = new Set(columns.map(([name]) => name));
  const stray = Object.keys(rows[0]).find((k) => !known.has(k));
  if (stray) throw new Error(`insertMany(${table}): no column listed for ${stray}`);
  const names = columns.map(([name]) => sql.ref(name));
  const vars = columns.map((_, i) => sql.raw(`c${i}`));
  const arrays = columns.map(([name, type]) => {
    const values = rows.map((r) => {
      const v = r[name];
      return v === undefined ? null : v instanceof Date ? v.toISOString() : v;
    });
    return sql`${values}::${sql.raw(type === "jsonb" ? "text" : type)}[]`;
  });
  const selected = columns.map(([, type], i) => (type === "jsonb" ? sql`${vars[i]}::jsonb` : sql`${vars[i]}`));
  await sql`INSERT INTO ${sql.table(table)} (${sql.join(names)})
    SELECT ${sql.join(selected)} FROM unnest(${sql.join(arrays)}) AS x(${sql.join(vars)})`.execute(ex);
}

const COPY_ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIALS = /[\\\t\n\r]/g;

/** One value in COPY's text format: `\N` for null, backslash, tab and line ends escaped. */
function copyValue(v: unknown): string {
  switch (typeof v) {
    case "number":
    case "bigint":
      return String(v);
    case "boolean":
      return v ? "t" : "f";
    case "string":
      return COPY_SPECIAL.test(v) ? v.replace(COPY_SPECIALS, (c) => COPY_ESCAPES[c]) : v;
  }
  if (v === null || v === undefined) return "\\N";
  const s = v instanceof Date ? v.toISOString() : String(v);
  return COPY_SPECIAL.test(s) ? s.replace(COPY_SPECIALS, (c) => COPY_ESCAPES[c]) : s;
}

/** One row of `COPY … FROM STDIN`'s text format, its values in the table's column order. */
export function copyLine(values: readonly unknown[]): string {
  // Joined, not concatenated: one flat string per row, not a tree of its pieces held until the
  // batch is written.
  const cells = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) cells[i] = copyValue(values[i]);
  return `${cells.join("\t")}\n`;
}

/**
 * Streams rows, already in COPY's text format, into a `COPY … FROM STDIN` statement on a
 * node-postgres client (PostgreSQL only; inside the client's transaction when it is in one).
 */
export async function copyStream(client: pg.ClientBase, statement: string, lines: readonly string[]) {
  await pipeline(Readable.from([lines.join("")]), client.query(copyFrom(statement)));
}
