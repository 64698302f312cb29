import type { z } from "zod";
import { audit } from "../platform/audit.js";
import type { Actor, Deps } from "../platform/context.js";
import { notFound, requireChanges } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import { keysetPage } from "../platform/list.js";
import { scopeSupplier } from "../platform/scope.js";
import { type SupplierBody, type SupplierPatch, supplierOut } from "./catalog.schemas.js";

// Suppliers: who the merchant forwards orders to, their contacts, return address and terms.

export async function listSuppliers(
  deps: Deps,
  actor: Actor,
  f: { active?: "true" | "false"; q?: string; cursor?: string; limit: number },
) {
  let q = deps.db.selectFrom("suppliers").selectAll().where("tenant_id", "=", actor.tenantId);
  const only = scopeSupplier(actor);
  if (only) q = q.where("id", "=", only);
  if (f.active) q = q.where("active", "=", f.active === "true");
  if (f.q) q = q.where("name", "ilike", `%${f.q}%`);
  const page = await keysetPage(q, "id", f.cursor, f.limit);
  return { ...page, items: page.items.map(supplierOut) };
}

export async function getSupplier(deps: Deps, actor: Actor, id: string) {
  if (actor.role === "supplier" && actor.supplierId !== id) throw notFound("supplier");
  const s = await deps.db
    .selectFrom("suppliers")
    .selectAll()
    .where("tenant_id", "=", actor.tenantId)
    .where("id", "=", id)
    .executeTakeFirst();
  if (!s) throw notFound("supplier");
  return supplierOut(s);
}

export async function createSupplier(deps: Deps, actor: Actor, b: z.infer<typeof SupplierBody>) {
  return deps.db.transaction().execute(async (tx) => {
    const s = await tx
      .insertInto("suppliers")
      .values({
        id: newId(),
        tenant_id: actor.tenantId,
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
    await audit(tx, actor, "supplier.create", "supplier", s.id, undefined, supplierOut(s));
    return supplierOut(s);
  });
}

export async function updateSupplier(deps: Deps, actor: Actor, id: string, b: z.infer<typeof SupplierPatch>) {
  return deps.db.transaction().execute(async (tx) => {
    const before = await tx
      .selectFrom("suppliers")
      .selectAll()
      .where("tenant_id", "=", actor.tenantId)
      .where("id", "=", id)
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
    await audit(tx, actor, "supplier.update", "supplier", before.id, supplierOut(before), supplierOut(after));
    return supplierOut(after);
  });
}
