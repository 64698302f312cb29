import { createHmac, timingSafeEqual } from "node:crypto";
import { hash, verify } from "@node-rs/argon2";
import type { FastifyReply, FastifyRequest } from "fastify";
import pg from "pg";
import type { Actor, Deps, Role, StaffRole } from "./context.js";
import { AppError } from "./errors.js";
import { newId, randomToken, sha256 } from "./ids.js";

export const SESSION_COOKIE = "dd_session";
const SESSION_DAYS = 14;

export const hashPassword = (password: string) => hash(password);
export const verifyPassword = (stored: string, password: string) => verify(stored, password).catch(() => false);

/** Creates a session row and returns the opaque token for the cookie; only its hash is stored. */
export async function createSession(deps: Deps, user: { id: string; tenant_id: string } | Record<string, string>): Promise<string> {
  const token = randomToken();
  await deps.db
    .insertInto("sessions")
    .values({
      id: sha256(token),
      tenant_id: user.tenant_id,
      user_id: user.id,
      expires_at: new Date(Date.now() + SESSION_DAYS * 86400_000),
    })
    .execute();
  return token;
}

export async function destroySession(deps: Deps, token: string): Promise<void> {
  await deps.db.deleteFrom("sessions").where("id", "=", sha256(token)).execute();
  await forgetCredentials(deps);
}

export async function createApiToken(
  deps: Deps,
  actor: Actor,
  name: string,
  role: StaffRole,
): Promise<{ id: string; token: string; prefix: string }> {
  const token = `ddt_${randomToken(24)}`;
  const id = newId();
  await deps.db
    .insertInto("api_tokens")
    .values({
      id,
      tenant_id: actor.tenantId,
      name,
      role,
      token_hash: sha256(token),
      prefix: token.slice(0, 10),
      created_by: actor.kind === "user" ? actor.id : null,
    })
    .execute();
  return { id, token, prefix: token.slice(0, 10) };
}

function userActor(row: Record<string, unknown>): Actor {
  return {
    kind: "user",
    id: String(row.user_id ?? row.id),
    tenantId: String(row.tenant_id),
    role: row.role as Role,
    supplierId: (row.supplier_id as string | null) ?? undefined,
    name: String(row.name ?? row.email ?? ""),
    locale: (row.locale as Actor["locale"]) ?? "zh-CN",
  };
}

/**
 * Resolved credentials are kept for a few seconds per process, so that the hot path does not look
 * the same token up on every request. The cache key is the credential that authenticated the
 * request and nothing else: `bearer:<hash>` for an API or portal token, `session:<hash>` for the
 * session cookie. Any other `Authorization` scheme (a proxy's `Basic …`) is not a credential and
 * plays no part. Logout, revocation and user changes clear this process's entries at once and tell
 * the other processes through PostgreSQL's NOTIFY; if that channel is down, an entry lives at most
 * AUTH_CACHE_MS (and never past the session's own expiry).
 */
const AUTH_CACHE_MS = Number(process.env.DROPDESK_AUTH_CACHE_MS ?? 5000);
const AUTH_CHANNEL = "dropdesk_credentials";
const authCache = new Map<string, { actor: Actor; until: number }>();

/** Drops every cached credential in this process and, after the change committed, in all others. */
export async function forgetCredentials(deps?: Deps): Promise<void> {
  authCache.clear();
  if (deps?.h.kind === "postgres") await deps.h.query("SELECT pg_notify($1, '')", [AUTH_CHANNEL]).catch(() => {});
}

/**
 * Listens for credential changes made by other processes (PostgreSQL only; the embedded database
 * has one process). Returns a function that stops listening.
 */
export async function watchCredentialChanges(deps: Deps): Promise<() => Promise<void>> {
  const pool = deps.h.pool;
  if (!pool) return async () => {};
  let client: pg.Client | undefined;
  let stopped = false;
  const connect = async () => {
    const c = new pg.Client(pool.options);
    c.on("notification", () => authCache.clear());
    c.on("error", () => {
      // A lost channel means other processes' changes are no longer heard: forget everything now,
      // so stale entries are bounded by the time until the next reconnect, then listen again.
      authCache.clear();
      if (!stopped) setTimeout(() => void connect().catch(() => {}), 1000).unref();
    });
    await c.connect();
    await c.query(`LISTEN ${AUTH_CHANNEL}`);
    client = c;
  };
  await connect().catch(() => {});
  return async () => {
    stopped = true;
    await client?.end().catch(() => {});
  };
}

/** The one credential a request carries: a Bearer token, else the session cookie. */
function credentialOf(req: FastifyRequest): { kind: "bearer" | "session"; secret: string } | null {
  const authz = req.headers.authorization;
  if (authz && /^Bearer\s+/i.test(authz)) {
    const secret = authz.replace(/^Bearer\s+/i, "").trim();
    return secret ? { kind: "bearer", secret } : null;
  }
  const cookie = req.cookies?.[SESSION_COOKIE];
  return cookie ? { kind: "session", secret: cookie } : null;
}

/** True when the request authenticates with a Bearer token (not a cookie the browser adds by itself). */
export const hasBearerToken = (req: FastifyRequest) => credentialOf(req)?.kind === "bearer";

/** Resolves the caller from a session cookie, a staff API token or a portal token. */
export async function resolveActor(deps: Deps, req: FastifyRequest): Promise<Actor | null> {
  const credential = credentialOf(req);
  if (!credential) return null;
  const cacheKey = `${credential.kind}:${sha256(credential.secret)}`;
  const now = Date.now();
  const hit = authCache.get(cacheKey);
  if (hit && hit.until > now) return hit.actor;
  const found = credential.kind === "bearer" ? await bearerActor(deps, credential.secret) : await sessionActor(deps, credential.secret);
  if (found && AUTH_CACHE_MS > 0) {
    if (authCache.size > 10_000) authCache.clear();
    authCache.set(cacheKey, { actor: found.actor, until: Math.min(now + AUTH_CACHE_MS, found.expiresAt ?? Number.POSITIVE_INFINITY) });
  }
  return found?.actor ?? null;
}

type Found = { actor: Actor; expiresAt?: number } | null;

async function bearerActor(deps: Deps, token: string): Promise<Found> {
  if (token.startsWith("ddp_")) {
    const actor = await verifyPortalToken(deps, token);
    return actor ? { actor } : null;
  }
  const row = await deps.db
    .selectFrom("api_tokens")
    .select(["id", "tenant_id", "role", "name"])
    .where("token_hash", "=", sha256(token))
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  if (!row) return null;
  return { actor: { kind: "token", id: row.id, tenantId: row.tenant_id, role: row.role, name: row.name, locale: "zh-CN" } };
}

async function sessionActor(deps: Deps, cookie: string): Promise<Found> {
  const row = await deps.db
    .selectFrom("sessions as s")
    .innerJoin("users as u", "u.id", "s.user_id")
    .select(["s.user_id", "s.tenant_id", "u.role", "u.supplier_id", "u.name", "u.email", "u.locale", "s.expires_at"])
    .where("s.id", "=", sha256(cookie))
    .where("u.active", "=", true)
    .executeTakeFirst();
  if (!row) return null;
  const expiresAt = new Date(row.expires_at).getTime();
  if (expiresAt < Date.now()) return null;
  return { actor: userActor(row), expiresAt };
}

/** Cross-site request forgery guard for cookie sessions: a browser's Origin must be our own host. */
export function assertSameOrigin(req: FastifyRequest): void {
  if (hasBearerToken(req)) return;
  const origin = req.headers.origin ?? req.headers.referer;
  if (!origin) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    throw new AppError("forbidden", "the request's Origin is not valid");
  }
  if (host !== req.headers.host) throw new AppError("forbidden", "cross-site requests are not accepted");
}

// Portal tokens: stateless, HMAC-signed with the tenant's secret, scoped to one order.
export function signPortalToken(secret: string, tenantId: string, orderId: string, ttlSeconds = 7200): string {
  const body = Buffer.from(JSON.stringify({ t: tenantId, o: orderId, e: Math.floor(Date.now() / 1000) + ttlSeconds })).toString(
    "base64url",
  );
  const sig = createHmac("sha256", secret).update(body).digest("base64url");
  return `ddp_${body}.${sig}`;
}

async function verifyPortalToken(deps: Deps, token: string): Promise<Actor | null> {
  const [body, sig] = token.slice(4).split(".");
  if (!body || !sig) return null;
  let claims: { t: string; o: string; e: number };
  try {
    claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  if (typeof claims.t !== "string" || !/^[0-9a-f-]{36}$/.test(claims.t)) return null;
  if (claims.e < Date.now() / 1000) return null;
  const tenant = await deps.db.selectFrom("tenants").select("portal_secret").where("id", "=", claims.t).executeTakeFirst();
  if (!tenant) return null;
  const expected = createHmac("sha256", tenant.portal_secret).update(body).digest();
  const given = Buffer.from(sig, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  return { kind: "customer", id: `order:${claims.o}`, tenantId: claims.t, role: "customer", orderId: claims.o, locale: "zh-CN" };
}

export function setSessionCookie(reply: FastifyReply, token: string, secure: boolean): void {
  reply.setCookie(SESSION_COOKIE, token, {
    path: "/",
    httpOnly: true,
    sameSite: "lax",
    secure,
    maxAge: SESSION_DAYS * 86400,
  });
}
