import { loadConnector } from "../connectors/context.js";
import { ServiceError } from "../connectors/http.js";
import { runSupplierOrderAction } from "../fulfilment/supplier-order.service.js";
import { audit } from "../platform/audit.js";
import type { Actor, Deps } from "../platform/context.js";
import { AppError, notFound, validation } from "../platform/errors.js";
import { forwardSupplierOrder, queueForward } from "./channel.forward.js";
import { runPendingChannelJobs } from "./channel.jobs.js";
import { channelOf, linkOf, platformFor } from "./channel.repo.js";
import { cancelOnPlatform, pullSupplierOrder } from "./channel.status.js";
import { cdb } from "./platform.js";

// A supplier's channel as staff set it, and a supplier order's life on its platform as staff drive it.

export async function setSupplierChannel(
  deps: Deps,
  a: Actor,
  supplierId: string,
  b: { kind: string; connectorId?: string | null; autoForward: boolean },
) {
  const s = await deps.db
    .selectFrom("suppliers")
    .select("id")
    .where("tenant_id", "=", a.tenantId)
    .where("id", "=", supplierId)
    .executeTakeFirst();
  if (!s) throw notFound("supplier");
  if (platformFor(b.kind)) {
    const row = b.connectorId ? await loadConnector(deps.db, b.connectorId, a.tenantId) : undefined;
    if (!row || row.kind !== b.kind) throw validation("connectorId", `a ${b.kind} connector of this tenant is needed`);
  }
  const values = {
    kind: b.kind as "portal",
    connector_id: platformFor(b.kind) ? (b.connectorId ?? null) : null,
    auto_forward: b.autoForward,
    updated_at: deps.clock.now(),
  };
  await cdb(deps.db)
    .insertInto("supplier_channels")
    .values({ tenant_id: a.tenantId, supplier_id: s.id, ...values })
    .onConflict((oc) => oc.columns(["tenant_id", "supplier_id"]).doUpdateSet(values))
    .execute();
  await audit(deps.db, a, "supplier.channel", "supplier", s.id, undefined, { kind: b.kind, connectorId: values.connector_id });
  return { supplierId: s.id, kind: b.kind, connectorId: values.connector_id, autoForward: b.autoForward };
}

export async function supplierChannel(deps: Deps, a: Actor, supplierId: string) {
  const ch = await channelOf(deps.db, a.tenantId, supplierId);
  return ch
    ? { supplierId: ch.supplier_id, kind: ch.kind, connectorId: ch.connector_id, autoForward: ch.auto_forward }
    : { supplierId, kind: "portal", connectorId: null, autoForward: false };
}

/** A supplier order on its platform: its status and tracking here, its link's state and charges there. */
export async function supplierOrderChannel(deps: Deps, tenantId: string, soId: string) {
  const l = await linkOf(deps, tenantId, soId);
  const so = await deps.db
    .selectFrom("supplier_orders")
    .select(["status", "carrier", "tracking_no", "cost_total"])
    .where("id", "=", soId)
    .executeTakeFirstOrThrow();
  return {
    supplierOrderId: soId,
    status: so.status,
    carrier: so.carrier,
    trackingNo: so.tracking_no,
    costTotal: Number(so.cost_total),
    state: l.state,
    externalOrderId: l.external_order_id,
    externalStatus: l.external_status,
    charged: l.charged_total === null ? null : { goods: l.charged_goods, shipping: l.charged_shipping, total: l.charged_total },
    cancelRefundId: l.cancel_refund_id,
    attempts: l.attempts,
    lastError: l.last_error,
    placedAt: l.placed_at,
    pulledAt: l.pulled_at,
  };
}

/** Places the supplier order on its platform now, again after a failure (the `channel-forward` action). */
export async function forwardNow(deps: Deps, a: Actor, soId: string) {
  const so = await deps.db
    .selectFrom("supplier_orders")
    .select("id")
    .where("tenant_id", "=", a.tenantId)
    .where("id", "=", soId)
    .executeTakeFirst();
  if (!so) throw notFound("supplier order");
  const queued = await deps.db.transaction().execute(async (tx) => {
    const l = await cdb(tx)
      .selectFrom("supplier_order_channel_links")
      .select("state")
      .where("supplier_order_id", "=", so.id)
      .executeTakeFirst();
    if (l?.state === "failed")
      await cdb(tx)
        .updateTable("supplier_order_channel_links")
        .set({ state: "queued", last_error: null })
        .where("supplier_order_id", "=", so.id)
        .execute();
    return l ? true : queueForward(deps, tx, a.tenantId, so.id, true);
  });
  if (!queued) throw new AppError("conflict", "the supplier order's supplier has no platform channel");
  await forwardSupplierOrder(deps, so.id);
  await runPendingChannelJobs(deps).catch(() => 0);
  return supplierOrderChannel(deps, a.tenantId, so.id);
}

/** Pulls the supplier order's status and logistics now (the `channel-pull` action). */
export async function pullNow(deps: Deps, a: Actor, soId: string) {
  try {
    await pullSupplierOrder(deps, a.tenantId, soId);
  } catch (e) {
    if (e instanceof ServiceError) throw new AppError("conflict", e.message);
    throw e;
  }
  return supplierOrderChannel(deps, a.tenantId, soId);
}

/** Asks for the cancellation here, if not yet asked, and cancels on the platform (the `channel-cancel` action). */
export async function cancelNow(deps: Deps, a: Actor, soId: string, reason: string | undefined) {
  await linkOf(deps, a.tenantId, soId);
  const so = await deps.db.selectFrom("supplier_orders").select("status").where("id", "=", soId).executeTakeFirstOrThrow();
  if (so.status === "pending" || so.status === "accepted") await runSupplierOrderAction(deps, a, soId, "request-cancel", { reason });
  let result: Awaited<ReturnType<typeof cancelOnPlatform>>;
  try {
    result = await cancelOnPlatform(deps, soId);
  } catch (e) {
    if (e instanceof ServiceError) throw new AppError("conflict", `the platform refused the cancellation: ${e.message}`);
    throw e;
  }
  return { ...(await supplierOrderChannel(deps, a.tenantId, soId)), cancellation: result };
}
