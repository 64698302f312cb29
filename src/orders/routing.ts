import { sql } from "kysely";
import type { Actor } from "../platform/context.js";
import type { Tx } from "../platform/db.js";
import { newId } from "../platform/ids.js";

export interface LineNeed {
  orderLineId: string;
  skuId: string | null;
  skuCode: string;
  quantity: number;
}

/**
 * A supplier's analytics score (0..1, kept by the analytics job) in steps of 0.05, so that noise
 * in the score does not outweigh a price difference; no score yet counts as the typical 0.78.
 */
export const scoreBand = (score: unknown) => Math.round((score === null || score === undefined ? 0.78 : Number(score)) * 20);

export interface RoutingResult {
  supplierOrderIds: string[];
  unserved: { orderLineId: string; skuCode: string; reason: string }[];
  /** With `reserve: "later"`: the stock the caller must still take with `reserveStock`. */
  reservations: { offerId: string; quantity: number }[];
}

/**
 * Chooses, for each line, the best active offer with enough stock — highest priority, then (when
 * the order's shop routes by score) the supplier with the better analytics score, then lowest
 * cost, then the supplier with the better record (fewer rejected supplier orders) — and
 * writes one supplier order per supplier, reserving stock. Offers listed in `excludeOffers` (a
 * supplier that already rejected the line) are skipped, so a reroute falls back to the next offer.
 *
 * `reserve: "now"` takes each line's stock as it chooses the offer (the offer's row stays locked
 * until the transaction ends); `"later"` chooses by the stock it read and leaves the taking to the
 * caller (`reserveStock`), which can then hold the row for the end of its transaction only.
 */
export async function routeLines(
  tx: Tx,
  actor: Actor,
  now: Date,
  o: { orderId: string; purpose: "original" | "exchange" | "reship" | "repair"; caseId?: string | null },
  needs: LineNeed[],
  excludeOffers: Set<string> = new Set(),
  reserve: "now" | "later" = "now",
): Promise<RoutingResult> {
  const reservations: RoutingResult["reservations"] = [];
  const unserved: RoutingResult["unserved"] = [];
  const skuIds = [...new Set(needs.map((n) => n.skuId).filter((s): s is string => Boolean(s)))];
  const offers = skuIds.length
    ? await tx
        .selectFrom("offers as o")
        .innerJoin("suppliers as s", "s.id", "o.supplier_id")
        .select(["o.id", "o.sku_id", "o.supplier_id", "o.cost", "o.stock", "o.priority", "o.lead_time_days", "s.score"])
        .select((eb) =>
          eb
            .selectFrom("orders as ord")
            .innerJoin("shops as sh", "sh.id", "ord.shop_id")
            .select("sh.route_by_score")
            .where("ord.id", "=", o.orderId)
            .as("by_score"),
        )
        .select((eb) =>
          eb
            .selectFrom("supplier_orders as so")
            .select((e2) => e2.fn.countAll<number>().as("n"))
            .whereRef("so.supplier_id", "=", "o.supplier_id")
            .where("so.tenant_id", "=", actor.tenantId)
            .where("so.status", "=", "rejected")
            .as("rejections"),
        )
        .where("o.tenant_id", "=", actor.tenantId)
        .where("o.sku_id", "in", skuIds)
        .where("o.active", "=", true)
        .where("s.active", "=", true)
        .execute()
    : [];
  const bySupplier = new Map<string, { offerId: string; need: LineNeed; cost: number; leadDays: number }[]>();
  for (const need of needs) {
    if (!need.skuId) {
      unserved.push({ orderLineId: need.orderLineId, skuCode: need.skuCode, reason: `SKU ${need.skuCode} is not in the catalog` });
      continue;
    }
    const candidates = offers
      .filter((of) => of.sku_id === need.skuId && !excludeOffers.has(of.id) && of.stock >= need.quantity)
      .sort(
        (a, b) =>
          b.priority - a.priority ||
          (a.by_score ? scoreBand(b.score) - scoreBand(a.score) : 0) ||
          Number(a.cost) - Number(b.cost) ||
          Number(a.rejections) - Number(b.rejections),
      );
    let chosen: (typeof candidates)[number] | undefined;
    for (const c of candidates) {
      if (reserve === "later") reservations.push({ offerId: c.id, quantity: need.quantity });
      else {
        // Reserve stock; a concurrent order may have taken it, then the next offer is tried.
        const r = await tx
          .updateTable("offers")
          .set((eb) => ({ stock: eb("stock", "-", need.quantity) }))
          .where("id", "=", c.id)
          .where("stock", ">=", need.quantity)
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) continue;
      }
      // What this line took is gone for the order's next lines (candidates are picked per line).
      chosen = c;
      c.stock -= need.quantity;
      break;
    }
    if (!chosen) {
      const any = offers.some((of) => of.sku_id === need.skuId && !excludeOffers.has(of.id));
      unserved.push({
        orderLineId: need.orderLineId,
        skuCode: need.skuCode,
        reason: any ? `no supplier has ${need.quantity} of ${need.skuCode} in stock` : `no active supplier offer for ${need.skuCode}`,
      });
      continue;
    }
    const list = bySupplier.get(chosen.supplier_id) ?? [];
    list.push({ offerId: chosen.id, need, cost: Number(chosen.cost), leadDays: chosen.lead_time_days });
    bySupplier.set(chosen.supplier_id, list);
  }
  const supplierOrderIds: string[] = [];
  for (const [supplierId, items] of bySupplier) {
    const id = newId();
    const leadDays = Math.max(...items.map((i) => i.leadDays));
    await tx
      .insertInto("supplier_orders")
      .values({
        id,
        tenant_id: actor.tenantId,
        order_id: o.orderId,
        supplier_id: supplierId,
        purpose: o.purpose,
        case_id: o.caseId ?? null,
        status: "pending",
        cost_total: items.reduce((s, i) => s + i.cost * i.need.quantity, 0),
        ship_by: new Date(now.getTime() + leadDays * 86400_000),
        created_at: now,
        updated_at: now,
      })
      .execute();
    await tx
      .insertInto("supplier_order_lines")
      .values(
        items.map((i) => ({
          id: newId(),
          tenant_id: actor.tenantId,
          supplier_order_id: id,
          order_line_id: i.need.orderLineId,
          offer_id: i.offerId,
          quantity: i.need.quantity,
          unit_cost: i.cost,
        })),
      )
      .execute();
    supplierOrderIds.push(id);
  }
  return { supplierOrderIds, unserved, reservations };
}

/**
 * Takes the stock `routeLines(…, "later")` chose, in one statement, the offers' rows locked in the
 * order of their ids (as an UPDATE locks them: other orders' supplier-order lines may still refer
 * to the offer meanwhile). False when a concurrent order took some of it first: then part of it may be
 * taken, and the caller rolls back to the savepoint it set before routing (see `forwardLocked`).
 */
export async function reserveStock(tx: Tx, reservations: RoutingResult["reservations"]): Promise<boolean> {
  if (reservations.length === 0) return true;
  const wanted = new Map<string, number>();
  for (const r of reservations) wanted.set(r.offerId, (wanted.get(r.offerId) ?? 0) + r.quantity);
  const ids = [...wanted.keys()].sort();
  const taken = await sql<{ id: string }>`
    WITH want AS (SELECT * FROM unnest(${ids}::uuid[], ${ids.map((id) => wanted.get(id))}::int[]) AS w(id, quantity)),
    locked AS (SELECT o.id FROM offers o WHERE o.id IN (SELECT id FROM want) ORDER BY o.id FOR NO KEY UPDATE)
    UPDATE offers o SET stock = o.stock - want.quantity
    FROM want, locked
    WHERE o.id = want.id AND o.id = locked.id AND o.stock >= want.quantity
    RETURNING o.id`.execute(tx);
  return taken.rows.length === ids.length;
}
