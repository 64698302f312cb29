import { loadConnector } from "../connectors/context.js";
import type { ConnectorRow } from "../connectors/kind.js";
import { carrierCode } from "../domain/vocabulary.js";
import { supplierOrderActionTx } from "../fulfilment/supplier-order.service.js";
import { supplierOrderView } from "../fulfilment/supplier-order.view.js";
import { audit } from "../platform/audit.js";
import type { Actor, Deps, DomainEvent } from "../platform/context.js";
import type { Tx } from "../platform/db.js";
import { AppError, notFound } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import { lockRows } from "../platform/locks.js";
import { carrierConnector, noLiveTrackers, requireCarrierConnector } from "./connector.js";
import { enqueueCarrierJob } from "./jobs.js";
import { carrierActor } from "./tracking.js";

/** A supplier-order action's input (`intercept-result` reads `outcome` from it). */
type SoActionInput = Parameters<typeof supplierOrderActionTx>[5];

/**
 * Interception (拦截) through the carrier: when the supplier does not answer an intercept request,
 * or the shop prefers it (connector setting `interceptVia: "carrier"`), the request goes to
 * 快递100's intercept API; its result callback answers the supplier order's `intercept-result`
 * exactly as a supplier's answer does (intercepted: the refused-parcel flow refunds what waits).
 */

const LIVE = "requested";

async function createInterceptTx(
  deps: Deps,
  tx: Tx,
  row: ConnectorRow,
  so: { id: string; tenant_id: string; carrier: string | null; tracking_no: string | null },
  reason: string,
) {
  const code = carrierCode(so.carrier);
  if (!code)
    throw new AppError(
      "validation_failed",
      `carrier: "${so.carrier}" is not in the carrier list, so 快递100 cannot be asked to intercept it`,
    );
  const live = await tx
    .selectFrom("carrier_intercepts")
    .select("id")
    .where("supplier_order_id", "=", so.id)
    .where("status", "=", LIVE)
    .executeTakeFirst();
  if (live) return live.id;
  const id = newId();
  await tx
    .insertInto("carrier_intercepts")
    .values({
      id,
      tenant_id: so.tenant_id,
      connector_id: row.id,
      supplier_order_id: so.id,
      carrier: code,
      tracking_no: so.tracking_no ?? "",
      reason,
    })
    .execute();
  await enqueueCarrierJob(deps, { type: "intercept", interceptId: id }, { tx });
  return id;
}

/** Staff ask the carrier to intercept a shipped parcel (asking for the interception first if nobody has yet). */
export async function requestCarrierIntercept(deps: Deps, actor: Actor, soId: string, note?: string) {
  await deps.db.transaction().execute(async (tx) => {
    const found = await tx
      .selectFrom("supplier_orders")
      .select(["order_id"])
      .where("tenant_id", "=", actor.tenantId)
      .where("id", "=", soId)
      .executeTakeFirst();
    if (!found) throw notFound("supplier order");
    await lockRows(tx, { orders: [found.order_id], supplierOrders: [soId] });
    const so = await tx
      .selectFrom("supplier_orders as so")
      .innerJoin("orders as o", "o.id", "so.order_id")
      .select(["so.id", "so.tenant_id", "so.status", "so.carrier", "so.tracking_no", "o.shop_id"])
      .where("so.id", "=", soId)
      .executeTakeFirstOrThrow();
    if (!["shipped", "intercept_requested"].includes(so.status))
      throw new AppError("invalid_transition", `cannot ask the carrier to intercept a supplier order that is ${so.status}`, {
        status: so.status,
        allowedActions: [],
      });
    const row = await requireCarrierConnector(tx, actor.tenantId, so.shop_id);
    if (!carrierCode(so.carrier))
      throw new AppError(
        "validation_failed",
        `carrier: "${so.carrier}" is not in the carrier list, so 快递100 cannot be asked to intercept it`,
      );
    if (so.status === "shipped")
      await supplierOrderActionTx(tx, deps, actor, soId, "request-intercept", {
        note: note ?? "拦截：已交快递100 / intercept sent to the carrier",
      });
    const id = await createInterceptTx(deps, tx, row, so, (note ?? "商家申请拦截退回").slice(0, 200));
    await audit(tx, actor, "supplier_order.carrier_intercept", "supplier_order", soId, undefined, { interceptId: id, carrier: so.carrier });
  });
  return supplierOrderView(deps.db, actor, soId);
}

/** On approving a refund-only case in transit: when the shop prefers the carrier, the interceptions just asked go to it at once. */
export async function interceptOnApproval(deps: Deps, tx: Tx, e: DomainEvent) {
  if (e.type !== "case.approved") return;
  // Only a 快递100 connector intercepts parcels: a tenant without a live tracker has nothing to do.
  if (noLiveTrackers(tx, e.tenantId)) return;
  const orderId = String(e.data.orderId ?? "");
  const waiting = await tx
    .selectFrom("supplier_orders as so")
    .innerJoin("orders as o", "o.id", "so.order_id")
    .select(["so.id", "so.tenant_id", "so.carrier", "so.tracking_no", "o.shop_id"])
    .where("so.tenant_id", "=", e.tenantId)
    .where("so.order_id", "=", orderId)
    .where("so.status", "=", "intercept_requested")
    .execute();
  if (!waiting.length) return;
  for (const so of waiting) {
    const row = await carrierConnector(tx, e.tenantId, so.shop_id);
    if (!row || (row.config as { interceptVia?: string } | null)?.interceptVia !== "carrier" || !carrierCode(so.carrier)) continue;
    await createInterceptTx(deps, tx, row, so, "买家申请退款，拦截退回 / refund asked in transit");
  }
}

/** The outcome of an interception (the callback, or a refusal when asking): finishes the supplier order's request once. */
export async function finishInterceptTx(
  deps: Deps,
  tx: Tx,
  interceptId: string,
  r: { outcome: "intercepted" | "failed"; message: string; source: "callback" | "request" },
): Promise<boolean> {
  const it = await tx.selectFrom("carrier_intercepts").selectAll().where("id", "=", interceptId).executeTakeFirst();
  if (!it || it.status !== LIVE) return false;
  const so = await tx.selectFrom("supplier_orders").select(["order_id"]).where("id", "=", it.supplier_order_id).executeTakeFirstOrThrow();
  await lockRows(tx, { orders: [so.order_id], supplierOrders: [it.supplier_order_id] });
  const claimed = await tx
    .updateTable("carrier_intercepts")
    .set({ status: r.outcome, message: r.message.slice(0, 500), updated_at: deps.clock.now() })
    .where("id", "=", interceptId)
    .where("status", "=", LIVE)
    .returning("id")
    .executeTakeFirst();
  if (!claimed) return false;
  const row = await loadConnector(tx, it.connector_id);
  const actor = carrierActor(row ?? { id: it.connector_id, tenant_id: it.tenant_id });
  const now = await tx.selectFrom("supplier_orders").select("status").where("id", "=", it.supplier_order_id).executeTakeFirstOrThrow();
  // The supplier (or a tracking push) may have answered first; then there is nothing left to finish.
  if (now.status === "intercept_requested") {
    const note = `快递100 拦截${r.outcome === "intercepted" ? "成功" : "失败"}：${r.message}`.slice(0, 1000);
    await supplierOrderActionTx(tx, deps, actor, it.supplier_order_id, "intercept-result", {
      outcome: r.outcome,
      note,
    } as SoActionInput);
  }
  return true;
}

/** Why the carrier cannot be asked now (the console names each in words). */
export type InterceptBlock = "status" | "carrier_unknown" | "no_connector" | "already_sent";

/** Whether staff may ask the carrier to intercept a supplier order now, and the last interception asked of it. */
export async function carrierInterceptState(deps: Deps, actor: Actor, soId: string) {
  const so = await deps.db
    .selectFrom("supplier_orders as so")
    .innerJoin("orders as o", "o.id", "so.order_id")
    .select(["so.id", "so.status", "so.carrier", "so.tracking_no", "o.shop_id"])
    .where("so.tenant_id", "=", actor.tenantId)
    .where("so.id", "=", soId)
    .executeTakeFirst();
  if (!so) throw notFound("supplier order");
  const last = await deps.db
    .selectFrom("carrier_intercepts")
    .select(["id", "status", "message", "carrier", "tracking_no", "created_at", "updated_at"])
    .where("supplier_order_id", "=", soId)
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .executeTakeFirst();
  const row = await carrierConnector(deps.db, actor.tenantId, so.shop_id);
  const blocked: InterceptBlock | null = !["shipped", "intercept_requested"].includes(so.status)
    ? "status"
    : !carrierCode(so.carrier)
      ? "carrier_unknown"
      : !row
        ? "no_connector"
        : last?.status === LIVE
          ? "already_sent"
          : null;
  return {
    supplierOrderId: so.id,
    carrier: carrierCode(so.carrier) ?? so.carrier,
    trackingNo: so.tracking_no,
    available: blocked === null,
    blocked,
    intercept: last
      ? {
          id: last.id,
          status: last.status,
          message: last.message,
          askedAt: last.created_at,
          answeredAt: last.status === LIVE ? null : last.updated_at,
        }
      : null,
  };
}

/** 快递100's answer to an interception it was asked for (its `orderId` is our intercept's id). */
export async function applyInterceptCallback(deps: Deps, tx: Tx, row: ConnectorRow, param: Record<string, unknown>) {
  const ref = String(param.orderId ?? "");
  const it = /^[0-9a-f-]{36}$/.test(ref)
    ? await tx.selectFrom("carrier_intercepts").select("id").where("id", "=", ref).where("connector_id", "=", row.id).executeTakeFirst()
    : undefined;
  if (!it) return;
  const status = String(param.status ?? "").toLowerCase();
  const outcome = ["success", "1", "true"].includes(status)
    ? "intercepted"
    : ["fail", "failed", "2", "false"].includes(status)
      ? "failed"
      : null;
  if (outcome) await finishInterceptTx(deps, tx, it.id, { outcome, message: String(param.message ?? ""), source: "callback" });
}
