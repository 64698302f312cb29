import type { Selectable } from "kysely";
import { z } from "zod";
import type { Shops } from "../db/schema.js";
import { audit } from "../platform/audit.js";
import type { Deps } from "../platform/context.js";
import { notFound, requireChanges, validation } from "../platform/errors.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { newId } from "../platform/ids.js";

export const AddressSchema = z.strictObject({
  name: z.string().max(100).optional(),
  phone: z.string().max(40).optional(),
  country: z.string().max(60).optional(),
  province: z.string().max(60).optional(),
  city: z.string().max(60).optional(),
  district: z.string().max(60).optional(),
  line1: z.string().max(300).optional(),
  line2: z.string().max(300).optional(),
  postalCode: z.string().max(20).optional(),
});

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

export function shopRoutes(app: ZApp, deps: Deps) {
  app.get("/api/v1/shops", { config: { roles: ROLES.staff }, schema: { tags: ["shops"] } }, async (req) => {
    const a = actorOf(req);
    const rows = await deps.db.selectFrom("shops").selectAll().where("tenant_id", "=", a.tenantId).orderBy("id").execute();
    return { items: rows.map(shopOut), nextCursor: null };
  });

  app.get(
    "/api/v1/shops/:id",
    { config: { roles: ROLES.staff }, schema: { tags: ["shops"], params: z.object({ id: z.string().uuid() }) } },
    async (req) => {
      const a = actorOf(req);
      const s = await deps.db
        .selectFrom("shops")
        .selectAll()
        .where("tenant_id", "=", a.tenantId)
        .where("id", "=", req.params.id)
        .executeTakeFirst();
      if (!s) throw notFound("shop");
      return shopOut(s);
    },
  );

  const shopFields = {
    name: z.string().min(1).max(100),
    platform: z.string().min(1).max(40),
    timezone: z.string().max(60),
    currency: z.string().regex(/^[A-Z]{3}$/, "a three-letter ISO code such as CNY"),
    warehouseAddress: AddressSchema.optional(),
    /** Among offers of equal priority, forward to the supplier with the better analytics score first. */
    routeBySupplierScore: z.boolean().optional(),
  };
  const ShopBody = z.strictObject({
    ...shopFields,
    timezone: shopFields.timezone.default("Asia/Shanghai"),
    currency: shopFields.currency.default("CNY"),
  });
  // PATCH carries no defaults: a field left out stays as it is.
  const ShopPatch = z.strictObject(shopFields).partial();

  app.post("/api/v1/shops", { config: { roles: ROLES.admin }, schema: { tags: ["shops"], body: ShopBody } }, async (req, reply) => {
    const a = actorOf(req);
    const b = req.body;
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
    return reply.code(201).send(shopOut(shop));
  });

  app.patch(
    "/api/v1/shops/:id",
    { config: { roles: ROLES.admin }, schema: { tags: ["shops"], params: z.object({ id: z.string().uuid() }), body: ShopPatch } },
    async (req) => {
      const a = actorOf(req);
      const b = req.body;
      if (b.timezone && !validTimeZone(b.timezone)) {
        throw validation("timezone", "not an IANA time zone");
      }
      return deps.db.transaction().execute(async (tx) => {
        const before = await tx
          .selectFrom("shops")
          .selectAll()
          .where("tenant_id", "=", a.tenantId)
          .where("id", "=", req.params.id)
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
    },
  );
}
