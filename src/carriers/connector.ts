import { sql } from "kysely";
import { contextFor } from "../connectors/context.js";
import type { ConnectorRow } from "../connectors/kind.js";
import type { Deps, Executor } from "../platform/context.js";
import type { Tx } from "../platform/db.js";
import { AppError } from "../platform/errors.js";
import { readWithLock } from "../platform/locks.js";
import { txMemo } from "../platform/tx-memo.js";
import { type Kuaidi100Settings, settingsOf } from "./client.js";

/** The tenant's connectors of these kinds that are neither deleted nor paused, oldest first. */
const liveConnectors = async (ex: Executor, tenantId: string, kinds: string[]) =>
  (await ex
    .selectFrom("connectors")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("kind", "in", kinds)
    .where("deleted_at", "is", null)
    .where("status", "!=", "paused")
    .orderBy("created_at")
    .orderBy("id")
    .execute()) as ConnectorRow[];

const TRACKER_KINDS = ["track17", "kuaidi100"];
const liveTrackersKey = (tenantId: string) => `live-trackers:${tenantId}`;
// A shipment or a return's dispatch subscribes its parcel: the action counts the tenant's live
// tracking connectors with its lock (one statement), so a tenant without one reads nothing more.
readWithLock({
  key: (tenantId) => liveTrackersKey(tenantId),
  select: (tenantId) => sql`SELECT count(*)::int FROM connectors
    WHERE tenant_id = ${tenantId} AND kind IN (${sql.join(TRACKER_KINDS)}) AND deleted_at IS NULL AND status <> 'paused'`,
});

/** True when this transaction's case or supplier-order action counted no live tracking connector for the tenant. */
export const noLiveTrackers = (tx: Tx, tenantId: string) => txMemo<number>(tx, liveTrackersKey(tenantId)) === 0;

/** The tenant's 快递100 connector (a shop's own first, else the tenant-wide one), if it has one that is not paused. */
export async function carrierConnector(ex: Executor, tenantId: string, shopId?: string | null): Promise<ConnectorRow | undefined> {
  return pickKuaidi100(await liveConnectors(ex, tenantId, ["kuaidi100"]), shopId);
}

const pickKuaidi100 = (rows: ConnectorRow[], shopId?: string | null) =>
  rows.find((r) => shopId && r.shop_id === shopId) ?? rows.find((r) => !r.shop_id) ?? rows[0];

/**
 * The connector that tracks a shop's parcels: a 17TRACK connector bound to the shop (a cross-border
 * shop) first, else 快递100 (the shop's own, else the tenant's), else a tenant-wide 17TRACK one.
 */
export async function trackingConnector(ex: Executor, tenantId: string, shopId?: string | null): Promise<ConnectorRow | undefined> {
  // A case or supplier-order action has counted them with its lock: none means nothing to read.
  if (noLiveTrackers(ex as Tx, tenantId)) return undefined;
  // Both kinds in one read.
  const rows = await liveConnectors(ex, tenantId, TRACKER_KINDS);
  const track17 = rows.filter((r) => r.kind === "track17");
  const own = shopId ? track17.find((r) => r.shop_id === shopId) : undefined;
  return (
    own ??
    pickKuaidi100(
      rows.filter((r) => r.kind === "kuaidi100"),
      shopId,
    ) ??
    track17.find((r) => !r.shop_id)
  );
}

export async function carrierSettings(deps: Deps, row: ConnectorRow): Promise<Kuaidi100Settings> {
  const ctx = await contextFor(deps, row);
  return settingsOf(ctx.settings, ctx.options.timeoutMs);
}

export async function requireCarrierConnector(ex: Executor, tenantId: string, shopId?: string | null) {
  const row = await carrierConnector(ex, tenantId, shopId);
  if (!row) throw new AppError("conflict", "no 快递100 connector is set up: add one under integrations (kind kuaidi100)");
  return row;
}

/** Where 快递100 reaches this installation: DROPDESK_PUBLIC_URL, else the local address. */
export function hookUrl(deps: Deps, connectorId: string, path = "") {
  const base = (process.env.DROPDESK_PUBLIC_URL ?? `http://localhost:${deps.config.port}`).replace(/\/+$/, "");
  return `${base}/hooks/kuaidi100/${connectorId}${path}`;
}
