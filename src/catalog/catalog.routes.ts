import type { Selectable } from "kysely";
import { z } from "zod";
import type { Products, Skus } from "../db/schema.js";
import { audit } from "../platform/audit.js";
import type { Actor, Deps } from "../platform/context.js";
import { AppError, notFound, requireChanges } from "../platform/errors.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { newId } from "../platform/ids.js";
import { keysetPage, pageQuery, sendCsv, wantsCsv } from "../platform/list.js";
import { OfferBody, OfferPatch, offerOut, ProductBody, SupplierBody, SupplierPatch, supplierOut } from "./catalog.schemas.js";
import { catalogCsvRoutes } from "./catalog-csv.js";

const idParam = z.object({ id: z.string().uuid() });

/** Supplier users only ever see their own supplier. */
function scopeSupplier(a: Actor, supplierId?: string): string | undefined {
  if (a.role === "supplier") return a.supplierId;
  return supplierId;
}

const productOut = (p: Selectable<Products>, skus: Selectable<Skus>[]) => ({
  id: p.id,
  title: p.title,
  category: p.category,
  createdAt: p.created_at,
  skus: skus.map((s) => ({ id: s.id, skuCode: s.sku_code, title: s.title, price: Number(s.price), returnTo: s.return_to })),
});

export function catalogRoutes(app: ZApp, deps: Deps) {
  catalogCsvRoutes(app, deps);
  // Suppliers ---------------------------------------------------------------------------------
  app.get(
    "/api/v1/suppliers",
    {
      config: { roles: ROLES.anyStaffOrSupplier },
      schema: {
        tags: ["suppliers"],
        querystring: z.strictObject({ ...pageQuery, active: z.enum(["true", "false"]).optional(), q: z.string().max(100).optional() }),
      },
    },
    async (req, reply) => {
      const a = actorOf(req);
      const fetch = async (cursor: string | undefined, limit: number) => {
        let q = deps.db.selectFrom("suppliers").selectAll().where("tenant_id", "=", a.tenantId);
        const only = scopeSupplier(a);
        if (only) q = q.where("id", "=", only);
        if (req.query.active) q = q.where("active", "=", req.query.active === "true");
        if (req.query.q) q = q.where("name", "ilike", `%${req.query.q}%`);
        const page = await keysetPage(q, "id", cursor, limit);
        return { ...page, items: page.items.map(supplierOut) };
      };
      if (wantsCsv(req)) return sendCsv(reply, "suppliers", fetch);
      return fetch(req.query.cursor, req.query.limit);
    },
  );

  app.get(
    "/api/v1/suppliers/:id",
    { config: { roles: ROLES.anyStaffOrSupplier }, schema: { tags: ["suppliers"], params: idParam } },
    async (req) => {
      const a = actorOf(req);
      if (a.role === "supplier" && a.supplierId !== req.params.id) throw notFound("supplier");
      const s = await deps.db
        .selectFrom("suppliers")
        .selectAll()
        .where("tenant_id", "=", a.tenantId)
        .where("id", "=", req.params.id)
        .executeTakeFirst();
      if (!s) throw notFound("supplier");
      return supplierOut(s);
    },
  );

  app.post(
    "/api/v1/suppliers",
    { config: { roles: ROLES.admin }, schema: { tags: ["suppliers"], body: SupplierBody } },
    async (req, reply) => {
      const a = actorOf(req);
      const b = req.body;
      const row = await deps.db.transaction().execute(async (tx) => {
        const s = await tx
          .insertInto("suppliers")
          .values({
            id: newId(),
            tenant_id: a.tenantId,
            name: b.name,
            contact_name: b.contactName ?? null,
            phone: b.phone ?? null,
            email: b.email ?? null,
            return_address: b.returnAddress ? JSON.stringify(b.returnAddress) : null,
            notes: b.notes ?? null,
            active: b.active,
            terms: JSON.stringify(b.terms ?? {}),
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await audit(tx, a, "supplier.create", "supplier", s.id, undefined, supplierOut(s));
        return s;
      });
      return reply.code(201).send(supplierOut(row));
    },
  );

  app.patch(
    "/api/v1/suppliers/:id",
    { config: { roles: ROLES.admin }, schema: { tags: ["suppliers"], params: idParam, body: SupplierPatch } },
    async (req) => {
      const a = actorOf(req);
      const b = req.body;
      return deps.db.transaction().execute(async (tx) => {
        const before = await tx
          .selectFrom("suppliers")
          .selectAll()
          .where("tenant_id", "=", a.tenantId)
          .where("id", "=", req.params.id)
          .forUpdate()
          .executeTakeFirst();
        if (!before) throw notFound("supplier");
        const after = await tx
          .updateTable("suppliers")
          .set({
            ...requireChanges({
              ...(b.name !== undefined && { name: b.name }),
              ...(b.contactName !== undefined && { contact_name: b.contactName }),
              ...(b.phone !== undefined && { phone: b.phone }),
              ...(b.email !== undefined && { email: b.email }),
              ...(b.returnAddress !== undefined && { return_address: JSON.stringify(b.returnAddress) }),
              ...(b.notes !== undefined && { notes: b.notes }),
              ...(b.active !== undefined && { active: b.active }),
              ...(b.terms !== undefined && { terms: JSON.stringify({ ...(before.terms ?? {}), ...b.terms }) }),
            }),
            updated_at: deps.clock.now(),
          })
          .where("id", "=", before.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        await audit(tx, a, "supplier.update", "supplier", before.id, supplierOut(before), supplierOut(after));
        return supplierOut(after);
      });
    },
  );

  // Products and SKUs --------------------------------------------------------------------------
  app.get(
    "/api/v1/products",
    {
      config: { roles: ROLES.staff },
      schema: {
        tags: ["catalog"],
        querystring: z.strictObject({ ...pageQuery, q: z.string().max(100).optional(), category: z.string().max(60).optional() }),
      },
    },
    async (req, reply) => {
      const a = actorOf(req);
      const fetch = async (cursor: string | undefined, limit: number) => {
        let q = deps.db.selectFrom("products").selectAll().where("tenant_id", "=", a.tenantId);
        if (req.query.category) q = q.where("category", "=", req.query.category);
        if (req.query.q) q = q.where("title", "ilike", `%${req.query.q}%`);
        const page = await keysetPage(q, "id", cursor, limit);
        const ids = page.items.map((p) => p.id);
        const skus = ids.length
          ? await deps.db.selectFrom("skus").selectAll().where("product_id", "in", ids).orderBy("sku_code").execute()
          : [];
        return {
          ...page,
          items: page.items.map((p) =>
            productOut(
              p,
              skus.filter((s) => s.product_id === p.id),
            ),
          ),
        };
      };
      if (wantsCsv(req)) return sendCsv(reply, "products", fetch);
      return fetch(req.query.cursor, req.query.limit);
    },
  );

  app.get("/api/v1/products/:id", { config: { roles: ROLES.staff }, schema: { tags: ["catalog"], params: idParam } }, async (req) => {
    const a = actorOf(req);
    const p = await deps.db
      .selectFrom("products")
      .selectAll()
      .where("tenant_id", "=", a.tenantId)
      .where("id", "=", req.params.id)
      .executeTakeFirst();
    if (!p) throw notFound("product");
    const skus = await deps.db.selectFrom("skus").selectAll().where("product_id", "=", p.id).orderBy("sku_code").execute();
    return productOut(p, skus);
  });

  app.post("/api/v1/products", { config: { roles: ROLES.admin }, schema: { tags: ["catalog"], body: ProductBody } }, async (req, reply) => {
    const a = actorOf(req);
    const b = req.body;
    const codes = new Set<string>();
    b.skus.forEach((s, i) => {
      if (codes.has(s.skuCode))
        throw new AppError("validation_failed", `skus.${i}.skuCode: duplicate`, {
          fields: [{ field: `skus.${i}.skuCode`, message: "duplicate SKU code" }],
        });
      codes.add(s.skuCode);
    });
    const out = await deps.db.transaction().execute(async (tx) => {
      const taken = await tx
        .selectFrom("skus")
        .select("sku_code")
        .where("tenant_id", "=", a.tenantId)
        .where("sku_code", "in", [...codes])
        .execute();
      if (taken.length)
        throw new AppError("conflict", `SKU code ${taken[0].sku_code} exists already`, {
          field: "skus.skuCode",
          skuCode: taken[0].sku_code,
        });
      const p = await tx
        .insertInto("products")
        .values({ id: newId(), tenant_id: a.tenantId, title: b.title, category: b.category })
        .returningAll()
        .executeTakeFirstOrThrow();
      const skus = await tx
        .insertInto("skus")
        .values(
          b.skus.map((s) => ({
            id: newId(),
            tenant_id: a.tenantId,
            product_id: p.id,
            sku_code: s.skuCode,
            title: s.title,
            price: s.price,
            return_to: s.returnTo ?? null,
          })),
        )
        .returningAll()
        .execute();
      const view = productOut(p, skus);
      await audit(tx, a, "product.create", "product", p.id, undefined, view);
      return view;
    });
    return reply.code(201).send(out);
  });

  // Offers (货源) ------------------------------------------------------------------------------
  const offerQuery = z.strictObject({
    ...pageQuery,
    supplierId: z.string().uuid().optional(),
    skuId: z.string().uuid().optional(),
    active: z.enum(["true", "false"]).optional(),
  });
  app.get(
    "/api/v1/offers",
    { config: { roles: ROLES.anyStaffOrSupplier }, schema: { tags: ["catalog"], querystring: offerQuery } },
    async (req, reply) => {
      const a = actorOf(req);
      const fetch = async (cursor: string | undefined, limit: number) => {
        let q = deps.db
          .selectFrom("offers as o")
          .innerJoin("skus as s", "s.id", "o.sku_id")
          .selectAll("o")
          .select("s.sku_code")
          .where("o.tenant_id", "=", a.tenantId);
        const supplierId = scopeSupplier(a, req.query.supplierId);
        if (supplierId) q = q.where("o.supplier_id", "=", supplierId);
        if (req.query.skuId) q = q.where("o.sku_id", "=", req.query.skuId);
        if (req.query.active) q = q.where("o.active", "=", req.query.active === "true");
        const page = await keysetPage(q, "o.id", cursor, limit);
        return { ...page, items: page.items.map(offerOut) };
      };
      if (wantsCsv(req)) return sendCsv(reply, "offers", fetch);
      return fetch(req.query.cursor, req.query.limit);
    },
  );

  app.get(
    "/api/v1/offers/:id/history",
    { config: { roles: ROLES.anyStaffOrSupplier }, schema: { tags: ["catalog"], params: idParam } },
    async (req) => {
      const a = actorOf(req);
      let q = deps.db
        .selectFrom("offers")
        .select(["id", "supplier_id"])
        .where("tenant_id", "=", a.tenantId)
        .where("id", "=", req.params.id);
      if (a.role === "supplier") q = q.where("supplier_id", "=", a.supplierId ?? "");
      if (!(await q.executeTakeFirst())) throw notFound("offer");
      const rows = await deps.db
        .selectFrom("offer_history")
        .selectAll()
        .where("offer_id", "=", req.params.id)
        .orderBy("at", "desc")
        .limit(500)
        .execute();
      return {
        items: rows.map((r) => ({
          cost: Number(r.cost),
          stock: r.stock,
          active: r.active,
          reason: r.reason,
          changedBy: r.changed_by,
          at: r.at,
        })),
        nextCursor: null,
      };
    },
  );

  app.post("/api/v1/offers", { config: { roles: ROLES.admin }, schema: { tags: ["catalog"], body: OfferBody } }, async (req, reply) => {
    const a = actorOf(req);
    const b = req.body;
    const out = await deps.db.transaction().execute(async (tx) => {
      const supplier = await tx
        .selectFrom("suppliers")
        .select("id")
        .where("tenant_id", "=", a.tenantId)
        .where("id", "=", b.supplierId)
        .executeTakeFirst();
      if (!supplier)
        throw new AppError("validation_failed", "supplierId: no such supplier", {
          fields: [{ field: "supplierId", message: "unknown supplier" }],
        });
      const sku = await tx
        .selectFrom("skus")
        .select(["id", "sku_code"])
        .where("tenant_id", "=", a.tenantId)
        .where("id", "=", b.skuId)
        .executeTakeFirst();
      if (!sku) throw new AppError("validation_failed", "skuId: no such SKU", { fields: [{ field: "skuId", message: "unknown SKU" }] });
      const exists = await tx
        .selectFrom("offers")
        .select("id")
        .where("tenant_id", "=", a.tenantId)
        .where("supplier_id", "=", b.supplierId)
        .where("sku_id", "=", b.skuId)
        .executeTakeFirst();
      if (exists) throw new AppError("conflict", "this supplier already offers this SKU; PATCH the offer instead", { offerId: exists.id });
      const o = await tx
        .insertInto("offers")
        .values({
          id: newId(),
          tenant_id: a.tenantId,
          supplier_id: b.supplierId,
          sku_id: b.skuId,
          supplier_sku: b.supplierSku ?? null,
          cost: b.cost,
          stock: b.stock,
          lead_time_days: b.leadTimeDays,
          priority: b.priority,
          active: b.active,
          terms: b.terms ? JSON.stringify(b.terms) : null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await tx
        .insertInto("offer_history")
        .values({
          id: newId(),
          tenant_id: a.tenantId,
          offer_id: o.id,
          cost: o.cost,
          stock: o.stock,
          active: o.active,
          reason: "create",
          changed_by: a.id,
          at: deps.clock.now(),
        })
        .execute();
      await audit(tx, a, "offer.create", "offer", o.id, undefined, offerOut({ ...o, sku_code: sku.sku_code }));
      return offerOut({ ...o, sku_code: sku.sku_code });
    });
    return reply.code(201).send(out);
  });

  app.patch(
    "/api/v1/offers/:id",
    {
      config: { roles: ["admin", "supplier"] },
      schema: { tags: ["catalog"], params: idParam, body: OfferPatch },
    },
    async (req) => {
      const a = actorOf(req);
      const b = req.body;
      // Suppliers keep their own price and stock current; priority and activation stay the merchant's.
      if (a.role === "supplier" && (b.priority !== undefined || b.active !== undefined || b.terms !== undefined)) {
        throw new AppError("forbidden", "suppliers may change cost, stock, lead time and their SKU only");
      }
      return deps.db.transaction().execute(async (tx) => {
        let q = tx.selectFrom("offers").selectAll().where("tenant_id", "=", a.tenantId).where("id", "=", req.params.id);
        if (a.role === "supplier") q = q.where("supplier_id", "=", a.supplierId ?? "");
        const before = await q.forUpdate().executeTakeFirst();
        if (!before) throw notFound("offer");
        const after = await tx
          .updateTable("offers")
          .set({
            ...requireChanges({
              ...(b.supplierSku !== undefined && { supplier_sku: b.supplierSku }),
              ...(b.cost !== undefined && { cost: b.cost }),
              ...(b.stock !== undefined && { stock: b.stock }),
              ...(b.leadTimeDays !== undefined && { lead_time_days: b.leadTimeDays }),
              ...(b.priority !== undefined && { priority: b.priority }),
              ...(b.active !== undefined && { active: b.active }),
              ...(b.terms !== undefined && { terms: JSON.stringify(b.terms) }),
            }),
            updated_at: deps.clock.now(),
          })
          .where("id", "=", before.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        if (Number(after.cost) !== Number(before.cost) || after.stock !== before.stock || after.active !== before.active) {
          await tx
            .insertInto("offer_history")
            .values({
              id: newId(),
              tenant_id: a.tenantId,
              offer_id: after.id,
              cost: after.cost,
              stock: after.stock,
              active: after.active,
              reason: "update",
              changed_by: a.id,
              at: deps.clock.now(),
            })
            .execute();
        }
        const sku = await tx.selectFrom("skus").select("sku_code").where("id", "=", after.sku_id).executeTakeFirstOrThrow();
        await audit(
          tx,
          a,
          "offer.update",
          "offer",
          after.id,
          offerOut({ ...before, sku_code: sku.sku_code }),
          offerOut({ ...after, sku_code: sku.sku_code }),
        );
        return offerOut({ ...after, sku_code: sku.sku_code });
      });
    },
  );
}
