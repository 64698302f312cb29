import { contextFor } from "../connectors/context.js";
import type { ConnectorRow } from "../connectors/kind.js";
import type { Deps, Executor } from "../platform/context.js";
import { AppError } from "../platform/errors.js";
import { type Kuaidi100Settings, settingsOf } from "./client.js";

/** The tenant's 快递100 connector (a shop's own first, else the tenant-wide one), if it has one that is not paused. */
export async function carrierConnector(ex: Executor, tenantId: string, shopId?: string | null): Promise<ConnectorRow | undefined> {
  const rows = (await ex
    .selectFrom("connectors")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("kind", "=", "kuaidi100")
    .where("deleted_at", "is", null)
    .where("status", "!=", "paused")
    .orderBy("created_at")
    .orderBy("id")
    .execute()) as ConnectorRow[];
  return rows.find((r) => shopId && r.shop_id === shopId) ?? rows.find((r) => !r.shop_id) ?? rows[0];
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
