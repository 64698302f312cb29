// An order import as the API shows it, and the reads of one import and of the recent ones.
import type { Selectable } from "kysely";
import type { Imports } from "../db/schema.js";
import type { Actor, Executor } from "../platform/context.js";
import { notFound } from "../platform/errors.js";

export const importOut = (r: Selectable<Imports>) => ({
  id: r.id,
  kind: r.kind,
  format: r.format,
  status: r.status,
  filename: r.filename,
  total: r.total,
  imported: r.imported,
  skipped: r.skipped,
  failed: r.failed,
  errors: r.errors,
  createdAt: r.created_at,
  finishedAt: r.finished_at,
});
export async function getImport(ex: Executor, actor: Actor, id: string) {
  const r = await ex.selectFrom("imports").selectAll().where("tenant_id", "=", actor.tenantId).where("id", "=", id).executeTakeFirst();
  if (!r) throw notFound("import");
  return importOut(r);
}

/** The tenant's last 100 imports, newest first, each with its error count instead of its errors. */
export async function listImports(ex: Executor, actor: Actor) {
  const rows = await ex
    .selectFrom("imports")
    .selectAll()
    .where("tenant_id", "=", actor.tenantId)
    .orderBy("id", "desc")
    .limit(100)
    .execute();
  return {
    items: rows.map((r) => ({ ...importOut(r), errors: undefined, errorCount: (r.errors as unknown[]).length })),
    nextCursor: null,
  };
}
