import type { Actor } from "./context.js";
import type { Executor } from "./db.js";
import { newId } from "./ids.js";

/** Records who changed what. Called inside the transaction that makes the change. */
export async function audit(
  ex: Executor,
  actor: Actor,
  action: string,
  entityType: string,
  entityId: string | null,
  before?: unknown,
  after?: unknown,
): Promise<void> {
  await ex
    .insertInto("audit_log")
    .values({
      id: newId(),
      tenant_id: actor.tenantId,
      actor_type: actor.kind,
      actor_id: actor.id,
      action,
      entity_type: entityType,
      entity_id: entityId,
      before: before === undefined ? null : JSON.stringify(before),
      after: after === undefined ? null : JSON.stringify(after),
    })
    .execute();
}
