import type { Selectable } from "kysely";
import type { Webhooks } from "../db/schema.js";
import { audit } from "../platform/audit.js";
import type { Actor, Deps } from "../platform/context.js";
import { notFound, requireChanges, validation } from "../platform/errors.js";
import { newId, randomToken } from "../platform/ids.js";
import { decodeCursor, toPage } from "../platform/list.js";
import { outboundPolicy, outboundRefusal } from "../platform/outbound.js";
import { sendDelivery } from "./delivery.js";

// Outgoing webhooks: the tenant's endpoints, their deliveries and replays (sent by delivery.ts).

export const hookOut = (w: Selectable<Webhooks>) => ({ id: w.id, url: w.url, events: w.events, active: w.active, createdAt: w.created_at });

/** A webhook may only point at a public address (or one the installation allows), checked after DNS. */
async function checkHookUrl(deps: Deps, url: string) {
  const refused = await outboundRefusal(url, outboundPolicy(deps.config.outboundAllow));
  if (refused) throw validation("url", refused);
}

export async function listWebhooks(deps: Deps, a: Actor) {
  const rows = await deps.db.selectFrom("webhooks").selectAll().where("tenant_id", "=", a.tenantId).orderBy("id", "desc").execute();
  return { items: rows.map(hookOut), nextCursor: null };
}

export async function createWebhook(deps: Deps, a: Actor, b: { url: string; events: string[]; secret?: string; active: boolean }) {
  await checkHookUrl(deps, b.url);
  const secret = b.secret ?? `whsec_${randomToken(24)}`;
  const w = await deps.db
    .insertInto("webhooks")
    .values({ id: newId(), tenant_id: a.tenantId, url: b.url, events: b.events, secret, active: b.active })
    .returningAll()
    .executeTakeFirstOrThrow();
  await audit(deps.db, a, "webhook.create", "webhook", w.id, undefined, hookOut(w));
  // The secret is shown once, at creation.
  return { ...hookOut(w), secret };
}

export async function updateWebhook(deps: Deps, a: Actor, id: string, b: { url?: string; events?: string[]; active?: boolean }) {
  if (b.url) await checkHookUrl(deps, b.url);
  const w = await deps.db
    .updateTable("webhooks")
    .set(
      requireChanges({
        ...(b.url && { url: b.url }),
        ...(b.events && { events: b.events }),
        ...(b.active !== undefined && { active: b.active }),
      }),
    )
    .where("tenant_id", "=", a.tenantId)
    .where("id", "=", id)
    .returningAll()
    .executeTakeFirst();
  if (!w) throw notFound("webhook");
  await audit(deps.db, a, "webhook.update", "webhook", w.id, undefined, b);
  return hookOut(w);
}

/** Deleting a webhook switches it off: its deliveries stay readable. */
export async function disableWebhook(deps: Deps, a: Actor, id: string) {
  const w = await deps.db
    .updateTable("webhooks")
    .set({ active: false })
    .where("tenant_id", "=", a.tenantId)
    .where("id", "=", id)
    .returningAll()
    .executeTakeFirst();
  if (!w) throw notFound("webhook");
  await audit(deps.db, a, "webhook.delete", "webhook", w.id);
  return { ok: true };
}

export async function listDeliveries(deps: Deps, a: Actor, webhookId: string, p: { cursor?: string; limit: number }) {
  let q = deps.db.selectFrom("webhook_deliveries").selectAll().where("tenant_id", "=", a.tenantId).where("webhook_id", "=", webhookId);
  const c = decodeCursor(p.cursor);
  if (c) q = q.where("id", "<", c);
  const page = toPage(
    await q
      .orderBy("id", "desc")
      .limit(p.limit + 1)
      .execute(),
    p.limit,
  );
  return {
    ...page,
    items: page.items.map((d) => ({
      id: d.id,
      event: d.event,
      eventId: d.event_id,
      status: d.status,
      attempts: d.attempts,
      lastStatusCode: d.last_status_code,
      lastError: d.last_error,
      deliveredAt: d.delivered_at,
      createdAt: d.created_at,
      payload: d.payload,
    })),
  };
}

export async function replayDelivery(deps: Deps, a: Actor, webhookId: string, deliveryId: string) {
  const d = await deps.db
    .selectFrom("webhook_deliveries")
    .select("id")
    .where("tenant_id", "=", a.tenantId)
    .where("webhook_id", "=", webhookId)
    .where("id", "=", deliveryId)
    .executeTakeFirst();
  if (!d) throw notFound("delivery");
  return { delivered: await sendDelivery(deps, d.id) };
}
