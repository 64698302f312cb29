import type { Deps } from "../platform/context.js";
import { CONNECTOR_KINDS, readSecrets, webhookUrlOf } from "./context.js";
import type { ConnectorRow } from "./kind.js";
import { maskSecret } from "./secrets.js";

/** What a connector in each status can be asked to do. */
export const CONNECTOR_ACTIONS: Record<ConnectorRow["status"], string[]> = {
  active: ["test", "sync", "pause"],
  paused: ["test", "resume"],
  error: ["test", "sync", "pause"],
};

/** A connector as the API shows it: secrets only as set-or-not, masked. */
export function connectorOut(deps: Deps, row: ConnectorRow) {
  const kind = CONNECTOR_KINDS[row.kind];
  const config: Record<string, unknown> = { ...((row.config ?? {}) as Record<string, unknown>) };
  let secrets: Record<string, string> = {};
  try {
    secrets = readSecrets(deps, row);
  } catch {
    // A key that no longer opens them: shown as unset, to be entered again.
  }
  for (const f of kind?.secretFields ?? []) config[f] = maskSecret(secrets[f]);
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    shopId: row.shop_id,
    status: row.status,
    webhookUrl: webhookUrlOf(deps, row),
    config,
    lastSyncAt: row.last_sync_at,
    lastError: row.last_error,
    lastErrorAt: row.last_error_at,
    nextAttemptAt: row.next_attempt_at,
    syncing: Boolean(row.sync_running_since),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    allowedActions: CONNECTOR_ACTIONS[row.status],
  };
}
