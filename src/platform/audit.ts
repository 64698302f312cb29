import type { Actor } from "./context.js";
import { type Executor, sendWithNext } from "./db.js";
import { newId } from "./ids.js";

/**
 * Records who changed what. Called inside the transaction that makes the change; nothing waits for
 * the entry, so on PostgreSQL it goes with the transaction's next statement or its COMMIT.
 */
export async function audit(
  ex: Executor,
  actor: Actor,
  action: string,
  entityType: string,
  entityId: string | null,
  before?: unknown,
  after?: unknown,
): Promise<void> {
  await sendWithNext(
    ex.insertInto("audit_log").values({
      id: newId(),
      tenant_id: actor.tenantId,
      actor_type: actor.kind,
      actor_id: actor.id,
      action,
      entity_type: entityType,
      entity_id: entityId,
      before: before === undefined ? null : JSON.stringify(before),
      after: after === undefined ? null : JSON.stringify(after),
    }),
  ).execute();
}
