import type { Selectable } from "kysely";
import { systemActor } from "../connectors/context.js";
import { ServiceError } from "../connectors/http.js";
import type { ConnectorContext } from "../connectors/kind.js";
import { backoffMs } from "../connectors/retry.js";
import type { SupplierOrders } from "../db/schema.js";
import { supplierOrderActionTx } from "../fulfilment/supplier-order.service.js";
import { allocate } from "../money/allocate.js";
import { audit } from "../platform/audit.js";
import type { Actor, Deps } from "../platform/context.js";
import type { Tx } from "../platform/db.js";
import { lockRows } from "../platform/locks.js";
import { channelLinkOf, enqueueChannelJob, platformContext, platformFor, setChannelLink } from "./channel.repo.js";
import { cdb, type SupplierPlatform } from "./platform.js";

// Forwarding: a supplier order routed to a platform supplier is placed there by a job, under our own
// idempotency key, and costs what the platform charged.

const MAX_ATTEMPTS = 8;

/** Queues a supplier order for its supplier's platform, in the caller's transaction. No-op for other channels. */
export async function queueForward(deps: Deps, tx: Tx, tenantId: string, supplierOrderId: string, force = false) {
  // The supplier order with its supplier's channel, if any, in one read.
  const so = await cdb(tx)
    .selectFrom("supplier_orders as so")
    .leftJoin("supplier_channels as ch", (j) => j.onRef("ch.supplier_id", "=", "so.supplier_id").on("ch.tenant_id", "=", tenantId))
    .select(["so.id", "ch.kind", "ch.connector_id", "ch.auto_forward"])
    .where("so.id", "=", supplierOrderId)
    .executeTakeFirst();
  if (!so?.kind || !so.connector_id || !platformFor(so.kind) || (!so.auto_forward && !force)) return false;
  await cdb(tx)
    .insertInto("supplier_order_channel_links")
    .values({ supplier_order_id: so.id, tenant_id: tenantId, connector_id: so.connector_id, out_order_id: so.id, state: "queued" })
    .onConflict((oc) => oc.column("supplier_order_id").doNothing())
    .execute();
  await enqueueChannelJob(deps, { type: "forward", supplierOrderId: so.id }, { tx });
  return true;
}

/** Places one supplier order on its platform (a job; also the `channel-forward` action). */
export async function forwardSupplierOrder(deps: Deps, supplierOrderId: string): Promise<void> {
  const link = await channelLinkOf(deps.db, supplierOrderId);
  if (!link || link.state === "placed") return;
  const so = await deps.db.selectFrom("supplier_orders").selectAll().where("id", "=", supplierOrderId).executeTakeFirstOrThrow();
  const { row, ctx, platform } = await platformContext(deps, link.connector_id);
  const actor = systemActor(row);
  const setLink = (s: Record<string, unknown>) => setChannelLink(deps, supplierOrderId, s);
  if (!["pending", "accepted"].includes(so.status)) {
    // Cancelled or rejected before it was placed: nothing to place.
    if (link.state === "queued") await setLink({ state: "failed", last_error: `the supplier order is ${so.status}; not placed` });
    return;
  }
  const lines = await forwardLines(deps, so.id);
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
  try {
    const { externalOrderId, charged } = await placeOnce(ctx, platform, link, order, lines);
    await recordPlaced(deps, actor, so, link, lines, externalOrderId, charged);
    await ctx.log(
      "info",
      `supplier order ${so.id} placed as ${platform.kind} order ${externalOrderId} (${charged.chargedTotal} charged)`,
      externalOrderId,
    );
  } catch (e) {
    if (!(e instanceof ServiceError)) throw e;
    await forwardFailed(deps, ctx, platform, actor, so.id, link.attempts + 1, e);
  }
}

type Link = NonNullable<Awaited<ReturnType<typeof channelLinkOf>>>;
type Lines = Awaited<ReturnType<typeof forwardLines>>;
type Charged = { chargedGoods: number; chargedShipping: number; chargedTotal: number };

/** The supplier order's lines with their offers' ids on the platform. */
function forwardLines(deps: Deps, supplierOrderId: string) {
  return cdb(deps.db)
    .selectFrom("supplier_order_lines as l")
    .leftJoin("offer_channel_links as ol", "ol.offer_id", "l.offer_id")
    .select(["l.id", "l.quantity", "l.unit_cost", "l.offer_id", "ol.external_offer_id", "ol.external_spec_id"])
    .where("l.supplier_order_id", "=", supplierOrderId)
    .orderBy("l.id")
    .execute();
}

/** Places the order on the platform, or finds it there under our key when an earlier call may have gone through. */
async function placeOnce(
  ctx: ConnectorContext,
  platform: SupplierPlatform,
  link: Link,
  order: { address: unknown; platform_order_no: string },
  lines: Lines,
): Promise<{ externalOrderId: string; charged: Charged }> {
  const a = (order.address ?? {}) as Record<string, string | undefined>;
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
  return { externalOrderId, charged };
}

/** The link placed, and the supplier order costing what the platform charged, in one transaction. */
async function recordPlaced(
  deps: Deps,
  actor: Actor,
  so: Pick<Selectable<SupplierOrders>, "id" | "order_id" | "cost_total">,
  link: Link,
  lines: Lines,
  externalOrderId: string,
  charged: Charged,
) {
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
      await tx.updateTable("supplier_orders").set({ cost_total: charged.chargedTotal, updated_at: now }).where("id", "=", so.id).execute();
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
}

/** A platform's error while placing: tried again later while it is passing, otherwise the link fails. */
async function forwardFailed(
  deps: Deps,
  ctx: ConnectorContext,
  platform: SupplierPlatform,
  actor: Actor,
  soId: string,
  attempts: number,
  e: ServiceError,
) {
  if ((e.kind === "transient" || e.kind === "rate_limited") && attempts < MAX_ATTEMPTS) {
    await setChannelLink(deps, soId, { attempts, last_error: e.message });
    await enqueueChannelJob(
      deps,
      { type: "forward", supplierOrderId: soId },
      { delayMs: e.opts.retryAfterMs ?? backoffMs({ baseDelayMs: 30_000, maxDelayMs: 3_600_000 }, attempts) },
    );
    return;
  }
  await setChannelLink(deps, soId, { state: "failed", attempts, last_error: e.message });
  await ctx.log("error", `supplier order ${soId} not placed: ${e.message}`, soId);
  // The platform refused the order itself (out of stock, offer gone): the supplier order is
  // rejected, which sends its lines on to the next offer. Credentials are fixed by staff instead.
  if (e.kind === "refused") {
    await deps.db.transaction().execute((tx) =>
      supplierOrderActionTx(tx, deps, actor, soId, "reject", {
        reason: `${platform.kind} refused the order: ${e.message}`.slice(0, 500),
      }),
    );
  }
}

async function chargedOf(ctx: ConnectorContext, platform: SupplierPlatform, externalOrderId: string) {
  const st = (await platform.pullOrders(ctx, [externalOrderId])).get(externalOrderId);
  const total = st?.chargedTotal ?? 0;
  return { chargedGoods: total, chargedShipping: 0, chargedTotal: total };
}
