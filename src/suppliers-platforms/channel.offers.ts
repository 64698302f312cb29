import { recordOfferHistory } from "../catalog/offer.repo.js";
import { contextFor, loadConnector } from "../connectors/context.js";
import { ServiceError } from "../connectors/http.js";
import type { ConnectorContext } from "../connectors/kind.js";
import { audit } from "../platform/audit.js";
import type { Actor, Deps } from "../platform/context.js";
import { AppError, notFound } from "../platform/errors.js";
import { channelOf, platformFor } from "./channel.repo.js";
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

// Offers bound to the platform's offer and spec -------------------------------------------------

const offerOf = async (deps: Deps, tenantId: string, id: string) => {
  const o = await deps.db.selectFrom("offers").selectAll().where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
  if (!o) throw notFound("offer");
  return o;
};
const linkOut = (l: {
  offer_id: string;
  external_offer_id: string;
  external_spec_id: string | null;
  last_price: number | null;
  last_stock: number | null;
  synced_at: Date | null;
  price_warning: unknown;
  last_error: string | null;
}) => ({
  offerId: l.offer_id,
  externalOfferId: l.external_offer_id,
  externalSpecId: l.external_spec_id,
  lastPrice: l.last_price,
  lastStock: l.last_stock,
  syncedAt: l.synced_at,
  priceWarning: l.price_warning ?? null,
  lastError: l.last_error,
});
const getLink = async (deps: Deps, offerId: string) => {
  const l = await cdb(deps.db).selectFrom("offer_channel_links").selectAll().where("offer_id", "=", offerId).executeTakeFirst();
  if (!l) throw notFound("offer link");
  return l;
};

/** Binds an offer to its offer (and spec) on its supplier's platform. */
export async function linkOffer(deps: Deps, a: Actor, offerId: string, b: { externalOfferId: string; externalSpecId?: string | null }) {
  const o = await offerOf(deps, a.tenantId, offerId);
  const ch = await channelOf(deps.db, a.tenantId, o.supplier_id);
  if (!ch?.connector_id) throw new AppError("conflict", "the offer's supplier has no platform channel; set the supplier's channel first");
  const values = {
    connector_id: ch.connector_id,
    external_offer_id: b.externalOfferId,
    external_spec_id: b.externalSpecId ?? null,
    updated_at: deps.clock.now(),
  };
  await cdb(deps.db)
    .insertInto("offer_channel_links")
    .values({ offer_id: o.id, tenant_id: a.tenantId, ...values })
    .onConflict((oc) => oc.column("offer_id").doUpdateSet(values))
    .execute();
  return linkOut(await getLink(deps, o.id));
}

export async function offerLink(deps: Deps, a: Actor, offerId: string) {
  const o = await offerOf(deps, a.tenantId, offerId);
  return linkOut(await getLink(deps, o.id));
}

/** Reads the offer's price and stock from the platform now (the `channel-sync` action). */
export async function syncOfferNow(deps: Deps, a: Actor, offerId: string) {
  const o = await offerOf(deps, a.tenantId, offerId);
  const l = await getLink(deps, o.id);
  const row = await loadConnector(deps.db, l.connector_id);
  const platform = row && platformFor(row.kind);
  if (!row || !platform) throw new AppError("conflict", "the offer's platform connector is gone");
  try {
    await syncOffer(deps, await contextFor(deps, row), platform, o.id);
  } catch (e) {
    if (e instanceof ServiceError) throw new AppError("conflict", `${platform.kind}: ${e.message}`);
    throw e;
  }
  return {
    ...linkOut(await getLink(deps, o.id)),
    offer: { cost: Number((await offerOf(deps, o.tenant_id, o.id)).cost), stock: (await offerOf(deps, o.tenant_id, o.id)).stock },
  };
}

/** Staff have seen the platform's price rise: the warning goes. */
export async function acknowledgePrice(deps: Deps, a: Actor, offerId: string) {
  const o = await offerOf(deps, a.tenantId, offerId);
  // An offer with no platform link has no price to acknowledge: refused before anything is written.
  await getLink(deps, o.id);
  await deps.db.transaction().execute(async (tx) => {
    await cdb(tx)
      .updateTable("offer_channel_links")
      .set({ price_warning: null, updated_at: deps.clock.now() })
      .where("offer_id", "=", o.id)
      .execute();
    await audit(tx, a, "offer.price_acknowledged", "offer", o.id, undefined, {});
  });
  return linkOut(await getLink(deps, o.id));
}
