import type { z } from "zod";
import type { Actor, Deps } from "../platform/context.js";
import { keysetPage } from "../platform/list.js";
import type { AuditLogQuery } from "./identity.schemas.js";

// The audit log as admins and finance read it, filtered by entity, action or actor.

export async function listAuditLog(
  deps: Deps,
  actor: Actor,
  f: Omit<z.infer<typeof AuditLogQuery>, "cursor" | "limit">,
  cursor: string | undefined,
  limit: number,
) {
  let q = deps.db.selectFrom("audit_log").selectAll().where("tenant_id", "=", actor.tenantId);
  if (f.entityType) q = q.where("entity_type", "=", f.entityType);
  if (f.entityId) q = q.where("entity_id", "=", f.entityId);
  const action = f.action;
  if (action)
    q = action.endsWith(".") ? q.where("action", "like", `${action.replace(/[%_\\]/g, "\\$&")}%`) : q.where("action", "=", action);
  if (f.actorId) q = q.where("actor_id", "=", f.actorId);
  const page = await keysetPage(q, "id", cursor, limit);
  return {
    ...page,
    items: page.items.map((r) => ({
      id: r.id,
      actorType: r.actor_type,
      actorId: r.actor_id,
      action: r.action,
      entityType: r.entity_type,
      entityId: r.entity_id,
      before: r.before,
      after: r.after,
      at: r.at,
    })),
  };
}
