import type { Selectable } from "kysely";
import { z } from "zod";
import type { Users } from "../db/schema.js";
import { ROLES as USER_ROLES } from "../domain/vocabulary.js";
import { audit } from "../platform/audit.js";
import {
  createApiToken,
  createSession,
  destroySession,
  forgetCredentials,
  hashPassword,
  resolveActor,
  SESSION_COOKIE,
  setSessionCookie,
  verifyPassword,
} from "../platform/auth.js";
import type { Deps } from "../platform/context.js";
import { STAFF_ROLES } from "../platform/context.js";
import { AppError, notFound, requireChanges, validation } from "../platform/errors.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { newId } from "../platform/ids.js";
import { decodeCursor, keysetPage, pageQuery, sendCsv, toPage, wantsCsv } from "../platform/list.js";
import { type Backoff, checkBackoff, clearFailures, rateLimit, recordFailure } from "../platform/rate-limit.js";
import { passwordProblem } from "./passwords.js";

const userOut = (u: Pick<Selectable<Users>, "id" | "email" | "name" | "role" | "supplier_id" | "locale" | "active" | "created_at">) => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  supplierId: u.supplier_id ?? null,
  locale: u.locale,
  active: u.active,
  createdAt: u.created_at,
});

const RoleEnum = z.enum(USER_ROLES);

const LOGIN_PER_IP_PER_MINUTE = 30;
const LOGIN_BACKOFF: Backoff = { free: 5, firstDelaySeconds: 2, maxDelaySeconds: 60, forgetAfterSeconds: 900 };

function refuseWeakPassword(password: string, email?: string) {
  const problem = passwordProblem(password, { email });
  if (problem) throw validation("password", problem);
}

export function identityRoutes(app: ZApp, deps: Deps) {
  app.post(
    "/api/v1/auth/login",
    {
      config: { public: true },
      schema: { tags: ["auth"], body: z.strictObject({ email: z.string().email().max(200), password: z.string().min(1).max(200) }) },
    },
    async (req, reply) => {
      const email = req.body.email.toLowerCase();
      // Per address, so one client cannot guess quickly; per account, so many addresses cannot
      // either. The account's wait grows with each wrong password and stays short for its owner.
      await rateLimit(deps, `login-ip:${req.ip}`, LOGIN_PER_IP_PER_MINUTE, 60);
      await checkBackoff(deps, `login-account:${email}`, LOGIN_BACKOFF);
      const user = await deps.db
        .selectFrom("users")
        .selectAll()
        .where(({ fn }) => fn("lower", ["email"]), "=", email)
        .where("active", "=", true)
        .executeTakeFirst();
      if (!user || !(await verifyPassword(user.password_hash, req.body.password))) {
        await recordFailure(deps, `login-account:${email}`, LOGIN_BACKOFF);
        throw new AppError("unauthorized", { en: "email or password is wrong", "zh-CN": "邮箱或密码不正确" });
      }
      await clearFailures(deps, `login-account:${email}`);
      const token = await createSession(deps, user);
      setSessionCookie(reply, token, req.protocol === "https");
      return { user: userOut(user) };
    },
  );

  app.post("/api/v1/auth/logout", { config: { roles: ROLES.anyStaffOrSupplier }, schema: { tags: ["auth"] } }, async (req, reply) => {
    const token = req.cookies[SESSION_COOKIE];
    if (token) await destroySession(deps, token);
    reply.clearCookie(SESSION_COOKIE, { path: "/" });
    return { ok: true };
  });

  const me = async (a: ReturnType<typeof actorOf>) => {
    const tenant = await deps.db.selectFrom("tenants").select(["id", "name"]).where("id", "=", a.tenantId).executeTakeFirstOrThrow();
    return { id: a.id, kind: a.kind, name: a.name, role: a.role, supplierId: a.supplierId ?? null, locale: a.locale, tenant };
  };
  app.get("/api/v1/auth/me", { config: { roles: ROLES.anyStaffOrSupplier }, schema: { tags: ["auth"] } }, async (req) => me(actorOf(req)));
  // The web app's first question — who is signed in, if anyone — answered 200 either way, so that a
  // signed-out page load shows the sign-in form without a failed request in the browser's console.
  app.get("/api/v1/auth/session", { config: { public: true }, schema: { tags: ["auth"] } }, async (req) => {
    const a = await resolveActor(deps, req);
    return { user: a && (ROLES.anyStaffOrSupplier as readonly string[]).includes(a.role) ? await me(a) : null };
  });

  const listQuery = z.strictObject({ ...pageQuery, role: RoleEnum.optional() });
  app.get("/api/v1/users", { config: { roles: ROLES.admin }, schema: { tags: ["users"], querystring: listQuery } }, async (req, reply) => {
    const a = actorOf(req);
    const fetch = async (cursor: string | undefined, limit: number) => {
      let q = deps.db.selectFrom("users").selectAll().where("tenant_id", "=", a.tenantId);
      if (req.query.role) q = q.where("role", "=", req.query.role);
      const c = decodeCursor(cursor);
      if (c) q = q.where("id", "<", c);
      const rows = await q
        .orderBy("id", "desc")
        .limit(limit + 1)
        .execute();
      const page = toPage(rows, limit);
      return { ...page, items: page.items.map(userOut) };
    };
    if (wantsCsv(req)) return sendCsv(reply, "users", fetch);
    return fetch(req.query.cursor, req.query.limit);
  });

  app.post(
    "/api/v1/users",
    {
      config: { roles: ROLES.admin },
      schema: {
        tags: ["users"],
        body: z.strictObject({
          email: z.string().email().max(200),
          name: z.string().max(100).default(""),
          password: z.string().min(1).max(200),
          role: RoleEnum,
          supplierId: z.string().uuid().optional(),
          locale: z.enum(["zh-CN", "en"]).default("zh-CN"),
        }),
      },
    },
    async (req, reply) => {
      const a = actorOf(req);
      const b = req.body;
      if ((b.role === "supplier") !== Boolean(b.supplierId)) {
        throw validation("supplierId", "required for the supplier role and only for it");
      }
      if (b.supplierId) {
        const s = await deps.db
          .selectFrom("suppliers")
          .select("id")
          .where("tenant_id", "=", a.tenantId)
          .where("id", "=", b.supplierId)
          .executeTakeFirst();
        if (!s) throw validation("supplierId", "no such supplier");
      }
      const exists = await deps.db
        .selectFrom("users")
        .select("id")
        .where(({ fn }) => fn("lower", ["email"]), "=", b.email.toLowerCase())
        .executeTakeFirst();
      if (exists)
        throw new AppError("conflict", { en: "a user with this email exists", "zh-CN": "已存在使用此邮箱的用户" }, { field: "email" });
      refuseWeakPassword(b.password, b.email);
      const passwordHash = await hashPassword(b.password);
      const user = await deps.db.transaction().execute(async (tx) => {
        const row = await tx
          .insertInto("users")
          .values({
            id: newId(),
            tenant_id: a.tenantId,
            email: b.email,
            name: b.name,
            role: b.role,
            supplier_id: b.supplierId ?? null,
            password_hash: passwordHash,
            locale: b.locale,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await audit(tx, a, "user.create", "user", row.id, undefined, userOut(row));
        return row;
      });
      return reply.code(201).send(userOut(user));
    },
  );

  app.patch(
    "/api/v1/users/:id",
    {
      config: { roles: ROLES.admin },
      schema: {
        tags: ["users"],
        params: z.object({ id: z.string().uuid() }),
        body: z.strictObject({
          name: z.string().max(100).optional(),
          role: RoleEnum.optional(),
          active: z.boolean().optional(),
          locale: z.enum(["zh-CN", "en"]).optional(),
          password: z.string().min(1).max(200).optional(),
        }),
      },
    },
    async (req) => {
      const a = actorOf(req);
      const b = req.body;
      if (b.password) refuseWeakPassword(b.password);
      const passwordHash = b.password ? await hashPassword(b.password) : undefined;
      const updated = await deps.db.transaction().execute(async (tx) => {
        const before = await tx
          .selectFrom("users")
          .selectAll()
          .where("tenant_id", "=", a.tenantId)
          .where("id", "=", req.params.id)
          .forUpdate()
          .executeTakeFirst();
        if (!before) throw notFound("user");
        if (b.role && (b.role === "supplier") !== Boolean(before.supplier_id)) {
          throw validation("role", "a supplier user stays a supplier user");
        }
        const after = await tx
          .updateTable("users")
          .set(
            requireChanges({
              ...(b.name !== undefined && { name: b.name }),
              ...(b.role && { role: b.role }),
              ...(b.active !== undefined && { active: b.active }),
              ...(b.locale && { locale: b.locale }),
              ...(passwordHash && { password_hash: passwordHash }),
            }),
          )
          .where("id", "=", before.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        if (b.active === false || passwordHash || b.role) {
          await tx.deleteFrom("sessions").where("user_id", "=", before.id).execute();
        }
        await audit(tx, a, "user.update", "user", before.id, userOut(before), userOut(after));
        return userOut(after);
      });
      // After the commit, so no request can cache the old rights between the two.
      await forgetCredentials(deps);
      return updated;
    },
  );

  app.get("/api/v1/api-tokens", { config: { roles: ROLES.admin }, schema: { tags: ["auth"] } }, async (req) => {
    const a = actorOf(req);
    const rows = await deps.db
      .selectFrom("api_tokens")
      .select(["id", "name", "role", "prefix", "created_at", "last_used_at", "revoked_at"])
      .where("tenant_id", "=", a.tenantId)
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
  });

  app.post(
    "/api/v1/api-tokens",
    {
      config: { roles: ROLES.admin },
      schema: { tags: ["auth"], body: z.strictObject({ name: z.string().min(1).max(100), role: z.enum(STAFF_ROLES) }) },
    },
    async (req, reply) => {
      const a = actorOf(req);
      const t = await createApiToken(deps, a, req.body.name, req.body.role);
      await audit(deps.db, a, "api_token.create", "api_token", t.id, undefined, { name: req.body.name, role: req.body.role });
      // The token is shown once; only its hash is stored.
      return reply.code(201).send({ id: t.id, name: req.body.name, role: req.body.role, token: t.token, prefix: t.prefix });
    },
  );

  app.post(
    "/api/v1/api-tokens/:id/actions/revoke",
    { config: { roles: ROLES.admin }, schema: { tags: ["auth"], params: z.object({ id: z.string().uuid() }) } },
    async (req) => {
      const a = actorOf(req);
      const r = await deps.db
        .updateTable("api_tokens")
        .set({ revoked_at: new Date() })
        .where("tenant_id", "=", a.tenantId)
        .where("id", "=", req.params.id)
        .returning(["id", "revoked_at"])
        .executeTakeFirst();
      if (!r) throw notFound("API token");
      await forgetCredentials(deps);
      await audit(deps.db, a, "api_token.revoke", "api_token", r.id);
      return { id: r.id, revokedAt: r.revoked_at };
    },
  );

  app.get(
    "/api/v1/audit-log",
    {
      config: { roles: ["admin", "finance"] },
      schema: {
        tags: ["audit"],
        querystring: z.strictObject({
          ...pageQuery,
          entityType: z.string().max(50).optional(),
          entityId: z.string().max(100).optional(),
          /** An action (`case.approve`) or every action of an entity with a trailing dot (`case.`). */
          action: z.string().max(60).optional(),
          actorId: z.string().max(100).optional(),
        }),
      },
    },
    async (req, reply) => {
      const a = actorOf(req);
      const fetch = async (cursor: string | undefined, limit: number) => {
        let q = deps.db.selectFrom("audit_log").selectAll().where("tenant_id", "=", a.tenantId);
        if (req.query.entityType) q = q.where("entity_type", "=", req.query.entityType);
        if (req.query.entityId) q = q.where("entity_id", "=", req.query.entityId);
        const action = req.query.action;
        if (action)
          q = action.endsWith(".") ? q.where("action", "like", `${action.replace(/[%_\\]/g, "\\$&")}%`) : q.where("action", "=", action);
        if (req.query.actorId) q = q.where("actor_id", "=", req.query.actorId);
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
      };
      if (wantsCsv(req)) return sendCsv(reply, "audit-log", fetch);
      return fetch(req.query.cursor, req.query.limit);
    },
  );
}
