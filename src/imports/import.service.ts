import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parse } from "csv-parse";
import iconv from "iconv-lite";
import { insertOrders, skuMap } from "../orders/order.import.js";
import { type PreparedOrder, prepareOrder } from "../orders/order.pricing.js";
import type { Actor, Deps } from "../platform/context.js";
import { type AppError, validation } from "../platform/errors.js";
import { newId, sha256 } from "../platform/ids.js";
import { cellErrors, FIELD_OF_HEADER, type Grouped, genericOrder, ORDER_KEY, type Row, type RowError, shopifyOrder } from "./formats.js";
import { type CopyWriter, type EncodedOrder, encodeOrder, openCopyWriter } from "./import.copy.js";

/** Orders per transaction: on PostgreSQL a batch is copied through staging tables, so larger pays. */
const BATCH_ORDERS = { postgres: 1000, pglite: 250 } as const;
const MAX_ERRORS = 1000;

export type ImportFormat = "shopify" | "generic";

/** Stores the uploaded file, records the import and processes it in the background. */
export async function startImport(
  deps: Deps,
  actor: Actor,
  p: { shopId: string; format: ImportFormat; filename: string; stream: Readable },
) {
  const shop = await deps.db
    .selectFrom("shops")
    .select(["id", "currency"])
    .where("tenant_id", "=", actor.tenantId)
    .where("id", "=", p.shopId)
    .executeTakeFirst();
  if (!shop) throw validation("shopId", "no such shop");
  const id = newId();
  const dir = join(tmpdir(), "dropdesk-imports");
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${id}.csv`);
  await pipeline(p.stream, createWriteStream(path));
  await deps.db
    .insertInto("imports")
    .values({
      id,
      tenant_id: actor.tenantId,
      kind: "orders",
      format: p.format,
      status: "queued",
      filename: p.filename.slice(0, 200),
      created_by: `${actor.kind}:${actor.id}`,
    })
    .execute();
  const run = runImport(deps, actor, id, path, p.shopId, shop.currency, p.format)
    .catch(async (e) => {
      await deps.db
        .updateTable("imports")
        .set({
          status: "failed",
          finished_at: new Date(),
          errors: JSON.stringify([{ line: 0, field: "file", message: e instanceof Error ? e.message : String(e) }]),
        })
        .where("id", "=", id)
        .execute()
        .catch(() => {});
    })
    .finally(() => rm(path, { force: true }));
  if (!deps.services.imports) deps.services.imports = new Set<Promise<unknown>>();
  const running = deps.services.imports as Set<Promise<unknown>>;
  running.add(run);
  void run.finally(() => running.delete(run));
  return id;
}

/** Chinese platforms often export GBK: valid UTF-8 in the first 64 KB means UTF-8, else GBK. */
async function detectEncoding(path: string): Promise<"utf8" | "gbk"> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(65536);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    let sample = buf.subarray(0, bytesRead);
    // Do not judge a multi-byte character cut at the end of the sample.
    let cut = sample.length;
    while (cut > 0 && cut > sample.length - 4 && (sample[cut - 1] & 0xc0) === 0x80) cut--;
    if (cut > 0 && sample[cut - 1] >= 0xc0) cut--;
    sample = sample.subarray(0, bytesRead === buf.length ? cut : bytesRead);
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(sample);
      return "utf8";
    } catch {
      return "gbk";
    }
  } finally {
    await fh.close();
  }
}

async function runImport(deps: Deps, actor: Actor, id: string, path: string, shopId: string, currency: string, format: ImportFormat) {
  await deps.db.updateTable("imports").set({ status: "running", heartbeat_at: new Date() }).where("id", "=", id).execute();
  // On PostgreSQL, one connection held for the import carries its staging tables.
  const writer = deps.h.pool ? await openCopyWriter(deps.h.pool, id) : undefined;
  try {
    await readAndWrite(deps, actor, id, path, shopId, currency, format, writer);
  } finally {
    await writer?.close();
  }
}

async function readAndWrite(
  deps: Deps,
  actor: Actor,
  id: string,
  path: string,
  shopId: string,
  currency: string,
  format: ImportFormat,
  writer: CopyWriter | undefined,
) {
  const encoding = await detectEncoding(path);
  let source: Readable = createReadStream(path);
  if (encoding === "gbk") source = source.pipe(iconv.decodeStream("gbk")) as unknown as Readable;
  const parser = source.pipe(
    parse({
      columns: (h: string[]) => h.map((x) => x.trim()),
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      info: true,
      trim: false,
    }),
  );
  const batchOrders = BATCH_ORDERS[deps.h.kind];
  const counts = { total: 0, imported: 0, skipped: 0, failed: 0 };
  const errors: RowError[] = [];
  const addErrors = (e: RowError[]) => {
    for (const x of e) if (errors.length < MAX_ERRORS) errors.push(x);
  };
  const build = format === "shopify" ? shopifyOrder : genericOrder;
  const keyOf = ORDER_KEY[format];
  const fieldOf = FIELD_OF_HEADER[format];
  let current: Row[] = [];
  let currentKey = "";
  let batch: Pending[] = [];
  let seq = 0;
  let lastLine = 1;
  let lastEmpty = 0;
  const flushOrder = () => {
    if (current.length === 0) return;
    counts.total += 1;
    const g: Grouped = currentKey
      ? build(shopId, current)
      : {
          line: current[0].line,
          errors: [{ line: current[0].line, field: format === "shopify" ? "Name" : "platform_order_no", message: "required" }],
        };
    // A NUL byte or undecodable bytes: the order is reported, never imported garbled.
    const bad = cellErrors(current, fieldOf, encoding);
    batch.push(bad.length ? { line: g.line, errors: [...bad, ...g.errors] } : prepare(g, writer ? deps.clock.now() : undefined, seq++));
    current = [];
  };
  // One batch is written while the next is parsed: the database and the parser overlap, batches
  // still commit one after the other (same order, no two import transactions at once).
  let writing: Promise<void> = Promise.resolve();
  let failure: unknown = null;
  const flushBatch = async () => {
    const b = batch;
    batch = [];
    await writing;
    if (failure) throw failure;
    writing = (async () => {
      await importBatch(deps, actor, shopId, currency, b, counts, addErrors, writer);
      await deps.db
        .updateTable("imports")
        .set({ ...counts, errors: JSON.stringify(errors), heartbeat_at: new Date() })
        .where("id", "=", id)
        .execute();
    })().catch((e) => {
      failure = e;
    });
  };
  try {
    for await (const rec of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number; empty_lines: number } }>) {
      // `info.lines` is the line a record ends on; it starts after the previous one and the empty
      // lines skipped since.
      const line = lastLine + 1 + (rec.info.empty_lines - lastEmpty);
      lastLine = rec.info.lines;
      lastEmpty = rec.info.empty_lines;
      const key = keyOf(rec.record);
      if (current.length && key !== currentKey) {
        flushOrder();
        if (batch.length >= batchOrders) await flushBatch();
      }
      currentKey = key;
      current.push({ line, cells: rec.record });
    }
    flushOrder();
    await flushBatch();
    await writing;
    if (failure) throw failure;
  } catch (e) {
    // The import stops (a broken CSV quote, the database gone): what was written stays, and the
    // report keeps the rows already reported besides the reason it stopped, with its line when
    // the CSV parser knows it. On a parser error the orders read in full before it are written.
    await writing;
    const err = e as { code?: unknown; lines?: unknown; message?: string };
    const csvError = typeof err.code === "string" && err.code.startsWith("CSV_");
    const stops: RowError[] = [
      { line: csvError && typeof err.lines === "number" ? err.lines : 0, field: "file", message: err.message ?? String(e) },
    ];
    if (csvError && !failure)
      try {
        await flushBatch();
        await writing;
        if (failure) throw failure;
      } catch (e1) {
        stops.push({ line: 0, field: "file", message: e1 instanceof Error ? e1.message : String(e1) });
      }
    if (csvError && current.length) {
      // Its rows may go on past the broken spot: not imported, and said so.
      counts.total += 1;
      counts.failed += 1;
      addErrors([
        {
          line: current[0].line,
          field: "file",
          message: "not imported: the file cannot be read past this order's rows, it may be incomplete",
        },
      ]);
    }
    errors.push(...stops);
    await deps.db
      .updateTable("imports")
      .set({ ...counts, status: "failed", finished_at: new Date(), errors: JSON.stringify(errors) })
      .where("id", "=", id)
      .execute();
    return;
  }
  await deps.db
    .updateTable("imports")
    .set({ ...counts, status: "done", finished_at: new Date(), errors: JSON.stringify(errors) })
    .where("id", "=", id)
    .execute();
}

/**
 * An order read: its errors, or ready to write — priced, hashed, and on PostgreSQL already in
 * COPY's text format (`now`, when given, is when it was read and asks for that form).
 */
type Pending = { line: number; errors: RowError[]; ready?: undefined } | { line: number; ready: ReadyOrder };
type ReadyOrder = { line: number; no: string; hash: string; item?: PreparedOrder; encoded?: EncodedOrder };

function prepare(g: Grouped, now: Date | undefined, seq: number): Pending {
  if (!g.input) return { line: g.line, errors: g.errors };
  try {
    const prepared = prepareOrder(g.input);
    const { placedAt: _p, ...rest } = g.input;
    const item: PreparedOrder = { input: g.input, prepared, hash: sha256(JSON.stringify(rest)) };
    const ready: ReadyOrder = { line: g.line, no: g.input.platformOrderNo, hash: item.hash };
    if (now) ready.encoded = encodeOrder(item, seq, now);
    else ready.item = item;
    return { line: g.line, ready };
  } catch (e) {
    const fields = (e as AppError).details?.fields as { field: string; message: string }[] | undefined;
    return {
      line: g.line,
      errors: fields?.map((f) => ({ line: g.line, field: f.field, message: f.message })) ?? [
        { line: g.line, field: "order", message: (e as Error).message },
      ],
    };
  }
}

/** Reports a batch's bad orders and writes the others in one transaction; an existing order is skipped. */
async function importBatch(
  deps: Deps,
  actor: Actor,
  shopId: string,
  currency: string,
  batch: Pending[],
  counts: { imported: number; skipped: number; failed: number },
  addErrors: (e: RowError[]) => void,
  writer: CopyWriter | undefined,
) {
  const ready: ReadyOrder[] = [];
  for (const p of batch) {
    if (p.ready) ready.push(p.ready);
    else {
      counts.failed += 1;
      addErrors(p.errors);
    }
  }
  if (ready.length === 0) return;
  const apply = (o: BatchOutcome) => {
    counts.imported += o.imported;
    counts.skipped += o.skipped;
    counts.failed += o.errors.length;
    addErrors(o.errors);
  };
  // The database refused something in the batch (a constraint): write each half on its own, and
  // so on down to single orders, so only the order at fault is reported and the others land.
  const write = async (part: ReadyOrder[]): Promise<void> => {
    try {
      apply(await writeBatch(deps, actor, shopId, currency, part, writer));
    } catch (e) {
      if (!isRowError(e)) throw e;
      if (part.length > 1) {
        const half = Math.ceil(part.length / 2);
        await write(part.slice(0, half));
        await write(part.slice(half));
        return;
      }
      const d = e as { column?: string; constraint?: string; message?: string };
      apply({
        imported: 0,
        skipped: 0,
        errors: [
          { line: part[0].line, field: d.column ?? d.constraint ?? "order", message: `the database refused the order: ${d.message}` },
        ],
      });
    }
  };
  await write(ready);
}

/** Data exceptions (22xxx) and integrity constraint violations (23xxx) are the rows' fault. */
function isRowError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^2[23]/.test(code);
}

type BatchOutcome = { imported: number; skipped: number; errors: RowError[] };

/**
 * Orders already in are skipped when their content is the same and reported when it differs; an
 * order number twice in the batch counts as in after its first occurrence. Returns the fresh ones.
 */
function freshOrders(ready: ReadyOrder[], existing: Map<string, string>, outcome: BatchOutcome): ReadyOrder[] {
  const fresh: ReadyOrder[] = [];
  for (const r of ready) {
    const prior = existing.get(r.no);
    if (prior !== undefined) {
      if (prior === r.hash) outcome.skipped += 1;
      else
        outcome.errors.push({
          line: r.line,
          field: "platformOrderNo",
          message: `order ${r.no} exists with different content`,
        });
      continue;
    }
    fresh.push(r);
    existing.set(r.no, r.hash);
    outcome.imported += 1;
  }
  return fresh;
}

/** Writes orders in one transaction; the outcome counts only once it has committed. */
async function writeBatch(
  deps: Deps,
  actor: Actor,
  shopId: string,
  currency: string,
  ready: ReadyOrder[],
  writer: CopyWriter | undefined,
): Promise<BatchOutcome> {
  const nos = [...new Set(ready.map((r) => r.no))];
  if (writer) {
    const c = writer.client;
    await c.query("BEGIN");
    try {
      const existing = new Map(
        (
          await writer.query<{ platform_order_no: string; content_hash: string }>(
            "SELECT platform_order_no, content_hash FROM orders WHERE tenant_id = $1 AND shop_id = $2 AND platform_order_no = ANY($3::text[])",
            [actor.tenantId, shopId, nos],
          )
        ).rows.map((o) => [o.platform_order_no, o.content_hash]),
      );
      const outcome: BatchOutcome = { imported: 0, skipped: 0, errors: [] };
      const fresh = freshOrders(ready, existing, outcome);
      await writer.write(
        actor.tenantId,
        shopId,
        currency,
        "import",
        fresh.map((r) => r.encoded as EncodedOrder),
      );
      await c.query("COMMIT");
      return outcome;
    } catch (e) {
      await c.query("ROLLBACK").catch(() => {});
      throw e;
    }
  }
  return deps.db.transaction().execute(async (tx) => {
    const outcome: BatchOutcome = { imported: 0, skipped: 0, errors: [] };
    const existing = new Map(
      (
        await tx
          .selectFrom("orders")
          .select(["platform_order_no", "content_hash"])
          .where("tenant_id", "=", actor.tenantId)
          .where("shop_id", "=", shopId)
          .where("platform_order_no", "in", nos)
          .execute()
      ).map((o) => [o.platform_order_no as string, o.content_hash as string]),
    );
    const fresh = freshOrders(ready, existing, outcome).map((r) => r.item as PreparedOrder);
    const codes = [...new Set(fresh.flatMap((r) => r.input.lines.map((l) => l.skuCode)))];
    const skus = await skuMap(tx, actor.tenantId, codes);
    await insertOrders(tx, actor.tenantId, currency, deps.clock.now(), "import", fresh, skus);
    return outcome;
  });
}

/**
 * Imports whose process died are reported failed (no heartbeat for two minutes); importing the
 * file again is safe, since orders already in are skipped.
 */
export async function failInterruptedImports(deps: Deps) {
  const stale = new Date(Date.now() - 120_000);
  await deps.db
    .updateTable("imports")
    .set({
      status: "failed",
      finished_at: new Date(),
      errors: JSON.stringify([
        { line: 0, field: "file", message: "the import was interrupted; import the file again (orders already in are skipped)" },
      ]),
    })
    .where("status", "in", ["queued", "running"])
    .where((eb) => eb.or([eb("heartbeat_at", "<", stale), eb.and([eb("heartbeat_at", "is", null), eb("created_at", "<", stale)])]))
    .execute();
}
