import { z } from "zod";
import { audit } from "../platform/audit.js";
import type { Deps } from "../platform/context.js";
import { AppError, notFound, requireChanges, validation } from "../platform/errors.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { newId } from "../platform/ids.js";
import { ensureQueue, type Jobs } from "../platform/jobs.js";
import { keysetPage, pageQuery } from "../platform/list.js";
import { CONNECTOR_KINDS, contextFor, kindOf, loadConnector, readSecrets, sealFor, splitConfig, webhookUrlOf } from "./context.js";
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
import { loadSecretKey, maskSecret } from "./secrets.js";

declare module "../platform/config.js" {
  interface Config {
    /** `DROPDESK_SECRET_KEY`: the AES-256-GCM key of connector secrets (64 hex digits or base64 of 32 bytes). */
    secretKey?: string;
  }
}

const idParam = z.object({ id: z.string().uuid() });
const ACTIONS: Record<ConnectorRow["status"], string[]> = {
  active: ["test", "sync", "pause"],
  paused: ["test", "resume"],
  error: ["test", "sync", "pause"],
};

/** A connector as the API shows it: secrets only as set-or-not, masked. */
function connectorOut(deps: Deps, row: ConnectorRow) {
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
    allowedActions: ACTIONS[row.status],
  };
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

async function checkShop(deps: Deps, tenantId: string, shopId: string | null | undefined) {
  if (!shopId) return;
  const shop = await deps.db.selectFrom("shops").select("id").where("tenant_id", "=", tenantId).where("id", "=", shopId).executeTakeFirst();
  if (!shop) throw validation("shopId", "no such shop");
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

export function connectorRoutes(app: ZApp, deps: Deps) {
  const get = async (tenantId: string, id: string) => {
    const row = await loadConnector(deps.db, id, tenantId);
    if (!row) throw notFound("connector");
    return row;
  };

  const CreateBody = z.strictObject({
    kind: z.string().min(1).max(40),
    shopId: z.string().uuid().nullish(),
    name: z.string().min(1).max(100).optional(),
    config: z.record(z.string(), z.unknown()),
  });
  app.post(
    "/api/v1/connectors",
    { config: { roles: ROLES.admin }, schema: { tags: ["connectors"], body: CreateBody } },
    async (req, reply) => {
      const a = actorOf(req);
      const b = req.body;
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
      return reply.code(201).send(connectorOut(deps, await get(a.tenantId, id)));
    },
  );

  app.get(
    "/api/v1/connectors",
    {
      config: { roles: ROLES.admin },
      schema: {
        tags: ["connectors"],
        querystring: z.strictObject({ ...pageQuery, kind: z.string().max(40).optional(), shopId: z.string().uuid().optional() }),
      },
    },
    async (req) => {
      const a = actorOf(req);
      let q = deps.db.selectFrom("connectors").selectAll().where("tenant_id", "=", a.tenantId).where("deleted_at", "is", null);
      if (req.query.kind) q = q.where("kind", "=", req.query.kind);
      if (req.query.shopId) q = q.where("shop_id", "=", req.query.shopId);
      const page = await keysetPage(q, "id", req.query.cursor, req.query.limit);
      return { ...page, items: page.items.map((r) => connectorOut(deps, r as ConnectorRow)) };
    },
  );

  app.get("/api/v1/connectors/:id", { config: { roles: ROLES.admin }, schema: { tags: ["connectors"], params: idParam } }, async (req) => {
    const a = actorOf(req);
    const row = await get(a.tenantId, req.params.id);
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
  });

  const PatchBody = z.strictObject({
    name: z.string().min(1).max(100).optional(),
    shopId: z.string().uuid().nullish(),
    config: z.record(z.string(), z.unknown()).optional(),
  });
  app.patch(
    "/api/v1/connectors/:id",
    { config: { roles: ROLES.admin }, schema: { tags: ["connectors"], params: idParam, body: PatchBody } },
    async (req) => {
      const a = actorOf(req);
      const row = await get(a.tenantId, req.params.id);
      const kind = kindOf(row.kind);
      const b = req.body;
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
      return connectorOut(deps, await get(a.tenantId, row.id));
    },
  );

  app.delete(
    "/api/v1/connectors/:id",
    { config: { roles: ROLES.admin }, schema: { tags: ["connectors"], params: idParam } },
    async (req, reply) => {
      const a = actorOf(req);
      const row = await get(a.tenantId, req.params.id);
      await deps.db.transaction().execute(async (tx) => {
        // The row stays (imported orders keep their link) but its secrets go.
        await tx
          .updateTable("connectors")
          .set({ deleted_at: deps.clock.now(), secrets: null, status: "paused", updated_at: deps.clock.now() })
          .where("id", "=", row.id)
          .execute();
        await audit(tx, a, "connector.delete", "connector", row.id, { name: row.name, kind: row.kind }, undefined);
      });
      return reply.code(204).send();
    },
  );

  const action = (name: string, run: (row: ConnectorRow, a: ReturnType<typeof actorOf>) => Promise<unknown>) =>
    app.post(
      `/api/v1/connectors/:id/actions/${name}`,
      { config: { roles: ROLES.admin }, schema: { tags: ["connectors"], params: idParam } },
      async (req) => {
        const a = actorOf(req);
        const row = await get(a.tenantId, req.params.id);
        if (!ACTIONS[row.status].includes(name))
          throw new AppError("invalid_transition", `cannot ${name} a connector that is ${row.status}`, {
            status: row.status,
            allowedActions: ACTIONS[row.status],
          });
        return run(row, a);
      },
    );

  action("test", async (row, a) => {
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
  });
  const setStatus = async (
    row: ConnectorRow,
    a: ReturnType<typeof actorOf>,
    status: ConnectorRow["status"],
    what: string,
    extra: Record<string, unknown> = {},
  ) => {
    await deps.db.transaction().execute(async (tx) => {
      await tx
        .updateTable("connectors")
        .set({ status, updated_at: deps.clock.now(), ...extra })
        .where("id", "=", row.id)
        .execute();
      await audit(tx, a, `connector.${what}`, "connector", row.id, { status: row.status }, { status });
    });
  };
  action("sync", async (row, a) => {
    await setStatus(row, a, "active", "sync", { sync_attempts: 0, next_attempt_at: null });
    await enqueueConnectorJob(deps, { type: "sync", connectorId: row.id });
    return connectorOut(deps, await get(a.tenantId, row.id));
  });
  action("pause", async (row, a) => {
    await setStatus(row, a, "paused", "pause");
    return connectorOut(deps, await get(a.tenantId, row.id));
  });
  action("resume", async (row, a) => {
    await setStatus(row, a, "active", "resume", { sync_attempts: 0 });
    await requeueWaiting(deps, row.id);
    await enqueueConnectorJob(deps, { type: "sync", connectorId: row.id });
    return connectorOut(deps, await get(a.tenantId, row.id));
  });

  // Per order and per case: where it lives on its platform (a case: its platform refund, and its order).
  const links = async (tenantId: string, recordType: string, entityId: string) => {
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
  };
  app.get(
    "/api/v1/orders/:id/platform-links",
    { config: { roles: ROLES.staff }, schema: { tags: ["connectors"], params: idParam } },
    async (req) => ({ items: await links(actorOf(req).tenantId, "order", req.params.id) }),
  );
  app.get(
    "/api/v1/cases/:id/platform-links",
    { config: { roles: ROLES.staff }, schema: { tags: ["connectors"], params: idParam } },
    async (req) => {
      const a = actorOf(req);
      const c = await deps.db
        .selectFrom("cases")
        .select(["id", "order_id"])
        .where("tenant_id", "=", a.tenantId)
        .where("id", "=", req.params.id)
        .executeTakeFirst();
      if (!c) throw notFound("case");
      return { items: [...(await links(a.tenantId, "refund", c.id)), ...(await links(a.tenantId, "order", c.order_id))] };
    },
  );

  // Inbound webhooks: public, verified by each service's own signature over the raw body.
  app.register(async (hooks) => {
    hooks.removeAllContentTypeParsers();
    hooks.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: 5 * 1024 * 1024 }, (_req, body, done) => done(null, body));
    hooks.post(
      "/hooks/:kind/:connectorId",
      {
        config: { public: true },
        schema: { hide: true, params: z.object({ kind: z.string().max(40), connectorId: z.string().max(100) }) },
      },
      async (req, reply) => {
        const { kind: kindName, connectorId } = req.params as { kind: string; connectorId: string };
        const kind = CONNECTOR_KINDS[kindName];
        const row = kind && /^[0-9a-f-]{36}$/.test(connectorId) ? await loadConnector(deps.db, connectorId) : undefined;
        if (!kind || !row || row.kind !== kindName || !kind.verifyWebhook)
          return reply.code(404).send({ error: { code: "not_found", message: "no such connector" } });
        const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const ctx = await contextFor(deps, row);
        const v = await kind.verifyWebhook(ctx, req, raw, reply);
        if (!v.ok) {
          const code = v.status === 401 ? "unauthorized" : "validation_failed";
          return reply.code(v.status).send({ error: { code, message: v.message } });
        }
        // Once per delivery id: a repeated delivery is answered the same and changes nothing.
        await deps.db.transaction().execute(async (tx) => {
          const inboxId = newId();
          const inserted = await tx
            .insertInto("connector_inbox")
            .values({
              id: inboxId,
              tenant_id: row.tenant_id,
              connector_id: row.id,
              delivery_id: v.deliveryId.slice(0, 200),
              topic: v.topic,
              payload: JSON.stringify(v.payload),
              received_at: deps.clock.now(),
            })
            .onConflict((oc) => oc.columns(["connector_id", "delivery_id"]).doNothing())
            .returning("id")
            .executeTakeFirst();
          if (inserted) await enqueueConnectorJob(deps, { type: "inbox", connectorId: row.id, inboxId }, { tx });
        });
        const answer = kind.webhookAnswer ?? { status: 200, body: { ok: true } };
        return reply.code(answer.status).send(answer.body);
      },
    );
  });
}
