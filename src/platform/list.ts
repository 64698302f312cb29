import type { FastifyReply, FastifyRequest } from "fastify";
import { type SelectQueryBuilder, sql } from "kysely";
import { z } from "zod";
import { csvRow } from "./csv.js";
import { validation } from "./errors.js";

/** Query parameters every list accepts. */
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
  format: z.enum(["json", "csv"]).optional(),
};

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const encodeCursor = (id: string) => Buffer.from(id).toString("base64url");
export function decodeCursor(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  const id = Buffer.from(cursor, "base64url").toString("utf8");
  if (!/^[0-9a-f-]{36}$/.test(id)) throw validation("cursor", "not a cursor this API gave");
  return id;
}

/** Turns `limit + 1` rows fetched newest-first by id into a page with the next cursor. */
export function toPage<T extends { id: unknown }>(rows: T[], limit: number): Page<T> {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  return { items, nextCursor: more ? encodeCursor(String(items[items.length - 1].id)) : null };
}

export function wantsCsv(req: FastifyRequest): boolean {
  const q = req.query as { format?: string } | undefined;
  if (q?.format === "csv") return true;
  const accept = req.headers.accept ?? "";
  return accept.includes("text/csv");
}

/** Flattens one level of nesting so CSV columns stay readable: {money:{paid:1}} → money.paid. */
function flatten(item: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) {
    if (v && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date)) {
      for (const [k2, v2] of Object.entries(v)) out[`${k}.${k2}`] = v2;
    } else out[k] = v;
  }
  return out;
}

/**
 * Streams every page of a list as CSV (UTF-8 with BOM so Excel reads Chinese), one page in memory
 * at a time, whatever the list's size.
 */
export async function sendCsv<T extends Record<string, unknown>>(
  reply: FastifyReply,
  filename: string,
  fetchPage: (cursor: string | undefined, limit: number) => Promise<Page<T>>,
): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    "content-type": "text/csv; charset=utf-8",
    "content-disposition": `attachment; filename="${filename}.csv"`,
  });
  res.write("\uFEFF");
  let header: string[] | null = null;
  let cursor: string | undefined;
  try {
    do {
      const page = await fetchPage(cursor, 1000);
      let chunk = "";
      for (const raw of page.items) {
        const row = flatten(raw);
        if (!header) {
          header = Object.keys(row);
          chunk += `${csvRow(header)}\r\n`;
        }
        chunk += `${csvRow(header.map((h) => row[h]))}\r\n`;
      }
      if (!res.write(chunk)) await new Promise((r) => res.once("drain", r));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  } finally {
    res.end();
  }
}

/**
 * One page of a list query, newest first by `idColumn` (UUIDv7, so by creation), starting after
 * the row the cursor names. Every list route pages this way.
 */
export async function keysetPage<DB, TB extends keyof DB, O extends { id: unknown }>(
  q: SelectQueryBuilder<DB, TB, O>,
  idColumn: string,
  cursor: string | undefined,
  limit: number,
): Promise<Page<O>> {
  const after = decodeCursor(cursor);
  const rows = await (after ? q.where(sql<boolean>`${sql.ref(idColumn)} < ${after}`) : q)
    .orderBy(sql.ref(idColumn), "desc")
    .limit(limit + 1)
    .execute();
  return toPage(rows, limit);
}
