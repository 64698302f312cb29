import type PgBoss from "pg-boss";
import { alibaba1688Platform } from "../connectors/alibaba1688/alibaba1688.js";
import { cjPlatform } from "../connectors/cj/cj.js";
import { contextFor, loadConnector, systemActor } from "../connectors/context.js";
import { ServiceError } from "../connectors/http.js";
import { enqueueConnectorJob } from "../connectors/jobs.js";
import type { ConnectorContext, ConnectorRow } from "../connectors/kind.js";
import { backoffMs } from "../connectors/retry.js";
import { supplierOrderActionTx } from "../fulfilment/supplier-order.service.js";
import { allocate } from "../money/allocate.js";
import { CLAIM_MACHINE } from "../money/claim.states.js";
import { post } from "../money/ledger.js";
import { audit } from "../platform/audit.js";
import { type Actor, type Deps, type DomainEvent, emit } from "../platform/context.js";
import type { Tx } from "../platform/db.js";
import { AppError, notFound } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import { ensureQueue, type Jobs, txAdapter } from "../platform/jobs.js";
import { lockRows } from "../platform/locks.js";
import { evidenceLink } from "./evidence-links.js";
import { cdb, type PlatformOrderState, type SupplierPlatform } from "./platform.js";
import { platformTermsSink } from "./terms.js";

/**
 * Supplier channels: a supplier is worked through the supplier portal (the default), a platform
 * (1688, CJdropshipping) through a connector, or e-mail/CSV. For a platform channel:
 *
 * - a supplier order routed to the supplier is placed on the platform by a job sent in the
 *   forwarding transaction, under an idempotency key of ours (a call that timed out is looked up
 *   by that key before it is placed again); the platform's order id and what it charged are kept,
 *   and the supplier order's cost becomes what was charged;
 * - the connector's sync (on demand, and on a schedule in worker processes) pulls the platform's
 *   status and logistics of every open order, the price and stock of every linked offer, and the
 *   progress of every open dispute;
 * - every external status becomes an action of the supplier-order state table through
 *   `supplierOrderActionTx` (so locks, events, the cost posting and rerouting stay one path), and
 *   a dispute's outcome becomes the claim's own transitions with the recovery in the ledger.
 */
export const CHANNEL_QUEUE = "dropdesk-supplier-channel";
export type ChannelJob = { type: "forward"; supplierOrderId: string } | { type: "cancel"; supplierOrderId: string };

const PLATFORMS: Record<string, SupplierPlatform> = { alibaba1688: alibaba1688Platform, cj: cjPlatform };
export function registerSupplierPlatform(p: SupplierPlatform) {
  PLATFORMS[p.kind] = p;
}
export const platformFor = (kind: string): SupplierPlatform | undefined => PLATFORMS[kind];

const MAX_ATTEMPTS = 8;
const PAGE = 20;
const OPEN_SO = ["pending", "accepted", "cancel_requested", "shipped", "intercept_requested"] as const;
const boss = (deps: Deps) => (deps.services.jobs as Jobs | undefined)?.boss;

export async function enqueueChannelJob(deps: Deps, job: ChannelJob, opts: { tx?: Tx; delayMs?: number } = {}) {
  const b = boss(deps);
  if (!b) return;
  const send: PgBoss.SendOptions = {
    ...(opts.tx ? ({ db: txAdapter(opts.tx) } as PgBoss.SendOptions) : {}),
    ...(opts.delayMs ? { startAfter: Math.ceil(opts.delayMs / 1000) } : {}),
  };
  await b.send(CHANNEL_QUEUE, job, send);
}

export async function channelOf(ex: Tx | Deps["db"], tenantId: string, supplierId: string) {
  return cdb(ex)
    .selectFrom("supplier_channels")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("supplier_id", "=", supplierId)
    .executeTakeFirst();
}

async function platformContext(
  deps: Deps,
  connectorId: string,
): Promise<{ row: ConnectorRow; ctx: ConnectorContext; platform: SupplierPlatform }> {
  const row = await loadConnector(deps.db, connectorId);
  if (!row) throw new AppError("conflict", "the supplier's platform connector was deleted");
  const platform = platformFor(row.kind);
  if (!platform) throw new AppError("conflict", `connector kind ${row.kind} is not a supplier platform`);
  return { row, ctx: await contextFor(deps, row), platform };
}

// Forwarding ------------------------------------------------------------------------------------

/** Queues a supplier order for its supplier's platform, in the caller's transaction. No-op for other channels. */
export async function queueForward(deps: Deps, tx: Tx, tenantId: string, supplierOrderId: string, force = false) {
  const so = await tx
    .selectFrom("supplier_orders")
    .select(["id", "supplier_id", "status"])
    .where("id", "=", supplierOrderId)
    .executeTakeFirst();
  if (!so) return false;
  const ch = await channelOf(tx, tenantId, so.supplier_id);
  if (!ch?.connector_id || !platformFor(ch.kind) || (!ch.auto_forward && !force)) return false;
  await cdb(tx)
    .insertInto("supplier_order_channel_links")
    .values({ supplier_order_id: so.id, tenant_id: tenantId, connector_id: ch.connector_id, out_order_id: so.id, state: "queued" })
    .onConflict((oc) => oc.column("supplier_order_id").doNothing())
    .execute();
  await enqueueChannelJob(deps, { type: "forward", supplierOrderId: so.id }, { tx });
  return true;
}

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

/** Places one supplier order on its platform (a job; also the `channel-forward` action). */
export async function forwardSupplierOrder(deps: Deps, supplierOrderId: string): Promise<void> {
  const link = await cdb(deps.db)
    .selectFrom("supplier_order_channel_links")
    .selectAll()
    .where("supplier_order_id", "=", supplierOrderId)
    .executeTakeFirst();
  if (!link || link.state === "placed") return;
  const so = await deps.db.selectFrom("supplier_orders").selectAll().where("id", "=", supplierOrderId).executeTakeFirstOrThrow();
  const { row, ctx, platform } = await platformContext(deps, link.connector_id);
  const actor = systemActor(row);
  const setLink = (s: Record<string, unknown>) =>
    cdb(deps.db)
      .updateTable("supplier_order_channel_links")
      .set({ updated_at: deps.clock.now(), ...s })
      .where("supplier_order_id", "=", supplierOrderId)
      .execute();
  if (!["pending", "accepted"].includes(so.status)) {
    // Cancelled or rejected before it was placed: nothing to place.
    if (link.state === "queued") await setLink({ state: "failed", last_error: `the supplier order is ${so.status}; not placed` });
    return;
  }
  const lines = await cdb(deps.db)
    .selectFrom("supplier_order_lines as l")
    .leftJoin("offer_channel_links as ol", "ol.offer_id", "l.offer_id")
    .select(["l.id", "l.quantity", "l.unit_cost", "l.offer_id", "ol.external_offer_id", "ol.external_spec_id"])
    .where("l.supplier_order_id", "=", so.id)
    .orderBy("l.id")
    .execute();
  const unlinked = lines.filter((l) => !l.external_offer_id);
  if (unlinked.length) {
    await setLink({
      state: "failed",
      last_error: "an offer of this supplier order has no platform offer id; link the offer and forward again",
    });
    await ctx.log("error", `supplier order ${so.id} not placed: an offer has no platform offer id`, so.id);
    return;
  }
  const order = await deps.db
    .selectFrom("orders")
    .select(["address", "platform_order_no"])
    .where("id", "=", so.order_id)
    .executeTakeFirstOrThrow();
  const a = (order.address ?? {}) as Record<string, string | undefined>;
  try {
    // A call that timed out may have gone through: look the order up under our key first.
    let placed: Awaited<ReturnType<SupplierPlatform["placeOrder"]>> | null = null;
    const existing = link.attempts > 0 ? await platform.findOrder(ctx, link.out_order_id) : null;
    if (!existing) {
      placed = await platform.placeOrder(ctx, {
        outOrderId: link.out_order_id,
        message: `Dropdesk ${order.platform_order_no}`,
        address: {
          name: a.name ?? "",
          phone: a.phone ?? "",
          province: a.province ?? "",
          city: a.city ?? "",
          district: a.district,
          town: a.town,
          line1: [a.line1, a.line2].filter(Boolean).join(" "),
          postalCode: a.postalCode,
          country: a.country,
          countryCode: a.country && /^[A-Za-z]{2}$/.test(a.country) ? a.country.toUpperCase() : "CN",
        },
        lines: lines.map((l) => ({
          externalOfferId: String(l.external_offer_id),
          externalSpecId: l.external_spec_id,
          quantity: l.quantity,
          unitCost: Number(l.unit_cost),
        })),
      });
    }
    const externalOrderId = placed?.externalOrderId ?? String(existing);
    const charged = placed ?? (await chargedOf(ctx, platform, externalOrderId));
    await deps.db.transaction().execute(async (tx) => {
      await lockRows(tx, { orders: [so.order_id], supplierOrders: [so.id] });
      const now = deps.clock.now();
      await cdb(tx)
        .updateTable("supplier_order_channel_links")
        .set({
          state: "placed",
          external_order_id: externalOrderId,
          charged_goods: charged.chargedGoods,
          charged_shipping: charged.chargedShipping,
          charged_total: charged.chargedTotal,
          placed_at: now,
          last_error: null,
          attempts: link.attempts + 1,
          updated_at: now,
        })
        .where("supplier_order_id", "=", so.id)
        .execute();
      // The supplier order costs what the platform charged: goods spread over the lines by their offer cost.
      if (charged.chargedTotal > 0) {
        const shares = allocate(
          charged.chargedGoods,
          lines.map((l) => Number(l.unit_cost) * l.quantity || l.quantity),
        );
        for (const [i, l] of lines.entries())
          await tx
            .updateTable("supplier_order_lines")
            .set({ unit_cost: Math.round(shares[i] / l.quantity) })
            .where("id", "=", l.id)
            .execute();
        await tx
          .updateTable("supplier_orders")
          .set({ cost_total: charged.chargedTotal, updated_at: now })
          .where("id", "=", so.id)
          .execute();
      }
      await audit(
        tx,
        actor,
        "supplier_order.channel_placed",
        "supplier_order",
        so.id,
        { costTotal: Number(so.cost_total) },
        {
          externalOrderId,
          charged: charged.chargedTotal,
        },
      );
    });
    await ctx.log(
      "info",
      `supplier order ${so.id} placed as ${platform.kind} order ${externalOrderId} (${charged.chargedTotal} charged)`,
      externalOrderId,
    );
  } catch (e) {
    if (!(e instanceof ServiceError)) throw e;
    const attempts = link.attempts + 1;
    if ((e.kind === "transient" || e.kind === "rate_limited") && attempts < MAX_ATTEMPTS) {
      await setLink({ attempts, last_error: e.message });
      await enqueueChannelJob(
        deps,
        { type: "forward", supplierOrderId },
        { delayMs: e.opts.retryAfterMs ?? backoffMs({ baseDelayMs: 30_000, maxDelayMs: 3_600_000 }, attempts) },
      );
      return;
    }
    await setLink({ state: "failed", attempts, last_error: e.message });
    await ctx.log("error", `supplier order ${so.id} not placed: ${e.message}`, so.id);
    // The platform refused the order itself (out of stock, offer gone): the supplier order is
    // rejected, which sends its lines on to the next offer. Credentials are fixed by staff instead.
    if (e.kind === "refused") {
      await deps.db.transaction().execute((tx) =>
        supplierOrderActionTx(tx, deps, actor, so.id, "reject", {
          reason: `${platform.kind} refused the order: ${e.message}`.slice(0, 500),
        }),
      );
    }
  }
}

async function chargedOf(ctx: ConnectorContext, platform: SupplierPlatform, externalOrderId: string) {
  const st = (await platform.pullOrders(ctx, [externalOrderId])).get(externalOrderId);
  const total = st?.chargedTotal ?? 0;
  return { chargedGoods: total, chargedShipping: 0, chargedTotal: total };
}

// Status and logistics --------------------------------------------------------------------------

/**
 * Moves one supplier order to where the platform says it is, through the state table's actions
 * (a platform can jump steps: a seller ships an order we never saw accepted). Returns the actions taken.
 */
export async function applyPlatformState(deps: Deps, tx: Tx, actor: Actor, soId: string, st: PlatformOrderState): Promise<string[]> {
  const taken: string[] = [];
  const statusOf = async () =>
    (await tx.selectFrom("supplier_orders").select("status").where("id", "=", soId).executeTakeFirstOrThrow()).status;
  const act = async (action: string, input: Record<string, unknown> = {}) => {
    await supplierOrderActionTx(tx, deps, actor, soId, action, input);
    taken.push(action);
  };
  let status = await statusOf();
  if (st.stage === "accepted" && status === "pending") await act("accept");
  if ((st.stage === "shipped" || st.stage === "delivered") && ["pending", "accepted", "cancel_requested"].includes(status)) {
    if (!st.trackingNo) return taken; // shipped without a number yet: wait for the logistics
    await act("ship", {
      carrier: st.carrier || "unknown",
      trackingNo: st.trackingNo,
      ...(st.shippedAt && { shippedAt: st.shippedAt.toISOString() }),
    });
    status = await statusOf();
  }
  if (st.stage === "delivered" && ["shipped", "intercept_requested"].includes(status))
    await act("deliver", st.deliveredAt ? { deliveredAt: st.deliveredAt.toISOString() } : {});
  if (st.stage === "closed") {
    if (status === "cancel_requested") await act("confirm-cancel", { note: `${st.status}${st.closeReason ? `: ${st.closeReason}` : ""}` });
    // The seller closed an order we did not ask to cancel (out of stock): rejected, and rerouted.
    else if (status === "pending" || status === "accepted")
      await act("reject", { reason: `the platform closed the order (${st.closeReason ?? st.status})` });
  }
  await cdb(tx)
    .updateTable("supplier_order_channel_links")
    .set({
      external_status: st.refundStatus ? `${st.status}/${st.refundStatus}` : st.status,
      pulled_at: deps.clock.now(),
      updated_at: deps.clock.now(),
    })
    .where("supplier_order_id", "=", soId)
    .execute();
  return taken;
}

async function pullLinkedOrders(
  deps: Deps,
  ctx: ConnectorContext,
  platform: SupplierPlatform,
  links: { supplier_order_id: string; external_order_id: string | null }[],
) {
  const ids = links.map((l) => l.external_order_id).filter((x): x is string => Boolean(x));
  if (!ids.length) return 0;
  const states = await platform.pullOrders(ctx, ids);
  const actor = systemActor(ctx.connector);
  let n = 0;
  for (const l of links) {
    const st = l.external_order_id ? states.get(l.external_order_id) : undefined;
    if (!st) continue;
    await deps.db.transaction().execute((tx) => applyPlatformState(deps, tx, actor, l.supplier_order_id, st));
    n += 1;
  }
  return n;
}

/** Pulls one supplier order's status and logistics now (the `channel-pull` action). */
export async function pullSupplierOrder(deps: Deps, tenantId: string, soId: string) {
  const link = await linkOf(deps, tenantId, soId);
  if (link.state !== "placed")
    throw new AppError(
      "conflict",
      `the supplier order is not placed on the platform (${link.state}${link.last_error ? `: ${link.last_error}` : ""})`,
    );
  const { ctx, platform } = await platformContext(deps, link.connector_id);
  await pullLinkedOrders(deps, ctx, platform, [link]);
}

export async function linkOf(deps: Deps, tenantId: string, soId: string) {
  const link = await cdb(deps.db)
    .selectFrom("supplier_order_channel_links")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("supplier_order_id", "=", soId)
    .executeTakeFirst();
  if (!link) throw notFound("supplier order on a platform");
  return link;
}

// Cancellation ----------------------------------------------------------------------------------

/**
 * Cancels a placed order on its platform: an unpaid one at once, a paid one by the platform's
 * full refund (its progress comes with the next pulls). The supplier order is `cancel_requested`
 * (staff asked) or already `cancelled` (the whole order was).
 */
export async function cancelOnPlatform(deps: Deps, soId: string): Promise<{ done: boolean; refundId?: string; note?: string }> {
  const link = await cdb(deps.db)
    .selectFrom("supplier_order_channel_links")
    .selectAll()
    .where("supplier_order_id", "=", soId)
    .executeTakeFirst();
  if (!link) return { done: false, note: "not on a platform" };
  const setLink = (s: Record<string, unknown>) =>
    cdb(deps.db)
      .updateTable("supplier_order_channel_links")
      .set({ updated_at: deps.clock.now(), ...s })
      .where("supplier_order_id", "=", soId)
      .execute();
  if (link.state === "queued") {
    // Not placed yet: the forward job finds the supplier order cancelled and places nothing.
    return { done: true, note: "not placed yet" };
  }
  if (link.state !== "placed" || !link.external_order_id) return { done: false, note: link.state };
  const { row, ctx, platform } = await platformContext(deps, link.connector_id);
  const st = (await platform.pullOrders(ctx, [link.external_order_id])).get(link.external_order_id);
  if (!st) throw new AppError("conflict", `${platform.kind} does not know order ${link.external_order_id}`);
  const actor = systemActor(row);
  if (st.stage === "shipped" || st.stage === "delivered") {
    // Too late: the seller shipped first. The supplier order follows the platform (an interception is next).
    await deps.db.transaction().execute((tx) => applyPlatformState(deps, tx, actor, soId, st));
    return { done: false, note: `the seller has shipped (${st.status}); ask for an interception` };
  }
  if (st.stage === "closed") {
    await deps.db.transaction().execute((tx) => applyPlatformState(deps, tx, actor, soId, st));
    return { done: true };
  }
  const r = await platform.cancelOrder(ctx, link.external_order_id, st);
  await setLink({ cancel_refund_id: r.refundId ?? null, external_status: r.done ? "cancel" : `${st.status}/refund requested` });
  if (r.done) {
    await deps.db
      .transaction()
      .execute((tx) => applyPlatformState(deps, tx, actor, soId, { ...st, status: "cancel", stage: "closed", closeReason: "buyerCancel" }));
  }
  await ctx.log(
    "info",
    `cancellation of ${link.external_order_id}: ${r.done ? "cancelled" : `refund ${r.refundId} requested`}`,
    link.external_order_id,
  );
  return r;
}

// Offers ----------------------------------------------------------------------------------------

/** Reads one linked offer's price and stock into the offer and its history; a rise is a warning on the offer. */
export async function syncOffer(deps: Deps, ctx: ConnectorContext, platform: SupplierPlatform, offerId: string) {
  const link = await cdb(deps.db).selectFrom("offer_channel_links").selectAll().where("offer_id", "=", offerId).executeTakeFirstOrThrow();
  const now = () => deps.clock.now();
  let got: { price: number; stock: number };
  try {
    got = await platform.pullOffer(ctx, link.external_offer_id, link.external_spec_id);
  } catch (e) {
    if (!(e instanceof ServiceError) || e.kind !== "refused") throw e;
    // The platform says the offer is gone or offline: routing stops using it.
    await deps.db.transaction().execute(async (tx) => {
      const o = await tx.selectFrom("offers").selectAll().where("id", "=", offerId).forUpdate().executeTakeFirstOrThrow();
      await cdb(tx)
        .updateTable("offer_channel_links")
        .set({ last_error: e.message, synced_at: now(), updated_at: now() })
        .where("offer_id", "=", offerId)
        .execute();
      if (o.active) {
        await tx.updateTable("offers").set({ active: false, updated_at: now() }).where("id", "=", offerId).execute();
        await tx
          .insertInto("offer_history")
          .values({
            id: newId(),
            tenant_id: o.tenant_id,
            offer_id: offerId,
            cost: o.cost,
            stock: o.stock,
            active: false,
            reason: `${platform.kind}: ${e.message}`.slice(0, 200),
            changed_by: ctx.connector.id,
            at: now(),
          })
          .execute();
      }
    });
    return { changed: true, error: e.message };
  }
  return deps.db.transaction().execute(async (tx) => {
    const o = await tx.selectFrom("offers").selectAll().where("id", "=", offerId).forUpdate().executeTakeFirstOrThrow();
    const cost = Number(o.cost);
    const changed = cost !== got.price || o.stock !== got.stock;
    const warning =
      got.price > cost
        ? {
            from: cost,
            to: got.price,
            rise: got.price - cost,
            percent: Math.round(((got.price - cost) * 1000) / Math.max(1, cost)) / 10,
            at: now().toISOString(),
          }
        : null;
    if (changed) {
      await tx.updateTable("offers").set({ cost: got.price, stock: got.stock, updated_at: now() }).where("id", "=", offerId).execute();
      await tx
        .insertInto("offer_history")
        .values({
          id: newId(),
          tenant_id: o.tenant_id,
          offer_id: offerId,
          cost: got.price,
          stock: got.stock,
          active: o.active,
          reason: `${platform.kind} sync`,
          changed_by: ctx.connector.id,
          at: now(),
        })
        .execute();
    }
    await cdb(tx)
      .updateTable("offer_channel_links")
      .set({
        last_price: got.price,
        last_stock: got.stock,
        synced_at: now(),
        last_error: null,
        updated_at: now(),
        // A rise stays shown until staff acknowledge it; a later rise replaces it.
        ...(warning && { price_warning: JSON.stringify(warning) }),
      })
      .where("offer_id", "=", offerId)
      .execute();
    return { changed, warning };
  });
}

// Disputes and recoveries -----------------------------------------------------------------------

/** Opens the platform's refund dispute for a supplier claim, with the case's evidence as vouchers. */
export async function openDisputeForClaim(
  deps: Deps,
  actor: Actor,
  claimId: string,
  input: { request?: "refund" | "returnRefund"; description?: string },
) {
  const claim = await deps.db
    .selectFrom("supplier_claims")
    .selectAll()
    .where("tenant_id", "=", actor.tenantId)
    .where("id", "=", claimId)
    .executeTakeFirst();
  if (!claim) throw notFound("supplier claim");
  if (!["open", "disputed"].includes(claim.status))
    throw new AppError("conflict", `the claim is ${claim.status}; only an open or disputed claim goes to the platform`);
  if (!claim.case_id) throw new AppError("conflict", "the claim has no case to take the order and evidence from");
  const already = await cdb(deps.db)
    .selectFrom("claim_disputes")
    .select("id")
    .where("claim_id", "=", claimId)
    .where("state", "=", "open")
    .executeTakeFirst();
  if (already) throw new AppError("conflict", "a dispute for this claim is open on the platform already", { disputeId: already.id });
  const c = await deps.db.selectFrom("cases").selectAll().where("id", "=", claim.case_id).executeTakeFirstOrThrow();
  const link = await cdb(deps.db)
    .selectFrom("supplier_order_channel_links as l")
    .innerJoin("supplier_orders as so", "so.id", "l.supplier_order_id")
    .select(["l.connector_id", "l.external_order_id", "so.status", "so.id"])
    .where("so.order_id", "=", c.order_id)
    .where("so.supplier_id", "=", claim.supplier_id)
    .where("so.purpose", "=", "original")
    .where("l.state", "=", "placed")
    .executeTakeFirst();
  if (!link?.external_order_id)
    throw new AppError("conflict", "the case's supplier order was not placed on a platform; settle the claim by statement");
  const { ctx, platform } = await platformContext(deps, link.connector_id);
  const files = await deps.db
    .selectFrom("evidence")
    .selectAll()
    .where("case_id", "=", c.id)
    .where("kind", "=", "image")
    .orderBy("created_at")
    .limit(5)
    .execute();
  const evidence: { data: Buffer; filename: string; mime: string }[] = [];
  const evidenceUrls: string[] = [];
  for (const f of files) {
    const data = await deps.storage.get(f.storage_key);
    if (data) evidence.push({ data, filename: f.filename ?? `${f.id}.jpg`, mime: f.mime });
    if (data) evidenceUrls.push(evidenceLink(deps, f.id));
  }
  const earlier = await cdb(deps.db).selectFrom("claim_disputes").select("id").where("claim_id", "=", claimId).execute();
  const request = input.request ?? (c.type === "return_refund" || c.type === "exchange" ? "returnRefund" : "refund");
  let opened: Awaited<ReturnType<SupplierPlatform["openDispute"]>>;
  try {
    opened = await platform.openDispute(ctx, {
      externalOrderId: link.external_order_id,
      request,
      reason: c.reason,
      amount: Number(claim.amount),
      description: (input.description ?? `${c.case_no} ${c.description ?? c.reason}`).slice(0, 150),
      evidence,
      evidenceUrls,
      businessId: `${claimId}-${earlier.length + 1}`,
      goodsReceived: link.status === "delivered",
    });
  } catch (e) {
    if (e instanceof ServiceError)
      throw new AppError("conflict", `${platform.kind} refused the dispute: ${e.message}`, { platform: platform.kind });
    throw e;
  }
  const id = newId();
  await deps.db.transaction().execute(async (tx) => {
    await lockRows(tx, { claims: [claimId] });
    await cdb(tx)
      .insertInto("claim_disputes")
      .values({
        id,
        tenant_id: actor.tenantId,
        claim_id: claimId,
        connector_id: link.connector_id,
        external_order_id: link.external_order_id as string,
        external_refund_id: opened.refundId,
        request,
        reason_id: opened.reasonId,
        reason: opened.reason,
        external_status: opened.status ?? "waitselleragree",
        state: "open",
        applied_amount: Number(claim.amount),
        vouchers: JSON.stringify(opened.vouchers),
        opened_at: deps.clock.now(),
      })
      .execute();
    // The platform's own timers govern the answer now; the claim is not accepted by ours.
    await tx.updateTable("supplier_claims").set({ due_at: null, updated_at: deps.clock.now() }).where("id", "=", claimId).execute();
    await audit(tx, actor, "claim.dispute_opened", "supplier_claim", claimId, undefined, {
      platform: platform.kind,
      refundId: opened.refundId,
      reason: opened.reason,
    });
  });
  await ctx.log(
    "info",
    `claim ${claimId}: dispute ${opened.refundId} opened (${request}, ${opened.reason}, ${opened.vouchers.length} vouchers)`,
    opened.refundId,
  );
  return disputeOut(await cdb(deps.db).selectFrom("claim_disputes").selectAll().where("id", "=", id).executeTakeFirstOrThrow());
}

export const disputeOut = (d: {
  id: string;
  claim_id: string;
  external_order_id: string;
  external_refund_id: string | null;
  request: string;
  reason: string | null;
  external_status: string | null;
  state: string;
  applied_amount: number;
  refunded_amount: number;
  vouchers: unknown;
  last_error: string | null;
  opened_at: Date;
  closed_at: Date | null;
}) => ({
  id: d.id,
  claimId: d.claim_id,
  externalOrderId: d.external_order_id,
  externalRefundId: d.external_refund_id,
  request: d.request,
  reason: d.reason,
  externalStatus: d.external_status,
  state: d.state,
  appliedAmount: Number(d.applied_amount),
  refundedAmount: Number(d.refunded_amount),
  vouchers: d.vouchers,
  lastError: d.last_error,
  openedAt: d.opened_at,
  closedAt: d.closed_at,
});

/**
 * A dispute's news in the claim and the ledger, in one transaction under the claim's lock:
 * money refunded settles the claim — `claim_recovered` (cash in, receivable out) and, for a
 * partial refund, `claim_written_off` (the rest back to cost) — and a refusal or a closed
 * dispute disputes the claim for finance to pursue or cancel.
 */
export async function applyDisputeState(
  deps: Deps,
  actor: Actor,
  disputeId: string,
  st: { status: string; state: "open" | "refunded" | "closed"; refunded: number; note?: string },
) {
  await deps.db.transaction().execute(async (tx) => {
    const d0 = await cdb(tx).selectFrom("claim_disputes").select("claim_id").where("id", "=", disputeId).executeTakeFirstOrThrow();
    await lockRows(tx, { claims: [d0.claim_id] });
    const d = await cdb(tx).selectFrom("claim_disputes").selectAll().where("id", "=", disputeId).executeTakeFirstOrThrow();
    const now = deps.clock.now();
    await cdb(tx)
      .updateTable("claim_disputes")
      .set({ external_status: st.status, pulled_at: now, updated_at: now, last_error: null })
      .where("id", "=", disputeId)
      .execute();
    if (d.state !== "open") return;
    const claim = await tx.selectFrom("supplier_claims").selectAll().where("id", "=", d.claim_id).executeTakeFirstOrThrow();
    const setClaim = async (to: "accepted" | "disputed" | "settled", note: string | null) => {
      if (!CLAIM_MACHINE.next(claim.status, to === "accepted" ? "accept" : to === "disputed" ? "dispute" : "settle")) return false;
      await tx
        .updateTable("supplier_claims")
        .set({
          status: to,
          updated_at: now,
          ...(to === "settled" ? { settled_at: now } : { answered_at: now }),
          ...(note ? { supplier_note: note.slice(0, 2000) } : {}),
        })
        .where("id", "=", claim.id)
        .execute();
      await audit(
        tx,
        actor,
        `claim.${to === "accepted" ? "accept" : to === "disputed" ? "dispute" : "settle"}`,
        "supplier_claim",
        claim.id,
        { status: claim.status },
        { status: to, via: "platform dispute", note },
      );
      await emit(deps, tx, {
        type: `claim.${to}`,
        tenantId: claim.tenant_id,
        entityId: claim.id,
        data: { supplierId: claim.supplier_id, note, amount: Number(claim.amount), recovered: st.refunded },
        key: `claim.${to}:${claim.id}:${now.getTime()}`,
      });
      claim.status = to;
      return true;
    };
    if (st.state === "open") {
      if (st.note && claim.status === "open") await setClaim("disputed", st.note);
      return;
    }
    if (st.state === "closed" || st.refunded <= 0) {
      await cdb(tx).updateTable("claim_disputes").set({ state: "closed", closed_at: now }).where("id", "=", disputeId).execute();
      if (claim.status === "open") await setClaim("disputed", st.note ?? `the platform closed the dispute without a refund (${st.status})`);
      return;
    }
    // Refunded: all or part of the claim comes back as cash from the platform.
    const amount = Number(claim.amount);
    const got = st.refunded;
    const currency =
      (claim.case_id
        ? (
            await tx
              .selectFrom("cases as c")
              .innerJoin("orders as o", "o.id", "c.order_id")
              .select("o.currency")
              .where("c.id", "=", claim.case_id)
              .executeTakeFirst()
          )?.currency
        : undefined) ?? "CNY";
    const base = { tenantId: claim.tenant_id, currency, supplierId: claim.supplier_id, caseId: claim.case_id, claimId: claim.id, at: now };
    await post(tx, {
      ...base,
      code: "claim_recovered",
      sourceKey: `claim_recovered:${claim.id}:${disputeId}`,
      memo: `refunded by the supplier through the platform (${d.external_refund_id})`,
      entries: [
        { account: "cash", amount: got },
        { account: "supplier_claims_receivable", amount: -Math.min(got, amount) },
        // More than claimed (the platform added freight): the excess lowers the cost further.
        { account: "cost_of_goods", amount: -Math.max(0, got - amount) },
      ],
    });
    if (got < amount)
      await post(tx, {
        ...base,
        code: "claim_written_off",
        sourceKey: `claim_written_off:${claim.id}`,
        memo: "the part of the claim the supplier did not refund",
        entries: [
          { account: "cost_of_goods", amount: amount - got },
          { account: "supplier_claims_receivable", amount: -(amount - got) },
        ],
      });
    await cdb(tx)
      .updateTable("claim_disputes")
      .set({ state: "refunded", refunded_amount: got, closed_at: now })
      .where("id", "=", disputeId)
      .execute();
    // Never left `accepted` between the two steps, so no statement can deduct it a second time.
    if (claim.status === "disputed") await setClaim("accepted", st.note ?? null);
    await setClaim("settled", got < amount ? `partially refunded: ${got} of ${amount}` : null);
  });
}

export async function pullDispute(deps: Deps, disputeId: string) {
  const d = await cdb(deps.db).selectFrom("claim_disputes").selectAll().where("id", "=", disputeId).executeTakeFirstOrThrow();
  if (d.state !== "open" || !d.external_refund_id) return;
  const { row, ctx, platform } = await platformContext(deps, d.connector_id);
  const st = await platform.pullDispute(ctx, d.external_refund_id);
  await applyDisputeState(deps, systemActor(row), disputeId, st);
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
  const kinds = Object.keys(PLATFORMS);
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
  const b = boss(deps);
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
