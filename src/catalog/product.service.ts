import type { Selectable } from "kysely";
import type { z } from "zod";
import type { Products, Skus } from "../db/schema.js";
import { audit } from "../platform/audit.js";
import type { Actor, Deps } from "../platform/context.js";
import { AppError, notFound, validation } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import { keysetPage } from "../platform/list.js";
import type { ProductBody } from "./catalog.schemas.js";

// Products and their SKUs (the merchant's own catalogue, which orders' lines name by SKU code).

export const productOut = (p: Selectable<Products>, skus: Selectable<Skus>[]) => ({
  id: p.id,
  title: p.title,
  category: p.category,
  createdAt: p.created_at,
  skus: skus.map((s) => ({ id: s.id, skuCode: s.sku_code, title: s.title, price: Number(s.price), returnTo: s.return_to })),
});

export async function listProducts(deps: Deps, actor: Actor, f: { q?: string; category?: string; cursor?: string; limit: number }) {
  let q = deps.db.selectFrom("products").selectAll().where("tenant_id", "=", actor.tenantId);
  if (f.category) q = q.where("category", "=", f.category);
  if (f.q) q = q.where("title", "ilike", `%${f.q}%`);
  const page = await keysetPage(q, "id", f.cursor, f.limit);
  const ids = page.items.map((p) => p.id);
  const skus = ids.length ? await deps.db.selectFrom("skus").selectAll().where("product_id", "in", ids).orderBy("sku_code").execute() : [];
  return {
    ...page,
    items: page.items.map((p) =>
      productOut(
        p,
        skus.filter((s) => s.product_id === p.id),
      ),
    ),
  };
}

export async function getProduct(deps: Deps, actor: Actor, id: string) {
  const p = await deps.db
    .selectFrom("products")
    .selectAll()
    .where("tenant_id", "=", actor.tenantId)
    .where("id", "=", id)
    .executeTakeFirst();
  if (!p) throw notFound("product");
  const skus = await deps.db.selectFrom("skus").selectAll().where("product_id", "=", p.id).orderBy("sku_code").execute();
  return productOut(p, skus);
}

export async function createProduct(deps: Deps, actor: Actor, b: z.infer<typeof ProductBody>) {
  const codes = new Set<string>();
  b.skus.forEach((s, i) => {
    if (codes.has(s.skuCode)) throw validation(`skus.${i}.skuCode`, "duplicate SKU code");
    codes.add(s.skuCode);
  });
  return deps.db.transaction().execute(async (tx) => {
    const taken = await tx
      .selectFrom("skus")
      .select("sku_code")
      .where("tenant_id", "=", actor.tenantId)
      .where("sku_code", "in", [...codes])
      .execute();
    if (taken.length)
      throw new AppError("conflict", `SKU code ${taken[0].sku_code} exists already`, { field: "skus.skuCode", skuCode: taken[0].sku_code });
    const p = await tx
      .insertInto("products")
      .values({ id: newId(), tenant_id: actor.tenantId, title: b.title, category: b.category })
      .returningAll()
      .executeTakeFirstOrThrow();
    const skus = await tx
      .insertInto("skus")
      .values(
        b.skus.map((s) => ({
          id: newId(),
          tenant_id: actor.tenantId,
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
    await audit(tx, actor, "product.create", "product", p.id, undefined, view);
    return view;
  });
}
