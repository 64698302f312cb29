import { kuaidi100Kind } from "../carriers/kind.js";
import type { Actor, Deps } from "../platform/context.js";
import type { Executor } from "../platform/db.js";
import { AppError, validation } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import { alibaba1688Kind } from "./alibaba1688/alibaba1688.js";
import { cjKind } from "./cj/cj.js";
import type { ConnectorContext, ConnectorKind, ConnectorOptions, ConnectorRow } from "./kind.js";
import { openSecrets, SecretKeyMissing, sealSecrets } from "./secrets.js";
import { shopifyKind } from "./shopify/shopify.js";
import { taobaoKind } from "./taobao/taobao.js";

/** Every kind the framework knows. Taobao, the payment gateways and the carriers join here. */
export const CONNECTOR_KINDS: Record<string, ConnectorKind> = {
  shopify: shopifyKind,
  kuaidi100: kuaidi100Kind,
  taobao: taobaoKind,
  alibaba1688: alibaba1688Kind,
  cj: cjKind,
};

export function kindOf(kind: string): ConnectorKind {
  const k = CONNECTOR_KINDS[kind];
  if (!k) throw validation("kind", `no connector kind "${kind}"`);
  return k;
}

export const DEFAULT_OPTIONS: ConnectorOptions = {
  timeoutMs: 20_000,
  baseDelayMs: 2_000,
  maxDelayMs: 30 * 60_000,
  maxAttempts: 8,
  maxInlineWaitMs: 10_000,
  inlineRetries: 2,
  pagesPerJob: 50,
  leaseMs: 2 * 60_000,
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

export const connectorOptions = (deps: Deps): ConnectorOptions => ({
  ...DEFAULT_OPTIONS,
  ...(deps.services.connectorOptions as Partial<ConnectorOptions> | undefined),
});

export function secretKey(deps: Deps): Buffer {
  const key = deps.services.connectorSecretKey as Buffer | undefined;
  if (!key) throw new AppError("conflict", new SecretKeyMissing().message);
  return key;
}

/** Splits a typed-in config into what is shown and what is sealed. */
export function splitConfig(kind: ConnectorKind, config: Record<string, unknown>) {
  const plain: Record<string, unknown> = {};
  const secret: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) {
    if (v === undefined) continue;
    if (kind.secretFields.includes(k)) secret[k] = String(v);
    else plain[k] = v;
  }
  return { plain, secret };
}

export function readSecrets(deps: Deps, row: Pick<ConnectorRow, "id" | "secrets">): Record<string, string> {
  if (!row.secrets) return {};
  try {
    return openSecrets(secretKey(deps), row.id, row.secrets);
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError(
      "conflict",
      "the connector's secrets cannot be opened with this installation's DROPDESK_SECRET_KEY; enter them again",
    );
  }
}

export const sealFor = (deps: Deps, id: string, secret: Record<string, string>) =>
  Object.keys(secret).length ? sealSecrets(secretKey(deps), id, secret) : null;

export const systemActor = (row: Pick<ConnectorRow, "id" | "tenant_id" | "kind" | "name">): Actor => ({
  kind: "system",
  id: row.id,
  tenantId: row.tenant_id,
  role: "system",
  name: `${row.kind} connector ${row.name}`,
  locale: "en",
});

export async function loadConnector(ex: Executor, id: string, tenantId?: string): Promise<ConnectorRow | undefined> {
  let q = ex.selectFrom("connectors").selectAll().where("id", "=", id).where("deleted_at", "is", null);
  if (tenantId) q = q.where("tenant_id", "=", tenantId);
  return (await q.executeTakeFirst()) as ConnectorRow | undefined;
}

export async function connectorLog(
  deps: Deps,
  row: Pick<ConnectorRow, "id" | "tenant_id">,
  level: "info" | "warn" | "error",
  message: string,
  externalId?: string,
) {
  await deps.db
    .insertInto("connector_log")
    .values({
      id: newId(),
      tenant_id: row.tenant_id,
      connector_id: row.id,
      level,
      message: message.slice(0, 2000),
      external_id: externalId ?? null,
      at: deps.clock.now(),
    })
    .execute();
}

/** Where the service posts the connector's webhooks: `<DROPDESK_PUBLIC_URL>/hooks/<kind>/<id>`. */
export function webhookUrlOf(deps: Deps, row: Pick<ConnectorRow, "id" | "kind">): string {
  const base = (process.env.DROPDESK_PUBLIC_URL ?? `http://localhost:${deps.config.port}`).replace(/\/+$/, "");
  return `${base}/hooks/${row.kind}/${row.id}`;
}

/** What a kind's code runs with: settings decrypted, the shop, the connector as actor, its log. */
export async function contextFor(deps: Deps, row: ConnectorRow): Promise<ConnectorContext> {
  const shop = row.shop_id
    ? await deps.db.selectFrom("shops").select(["id", "currency", "timezone"]).where("id", "=", row.shop_id).executeTakeFirst()
    : undefined;
  const settings: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries((row.config ?? {}) as Record<string, unknown>))
    settings[k] = v === null || v === undefined ? undefined : String(v);
  Object.assign(settings, readSecrets(deps, row));
  return {
    deps,
    connector: row,
    settings,
    options: connectorOptions(deps),
    shop: shop ? { id: shop.id, currency: shop.currency, timezone: shop.timezone } : undefined,
    actor: systemActor(row),
    log: (level, message, externalId) => connectorLog(deps, row, level, message, externalId),
  };
}
