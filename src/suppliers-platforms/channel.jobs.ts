import { ServiceError } from "../connectors/http.js";
import { enqueueConnectorJob } from "../connectors/jobs.js";
import type { ConnectorContext } from "../connectors/kind.js";
import type { Deps, DomainEvent } from "../platform/context.js";
import type { Tx } from "../platform/db.js";
import { ensureQueue, type Jobs } from "../platform/jobs.js";
import { pullDispute } from "./channel.disputes.js";
import { forwardSupplierOrder, queueForward } from "./channel.forward.js";
import { syncOffer } from "./channel.offers.js";
import { CHANNEL_QUEUE, type ChannelJob, channelBoss, enqueueChannelJob, supplierPlatformKinds } from "./channel.repo.js";
import { cancelOnPlatform, pullLinkedOrders } from "./channel.status.js";
import { cdb, type SupplierPlatform } from "./platform.js";
import { platformTermsSink } from "./terms.js";

// The connector's sync, the channel's jobs and what start-up wires.

const PAGE = 20;
const OPEN_SO = ["pending", "accepted", "cancel_requested", "shipped", "intercept_requested"] as const;

export async function channelEventSink(deps: Deps, tx: Tx, e: DomainEvent) {
  if (e.type === "order.forwarded") {
    for (const id of (e.data.supplierOrderIds as string[] | undefined) ?? []) await queueForward(deps, tx, e.tenantId, id);
  }
  if (e.type === "order.cancelled") {
    // The order's supplier orders were cancelled in Dropdesk; those placed on a platform are cancelled there too.
    const links = await cdb(tx)
      .selectFrom("supplier_order_channel_links as l")
      .innerJoin("supplier_orders as so", "so.id", "l.supplier_order_id")
      .select(["l.supplier_order_id"])
      .where("so.order_id", "=", e.entityId)
      .where("so.status", "=", "cancelled")
      .where("l.state", "in", ["queued", "placed"])
      .execute();
    for (const l of links) await enqueueChannelJob(deps, { type: "cancel", supplierOrderId: l.supplier_order_id }, { tx });
  }
}

// The connector's sync: orders, then offers, then disputes, a page at a time ----------------------

type Cursor = { phase: "orders" | "offers" | "disputes"; after: string | null };

export async function syncChannelPage(ctx: ConnectorContext, platform: SupplierPlatform, cursor: unknown) {
  const deps = ctx.deps;
  const c: Cursor = (cursor as Cursor | null) ?? { phase: "orders", after: null };
  const next = (phase: Cursor["phase"] | null, after: string | null, records: number) =>
    phase ? { cursor: { phase, after }, done: false, records } : { cursor: null, done: true, records };
  if (c.phase === "orders") {
    let q = cdb(deps.db)
      .selectFrom("supplier_order_channel_links as l")
      .innerJoin("supplier_orders as so", "so.id", "l.supplier_order_id")
      .select(["l.supplier_order_id", "l.external_order_id"])
      .where("l.connector_id", "=", ctx.connector.id)
      .where("l.state", "=", "placed")
      .where("so.status", "in", [...OPEN_SO]);
    if (c.after) q = q.where("l.supplier_order_id", ">", c.after);
    const links = await q.orderBy("l.supplier_order_id").limit(PAGE).execute();
    const n = await pullLinkedOrders(deps, ctx, platform, links);
    return links.length < PAGE ? next("offers", null, n) : next("orders", links[links.length - 1].supplier_order_id, n);
  }
  if (c.phase === "offers") {
    let q = cdb(deps.db).selectFrom("offer_channel_links").select("offer_id").where("connector_id", "=", ctx.connector.id);
    if (c.after) q = q.where("offer_id", ">", c.after);
    const links = await q.orderBy("offer_id").limit(PAGE).execute();
    for (const l of links) await syncOffer(deps, ctx, platform, l.offer_id);
    return links.length < PAGE ? next("disputes", null, links.length) : next("offers", links[links.length - 1].offer_id, links.length);
  }
  let q = cdb(deps.db).selectFrom("claim_disputes").select("id").where("connector_id", "=", ctx.connector.id).where("state", "=", "open");
  if (c.after) q = q.where("id", ">", c.after);
  const disputes = await q.orderBy("id").limit(PAGE).execute();
  for (const d of disputes) await pullDispute(deps, d.id);
  return disputes.length < PAGE ? next(null, null, disputes.length) : next("disputes", disputes[disputes.length - 1].id, disputes.length);
}

/** Queues a sync of every active supplier-platform connector (the schedule calls this). */
export async function scheduleSupplierSyncs(deps: Deps): Promise<number> {
  const kinds = supplierPlatformKinds();
  const rows = await deps.db
    .selectFrom("connectors")
    .select("id")
    .where("kind", "in", kinds)
    .where("status", "=", "active")
    .where("deleted_at", "is", null)
    .execute();
  for (const r of rows) await enqueueConnectorJob(deps, { type: "sync", connectorId: r.id });
  return rows.length;
}

// Jobs ------------------------------------------------------------------------------------------

export async function runChannelJob(deps: Deps, job: ChannelJob) {
  if (job.type === "forward") return forwardSupplierOrder(deps, job.supplierOrderId);
  if (job.type === "cancel") {
    try {
      await cancelOnPlatform(deps, job.supplierOrderId);
    } catch (e) {
      if (!(e instanceof ServiceError) || e.kind === "transient" || e.kind === "rate_limited") throw e;
      await cdb(deps.db)
        .updateTable("supplier_order_channel_links")
        .set({ last_error: `cancellation: ${e.message}`, updated_at: deps.clock.now() })
        .where("supplier_order_id", "=", job.supplierOrderId)
        .execute();
    }
  }
}

export async function runPendingChannelJobs(deps: Deps): Promise<number> {
  const b = channelBoss(deps);
  if (!b) return 0;
  let ran = 0;
  for (;;) {
    const jobs = await b.fetch<ChannelJob>(CHANNEL_QUEUE, { batchSize: 20 });
    if (!jobs?.length) return ran;
    for (const job of jobs) {
      try {
        await runChannelJob(deps, job.data);
        await b.complete(CHANNEL_QUEUE, job.id);
      } catch (e) {
        await b.fail(CHANNEL_QUEUE, job.id, { message: e instanceof Error ? e.message : String(e) });
      }
      ran += 1;
    }
  }
}

export async function setupSupplierChannels(deps: Deps) {
  deps.eventSinks.push((tx, e) => channelEventSink(deps, tx, e));
  deps.eventSinks.push((tx, e) => platformTermsSink(deps, tx, e));
  deps.services.supplierChannelSync = syncChannelPage;
  const jobs = deps.services.jobs as Jobs | undefined;
  if (!jobs) return;
  await ensureQueue(deps, CHANNEL_QUEUE, {
    retryLimit: 6,
    retryDelay: 30,
    retryBackoff: true,
    expireInSeconds: 300,
  });
  deps.services.runChannelJobs = () => runPendingChannelJobs(deps);
  if (deps.config.workers) {
    await jobs.boss.work<ChannelJob>(
      CHANNEL_QUEUE,
      { batchSize: 5, pollingIntervalSeconds: Number(process.env.DROPDESK_POLL_SECONDS ?? 1) },
      async (batch) => {
        for (const job of batch) await runChannelJob(deps, job.data);
      },
    );
    const minutes = Number(process.env.DROPDESK_SUPPLIER_SYNC_MINUTES ?? 15);
    if (minutes > 0)
      setInterval(
        () => void scheduleSupplierSyncs(deps).catch((e) => console.warn(`supplier sync schedule: ${e.message}`)),
        minutes * 60_000,
      ).unref();
  }
}
