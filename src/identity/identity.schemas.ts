import { z } from "zod";
import { ROLES as USER_ROLES } from "../domain/vocabulary.js";
import { STAFF_ROLES } from "../platform/context.js";
import { pageQuery } from "../platform/list.js";

// The identity routes' bodies and queries, which the services take as they are parsed.

const RoleEnum = z.enum(USER_ROLES);

export const LoginBody = z.strictObject({ email: z.string().email().max(200), password: z.string().min(1).max(200) });

export const UserListQuery = z.strictObject({ ...pageQuery, role: RoleEnum.optional() });

export const UserBody = z.strictObject({
  email: z.string().email().max(200),
  name: z.string().max(100).default(""),
  password: z.string().min(1).max(200),
  role: RoleEnum,
  supplierId: z.string().uuid().optional(),
  locale: z.enum(["zh-CN", "en"]).default("zh-CN"),
});

export const UserPatch = z.strictObject({
  name: z.string().max(100).optional(),
  role: RoleEnum.optional(),
  active: z.boolean().optional(),
  locale: z.enum(["zh-CN", "en"]).optional(),
  password: z.string().min(1).max(200).optional(),
});

export const ApiTokenBody = z.strictObject({ name: z.string().min(1).max(100), role: z.enum(STAFF_ROLES) });

export const AuditLogQuery = z.strictObject({
  ...pageQuery,
  entityType: z.string().max(50).optional(),
  entityId: z.string().max(100).optional(),
  /** An action (`case.approve`) or every action of an entity with a trailing dot (`case.`). */
  action: z.string().max(60).optional(),
  actorId: z.string().max(100).optional(),
});
