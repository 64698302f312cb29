import { passwordProblem } from "../identity/passwords.js";
import { hashPassword } from "./auth.js";
import type { Deps } from "./context.js";
import { newId, randomToken } from "./ids.js";

/**
 * First start on an empty database: one tenant and its admin, from DROPDESK_ADMIN_EMAIL and
 * DROPDESK_ADMIN_PASSWORD, or with a generated password that is printed once.
 */
export async function ensureTenant(deps: Deps, log: (line: string) => void = console.log): Promise<{ tenantId: string; created: boolean }> {
  const existing = await deps.db.selectFrom("tenants").select("id").orderBy("id").executeTakeFirst();
  if (existing) return { tenantId: existing.id, created: false };
  const email = deps.config.adminEmail ?? "admin@dropdesk.local";
  const generated = !deps.config.adminPassword;
  const password = deps.config.adminPassword ?? randomToken(12);
  const weak = passwordProblem(password, { email });
  if (weak) throw new Error(`DROPDESK_ADMIN_PASSWORD: ${weak}`);
  const tenantId = newId();
  const passwordHash = await hashPassword(password);
  try {
    await deps.db.transaction().execute(async (tx) => {
      await tx
        .insertInto("tenants")
        .values({ id: tenantId, name: "My dropshipping business", portal_secret: randomToken(32) })
        .execute();
      await tx
        .insertInto("users")
        .values({ id: newId(), tenant_id: tenantId, email, name: "Admin", role: "admin", password_hash: passwordHash })
        .execute();
    });
  } catch (e) {
    // Another process starting at the same moment created the first tenant: use it.
    const winner = await deps.db.selectFrom("tenants").select("id").orderBy("id").executeTakeFirst();
    if (winner) return { tenantId: winner.id, created: false };
    throw e;
  }
  if (generated)
    log(`Dropdesk admin created: sign in as ${email} with password ${password} (shown once; change it under Settings → Users)`);
  else log(`Dropdesk admin created: sign in as ${email} with the password from DROPDESK_ADMIN_PASSWORD`);
  return { tenantId, created: true };
}
