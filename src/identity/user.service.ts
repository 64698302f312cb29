import type { Selectable } from "kysely";
import type { z } from "zod";
import type { Users } from "../db/schema.js";
import { audit } from "../platform/audit.js";
import { forgetCredentials, hashPassword } from "../platform/auth.js";
import type { Actor, Deps } from "../platform/context.js";
import { AppError, notFound, requireChanges, validation } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import { decodeCursor, toPage } from "../platform/list.js";
import type { UserBody, UserListQuery, UserPatch } from "./identity.schemas.js";
import { passwordProblem } from "./passwords.js";

// Users: the merchant's staff and the suppliers' people, their roles and passwords.

export const userOut = (
  u: Pick<Selectable<Users>, "id" | "email" | "name" | "role" | "supplier_id" | "locale" | "active" | "created_at">,
) => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  supplierId: u.supplier_id ?? null,
  locale: u.locale,
  active: u.active,
  createdAt: u.created_at,
});

function refuseWeakPassword(password: string, email?: string) {
  const problem = passwordProblem(password, { email });
  if (problem) throw validation("password", problem);
}

export async function listUsers(
  deps: Deps,
  actor: Actor,
  f: Pick<z.infer<typeof UserListQuery>, "role">,
  cursor: string | undefined,
  limit: number,
) {
  let q = deps.db.selectFrom("users").selectAll().where("tenant_id", "=", actor.tenantId);
  if (f.role) q = q.where("role", "=", f.role);
  const c = decodeCursor(cursor);
  if (c) q = q.where("id", "<", c);
  const rows = await q
    .orderBy("id", "desc")
    .limit(limit + 1)
    .execute();
  const page = toPage(rows, limit);
  return { ...page, items: page.items.map(userOut) };
}

export async function createUser(deps: Deps, actor: Actor, b: z.infer<typeof UserBody>) {
  if ((b.role === "supplier") !== Boolean(b.supplierId)) {
    throw validation("supplierId", "required for the supplier role and only for it");
  }
  if (b.supplierId) {
    const s = await deps.db
      .selectFrom("suppliers")
      .select("id")
      .where("tenant_id", "=", actor.tenantId)
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
        tenant_id: actor.tenantId,
        email: b.email,
        name: b.name,
        role: b.role,
        supplier_id: b.supplierId ?? null,
        password_hash: passwordHash,
        locale: b.locale,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(tx, actor, "user.create", "user", row.id, undefined, userOut(row));
    return row;
  });
  return userOut(user);
}

export async function updateUser(deps: Deps, actor: Actor, id: string, b: z.infer<typeof UserPatch>) {
  if (b.password) refuseWeakPassword(b.password);
  const passwordHash = b.password ? await hashPassword(b.password) : undefined;
  const updated = await deps.db.transaction().execute(async (tx) => {
    const before = await tx
      .selectFrom("users")
      .selectAll()
      .where("tenant_id", "=", actor.tenantId)
      .where("id", "=", id)
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
    await audit(tx, actor, "user.update", "user", before.id, userOut(before), userOut(after));
    return userOut(after);
  });
  // After the commit, so no request can cache the old rights between the two.
  await forgetCredentials(deps);
  return updated;
}
