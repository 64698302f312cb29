import type { Executor } from "../platform/db.js";
import { newId } from "../platform/ids.js";

/**
 * One row of an offer's price and stock history (货源变动), which routing and the supplier scorecard
 * read: written on create, on every change of cost, stock or activation, by hand, by a CSV import
 * or by a supplier platform's sync.
 */
export async function recordOfferHistory(
  ex: Executor,
  h: { tenantId: string; offerId: string; cost: number; stock: number; active: boolean; reason: string; changedBy: string; at: Date },
) {
  await ex
    .insertInto("offer_history")
    .values({
      id: newId(),
      tenant_id: h.tenantId,
      offer_id: h.offerId,
      cost: h.cost,
      stock: h.stock,
      active: h.active,
      reason: h.reason.slice(0, 200),
      changed_by: h.changedBy,
      at: h.at,
    })
    .execute();
}
