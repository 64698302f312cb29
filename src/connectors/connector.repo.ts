import { audit } from "../platform/audit.js";
import type { Actor, Deps } from "../platform/context.js";
import { notFound, validation } from "../platform/errors.js";
import { CONNECTOR_KINDS, loadConnector } from "./context.js";
import type { ConnectorRow } from "./kind.js";

/** The tenant's connector, or 404. */
export async function getConnector(deps: Deps, tenantId: string, id: string): Promise<ConnectorRow> {
  const row = await loadConnector(deps.db, id, tenantId);
  if (!row) throw notFound("connector");
  return row;
}

/** A connector's shop must be one of the tenant's. */
export async function checkShop(deps: Deps, tenantId: string, shopId: string | null | undefined) {
  if (!shopId) return;
  const shop = await deps.db.selectFrom("shops").select("id").where("tenant_id", "=", tenantId).where("id", "=", shopId).executeTakeFirst();
  if (!shop) throw validation("shopId", "no such shop");
}

/** Moves a connector to a status, with the audit row, in one transaction. */
export async function setConnectorStatus(
  deps: Deps,
  row: ConnectorRow,
  a: Actor,
  status: ConnectorRow["status"],
  what: string,
  extra: Record<string, unknown> = {},
) {
  await deps.db.transaction().execute(async (tx) => {
    await tx
      .updateTable("connectors")
      .set({ status, updated_at: deps.clock.now(), ...extra })
      .where("id", "=", row.id)
      .execute();
    await audit(tx, a, `connector.${what}`, "connector", row.id, { status: row.status }, { status });
  });
}

/** Where an order or a case's refund lives on the platforms it came from. */
export async function platformLinks(deps: Deps, tenantId: string, recordType: string, entityId: string) {
  const rows = await deps.db
    .selectFrom("connector_records as r")
    .innerJoin("connectors as c", "c.id", "r.connector_id")
    .select(["c.id as connector_id", "c.kind", "c.name", "c.config", "r.external_id", "r.external_no", "r.record_type"])
    .where("r.tenant_id", "=", tenantId)
    .where("r.record_type", "=", recordType)
    .where("r.entity_id", "=", entityId)
    .execute();
  return rows.map((r) => {
    const settings = Object.fromEntries(
      Object.entries((r.config ?? {}) as Record<string, unknown>).map(([k, v]) => [k, v == null ? undefined : String(v)]),
    );
    return {
      connectorId: r.connector_id,
      kind: r.kind,
      name: r.name,
      recordType: r.record_type,
      externalId: r.external_id,
      externalNo: recordType === "refund" ? r.external_id : r.external_no,
      url: CONNECTOR_KINDS[r.kind]?.recordUrl?.(settings, r.record_type, r.external_id) ?? null,
    };
  });
}
