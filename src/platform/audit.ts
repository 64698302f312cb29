import type { Actor } from "./context.js";
import { type Executor, sendWithNext } from "./db.js";
import { newId } from "./ids.js";
import { precompiled } from "./precompiled.js";

const insertAudit = precompiled(
  (
    db,
    p: {
      id: string;
      tenant_id: string;
      actor_type: string;
      actor_id: string;
      action: string;
      entity_type: string;
      entity_id: string | null;
      before: string | null;
      after: string | null;
    },
  ) =>
    sendWithNext(
      db.insertInto("audit_log").values({
        id: p.id,
        tenant_id: p.tenant_id,
        actor_type: p.actor_type,
        actor_id: p.actor_id,
        action: p.action,
        entity_type: p.entity_type,
        entity_id: p.entity_id,
        before: p.before,
        after: p.after,
      }),
    ),
);

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
  await insertAudit(ex, {
    id: newId(),
    tenant_id: actor.tenantId,
    actor_type: actor.kind,
    actor_id: actor.id,
    action,
    entity_type: entityType,
    entity_id: entityId,
    before: before === undefined ? null : JSON.stringify(before),
    after: after === undefined ? null : JSON.stringify(after),
  });
}
