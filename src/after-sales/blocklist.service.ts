import type { z } from "zod";
import { audit } from "../platform/audit.js";
import type { Actor, Deps } from "../platform/context.js";
import { notFound } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import type { BlocklistBody } from "./blocklist.routes.js";

// The blocklist: phones, e-mails or customers whose requests are flagged for review (see isBlocked
// in case.repo.ts).

export async function listBlocklist(deps: Deps, a: Actor) {
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
}

export async function addToBlocklist(deps: Deps, a: Actor, b: z.infer<typeof BlocklistBody>) {
  const value = b.kind === "email" ? b.value.toLowerCase() : b.value;
  const row = await deps.db
    .insertInto("blocklist")
    .values({ id: newId(), tenant_id: a.tenantId, shop_id: b.shopId ?? null, kind: b.kind, value, reason: b.reason ?? null })
    .returningAll()
    .executeTakeFirstOrThrow();
  await audit(deps.db, a, "blocklist.add", "blocklist", row.id, undefined, { kind: b.kind, value });
  return { id: row.id, shopId: row.shop_id, kind: row.kind, value: row.value, reason: row.reason };
}

export async function removeFromBlocklist(deps: Deps, a: Actor, id: string) {
  const r = await deps.db.deleteFrom("blocklist").where("tenant_id", "=", a.tenantId).where("id", "=", id).executeTakeFirst();
  if (Number(r.numDeletedRows) === 0) throw notFound("blocklist entry");
  await audit(deps.db, a, "blocklist.remove", "blocklist", id);
  return { ok: true };
}
