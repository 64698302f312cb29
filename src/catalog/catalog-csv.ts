import { parse } from "csv-parse";
import { decodeText } from "../fulfilment/ship-csv.js";
import { audit } from "../platform/audit.js";
import type { Actor, Deps } from "../platform/context.js";
import { csvRow, restoreCsvCell } from "../platform/csv.js";
import type { Tx } from "../platform/db.js";
import { AppError, validation } from "../platform/errors.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { newId } from "../platform/ids.js";
import { recordOfferHistory } from "./offer.repo.js";

/**
 * Products with their offers as CSV, one row per offer (a SKU without offers has one row with the
 * supplier columns empty). Money in minor units (fen). The export reads back through the import.
 */
export const CATALOG_COLUMNS = [
  "productTitle",
  "category",
  "skuCode",
  "skuTitle",
  "price",
  "returnTo",
  "supplier",
  "supplierSku",
  "cost",
  "stock",
  "leadTimeDays",
  "priority",
  "active",
] as const;
type Col = (typeof CATALOG_COLUMNS)[number];

const ALIASES: Record<Col, string[]> = {
  productTitle: ["producttitle", "product", "商品名称", "商品"],
  category: ["category", "类目", "品类"],
  skuCode: ["skucode", "sku", "sku编码", "商家编码"],
  skuTitle: ["skutitle", "规格", "sku名称"],
  price: ["price", "售价", "价格"],
  returnTo: ["returnto", "退货去向"],
  supplier: ["supplier", "供应商"],
  supplierSku: ["suppliersku", "供应商货号", "货号"],
  cost: ["cost", "成本", "进价"],
  stock: ["stock", "库存"],
  leadTimeDays: ["leadtimedays", "发货时效", "发货天数"],
  priority: ["priority", "优先级"],
  active: ["active", "启用"],
};

export async function exportCatalogCsv(deps: Deps, actor: Actor): Promise<string> {
  const rows = await deps.db
    .selectFrom("skus as k")
    .innerJoin("products as p", "p.id", "k.product_id")
    .leftJoin("offers as o", (j) => j.onRef("o.sku_id", "=", "k.id").on("o.tenant_id", "=", actor.tenantId))
    .leftJoin("suppliers as s", "s.id", "o.supplier_id")
    .select([
      "p.title as productTitle",
      "p.category",
      "k.sku_code as skuCode",
      "k.title as skuTitle",
      "k.price",
      "k.return_to as returnTo",
      "s.name as supplier",
      "o.supplier_sku as supplierSku",
      "o.cost",
      "o.stock",
      "o.lead_time_days as leadTimeDays",
      "o.priority",
      "o.active",
    ])
    .where("k.tenant_id", "=", actor.tenantId)
    .orderBy("k.sku_code")
    .orderBy("s.name")
    .limit(200_000)
    .execute();
  return `${[CATALOG_COLUMNS.join(","), ...rows.map((r: Record<string, unknown>) => csvRow(CATALOG_COLUMNS.map((c) => r[c])))].join("\n")}\n`;
}

interface RowError {
  line: number;
  field: string;
  message: string;
}

export async function importCatalogCsv(deps: Deps, actor: Actor, text: string) {
  const records: string[][] = [];
  for await (const r of parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true, trim: true })) {
    records.push(r as string[]);
    if (records.length > 20_001) throw validation("file", "at most 20,000 rows");
  }
  const header = (records.shift() ?? []).map((h) => h.toLowerCase().replace(/[\s_]+/g, ""));
  const idx: Partial<Record<Col, number>> = {};
  for (const c of CATALOG_COLUMNS) {
    const i = header.findIndex((h) => ALIASES[c].includes(h));
    if (i >= 0) idx[c] = i;
  }
  const missing = (["productTitle", "skuCode", "price"] as Col[]).filter((c) => idx[c] === undefined);
  if (missing.length)
    throw new AppError("validation_failed", `file: missing columns ${missing.join(", ")}`, {
      fields: missing.map((field) => ({ field, message: "column missing" })),
    });
  const errors: RowError[] = [];
  const counts = { products: 0, skusCreated: 0, skusUpdated: 0, offersCreated: 0, offersUpdated: 0 };
  const suppliers = new Map(
    (await deps.db.selectFrom("suppliers").select(["id", "name"]).where("tenant_id", "=", actor.tenantId).execute()).map((s) => [
      s.name as string,
      s.id as string,
    ]),
  );
  // The API's limits for the same fields (catalog.schemas.ts), so no cell overflows its column.
  const int = (v: string, field: string, line: number, min = 0, max = 1e11): number | null | undefined => {
    if (v === "") return undefined;
    if (!/^-?\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      errors.push({ line, field, message: Number(v) > max ? `at most ${max}` : `a whole number ≥ ${min}` });
      return null;
    }
    return Number(v);
  };
  await deps.db.transaction().execute(async (tx: Tx) => {
    const productsByTitle = new Map<string, string>();
    let line = 1;
    for (const r of records) {
      line++;
      // A cell the export neutralised (`'=…`, see platform/csv.ts) reads back as it was written.
      const cell = (c: Col) => (idx[c] === undefined ? "" : restoreCsvCell(r[idx[c]] ?? "").trim());
      const before = errors.length;
      // A NUL cannot be stored: the line is reported instead of failing the whole file.
      for (const c of Object.keys(idx) as Col[])
        if (cell(c).includes("\u0000")) errors.push({ line, field: c, message: "contains a NUL byte" });
      const title = cell("productTitle");
      const code = cell("skuCode");
      if (!title || title.length > 200) errors.push({ line, field: "productTitle", message: "required, at most 200 characters" });
      if (!code || code.length > 100) errors.push({ line, field: "skuCode", message: "required, at most 100 characters" });
      const price = int(cell("price"), "price", line);
      if (price === undefined) errors.push({ line, field: "price", message: "required" });
      const returnTo = cell("returnTo");
      if (returnTo && !["supplier", "warehouse"].includes(returnTo))
        errors.push({ line, field: "returnTo", message: "supplier or warehouse" });
      const supplierName = cell("supplier");
      const supplierId = supplierName ? suppliers.get(supplierName) : undefined;
      if (supplierName && !supplierId) errors.push({ line, field: "supplier", message: `no supplier named ${supplierName}` });
      const cost = int(cell("cost"), "cost", line);
      const stock = int(cell("stock"), "stock", line, 0, 1e9);
      const lead = int(cell("leadTimeDays"), "leadTimeDays", line, 0, 365);
      const priority = int(cell("priority"), "priority", line, -1000, 1000);
      const activeText = cell("active").toLowerCase();
      if (activeText && !["true", "false", "1", "0", "是", "否"].includes(activeText))
        errors.push({ line, field: "active", message: "true or false" });
      if (supplierId && (cost === undefined || stock === undefined))
        errors.push({ line, field: cost === undefined ? "cost" : "stock", message: "required with a supplier" });
      // Past this check every given number cell is a number (a bad one was reported) and returnTo is valid.
      if (errors.length > before || price == null) continue;
      const returnToValue = returnTo === "supplier" || returnTo === "warehouse" ? returnTo : null;
      const category = cell("category") || "general";

      let sku = await tx
        .selectFrom("skus")
        .selectAll()
        .where("tenant_id", "=", actor.tenantId)
        .where("sku_code", "=", code)
        .executeTakeFirst();
      if (!sku) {
        let productId = productsByTitle.get(title);
        if (!productId) {
          productId = newId();
          await tx.insertInto("products").values({ id: productId, tenant_id: actor.tenantId, title, category }).execute();
          productsByTitle.set(title, productId);
          counts.products++;
        }
        sku = await tx
          .insertInto("skus")
          .values({
            id: newId(),
            tenant_id: actor.tenantId,
            product_id: productId,
            sku_code: code,
            title: cell("skuTitle") || title,
            price,
            return_to: returnToValue,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        counts.skusCreated++;
        await audit(tx, actor, "sku.import", "sku", sku.id, undefined, { skuCode: code, price });
      } else if (Number(sku.price) !== price || returnToValue !== sku.return_to) {
        await tx.updateTable("skus").set({ price, return_to: returnToValue }).where("id", "=", sku.id).execute();
        counts.skusUpdated++;
        await audit(tx, actor, "sku.import", "sku", sku.id, { price: Number(sku.price) }, { price });
      }
      if (!supplierId || cost == null || stock == null) continue;
      const active = activeText ? ["true", "1", "是"].includes(activeText) : true;
      const existing = await tx
        .selectFrom("offers")
        .selectAll()
        .where("tenant_id", "=", actor.tenantId)
        .where("supplier_id", "=", supplierId)
        .where("sku_id", "=", sku.id)
        .executeTakeFirst();
      let offerId: string;
      let changed = false;
      if (!existing) {
        offerId = newId();
        await tx
          .insertInto("offers")
          .values({
            id: offerId,
            tenant_id: actor.tenantId,
            supplier_id: supplierId,
            sku_id: sku.id,
            supplier_sku: cell("supplierSku") || null,
            cost,
            stock,
            lead_time_days: lead ?? 2,
            priority: priority ?? 0,
            active,
          })
          .execute();
        counts.offersCreated++;
        changed = true;
      } else {
        offerId = existing.id;
        changed = Number(existing.cost) !== cost || existing.stock !== stock || existing.active !== active;
        const other =
          (cell("supplierSku") || null) !== existing.supplier_sku ||
          (lead != null && lead !== existing.lead_time_days) ||
          (priority != null && priority !== existing.priority);
        if (changed || other) {
          await tx
            .updateTable("offers")
            .set({
              supplier_sku: cell("supplierSku") || null,
              cost,
              stock,
              active,
              ...(lead != null && { lead_time_days: lead }),
              ...(priority != null && { priority }),
              updated_at: deps.clock.now(),
            })
            .where("id", "=", offerId)
            .execute();
          counts.offersUpdated++;
        }
      }
      if (changed)
        await recordOfferHistory(tx, {
          tenantId: actor.tenantId,
          offerId,
          cost,
          stock,
          active,
          reason: "import",
          changedBy: actor.id,
          at: deps.clock.now(),
        });
    }
  });
  return { ...counts, failed: new Set(errors.map((e) => e.line)).size, errors };
}

export function catalogCsvRoutes(app: ZApp, deps: Deps) {
  app.get("/api/v1/products/export.csv", { config: { roles: ROLES.staff }, schema: { tags: ["catalog"] } }, async (req, reply) => {
    const csv = await exportCatalogCsv(deps, actorOf(req));
    return reply
      .header("content-type", "text/csv; charset=utf-8")
      .header("content-disposition", 'attachment; filename="products.csv"')
      .send(`\ufeff${csv}`);
  });
  app.post(
    "/api/v1/products/import",
    { config: { roles: ROLES.admin }, schema: { tags: ["catalog"], consumes: ["multipart/form-data"] } },
    async (req) => {
      let buf: Buffer | undefined;
      for await (const part of req.parts({ limits: { fileSize: 10 * 1024 * 1024 } })) {
        if (part.type === "file") {
          if (part.fieldname === "file") buf = await part.toBuffer();
          else part.file.resume();
        }
      }
      if (!buf) throw validation("file", "send the CSV as the multipart field `file`");
      return importCatalogCsv(deps, actorOf(req), decodeText(buf));
    },
  );
}
