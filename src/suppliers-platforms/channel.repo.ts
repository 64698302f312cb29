import type PgBoss from "pg-boss";
import { alibaba1688Platform } from "../connectors/alibaba1688/alibaba1688.js";
import { cjPlatform } from "../connectors/cj/cj.js";
import { contextFor, loadConnector } from "../connectors/context.js";
import type { ConnectorContext, ConnectorRow } from "../connectors/kind.js";
import type { Deps } from "../platform/context.js";
import type { Tx } from "../platform/db.js";
import { AppError, notFound } from "../platform/errors.js";
import { type Jobs, txAdapter } from "../platform/jobs.js";
import { cdb, type SupplierPlatform } from "./platform.js";

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
 *
 * This file holds what every part of a channel uses: the platforms, the queue, a supplier's
 * channel, a supplier order's link and a connector's context. The parts: channel.forward.ts
 * (placing), channel.status.ts (status, logistics, cancellation), channel.offers.ts (price and
 * stock), channel.disputes.ts (claims as platform disputes), channel.jobs.ts (the sync, the jobs,
 * start-up).
 */
export const CHANNEL_QUEUE = "dropdesk-supplier-channel";
export type ChannelJob = { type: "forward"; supplierOrderId: string } | { type: "cancel"; supplierOrderId: string };

const PLATFORMS: Record<string, SupplierPlatform> = { alibaba1688: alibaba1688Platform, cj: cjPlatform };
export function registerSupplierPlatform(p: SupplierPlatform) {
  PLATFORMS[p.kind] = p;
}
export const platformFor = (kind: string): SupplierPlatform | undefined => PLATFORMS[kind];

/** The kinds of connector that are supplier platforms. */
export const supplierPlatformKinds = () => Object.keys(PLATFORMS);

export const channelBoss = (deps: Deps) => (deps.services.jobs as Jobs | undefined)?.boss;

export async function enqueueChannelJob(deps: Deps, job: ChannelJob, opts: { tx?: Tx; delayMs?: number } = {}) {
  const b = channelBoss(deps);
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

export async function platformContext(
  deps: Deps,
  connectorId: string,
): Promise<{ row: ConnectorRow; ctx: ConnectorContext; platform: SupplierPlatform }> {
  const row = await loadConnector(deps.db, connectorId);
  if (!row) throw new AppError("conflict", "the supplier's platform connector was deleted");
  const platform = platformFor(row.kind);
  if (!platform) throw new AppError("conflict", `connector kind ${row.kind} is not a supplier platform`);
  return { row, ctx: await contextFor(deps, row), platform };
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

/** A supplier order's link to its platform order, whoever's tenant (a job's read). */
export function channelLinkOf(ex: Tx | Deps["db"], soId: string) {
  return cdb(ex).selectFrom("supplier_order_channel_links").selectAll().where("supplier_order_id", "=", soId).executeTakeFirst();
}

export async function setChannelLink(deps: Deps, soId: string, s: Record<string, unknown>) {
  await cdb(deps.db)
    .updateTable("supplier_order_channel_links")
    .set({ updated_at: deps.clock.now(), ...s })
    .where("supplier_order_id", "=", soId)
    .execute();
}
