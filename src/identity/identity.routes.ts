import { z } from "zod";
import { destroySession, SESSION_COOKIE, setSessionCookie } from "../platform/auth.js";
import type { Deps } from "../platform/context.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { sendCsv, wantsCsv } from "../platform/list.js";
import { listAuditLog } from "./audit-log.service.js";
import { ApiTokenBody, AuditLogQuery, LoginBody, UserBody, UserListQuery, UserPatch } from "./identity.schemas.js";
import { login, sessionUser, whoAmI } from "./session.service.js";
import { issueApiToken, listApiTokens, revokeApiToken } from "./token.service.js";
import { createUser, listUsers, updateUser } from "./user.service.js";

const idParam = z.object({ id: z.string().uuid() });

export function identityRoutes(app: ZApp, deps: Deps) {
  app.post("/api/v1/auth/login", { config: { public: true }, schema: { tags: ["auth"], body: LoginBody } }, async (req, reply) => {
    const { token, user } = await login(deps, req.ip, req.body);
    setSessionCookie(reply, token, req.protocol === "https");
    return { user };
  });

  app.post("/api/v1/auth/logout", { config: { roles: ROLES.anyStaffOrSupplier }, schema: { tags: ["auth"] } }, async (req, reply) => {
    const token = req.cookies[SESSION_COOKIE];
    if (token) await destroySession(deps, token);
    reply.clearCookie(SESSION_COOKIE, { path: "/" });
    return { ok: true };
  });

  app.get("/api/v1/auth/me", { config: { roles: ROLES.anyStaffOrSupplier }, schema: { tags: ["auth"] } }, async (req) =>
    whoAmI(deps, actorOf(req)),
  );
  // The web app's first question — who is signed in, if anyone — answered 200 either way, so that a
  // signed-out page load shows the sign-in form without a failed request in the browser's console.
  app.get("/api/v1/auth/session", { config: { public: true }, schema: { tags: ["auth"] } }, async (req) => ({
    user: await sessionUser(deps, req),
  }));

  app.get(
    "/api/v1/users",
    { config: { roles: ROLES.admin }, schema: { tags: ["users"], querystring: UserListQuery } },
    async (req, reply) => {
      const fetch = (cursor: string | undefined, limit: number) => listUsers(deps, actorOf(req), req.query, cursor, limit);
      if (wantsCsv(req)) return sendCsv(reply, "users", fetch);
      return fetch(req.query.cursor, req.query.limit);
    },
  );
  app.post("/api/v1/users", { config: { roles: ROLES.admin }, schema: { tags: ["users"], body: UserBody } }, async (req, reply) =>
    reply.code(201).send(await createUser(deps, actorOf(req), req.body)),
  );
  app.patch(
    "/api/v1/users/:id",
    { config: { roles: ROLES.admin }, schema: { tags: ["users"], params: idParam, body: UserPatch } },
    async (req) => updateUser(deps, actorOf(req), req.params.id, req.body),
  );

  app.get("/api/v1/api-tokens", { config: { roles: ROLES.admin }, schema: { tags: ["auth"] } }, async (req) =>
    listApiTokens(deps, actorOf(req)),
  );
  app.post("/api/v1/api-tokens", { config: { roles: ROLES.admin }, schema: { tags: ["auth"], body: ApiTokenBody } }, async (req, reply) =>
    reply.code(201).send(await issueApiToken(deps, actorOf(req), req.body)),
  );
  app.post(
    "/api/v1/api-tokens/:id/actions/revoke",
    { config: { roles: ROLES.admin }, schema: { tags: ["auth"], params: idParam } },
    async (req) => revokeApiToken(deps, actorOf(req), req.params.id),
  );

  app.get(
    "/api/v1/audit-log",
    { config: { roles: ["admin", "finance"] }, schema: { tags: ["audit"], querystring: AuditLogQuery } },
    async (req, reply) => {
      const fetch = (cursor: string | undefined, limit: number) => listAuditLog(deps, actorOf(req), req.query, cursor, limit);
      if (wantsCsv(req)) return sendCsv(reply, "audit-log", fetch);
      return fetch(req.query.cursor, req.query.limit);
    },
  );
}
