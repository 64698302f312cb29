import { parse } from "csv-parse";
import iconv from "iconv-lite";
import type { Deps } from "../platform/context.js";
import { AppError, validation } from "../platform/errors.js";
import { actorOf, type ZApp } from "../platform/http.js";
import { supplierOrderActionTx } from "./supplier-order.service.js";

/**
 * Bulk shipping for the supplier portal: one CSV row per parcel. Columns (Chinese or English):
 * supplierOrderId | 代发单号, or platformOrderNo | 订单号 (the supplier's only open order for it);
 * carrier | 快递公司; trackingNo | 运单号 | 快递单号; shippedAt | 发货时间 (optional, ISO 8601).
 * Each row ships in its own transaction, so one bad row never holds back the others.
 */
const COLUMNS = {
  supplierOrderId: ["supplierorderid", "supplier order id", "代发单号", "代发单id"],
  platformOrderNo: ["platformorderno", "platform order no", "order no", "订单号", "平台订单号"],
  carrier: ["carrier", "快递公司", "承运商", "物流公司"],
  trackingNo: ["trackingno", "tracking no", "tracking number", "运单号", "快递单号", "物流单号"],
  shippedAt: ["shippedat", "shipped at", "发货时间"],
} as const;
type Col = keyof typeof COLUMNS;

export interface ShipRowResult {
  line: number;
  supplierOrderId: string | null;
  ok: boolean;
  field?: string;
  message?: string;
}

/** Strict UTF-8, else GBK (Chinese spreadsheet exports). */
export function decodeText(buf: Buffer): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(buf);
  } catch {
    return iconv.decode(buf, "gbk");
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_ROWS = 5000;

export async function shipFromCsv(deps: Deps, req: Parameters<typeof actorOf>[0], text: string) {
  const actor = actorOf(req);
  const records: string[][] = [];
  const parser = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true, trim: true });
  for await (const r of parser) {
    records.push(r as string[]);
    if (records.length > MAX_ROWS + 1) throw validation("file", `at most ${MAX_ROWS} rows per upload`);
  }
  const header = (records.shift() ?? []).map((h) =>
    h
      .toLowerCase()
      .replace(/[_\s]+/g, " ")
      .trim(),
  );
  const index: Partial<Record<Col, number>> = {};
  for (const [col, names] of Object.entries(COLUMNS) as [Col, readonly string[]][]) {
    const i = header.findIndex((h) => names.includes(h) || names.includes(h.replaceAll(" ", "")));
    if (i >= 0) index[col] = i;
  }
  const missing = (["carrier", "trackingNo"] as Col[]).filter((c) => index[c] === undefined);
  if (index.supplierOrderId === undefined && index.platformOrderNo === undefined) missing.unshift("supplierOrderId");
  if (missing.length)
    throw new AppError("validation_failed", `file: missing columns ${missing.join(", ")}`, {
      fields: missing.map((field) => ({ field, message: "column missing" })),
    });
  const results: ShipRowResult[] = [];
  let line = 1;
  for (const r of records) {
    line++;
    const cell = (c: Col) => (index[c] === undefined ? "" : (r[index[c]] ?? "").trim());
    const fail = (field: string, message: string, supplierOrderId: string | null = null) =>
      results.push({ line, supplierOrderId, ok: false, field, message });
    // A NUL cannot be stored or looked up: the line is reported, the others go on.
    const nul = (Object.keys(index) as Col[]).find((c) => cell(c).includes("\u0000"));
    if (nul) {
      fail(nul, "contains a NUL byte");
      continue;
    }
    let soId = cell("supplierOrderId");
    if (soId && !UUID.test(soId)) {
      fail("supplierOrderId", "not a supplier order id");
      continue;
    }
    if (!soId) {
      const no = cell("platformOrderNo");
      if (!no) {
        fail("supplierOrderId", "give the supplier order id or the order number");
        continue;
      }
      let q = deps.db
        .selectFrom("supplier_orders as so")
        .innerJoin("orders as o", "o.id", "so.order_id")
        .select("so.id")
        .where("so.tenant_id", "=", actor.tenantId)
        .where("o.platform_order_no", "=", no)
        .where("so.status", "in", ["pending", "accepted", "cancel_requested"]);
      if (actor.role === "supplier") q = q.where("so.supplier_id", "=", actor.supplierId ?? "");
      const found = await q.limit(2).execute();
      if (found.length !== 1) {
        fail(
          "platformOrderNo",
          found.length
            ? "several open supplier orders for this order; give the supplier order id"
            : "no open supplier order of yours for this order",
        );
        continue;
      }
      soId = found[0].id as string;
    }
    const carrier = cell("carrier");
    const trackingNo = cell("trackingNo");
    const shippedAt = cell("shippedAt");
    if (!carrier || carrier.length > 60) {
      fail("carrier", "required, at most 60 characters", soId);
      continue;
    }
    if (trackingNo.length < 3 || trackingNo.length > 60) {
      fail("trackingNo", "3 to 60 characters", soId);
      continue;
    }
    if (shippedAt && Number.isNaN(Date.parse(shippedAt))) {
      fail("shippedAt", "not a date and time", soId);
      continue;
    }
    try {
      const id = soId;
      await deps.db.transaction().execute((tx) =>
        supplierOrderActionTx(tx, deps, actor, id, "ship", {
          carrier,
          trackingNo,
          ...(shippedAt && { shippedAt: new Date(shippedAt).toISOString() }),
        }),
      );
      results.push({ line, supplierOrderId: soId, ok: true });
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      fail("supplierOrderId", e.message, soId);
    }
  }
  return { shipped: results.filter((x) => x.ok).length, failed: results.filter((x) => !x.ok).length, results };
}

export function shipCsvRoutes(app: ZApp, deps: Deps) {
  app.post(
    "/api/v1/supplier-orders/ship-csv",
    { config: { roles: ["admin", "cs", "supplier"] }, schema: { tags: ["supplier-orders"], consumes: ["multipart/form-data"] } },
    async (req) => {
      let buf: Buffer | undefined;
      for await (const part of req.parts({ limits: { fileSize: 5 * 1024 * 1024 } })) {
        if (part.type === "file") {
          if (part.fieldname === "file") buf = await part.toBuffer();
          else part.file.resume();
        }
      }
      if (!buf) throw validation("file", "send the CSV as the multipart field `file`");
      return shipFromCsv(deps, req, decodeText(buf));
    },
  );
}
