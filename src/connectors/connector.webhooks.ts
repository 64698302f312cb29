import type { FastifyReply, FastifyRequest } from "fastify";
import type { Deps } from "../platform/context.js";
import { newId } from "../platform/ids.js";
import { CONNECTOR_KINDS, contextFor, loadConnector } from "./context.js";
import { enqueueConnectorJob } from "./jobs.js";

/**
 * One inbound webhook delivery, verified by its service's own signature over the raw body and
 * kept once per delivery id: a repeated delivery is answered the same and changes nothing.
 * Answers the status and body to send.
 */
export async function receiveWebhook(
  deps: Deps,
  p: { kind: string; connectorId: string },
  req: FastifyRequest,
  raw: Buffer,
  reply: FastifyReply,
): Promise<{ status: number; body: unknown }> {
  const kind = CONNECTOR_KINDS[p.kind];
  const row = kind && /^[0-9a-f-]{36}$/.test(p.connectorId) ? await loadConnector(deps.db, p.connectorId) : undefined;
  if (!kind || !row || row.kind !== p.kind || !kind.verifyWebhook)
    return { status: 404, body: { error: { code: "not_found", message: "no such connector" } } };
  const ctx = await contextFor(deps, row);
  const v = await kind.verifyWebhook(ctx, req, raw, reply);
  if (!v.ok) {
    const code = v.status === 401 ? "unauthorized" : "validation_failed";
    return { status: v.status, body: { error: { code, message: v.message } } };
  }
  await deps.db.transaction().execute(async (tx) => {
    const inboxId = newId();
    const inserted = await tx
      .insertInto("connector_inbox")
      .values({
        id: inboxId,
        tenant_id: row.tenant_id,
        connector_id: row.id,
        delivery_id: v.deliveryId.slice(0, 200),
        topic: v.topic,
        payload: JSON.stringify(v.payload),
        received_at: deps.clock.now(),
      })
      .onConflict((oc) => oc.columns(["connector_id", "delivery_id"]).doNothing())
      .returning("id")
      .executeTakeFirst();
    if (inserted) await enqueueConnectorJob(deps, { type: "inbox", connectorId: row.id, inboxId }, { tx });
  });
  return kind.webhookAnswer ?? { status: 200, body: { ok: true } };
}
