import type { Selectable } from "kysely";
import type { TrackingEvents } from "../db/schema.js";
import type { Actor, Deps } from "../platform/context.js";
import { AppError } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import { supplierOrderActionTx } from "./supplier-order.service.js";

// Tracking events from carriers (pushed or posted): matched to a supplier order or a return, and
// delivery or a refused parcel moves the supplier order on.

export async function recordTrackingEvent(
  deps: Deps,
  actor: Actor,
  e: { carrier: string; trackingNo: string; status: Selectable<TrackingEvents>["status"]; occurredAt: string; description?: string },
) {
  return deps.db.transaction().execute(async (tx) => {
    const so = await tx
      .selectFrom("supplier_orders")
      .select(["id", "status"])
      .where("tenant_id", "=", actor.tenantId)
      .where("tracking_no", "=", e.trackingNo)
      .orderBy("created_at", "desc")
      .executeTakeFirst();
    const kase = so
      ? undefined
      : await tx
          .selectFrom("cases")
          .select(["id"])
          .where("tenant_id", "=", actor.tenantId)
          .where("return_tracking_no", "=", e.trackingNo)
          .executeTakeFirst();
    const id = newId();
    await tx
      .insertInto("tracking_events")
      .values({
        id,
        tenant_id: actor.tenantId,
        carrier: e.carrier,
        tracking_no: e.trackingNo,
        status: e.status,
        occurred_at: new Date(e.occurredAt),
        description: e.description ?? null,
        supplier_order_id: so?.id ?? null,
        case_id: kase?.id ?? null,
      })
      .execute();
    let effect: string | null = null;
    const system: Actor = { ...actor, kind: actor.kind === "customer" ? "system" : actor.kind };
    if (so && e.status === "delivered" && ["shipped", "intercept_requested"].includes(so.status)) {
      await supplierOrderActionTx(tx, deps, system, so.id, "deliver", { deliveredAt: e.occurredAt });
      effect = "delivered";
    }
    if (
      so &&
      (e.status === "refused" || e.status === "returned") &&
      ["shipped", "intercept_requested", "intercepted"].includes(so.status)
    ) {
      await supplierOrderActionTx(tx, deps, system, so.id, "mark-returned", {});
      effect = "returned";
    }
    return { id, supplierOrderId: so?.id ?? null, caseId: kase?.id ?? null, effect };
  });
}

/** A tracking event posted through the API: a supplier posts only for its own parcels. */
export async function postTrackingEvent(deps: Deps, actor: Actor, e: Parameters<typeof recordTrackingEvent>[2]) {
  if (actor.role === "supplier") {
    const own = await deps.db
      .selectFrom("supplier_orders")
      .select("id")
      .where("tenant_id", "=", actor.tenantId)
      .where("supplier_id", "=", actor.supplierId ?? "")
      .where("tracking_no", "=", e.trackingNo)
      .executeTakeFirst();
    if (!own) throw new AppError("not_found", "no parcel of yours has this tracking number");
  }
  return recordTrackingEvent(deps, actor, e);
}
