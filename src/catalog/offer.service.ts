import type { z } from "zod";
import { audit } from "../platform/audit.js";
import type { Actor, Deps } from "../platform/context.js";
import { AppError, forbidden, notFound, requireChanges, validation } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import { keysetPage } from "../platform/list.js";
import { scopeSupplier } from "../platform/scope.js";
import type { OfferBody, OfferPatch } from "./catalog.schemas.js";
import { offerOut } from "./catalog.schemas.js";
import { recordOfferHistory } from "./offer.repo.js";

// Offers (货源): which supplier sells which SKU at what cost, stock and lead time.

export async function listOffers(
  deps: Deps,
  actor: Actor,
  f: { supplierId?: string; skuId?: string; active?: "true" | "false"; cursor?: string; limit: number },
) {
  let q = deps.db
    .selectFrom("offers as o")
    .innerJoin("skus as s", "s.id", "o.sku_id")
    .selectAll("o")
    .select("s.sku_code")
    .where("o.tenant_id", "=", actor.tenantId);
  const supplierId = scopeSupplier(actor, f.supplierId);
  if (supplierId) q = q.where("o.supplier_id", "=", supplierId);
  if (f.skuId) q = q.where("o.sku_id", "=", f.skuId);
  if (f.active) q = q.where("o.active", "=", f.active === "true");
  const page = await keysetPage(q, "o.id", f.cursor, f.limit);
  return { ...page, items: page.items.map(offerOut) };
}

export async function offerHistory(deps: Deps, actor: Actor, offerId: string) {
  let q = deps.db.selectFrom("offers").select(["id", "supplier_id"]).where("tenant_id", "=", actor.tenantId).where("id", "=", offerId);
  if (actor.role === "supplier") q = q.where("supplier_id", "=", actor.supplierId ?? "");
  if (!(await q.executeTakeFirst())) throw notFound("offer");
  const rows = await deps.db
    .selectFrom("offer_history")
    .selectAll()
    .where("offer_id", "=", offerId)
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
}

export async function createOffer(deps: Deps, actor: Actor, b: z.infer<typeof OfferBody>) {
  return deps.db.transaction().execute(async (tx) => {
    const supplier = await tx
      .selectFrom("suppliers")
      .select("id")
      .where("tenant_id", "=", actor.tenantId)
      .where("id", "=", b.supplierId)
      .executeTakeFirst();
    if (!supplier) throw validation("supplierId", "no such supplier");
    const sku = await tx
      .selectFrom("skus")
      .select(["id", "sku_code"])
      .where("tenant_id", "=", actor.tenantId)
      .where("id", "=", b.skuId)
      .executeTakeFirst();
    if (!sku) throw validation("skuId", "no such SKU");
    const exists = await tx
      .selectFrom("offers")
      .select("id")
      .where("tenant_id", "=", actor.tenantId)
      .where("supplier_id", "=", b.supplierId)
      .where("sku_id", "=", b.skuId)
      .executeTakeFirst();
    if (exists) throw new AppError("conflict", "this supplier already offers this SKU; PATCH the offer instead", { offerId: exists.id });
    const o = await tx
      .insertInto("offers")
      .values({
        id: newId(),
        tenant_id: actor.tenantId,
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
    const at = deps.clock.now();
    await recordOfferHistory(tx, {
      tenantId: actor.tenantId,
      offerId: o.id,
      cost: o.cost,
      stock: o.stock,
      active: o.active,
      reason: "create",
      changedBy: actor.id,
      at,
    });
    const view = offerOut({ ...o, sku_code: sku.sku_code });
    await audit(tx, actor, "offer.create", "offer", o.id, undefined, view);
    return view;
  });
}

export async function updateOffer(deps: Deps, actor: Actor, offerId: string, b: z.infer<typeof OfferPatch>) {
  // Suppliers keep their own price and stock current; priority and activation stay the merchant's.
  if (actor.role === "supplier" && (b.priority !== undefined || b.active !== undefined || b.terms !== undefined))
    throw forbidden("suppliers may change cost, stock, lead time and their SKU only");
  return deps.db.transaction().execute(async (tx) => {
    let q = tx.selectFrom("offers").selectAll().where("tenant_id", "=", actor.tenantId).where("id", "=", offerId);
    if (actor.role === "supplier") q = q.where("supplier_id", "=", actor.supplierId ?? "");
    const before = await q.forUpdate().executeTakeFirst();
    if (!before) throw notFound("offer");
    const now = deps.clock.now();
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
        updated_at: now,
      })
      .where("id", "=", before.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (Number(after.cost) !== Number(before.cost) || after.stock !== before.stock || after.active !== before.active)
      await recordOfferHistory(tx, {
        tenantId: actor.tenantId,
        offerId: after.id,
        cost: after.cost,
        stock: after.stock,
        active: after.active,
        reason: "update",
        changedBy: actor.id,
        at: now,
      });
    const sku = await tx.selectFrom("skus").select("sku_code").where("id", "=", after.sku_id).executeTakeFirstOrThrow();
    const view = offerOut({ ...after, sku_code: sku.sku_code });
    await audit(tx, actor, "offer.update", "offer", after.id, offerOut({ ...before, sku_code: sku.sku_code }), view);
    return view;
  });
}
