import type { FastifyRequest } from "fastify";
import type { z } from "zod";
import { createSession, resolveActor, verifyPassword } from "../platform/auth.js";
import type { Actor, Deps } from "../platform/context.js";
import { AppError } from "../platform/errors.js";
import { ROLES } from "../platform/http.js";
import { type Backoff, checkBackoff, clearFailures, rateLimit, recordFailure } from "../platform/rate-limit.js";
import type { LoginBody } from "./identity.schemas.js";
import { userOut } from "./user.service.js";

// Signing in and asking who is signed in.

const LOGIN_PER_IP_PER_MINUTE = 30;
const LOGIN_BACKOFF: Backoff = { free: 5, firstDelaySeconds: 2, maxDelaySeconds: 60, forgetAfterSeconds: 900 };

/** Checks the password and opens a session: the session's token (for the cookie) and the user. */
export async function login(deps: Deps, ip: string, b: z.infer<typeof LoginBody>) {
  const email = b.email.toLowerCase();
  // Per address, so one client cannot guess quickly; per account, so many addresses cannot
  // either. The account's wait grows with each wrong password and stays short for its owner.
  await rateLimit(deps, `login-ip:${ip}`, LOGIN_PER_IP_PER_MINUTE, 60);
  await checkBackoff(deps, `login-account:${email}`, LOGIN_BACKOFF);
  const user = await deps.db
    .selectFrom("users")
    .selectAll()
    .where(({ fn }) => fn("lower", ["email"]), "=", email)
    .where("active", "=", true)
    .executeTakeFirst();
  if (!user || !(await verifyPassword(user.password_hash, b.password))) {
    await recordFailure(deps, `login-account:${email}`, LOGIN_BACKOFF);
    throw new AppError("unauthorized", { en: "email or password is wrong", "zh-CN": "邮箱或密码不正确" });
  }
  await clearFailures(deps, `login-account:${email}`);
  const token = await createSession(deps, user);
  return { token, user: userOut(user) };
}

/** The signed-in user or token and their tenant. */
export async function whoAmI(deps: Deps, a: Actor) {
  const tenant = await deps.db.selectFrom("tenants").select(["id", "name"]).where("id", "=", a.tenantId).executeTakeFirstOrThrow();
  return { id: a.id, kind: a.kind, name: a.name, role: a.role, supplierId: a.supplierId ?? null, locale: a.locale, tenant };
}

/** Who is signed in on this request, if anyone of the console's or the supplier portal's roles. */
export async function sessionUser(deps: Deps, req: FastifyRequest) {
  const a = await resolveActor(deps, req);
  return a && (ROLES.anyStaffOrSupplier as readonly string[]).includes(a.role) ? await whoAmI(deps, a) : null;
}
