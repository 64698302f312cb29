import type { Actor, Deps } from "../platform/context.js";

/** What demo seeders share: the tenant's admin actor and ids made by earlier seeders. */
export interface DemoContext {
  deps: Deps;
  actor: Actor;
  ids: Record<string, string[]>;
}
export type DemoSeeder = { name: string; run: (ctx: DemoContext) => Promise<void> };

/** Fills an empty tenant with a realistic demo business, once. */
export async function seedDemo(deps: Deps, tenantId: string, seeders: DemoSeeder[], log: (l: string) => void = console.log) {
  const admin = await deps.db
    .selectFrom("users")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("role", "=", "admin")
    .orderBy("id")
    .executeTakeFirstOrThrow();
  const shops = await deps.db.selectFrom("shops").select("id").where("tenant_id", "=", tenantId).executeTakeFirst();
  if (shops) return false;
  const ctx: DemoContext = {
    deps,
    actor: { kind: "user", id: admin.id, tenantId, role: "admin", name: admin.name, locale: "zh-CN" },
    ids: {},
  };
  for (const s of seeders) {
    await s.run(ctx);
    log(`demo data: ${s.name}`);
  }
  return true;
}
