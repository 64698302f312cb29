import type { z } from "zod";
import { audit } from "../platform/audit.js";
import type { Actor, Deps } from "../platform/context.js";
import { AppError, notFound, requireChanges, validation } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import { ensureQueue, type Jobs } from "../platform/jobs.js";
import { keysetPage } from "../platform/list.js";
import { checkShop, getConnector, platformLinks, setConnectorStatus } from "./connector.repo.js";
import type { ConnectorBody, ConnectorListQuery, ConnectorPatch } from "./connector.schemas.js";
import { CONNECTOR_ACTIONS, connectorOut } from "./connector.view.js";
import { contextFor, kindOf, readSecrets, sealFor, splitConfig, webhookUrlOf } from "./context.js";
import {
  CONNECTOR_QUEUE,
  type ConnectorJob,
  connectorEventSink,
  enqueueConnectorJob,
  requeueWaiting,
  runConnectorJob,
  runPendingConnectorJobs,
} from "./jobs.js";
import type { ConnectorRow } from "./kind.js";
import { loadSecretKey } from "./secrets.js";

// Connectors: an admin connects a store, gateway, carrier or supplier platform, tests it, syncs,
// pauses and resumes it; the jobs in jobs.ts do the talking to the platform.

declare module "../platform/config.js" {
  interface Config {
    /** `DROPDESK_SECRET_KEY`: the AES-256-GCM key of connector secrets (64 hex digits or base64 of 32 bytes). */
    secretKey?: string;
  }
}

export async function setupConnectors(deps: Deps) {
  const memory = deps.config.dataDir === "memory://";
  const setting = deps.config.secretKey ?? process.env.DROPDESK_SECRET_KEY;
  deps.services.connectorSecretKey =
    memory && !setting
      ? // An in-memory database lives as long as the process, and so does this key.
        (await import("node:crypto")).randomBytes(32)
      : await loadSecretKey({ setting, keyFile: deps.h.kind === "pglite" ? `${deps.config.dataDir}/secret.key` : undefined });
  const jobs = deps.services.jobs as Jobs | undefined;
  if (!jobs) return;
  await ensureQueue(deps, CONNECTOR_QUEUE, {
    retryLimit: 6,
    retryDelay: 30,
    retryBackoff: true,
    expireInSeconds: 900,
  });
  deps.services.runConnectorJobs = () => runPendingConnectorJobs(deps);
  deps.eventSinks.push((tx, event) => connectorEventSink(deps, tx, event));
  if (deps.config.workers) {
    await jobs.boss.work<ConnectorJob>(
      CONNECTOR_QUEUE,
      { batchSize: 5, pollingIntervalSeconds: Number(process.env.DROPDESK_POLL_SECONDS ?? 1) },
      async (batch) => {
        for (const job of batch) await runConnectorJob(deps, job.data);
      },
    );
  }
}

/** A config checked against its kind's schema; secret fields left out of a PATCH keep their value. */
function checkConfig(kind: ReturnType<typeof kindOf>, config: Record<string, unknown>) {
  const r = kind.configSchema.safeParse(config);
  if (!r.success) {
    const fields = r.error.issues.map((i) => ({ field: ["config", ...i.path].join("."), message: i.message }));
    throw new AppError("validation_failed", `${fields[0].field}: ${fields[0].message}`, { fields });
  }
  return r.data as Record<string, unknown>;
}

const viewOf = async (deps: Deps, tenantId: string, id: string) => connectorOut(deps, await getConnector(deps, tenantId, id));

export async function createConnector(deps: Deps, a: Actor, b: z.infer<typeof ConnectorBody>) {
  const kind = kindOf(b.kind);
  const config = checkConfig(kind, b.config);
  if (kind.needsShop && !b.shopId) throw validation("shopId", `a ${b.kind} connector imports orders into a shop: choose one`);
  await checkShop(deps, a.tenantId, b.shopId);
  const id = newId();
  const { plain, secret } = splitConfig(kind, config);
  const name = b.name ?? String(plain.shopDomain ?? b.kind);
  await deps.db.transaction().execute(async (tx) => {
    await tx
      .insertInto("connectors")
      .values({
        id,
        tenant_id: a.tenantId,
        shop_id: b.shopId ?? null,
        kind: b.kind,
        name,
        config: JSON.stringify(plain),
        secrets: sealFor(deps, id, secret),
      })
      .execute();
    // The audit trail names the secrets that were set, never their values.
    await audit(tx, a, "connector.create", "connector", id, undefined, {
      kind: b.kind,
      name,
      shopId: b.shopId ?? null,
      config: plain,
      secretsSet: Object.keys(secret),
    });
  });
  // The service's webhooks are subscribed by a job (src/connectors/jobs.ts), so a slow or wrong
  // address does not hold the request; `test` does it again and says how it went.
  if (kind.registerWebhooks && deps.services.jobs) await enqueueConnectorJob(deps, { type: "register", connectorId: id });
  return viewOf(deps, a.tenantId, id);
}

export async function listConnectors(deps: Deps, a: Actor, f: z.infer<typeof ConnectorListQuery>) {
  let q = deps.db.selectFrom("connectors").selectAll().where("tenant_id", "=", a.tenantId).where("deleted_at", "is", null);
  if (f.kind) q = q.where("kind", "=", f.kind);
  if (f.shopId) q = q.where("shop_id", "=", f.shopId);
  const page = await keysetPage(q, "id", f.cursor, f.limit);
  return { ...page, items: page.items.map((r) => connectorOut(deps, r as ConnectorRow)) };
}

/** A connector with how many records of each kind it holds and its latest log lines. */
export async function connectorDetail(deps: Deps, a: Actor, id: string) {
  const row = await getConnector(deps, a.tenantId, id);
  const log = await deps.db
    .selectFrom("connector_log")
    .select(["id", "level", "message", "external_id", "at"])
    .where("connector_id", "=", row.id)
    .orderBy("at", "desc")
    .orderBy("id", "desc")
    .limit(50)
    .execute();
  const counts = await deps.db
    .selectFrom("connector_records")
    .select(["record_type", (eb) => eb.fn.countAll<number>().as("n")])
    .where("connector_id", "=", row.id)
    .groupBy("record_type")
    .execute();
  return {
    ...connectorOut(deps, row),
    records: Object.fromEntries(counts.map((c) => [c.record_type, Number(c.n)])),
    log: log.map((l) => ({ id: l.id, level: l.level, message: l.message, externalId: l.external_id, at: l.at })),
  };
}

export async function updateConnector(deps: Deps, a: Actor, id: string, b: z.infer<typeof ConnectorPatch>) {
  const row = await getConnector(deps, a.tenantId, id);
  const kind = kindOf(row.kind);
  requireChanges({ name: b.name, shopId: b.shopId, config: b.config });
  const set: Record<string, unknown> = { updated_at: deps.clock.now() };
  if (b.name !== undefined) set.name = b.name;
  if (b.shopId !== undefined) {
    if (b.shopId === null && kind.needsShop) throw validation("shopId", `a ${row.kind} connector imports orders into a shop`);
    await checkShop(deps, a.tenantId, b.shopId);
    set.shop_id = b.shopId;
  }
  let secretsSet: string[] = [];
  if (b.config) {
    // Secrets are write-only: a field left out (or sent empty) keeps the value it has.
    const given = Object.fromEntries(
      Object.entries(b.config).filter(([k, v]) => !(kind.secretFields.includes(k) && (v === "" || v === null))),
    );
    const merged = checkConfig(kind, { ...((row.config ?? {}) as Record<string, unknown>), ...readSecrets(deps, row), ...given });
    const { plain, secret } = splitConfig(kind, merged);
    set.config = JSON.stringify(plain);
    set.secrets = sealFor(deps, row.id, secret);
    secretsSet = kind.secretFields.filter((f) => f in given);
  }
  await deps.db.transaction().execute(async (tx) => {
    await tx.updateTable("connectors").set(set).where("id", "=", row.id).execute();
    await audit(
      tx,
      a,
      "connector.update",
      "connector",
      row.id,
      { name: row.name, shopId: row.shop_id, config: row.config },
      {
        name: b.name,
        shopId: b.shopId,
        config: set.config ? JSON.parse(String(set.config)) : undefined,
        secretsSet,
      },
    );
  });
  return viewOf(deps, a.tenantId, row.id);
}

export async function deleteConnector(deps: Deps, a: Actor, id: string) {
  const row = await getConnector(deps, a.tenantId, id);
  await deps.db.transaction().execute(async (tx) => {
    // The row stays (imported orders keep their link) but its secrets go.
    await tx
      .updateTable("connectors")
      .set({ deleted_at: deps.clock.now(), secrets: null, status: "paused", updated_at: deps.clock.now() })
      .where("id", "=", row.id)
      .execute();
    await audit(tx, a, "connector.delete", "connector", row.id, { name: row.name, kind: row.kind }, undefined);
  });
}

/** Each action of a connector, allowed in the statuses CONNECTOR_ACTIONS names. */
const ACTION_HANDLERS = {
  async test(deps: Deps, row: ConnectorRow, a: Actor): Promise<unknown> {
    const ctx = await contextFor(deps, row);
    const kind = kindOf(row.kind);
    const r = await kind.test(ctx);
    if (r.ok && kind.registerWebhooks) {
      const w = await kind.registerWebhooks(ctx, webhookUrlOf(deps, row));
      r.message = `${r.message}; ${w.message}`;
    }
    await ctx.log(r.ok ? "info" : "warn", `test: ${r.message}`);
    await audit(deps.db, a, "connector.test", "connector", row.id, undefined, { ok: r.ok });
    return { ok: r.ok, message: r.message, details: r.details };
  },
  async sync(deps: Deps, row: ConnectorRow, a: Actor): Promise<unknown> {
    await setConnectorStatus(deps, row, a, "active", "sync", { sync_attempts: 0, next_attempt_at: null });
    await enqueueConnectorJob(deps, { type: "sync", connectorId: row.id });
    return viewOf(deps, a.tenantId, row.id);
  },
  async pause(deps: Deps, row: ConnectorRow, a: Actor): Promise<unknown> {
    await setConnectorStatus(deps, row, a, "paused", "pause");
    return viewOf(deps, a.tenantId, row.id);
  },
  async resume(deps: Deps, row: ConnectorRow, a: Actor): Promise<unknown> {
    await setConnectorStatus(deps, row, a, "active", "resume", { sync_attempts: 0 });
    await requeueWaiting(deps, row.id);
    await enqueueConnectorJob(deps, { type: "sync", connectorId: row.id });
    return viewOf(deps, a.tenantId, row.id);
  },
};
export type ConnectorAction = keyof typeof ACTION_HANDLERS;
export const CONNECTOR_ACTION_NAMES = Object.keys(ACTION_HANDLERS) as ConnectorAction[];

export async function runConnectorAction(deps: Deps, a: Actor, id: string, name: ConnectorAction) {
  const row = await getConnector(deps, a.tenantId, id);
  if (!CONNECTOR_ACTIONS[row.status].includes(name))
    throw new AppError("invalid_transition", `cannot ${name} a connector that is ${row.status}`, {
      status: row.status,
      allowedActions: CONNECTOR_ACTIONS[row.status],
    });
  return ACTION_HANDLERS[name](deps, row, a);
}

export async function orderPlatformLinks(deps: Deps, a: Actor, orderId: string) {
  return { items: await platformLinks(deps, a.tenantId, "order", orderId) };
}

/** A case's platform refund, and its order on the platform. */
export async function casePlatformLinks(deps: Deps, a: Actor, caseId: string) {
  const c = await deps.db
    .selectFrom("cases")
    .select(["id", "order_id"])
    .where("tenant_id", "=", a.tenantId)
    .where("id", "=", caseId)
    .executeTakeFirst();
  if (!c) throw notFound("case");
  return {
    items: [...(await platformLinks(deps, a.tenantId, "refund", c.id)), ...(await platformLinks(deps, a.tenantId, "order", c.order_id))],
  };
}
