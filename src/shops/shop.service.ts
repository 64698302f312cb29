import type { Selectable } from "kysely";
import type { z } from "zod";
import type { Shops } from "../db/schema.js";
import { audit } from "../platform/audit.js";
import type { Actor, Deps } from "../platform/context.js";
import { notFound, requireChanges, validation } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import type { ShopBody, ShopPatch } from "./shop.schemas.js";

// Shops: the merchant's stores, each with its platform, time zone, currency and return warehouse.

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const shopOut = (s: Selectable<Shops>) => ({
  id: s.id,
  name: s.name,
  platform: s.platform,
  timezone: s.timezone,
  currency: s.currency,
  warehouseAddress: s.warehouse_address ?? null,
  routeBySupplierScore: Boolean(s.route_by_score),
  createdAt: s.created_at,
});

export async function listShops(deps: Deps, a: Actor) {
  const rows = await deps.db.selectFrom("shops").selectAll().where("tenant_id", "=", a.tenantId).orderBy("id").execute();
  return { items: rows.map(shopOut), nextCursor: null };
}

export async function getShop(deps: Deps, a: Actor, id: string) {
  const s = await deps.db.selectFrom("shops").selectAll().where("tenant_id", "=", a.tenantId).where("id", "=", id).executeTakeFirst();
  if (!s) throw notFound("shop");
  return shopOut(s);
}

export async function createShop(deps: Deps, a: Actor, b: z.infer<typeof ShopBody>) {
  if (!validTimeZone(b.timezone)) {
    throw validation("timezone", "not an IANA time zone");
  }
  const shop = await deps.db.transaction().execute(async (tx) => {
    const s = await tx
      .insertInto("shops")
      .values({
        id: newId(),
        tenant_id: a.tenantId,
        name: b.name,
        platform: b.platform,
        timezone: b.timezone,
        currency: b.currency,
        warehouse_address: b.warehouseAddress ? JSON.stringify(b.warehouseAddress) : null,
        route_by_score: b.routeBySupplierScore ?? false,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(tx, a, "shop.create", "shop", s.id, undefined, shopOut(s));
    return s;
  });
  return shopOut(shop);
}

export async function updateShop(deps: Deps, a: Actor, id: string, b: z.infer<typeof ShopPatch>) {
  if (b.timezone && !validTimeZone(b.timezone)) {
    throw validation("timezone", "not an IANA time zone");
  }
  return deps.db.transaction().execute(async (tx) => {
    const before = await tx
      .selectFrom("shops")
      .selectAll()
      .where("tenant_id", "=", a.tenantId)
      .where("id", "=", id)
      .forUpdate()
      .executeTakeFirst();
    if (!before) throw notFound("shop");
    const after = await tx
      .updateTable("shops")
      .set(
        requireChanges({
          ...(b.name && { name: b.name }),
          ...(b.platform && { platform: b.platform }),
          ...(b.timezone && { timezone: b.timezone }),
          ...(b.currency && { currency: b.currency }),
          ...(b.warehouseAddress && { warehouse_address: JSON.stringify(b.warehouseAddress) }),
          ...(b.routeBySupplierScore !== undefined && { route_by_score: b.routeBySupplierScore }),
        }),
      )
      .where("id", "=", before.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(tx, a, "shop.update", "shop", before.id, shopOut(before), shopOut(after));
    return shopOut(after);
  });
}
