import { z } from "zod";
import { BLOCKLIST_KINDS } from "../domain/vocabulary.js";
import { audit } from "../platform/audit.js";
import type { Deps } from "../platform/context.js";
import { notFound } from "../platform/errors.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { newId } from "../platform/ids.js";

// The blocklist: phones, e-mails or customers whose requests are flagged for review (see isBlocked
// in case.repo.ts). Three statements, each a plain tenant-scoped read or write, so no service file.

const idParam = z.object({ id: z.string().uuid() });

const BlocklistBody = z.strictObject({
  shopId: z.string().uuid().optional(),
  kind: z.enum(BLOCKLIST_KINDS),
  value: z.string().min(1).max(200),
  reason: z.string().max(500).optional(),
});

export function blocklistRoutes(app: ZApp, deps: Deps) {
  app.get("/api/v1/blocklist", { config: { roles: ROLES.staff }, schema: { tags: ["abuse"] } }, async (req) => {
    const a = actorOf(req);
    const rows = await deps.db
      .selectFrom("blocklist")
      .selectAll()
      .where("tenant_id", "=", a.tenantId)
      .orderBy("id", "desc")
      .limit(1000)
      .execute();
    return {
      items: rows.map((r) => ({ id: r.id, shopId: r.shop_id, kind: r.kind, value: r.value, reason: r.reason, createdAt: r.created_at })),
      nextCursor: null,
    };
  });
  app.post(
    "/api/v1/blocklist",
    { config: { roles: ROLES.admin }, schema: { tags: ["abuse"], body: BlocklistBody } },
    async (req, reply) => {
      const a = actorOf(req);
      const b = req.body;
      const value = b.kind === "email" ? b.value.toLowerCase() : b.value;
      const row = await deps.db
        .insertInto("blocklist")
        .values({ id: newId(), tenant_id: a.tenantId, shop_id: b.shopId ?? null, kind: b.kind, value, reason: b.reason ?? null })
        .returningAll()
        .executeTakeFirstOrThrow();
      await audit(deps.db, a, "blocklist.add", "blocklist", row.id, undefined, { kind: b.kind, value });
      return reply.code(201).send({ id: row.id, shopId: row.shop_id, kind: row.kind, value: row.value, reason: row.reason });
    },
  );
  app.delete("/api/v1/blocklist/:id", { config: { roles: ROLES.admin }, schema: { tags: ["abuse"], params: idParam } }, async (req) => {
    const a = actorOf(req);
    const r = await deps.db.deleteFrom("blocklist").where("tenant_id", "=", a.tenantId).where("id", "=", req.params.id).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw notFound("blocklist entry");
    await audit(deps.db, a, "blocklist.remove", "blocklist", req.params.id);
    return { ok: true };
  });
}
