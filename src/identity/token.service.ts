import type { z } from "zod";
import { audit } from "../platform/audit.js";
import { createApiToken, forgetCredentials } from "../platform/auth.js";
import type { Actor, Deps } from "../platform/context.js";
import { notFound } from "../platform/errors.js";
import type { ApiTokenBody } from "./identity.schemas.js";

// API tokens: created for an integration, shown once, revoked by an admin.

export async function listApiTokens(deps: Deps, actor: Actor) {
  const rows = await deps.db
    .selectFrom("api_tokens")
    .select(["id", "name", "role", "prefix", "created_at", "last_used_at", "revoked_at"])
    .where("tenant_id", "=", actor.tenantId)
    .orderBy("id", "desc")
    .execute();
  return {
    items: rows.map((r) => ({
      id: r.id,
      name: r.name,
      role: r.role,
      prefix: r.prefix,
      createdAt: r.created_at,
      revokedAt: r.revoked_at,
    })),
    nextCursor: null,
  };
}

export async function issueApiToken(deps: Deps, actor: Actor, b: z.infer<typeof ApiTokenBody>) {
  const t = await createApiToken(deps, actor, b.name, b.role);
  await audit(deps.db, actor, "api_token.create", "api_token", t.id, undefined, { name: b.name, role: b.role });
  // The token is shown once; only its hash is stored.
  return { id: t.id, name: b.name, role: b.role, token: t.token, prefix: t.prefix };
}

export async function revokeApiToken(deps: Deps, actor: Actor, id: string) {
  const r = await deps.db
    .updateTable("api_tokens")
    .set({ revoked_at: new Date() })
    .where("tenant_id", "=", actor.tenantId)
    .where("id", "=", id)
    .returning(["id", "revoked_at"])
    .executeTakeFirst();
  if (!r) throw notFound("API token");
  await forgetCredentials(deps);
  await audit(deps.db, actor, "api_token.revoke", "api_token", r.id);
  return { id: r.id, revokedAt: r.revoked_at };
}
