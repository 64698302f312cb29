import type { Executor } from "./db.js";
import { randomToken } from "./ids.js";

/**
 * The installation's own secret called `name`: made at random the first time it is asked for and
 * kept in the database, so every process of one installation (and every restart) shares it while
 * no two installations do. Processes starting at once agree: the first insert wins.
 */
export async function installationSecret(ex: Executor, name: string): Promise<string> {
  await ex
    .insertInto("installation_secrets")
    .values({ name, value: randomToken(32) })
    .onConflict((oc) => oc.column("name").doNothing())
    .execute();
  const row = await ex.selectFrom("installation_secrets").select("value").where("name", "=", name).executeTakeFirstOrThrow();
  return String(row.value);
}
