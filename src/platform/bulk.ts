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

/** The rows as the body of `COPY … FROM STDIN` (text format), in the columns' order. */
export function copyText(columns: readonly BulkColumn[], rows: Record<string, unknown>[]): string {
  const known = new Set(columns.map(([name]) => name));
  const stray = rows.length ? Object.keys(rows[0]).find((k) => !known.has(k)) : undefined;
  if (stray) throw new Error(`copyText: no column listed for ${stray}`);
  let out = "";
  for (const r of rows) {
    let line = "";
    for (let i = 0; i < columns.length; i++) line += (i ? "\t" : "") + copyValue(r[columns[i][0]]);
    out += `${line}\n`;
  }
  return out;
}

/**
 * Streams rows into a table with `COPY … FROM STDIN` on a node-postgres client (PostgreSQL only;
 * inside the caller's transaction when the client is in one). The table's other columns get their
 * defaults.
 */
export async function copyRows(client: pg.ClientBase, table: string, columns: readonly BulkColumn[], rows: Record<string, unknown>[]) {
  if (rows.length === 0) return;
  const names = columns.map(([name]) => `"${name}"`).join(", ");
  const stream = client.query(copyFrom(`COPY ${table} (${names}) FROM STDIN`));
  await pipeline(Readable.from([copyText(columns, rows)]), stream);
}
