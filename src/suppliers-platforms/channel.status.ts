import { systemActor } from "../connectors/context.js";
import type { ConnectorContext } from "../connectors/kind.js";
import { supplierOrderActionTx } from "../fulfilment/supplier-order.service.js";
import type { Actor, Deps } from "../platform/context.js";
import type { Tx } from "../platform/db.js";
import { AppError } from "../platform/errors.js";
import { channelLinkOf, linkOf, platformContext, setChannelLink } from "./channel.repo.js";
import { cdb, type PlatformOrderState, type SupplierPlatform } from "./platform.js";

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

export async function pullLinkedOrders(
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

// Cancellation ----------------------------------------------------------------------------------

/**
 * Cancels a placed order on its platform: an unpaid one at once, a paid one by the platform's
 * full refund (its progress comes with the next pulls). The supplier order is `cancel_requested`
 * (staff asked) or already `cancelled` (the whole order was).
 */
export async function cancelOnPlatform(deps: Deps, soId: string): Promise<{ done: boolean; refundId?: string; note?: string }> {
  const link = await channelLinkOf(deps.db, soId);
  if (!link) return { done: false, note: "not on a platform" };
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
  await setChannelLink(deps, soId, {
    cancel_refund_id: r.refundId ?? null,
    external_status: r.done ? "cancel" : `${st.status}/refund requested`,
  });
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
