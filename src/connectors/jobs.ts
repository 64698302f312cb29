import { sql } from "kysely";
import type PgBoss from "pg-boss";
import type { Deps, DomainEvent } from "../platform/context.js";
import { jsonColumn, type Tx } from "../platform/db.js";
import { AppError } from "../platform/errors.js";
import { type Jobs, txAdapter } from "../platform/jobs.js";
import { readWithLock } from "../platform/locks.js";
import { txMemo } from "../platform/tx-memo.js";
import { upsertExternalOrders } from "./batch.js";
import { CONNECTOR_KINDS, connectorOptions, contextFor, kindOf, loadConnector, webhookUrlOf } from "./context.js";
import { ServiceError } from "./http.js";
import type { ConnectorRow, ExternalOrder } from "./kind.js";
import { type UpsertOutcome, upsertExternalOrder } from "./records.js";
import { backoffMs } from "./retry.js";

/**
 * Connector work runs as pg-boss jobs on a queue of its own: pulls (sync), stored webhooks
 * (inbox) and calls back to the service (push). A sync saves its cursor after every page, so a
 * process that dies mid-sync is resumed from the last page by the next job — and since every record
 * is an upsert keyed on the service's id, the page it re-reads imports nothing twice. Waits the
 * service asks for (Retry-After, throttling) and back-off after failures reschedule the job with
 * `startAfter` instead of holding a worker; `next_attempt_at` shows when.
 */
export const CONNECTOR_QUEUE = "dropdesk-connector";

export type ConnectorJob =
  | { type: "sync"; connectorId: string }
  | { type: "inbox"; connectorId: string; inboxId: string }
  | { type: "push"; connectorId: string; pushKey: string }
  | { type: "register"; connectorId: string };

const boss = (deps: Deps) => (deps.services.jobs as Jobs | undefined)?.boss;

export async function enqueueConnectorJob(deps: Deps, job: ConnectorJob, opts: { tx?: Tx; delayMs?: number } = {}) {
  const b = boss(deps);
  if (!b) throw new AppError("conflict", "the job queue is off in this process (DROPDESK_JOBS=0)");
  const send: PgBoss.SendOptions = {
    ...(opts.tx ? ({ db: txAdapter(opts.tx) } as PgBoss.SendOptions) : {}),
    ...(opts.delayMs ? { startAfter: Math.ceil(opts.delayMs / 1000) } : {}),
  };
  await b.send(CONNECTOR_QUEUE, job, send);
}

async function runSync(deps: Deps, connectorId: string) {
  const opts = connectorOptions(deps);
  const now = deps.clock.now();
  // The lease: one sync per connector at a time; one whose process died is taken over after leaseMs.
  const claimed = (await deps.db
    .updateTable("connectors")
    .set({ sync_running_since: now, updated_at: now })
    .where("id", "=", connectorId)
    .where("deleted_at", "is", null)
    .where("status", "!=", "paused")
    .where((eb) => eb.or([eb("sync_running_since", "is", null), eb("sync_running_since", "<", new Date(now.getTime() - opts.leaseMs))]))
    .returningAll()
    .executeTakeFirst()) as ConnectorRow | undefined;
  if (!claimed) return;
  const kind = kindOf(claimed.kind);
  const ctx = await contextFor(deps, claimed);
  const counts: Partial<Record<UpsertOutcome, number>> = {};
  const write = async (ext: ExternalOrder) => {
    const outcome = await upsertExternalOrder(ctx, ext);
    counts[outcome] = (counts[outcome] ?? 0) + 1;
    await opts.afterRecord?.(connectorId, ext.externalId);
  };
  const writeMany = async (exts: ExternalOrder[]) => {
    const outcomes = await upsertExternalOrders(ctx, exts);
    for (const [i, outcome] of outcomes.entries()) {
      counts[outcome] = (counts[outcome] ?? 0) + 1;
      await opts.afterRecord?.(connectorId, exts[i].externalId);
    }
  };
  const release = (set: Record<string, unknown>) =>
    deps.db
      .updateTable("connectors")
      .set({ sync_running_since: null, updated_at: deps.clock.now(), ...set })
      .where("id", "=", connectorId)
      .execute();
  const summary = () =>
    Object.entries(counts)
      .map(([k, v]) => `${v} ${k}`)
      .join(", ") || "nothing new";
  let cursor: unknown = claimed.sync_cursor ?? null;
  try {
    if (kind.needsShop && !ctx.shop)
      throw new AppError("validation_failed", "the connector is not bound to a shop; choose the shop its orders go to");
    for (let pages = 1; ; pages++) {
      const page = await kind.syncPage(ctx, cursor, write, writeMany);
      cursor = page.cursor;
      // The checkpoint, with the lease renewed: the next job starts after this page.
      await deps.db
        .updateTable("connectors")
        .set({ sync_cursor: JSON.stringify(cursor), sync_attempts: 0, sync_running_since: deps.clock.now(), updated_at: deps.clock.now() })
        .where("id", "=", connectorId)
        .execute();
      if (page.done) {
        await release({ status: "active", last_sync_at: deps.clock.now(), last_error: null, last_error_at: null, next_attempt_at: null });
        await ctx.log("info", `sync finished: ${summary()}`);
        return;
      }
      if (pages >= opts.pagesPerJob) {
        await release({});
        await enqueueConnectorJob(deps, { type: "sync", connectorId });
        return;
      }
    }
  } catch (e) {
    if (e instanceof ServiceError) {
      if (e.kind === "rate_limited" || e.kind === "transient") {
        const attempts = claimed.sync_attempts + 1;
        if (e.kind === "transient" && attempts >= opts.maxAttempts) {
          await release({
            status: "error",
            sync_attempts: attempts,
            last_error: `${e.message}; gave up after ${attempts} attempts`,
            last_error_at: deps.clock.now(),
            next_attempt_at: null,
          });
          await ctx.log("error", `sync stopped: ${e.message} (${attempts} attempts)`);
          return;
        }
        const delay = e.kind === "rate_limited" ? (e.opts.retryAfterMs ?? opts.baseDelayMs) : backoffMs(opts, attempts);
        const at = new Date(deps.clock.now().getTime() + delay);
        await release({
          sync_attempts: e.kind === "transient" ? attempts : claimed.sync_attempts,
          last_error: `${e.message}; trying again at ${at.toISOString()}`,
          last_error_at: deps.clock.now(),
          next_attempt_at: at,
        });
        await ctx.log("warn", `sync paused: ${e.message}; trying again in ${Math.ceil(delay / 1000)} s (${summary()} so far)`);
        await enqueueConnectorJob(deps, { type: "sync", connectorId }, { delayMs: delay });
        return;
      }
      await release({ status: "error", last_error: e.message, last_error_at: deps.clock.now(), next_attempt_at: null });
      await ctx.log("error", `sync stopped: ${e.message}`);
      return;
    }
    if (e instanceof AppError) {
      await release({ status: "error", last_error: e.message, last_error_at: deps.clock.now(), next_attempt_at: null });
      await ctx.log("error", `sync stopped: ${e.message}`);
      return;
    }
    // Anything else is a fault of ours, or the process going down: the lease and the checkpoint
    // stay as they are, and the job's retry (or the next sync) resumes from the last page.
    throw e;
  }
}

async function runInbox(deps: Deps, connectorId: string, inboxId: string) {
  const row = await loadConnector(deps.db, connectorId);
  const item = await deps.db.selectFrom("connector_inbox").selectAll().where("id", "=", inboxId).executeTakeFirst();
  // Paused: the webhook waits, stored; resuming sends it on.
  if (!row || !item || item.processed_at || row.status === "paused") return;
  const kind = kindOf(row.kind);
  const ctx = await contextFor(deps, row);
  const finish = (error: string | null) =>
    deps.db.updateTable("connector_inbox").set({ processed_at: deps.clock.now(), error }).where("id", "=", inboxId).execute();
  try {
    await kind.handleWebhook?.(ctx, item.topic, item.payload as Record<string, unknown>, async (ext) => {
      await upsertExternalOrder(ctx, ext);
    });
    await finish(null);
  } catch (e) {
    if (e instanceof AppError || e instanceof ServiceError) {
      await ctx.log("error", `webhook ${item.topic} not handled: ${e.message}`);
      await finish(e.message);
      return;
    }
    await deps.db
      .updateTable("connector_inbox")
      .set({ error: e instanceof Error ? e.message : String(e) })
      .where("id", "=", inboxId)
      .execute();
    throw e;
  }
}

async function runPush(deps: Deps, connectorId: string, pushKey: string) {
  const opts = connectorOptions(deps);
  const row = await loadConnector(deps.db, connectorId);
  const push = await deps.db
    .selectFrom("connector_pushes")
    .selectAll()
    .where("connector_id", "=", connectorId)
    .where("push_key", "=", pushKey)
    .executeTakeFirst();
  if (!row || !push || push.status !== "pending" || row.status === "paused") return;
  const kind = kindOf(row.kind);
  const ctx = await contextFor(deps, row);
  const set = (s: Record<string, unknown>) =>
    deps.db
      .updateTable("connector_pushes")
      .set({ updated_at: deps.clock.now(), ...s })
      .where("connector_id", "=", connectorId)
      .where("push_key", "=", pushKey)
      .execute();
  const attempts = push.attempts + 1;
  try {
    const r = (await kind.push?.(ctx, { action: push.action, entityId: push.entity_id ?? "", data: {} })) ?? {};
    await set({ status: "done", attempts, external_id: r.externalId ?? null, last_error: null });
    await ctx.log("info", `${push.action} sent${r.note ? ` (${r.note})` : ""}`, r.externalId);
  } catch (e) {
    if (!(e instanceof ServiceError)) throw e;
    if ((e.kind === "rate_limited" || e.kind === "transient") && attempts < opts.maxAttempts) {
      const delay = e.kind === "rate_limited" ? (e.opts.retryAfterMs ?? opts.baseDelayMs) : backoffMs(opts, attempts);
      await set({ attempts, last_error: e.message });
      await enqueueConnectorJob(deps, { type: "push", connectorId, pushKey }, { delayMs: delay });
      return;
    }
    await set({ status: "failed", attempts, last_error: e.message });
    await ctx.log("error", `${push.action} failed: ${e.message}`);
    if (e.kind === "auth")
      await deps.db
        .updateTable("connectors")
        .set({ status: "error", last_error: e.message, last_error_at: deps.clock.now() })
        .where("id", "=", connectorId)
        .execute();
  }
}

/** Subscribes the service's webhooks for a new connector; what went wrong is logged in words. */
async function runRegister(deps: Deps, connectorId: string) {
  const row = await loadConnector(deps.db, connectorId);
  const kind = row && kindOf(row.kind);
  if (!row || !kind?.registerWebhooks || row.status === "paused") return;
  const ctx = await contextFor(deps, row);
  const r = await kind.registerWebhooks(ctx, webhookUrlOf(deps, row));
  await ctx.log(r.ok ? "info" : "warn", r.message);
}

export async function runConnectorJob(deps: Deps, job: ConnectorJob) {
  if (job.type === "sync") return runSync(deps, job.connectorId);
  if (job.type === "inbox") return runInbox(deps, job.connectorId, job.inboxId);
  if (job.type === "push") return runPush(deps, job.connectorId, job.pushKey);
  if (job.type === "register") return runRegister(deps, job.connectorId);
}

/** Runs the connector jobs due now in this process (tests and the CLI drive the queue with it). */
export async function runPendingConnectorJobs(deps: Deps): Promise<number> {
  const b = boss(deps);
  if (!b) return 0;
  let ran = 0;
  for (;;) {
    const jobs = await b.fetch<ConnectorJob>(CONNECTOR_QUEUE, { batchSize: 20 });
    if (!jobs?.length) return ran;
    for (const job of jobs) {
      try {
        await runConnectorJob(deps, job.data);
        await b.complete(CONNECTOR_QUEUE, job.id);
      } catch (e) {
        await b.fail(CONNECTOR_QUEUE, job.id, { message: e instanceof Error ? e.message : String(e) });
      }
      ran += 1;
    }
  }
}

const PUSH_EVENTS = new Set(Object.values(CONNECTOR_KINDS).flatMap((k) => k.pushEvents ?? []));

/**
 * Domain events on imported orders become calls back to the service, queued in the transaction of
 * the change (a rolled-back shipment sends nothing), each once by its key.
 */
const orderLinksKey = (orderId: string) => `connector-links:${orderId}`;
// A case or supplier-order action reads its order's store connectors with its lock (one statement).
readWithLock({
  key: (_tenantId, orderId) => orderLinksKey(orderId),
  select: (tenantId, order) => sql`SELECT coalesce(json_agg(json_build_object('id', c.id, 'kind', c.kind)), '[]')
    FROM connector_records r JOIN connectors c ON c.id = r.connector_id
    WHERE r.tenant_id = ${tenantId} AND r.record_type = 'order' AND r.entity_id = ${order} AND c.deleted_at IS NULL`,
  parse: (v) => jsonColumn<{ id: string; kind: string }[]>(v),
});

export async function connectorEventSink(deps: Deps, tx: Tx, event: DomainEvent) {
  if (!PUSH_EVENTS.has(event.type)) return;
  const orderId = typeof event.data.orderId === "string" ? event.data.orderId : event.entityId;
  const links =
    txMemo<{ id: string; kind: string }[]>(tx, orderLinksKey(orderId)) ??
    (await tx
      .selectFrom("connector_records as r")
      .innerJoin("connectors as c", "c.id", "r.connector_id")
      .select(["c.id", "c.kind"])
      .where("r.tenant_id", "=", event.tenantId)
      .where("r.record_type", "=", "order")
      .where("r.entity_id", "=", orderId)
      .where("c.deleted_at", "is", null)
      .execute());
  for (const link of links) {
    const kind = CONNECTOR_KINDS[link.kind];
    for (const p of kind?.pushesFor?.(event, link.id) ?? []) {
      const inserted = await tx
        .insertInto("connector_pushes")
        .values({ tenant_id: event.tenantId, connector_id: link.id, push_key: p.key, action: p.action, entity_id: p.entityId })
        .onConflict((oc) => oc.columns(["connector_id", "push_key"]).doNothing())
        .returning("push_key")
        .executeTakeFirst();
      if (inserted) await enqueueConnectorJob(deps, { type: "push", connectorId: link.id, pushKey: p.key }, { tx });
    }
  }
}

/** Resuming sends on what waited while the connector was paused. */
export async function requeueWaiting(deps: Deps, connectorId: string) {
  const inbox = await deps.db
    .selectFrom("connector_inbox")
    .select("id")
    .where("connector_id", "=", connectorId)
    .where("processed_at", "is", null)
    .execute();
  for (const i of inbox) await enqueueConnectorJob(deps, { type: "inbox", connectorId, inboxId: i.id });
  const pushes = await deps.db
    .selectFrom("connector_pushes")
    .select("push_key")
    .where("connector_id", "=", connectorId)
    .where("status", "=", "pending")
    .execute();
  for (const p of pushes) await enqueueConnectorJob(deps, { type: "push", connectorId, pushKey: p.push_key });
}
