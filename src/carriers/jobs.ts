import type PgBoss from "pg-boss";
import { CONNECTOR_KINDS, loadConnector } from "../connectors/context.js";
import { ServiceError } from "../connectors/http.js";
import { backoffMs } from "../connectors/retry.js";
import { carrierCode } from "../domain/vocabulary.js";
import type { Deps, DomainEvent } from "../platform/context.js";
import type { Tx } from "../platform/db.js";
import { newId } from "../platform/ids.js";
import { ensureQueue, type Jobs, txAdapter } from "../platform/jobs.js";
import { interceptOrder, subscribe } from "./client.js";
import { carrierSettings, hookUrl, trackingConnector } from "./connector.js";
import { finishInterceptTx, interceptOnApproval } from "./intercepts.js";
import { runTrack17Register } from "./track17-jobs.js";
import { track17Kind } from "./track17-kind.js";

/**
 * Calls to 快递100 run as jobs on a queue of their own, sent in the transaction of the change that
 * needs them (a shipment rolled back subscribes nothing): subscriptions when a supplier order or a
 * return ships, and interceptions sent to the carrier. A failure the service may get over (5xx,
 * timeout, rate limit) is tried again later with a growing delay; a refusal is recorded on the row.
 */
export const CARRIER_QUEUE = "dropdesk-carrier";
export type CarrierJob =
  | { type: "subscribe"; subscriptionId: string }
  | { type: "intercept"; interceptId: string }
  | { type: "track17-register"; connectorId: string };

const MAX_ATTEMPTS = 8;
const boss = (deps: Deps) => (deps.services.jobs as Jobs | undefined)?.boss;

export async function enqueueCarrierJob(deps: Deps, job: CarrierJob, opts: { tx?: Tx; delayMs?: number } = {}) {
  const b = boss(deps);
  if (!b) return;
  const send: PgBoss.SendOptions = {
    ...(opts.tx ? ({ db: txAdapter(opts.tx) } as PgBoss.SendOptions) : {}),
    ...(opts.delayMs ? { startAfter: Math.ceil(opts.delayMs / 1000) } : {}),
  };
  await b.send(CARRIER_QUEUE, job, send);
}

/** Subscribes a parcel's number, once per connector, carrier and number. Unknown carriers are recorded as such. */
export async function subscribeLater(
  deps: Deps,
  tx: Tx,
  p: {
    tenantId: string;
    shopId?: string | null;
    carrier: string | null;
    trackingNo: string | null;
    supplierOrderId?: string;
    caseId?: string;
  },
) {
  if (!p.trackingNo) return;
  const row = await trackingConnector(tx, p.tenantId, p.shopId);
  if (!row) return;
  const code = carrierCode(p.carrier);
  // 17TRACK detects a carrier it is not told, so every number goes to it; 快递100 needs a known code.
  const known = Boolean(code) || row.kind === "track17";
  const inserted = await tx
    .insertInto("carrier_subscriptions")
    .values({
      id: newId(),
      tenant_id: p.tenantId,
      connector_id: row.id,
      carrier: code ?? String(p.carrier ?? "").slice(0, 60),
      tracking_no: p.trackingNo,
      supplier_order_id: p.supplierOrderId ?? null,
      case_id: p.caseId ?? null,
      status: known ? "pending" : "failed",
      last_error: known ? null : `"${p.carrier}" is not a carrier 快递100 knows; choose one from the carrier list`,
    })
    .onConflict((oc) => oc.columns(["connector_id", "carrier", "tracking_no"]).doNothing())
    .returning(["id", "status"])
    .executeTakeFirst();
  if (inserted?.status !== "pending") return;
  // 17TRACK takes numbers in batches: one job registers every pending number of the connector.
  const job: CarrierJob =
    row.kind === "track17" ? { type: "track17-register", connectorId: row.id } : { type: "subscribe", subscriptionId: inserted.id };
  await enqueueCarrierJob(deps, job, { tx });
}

type Parcel = { carrier: string | null; trackingNo: string | null; shopId: string };

/** The parcel and shop a shipment's event carries (an older event in the queue may carry none). */
function parcelOf(e: DomainEvent): Parcel | null {
  const d = e.data;
  return typeof d.carrier === "string" && typeof d.trackingNo === "string" && typeof d.shopId === "string"
    ? { carrier: d.carrier, trackingNo: d.trackingNo, shopId: d.shopId }
    : null;
}

/** Domain events that subscribe a parcel: a supplier's shipment, a return shipped by the customer. */
export async function carrierEventSink(deps: Deps, tx: Tx, e: DomainEvent) {
  await interceptOnApproval(deps, tx, e);
  if (e.type === "supplier_order.shipped") {
    const p =
      parcelOf(e) ??
      (await tx
        .selectFrom("supplier_orders as so")
        .innerJoin("orders as o", "o.id", "so.order_id")
        .select(["so.carrier", "so.tracking_no as trackingNo", "o.shop_id as shopId"])
        .where("so.id", "=", e.entityId)
        .executeTakeFirst());
    if (p) await subscribeLater(deps, tx, { tenantId: e.tenantId, ...p, supplierOrderId: e.entityId });
  }
  if (e.type === "case.return_shipped") {
    const p =
      parcelOf(e) ??
      (await tx
        .selectFrom("cases")
        .select(["return_carrier as carrier", "return_tracking_no as trackingNo", "shop_id as shopId"])
        .where("id", "=", e.entityId)
        .executeTakeFirst());
    if (p) await subscribeLater(deps, tx, { tenantId: e.tenantId, ...p, caseId: e.entityId });
  }
}

async function runSubscribe(deps: Deps, id: string) {
  const sub = await deps.db.selectFrom("carrier_subscriptions").selectAll().where("id", "=", id).executeTakeFirst();
  if (sub?.status !== "pending") return;
  const row = await loadConnector(deps.db, sub.connector_id);
  const set = (s: Record<string, unknown>) =>
    deps.db
      .updateTable("carrier_subscriptions")
      .set({ updated_at: deps.clock.now(), ...s })
      .where("id", "=", id)
      .execute();
  if (!row) return set({ status: "failed", last_error: "the connector was deleted" });
  const attempts = sub.attempts + 1;
  try {
    const s = await carrierSettings(deps, row);
    const phone = await customerPhone(deps, sub);
    await subscribe(deps, s, { company: sub.carrier, number: sub.tracking_no, callbackurl: hookUrl(deps, row.id), phone });
    await set({ status: "subscribed", attempts, subscribed_at: deps.clock.now(), last_error: null });
  } catch (e) {
    if (!(e instanceof ServiceError)) throw e;
    if ((e.kind === "transient" || e.kind === "rate_limited") && attempts < MAX_ATTEMPTS) {
      await set({ attempts, last_error: e.message });
      await enqueueCarrierJob(
        deps,
        { type: "subscribe", subscriptionId: id },
        { delayMs: backoffMs({ baseDelayMs: 30_000, maxDelayMs: 3_600_000 }, attempts) },
      );
      return;
    }
    await set({ status: "failed", attempts, last_error: e.message });
  }
}

/** 顺丰 wants the receiver's (or sender's) phone, or its last four digits, to show a parcel's history. */
async function customerPhone(deps: Deps, sub: { supplier_order_id?: string | null; case_id?: string | null }) {
  const o = sub.supplier_order_id
    ? await deps.db
        .selectFrom("supplier_orders as x")
        .innerJoin("orders as o", "o.id", "x.order_id")
        .select(["o.customer", "o.address"])
        .where("x.id", "=", sub.supplier_order_id)
        .executeTakeFirst()
    : sub.case_id
      ? await deps.db
          .selectFrom("cases as x")
          .innerJoin("orders as o", "o.id", "x.order_id")
          .select(["o.customer", "o.address"])
          .where("x.id", "=", sub.case_id)
          .executeTakeFirst()
      : undefined;
  const phone = String((o?.address as { phone?: string } | null)?.phone ?? (o?.customer as { phone?: string } | null)?.phone ?? "").replace(
    /\D/g,
    "",
  );
  return phone ? phone.slice(-4) : undefined;
}

async function runIntercept(deps: Deps, id: string) {
  const it = await deps.db.selectFrom("carrier_intercepts").selectAll().where("id", "=", id).executeTakeFirst();
  if (it?.status !== "requested" || it.task_id) return;
  const row = await loadConnector(deps.db, it.connector_id);
  const fail = (message: string) =>
    deps.db.transaction().execute((tx) => finishInterceptTx(deps, tx, it.id, { outcome: "failed", message, source: "request" }));
  if (!row) return fail("the 快递100 connector was deleted");
  try {
    const s = await carrierSettings(deps, row);
    const r = await interceptOrder(deps, s, {
      orderId: it.id,
      kuaidicom: it.carrier,
      kuaidinum: it.tracking_no,
      reason: it.reason,
      callbackUrl: hookUrl(deps, row.id, "/intercept"),
    });
    await deps.db
      .updateTable("carrier_intercepts")
      .set({ task_id: r.taskId ?? "accepted", updated_at: deps.clock.now() })
      .where("id", "=", id)
      .execute();
  } catch (e) {
    if (!(e instanceof ServiceError)) throw e;
    if (e.kind === "transient" || e.kind === "rate_limited") {
      const attempts = it.attempts + 1;
      if (attempts < MAX_ATTEMPTS) {
        await deps.db
          .updateTable("carrier_intercepts")
          .set({ attempts, message: e.message, updated_at: deps.clock.now() })
          .where("id", "=", id)
          .execute();
        await enqueueCarrierJob(
          deps,
          { type: "intercept", interceptId: id },
          { delayMs: backoffMs({ baseDelayMs: 30_000, maxDelayMs: 3_600_000 }, attempts) },
        );
        return;
      }
    }
    await fail(e.message);
  }
}

export async function runCarrierJob(deps: Deps, job: CarrierJob) {
  if (job.type === "subscribe") return runSubscribe(deps, job.subscriptionId);
  if (job.type === "intercept") return runIntercept(deps, job.interceptId);
  if (job.type === "track17-register") return runTrack17Register(deps, job.connectorId);
}

/** Runs the carrier jobs due now in this process (tests and the CLI drive the queue with it). */
export async function runPendingCarrierJobs(deps: Deps): Promise<number> {
  const b = boss(deps);
  if (!b) return 0;
  let ran = 0;
  for (;;) {
    const jobs = await b.fetch<CarrierJob>(CARRIER_QUEUE, { batchSize: 20 });
    if (!jobs?.length) return ran;
    for (const job of jobs) {
      try {
        await runCarrierJob(deps, job.data);
        await b.complete(CARRIER_QUEUE, job.id);
      } catch (e) {
        await b.fail(CARRIER_QUEUE, job.id, { message: e instanceof Error ? e.message : String(e) });
      }
      ran += 1;
    }
  }
}

export async function setupCarrierJobs(deps: Deps) {
  // 17TRACK joins the connector kinds here (as the payment kinds do in setupMoney), before any request.
  CONNECTOR_KINDS.track17 = track17Kind;
  deps.eventSinks.push((tx, e) => carrierEventSink(deps, tx, e));
  const jobs = deps.services.jobs as Jobs | undefined;
  if (!jobs) return;
  await ensureQueue(deps, CARRIER_QUEUE, {
    retryLimit: 6,
    retryDelay: 30,
    retryBackoff: true,
    expireInSeconds: 300,
  });
  deps.services.runCarrierJobs = () => runPendingCarrierJobs(deps);
  if (deps.config.workers) {
    await jobs.boss.work<CarrierJob>(
      CARRIER_QUEUE,
      { batchSize: 5, pollingIntervalSeconds: Number(process.env.DROPDESK_POLL_SECONDS ?? 1) },
      async (batch) => {
        for (const job of batch) await runCarrierJob(deps, job.data);
      },
    );
  }
}
