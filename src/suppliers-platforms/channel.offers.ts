import { recordOfferHistory } from "../catalog/offer.repo.js";
import { ServiceError } from "../connectors/http.js";
import type { ConnectorContext } from "../connectors/kind.js";
import type { Deps } from "../platform/context.js";
import { cdb, type SupplierPlatform } from "./platform.js";

// Offers: a linked offer's price and stock follow the platform's, each change in the offer's history.

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
        await recordOfferHistory(tx, {
          tenantId: o.tenant_id,
          offerId,
          cost: o.cost,
          stock: o.stock,
          active: false,
          reason: `${platform.kind}: ${e.message}`,
          changedBy: ctx.connector.id,
          at: now(),
        });
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
      await recordOfferHistory(tx, {
        tenantId: o.tenant_id,
        offerId,
        cost: got.price,
        stock: got.stock,
        active: o.active,
        reason: `${platform.kind} sync`,
        changedBy: ctx.connector.id,
        at: now(),
      });
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
