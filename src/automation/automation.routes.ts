import type { Selectable } from "kysely";
import { z } from "zod";
import type { Webhooks } from "../db/schema.js";
import { audit } from "../platform/audit.js";
import type { Deps, DomainEvent } from "../platform/context.js";
import { AppError, notFound, requireChanges, validation } from "../platform/errors.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { newId, randomToken } from "../platform/ids.js";
import { runPendingJobs, startJobs } from "../platform/jobs.js";
import { decodeCursor, keysetPage, pageQuery, sendCsv, toPage, wantsCsv } from "../platform/list.js";
import { outboundPolicy, outboundRefusal } from "../platform/outbound.js";
import { type Channels, channelsFromEnv, createSurvey, deliverWebhooks, eventWanted, notify, sendDelivery } from "./delivery.js";
import { runSlaSweep } from "./sla.js";
import { slaOverdueCounts } from "./sla-overdue.js";
import { DEFAULT_TEMPLATES } from "./templates.js";

const idParam = z.object({ id: z.string().uuid() });

/** One job per domain event: survey first (the closing message links to it), then webhooks and messages. */
export function eventHandler(channels: () => Channels) {
  return async (deps: Deps, event: DomainEvent) => {
    const errors: string[] = [];
    for (const step of [createSurvey, deliverWebhooks, (d: Deps, e: DomainEvent) => notify(d, e, channels())]) {
      try {
        await step(deps, event);
      } catch (e) {
        errors.push(e instanceof Error ? e.message : String(e));
      }
    }
    if (errors.length) throw new Error(errors.join("; "));
  };
}

/** Starts the queue, turns domain events into jobs in their transaction, and runs the SLA sweep. */
export async function setupAutomation(deps: Deps) {
  // A mistyped allow-list stops the start instead of failing every delivery later.
  outboundPolicy(deps.config.outboundAllow);
  if (process.env.DROPDESK_JOBS === "0") return;
  deps.services.channels ??= channelsFromEnv(process.env, deps.config.outboundAllow);
  const handler = eventHandler(() => deps.services.channels as Channels);
  const work = deps.config.workers;
  const jobs = await startJobs(deps, [handler], { work, pollSeconds: Number(process.env.DROPDESK_POLL_SECONDS ?? 1) });
  deps.services.jobs = jobs;
  deps.services.runPendingJobs = () => runPendingJobs(deps, [handler], jobs.boss);
  deps.services.runSlaSweep = () => runSlaSweep(deps);
  // Events nobody listens to (no template, no survey, no matching webhook) get no job.
  deps.eventSinks.push(async (tx, event) => {
    if (await eventWanted(tx, event)) await jobs.enqueue(tx, event);
  });
  let timer: NodeJS.Timeout | undefined;
  if (work) {
    // Deadlines are rows; a sweep a minute fires the due ones, in whichever worker gets there first.
    timer = setInterval(() => void runSlaSweep(deps).catch((e) => console.warn(`SLA sweep: ${e.message}`)), 60_000);
    timer.unref();
  }
  const prevStop = deps.services.stop as (() => Promise<void>) | undefined;
  deps.services.stop = async () => {
    if (timer) clearInterval(timer);
    await jobs.stop();
    await prevStop?.();
  };
}

export function automationRoutes(app: ZApp, deps: Deps) {
  // Notification templates ------------------------------------------------------------------
  app.get("/api/v1/notification-templates", { config: { roles: ROLES.admin }, schema: { tags: ["automation"] } }, async (req) => {
    const a = actorOf(req);
    const overrides = await deps.db.selectFrom("notification_templates").selectAll().where("tenant_id", "=", a.tenantId).execute();
    const items = [];
    for (const [event, byLocale] of Object.entries(DEFAULT_TEMPLATES)) {
      for (const [locale, t] of Object.entries(byLocale)) {
        for (const channel of ["email", "sms"] as const) {
          const o = overrides.find((x) => x.event === event && x.locale === locale && x.channel === channel);
          items.push({
            event,
            locale,
            channel,
            subject: o?.subject ?? t.subject,
            body: o?.body ?? t.body,
            active: o?.active ?? true,
            customised: Boolean(o),
          });
        }
      }
    }
    return {
      items,
      nextCursor: null,
      variables: [
        "orderNo",
        "caseNo",
        "amount",
        "deadline",
        "returnAddress",
        "returnInstructions",
        "trackingNo",
        "carrier",
        "note",
        "surveyUrl",
      ],
    };
  });
  app.put(
    "/api/v1/notification-templates",
    {
      config: { roles: ROLES.admin },
      schema: {
        tags: ["automation"],
        body: z.strictObject({
          event: z.string().refine((e) => e in DEFAULT_TEMPLATES, "not an event with messages"),
          locale: z.enum(["zh-CN", "en"]),
          channel: z.enum(["email", "sms"]),
          subject: z.string().max(200).default(""),
          body: z.string().min(1).max(4000),
          active: z.boolean().default(true),
        }),
      },
    },
    async (req) => {
      const a = actorOf(req);
      const b = req.body;
      await deps.db
        .insertInto("notification_templates")
        .values({
          id: newId(),
          tenant_id: a.tenantId,
          event: b.event,
          locale: b.locale,
          channel: b.channel,
          subject: b.subject,
          body: b.body,
          active: b.active,
        })
        .onConflict((oc) =>
          oc
            .columns(["tenant_id", "event", "locale", "channel"])
            .doUpdateSet({ subject: b.subject, body: b.body, active: b.active, updated_at: new Date() }),
        )
        .execute();
      await audit(deps.db, a, "notification_template.update", "notification_template", `${b.event}/${b.locale}/${b.channel}`, undefined, b);
      return { ...b, customised: true };
    },
  );

  app.get(
    "/api/v1/notifications",
    {
      config: { roles: ["admin", "cs", "viewer"] },
      schema: {
        tags: ["automation"],
        querystring: z.strictObject({
          ...pageQuery,
          status: z.enum(["pending", "sent", "failed"]).optional(),
          caseId: z.string().uuid().optional(),
          event: z.string().max(60).optional(),
        }),
      },
    },
    async (req, reply) => {
      const a = actorOf(req);
      const f = req.query;
      const fetch = async (cursor: string | undefined, limit: number) => {
        let q = deps.db.selectFrom("notifications").selectAll().where("tenant_id", "=", a.tenantId);
        if (f.status) q = q.where("status", "=", f.status);
        if (f.caseId) q = q.where("case_id", "=", f.caseId);
        if (f.event) q = q.where("event", "=", f.event);
        const page = await keysetPage(q, "id", cursor, limit);
        return {
          ...page,
          items: page.items.map((n) => ({
            id: n.id,
            event: n.event,
            channel: n.channel,
            recipient: n.recipient,
            locale: n.locale,
            subject: n.subject,
            body: n.body,
            status: n.status,
            attempts: n.attempts,
            lastError: n.last_error,
            caseId: n.case_id,
            orderId: n.order_id,
            sentAt: n.sent_at,
            createdAt: n.created_at,
          })),
        };
      };
      if (wantsCsv(req)) return sendCsv(reply, "notifications", fetch);
      return fetch(f.cursor, f.limit);
    },
  );

  // Webhooks --------------------------------------------------------------------------------
  const hookOut = (w: Selectable<Webhooks>) => ({ id: w.id, url: w.url, events: w.events, active: w.active, createdAt: w.created_at });
  const HookBody = z.strictObject({
    url: z
      .string()
      .url()
      .max(500)
      .refine((u) => /^https?:\/\//.test(u), "http or https"),
    events: z
      .array(z.string().regex(/^(\*|[a-z_]+\.(\*|[a-z_]+))$/, "like case.* or refund.succeeded"))
      .min(1)
      .max(50),
    secret: z.string().min(16).max(200).optional(),
    active: z.boolean().default(true),
  });
  /** A webhook may only point at a public address (or one the installation allows), checked after DNS. */
  const checkHookUrl = async (url: string) => {
    const refused = await outboundRefusal(url, outboundPolicy(deps.config.outboundAllow));
    if (refused) throw validation("url", refused);
  };
  app.get("/api/v1/webhooks", { config: { roles: ROLES.admin }, schema: { tags: ["automation"] } }, async (req) => {
    const a = actorOf(req);
    return {
      items: (await deps.db.selectFrom("webhooks").selectAll().where("tenant_id", "=", a.tenantId).orderBy("id", "desc").execute()).map(
        hookOut,
      ),
      nextCursor: null,
    };
  });
  app.post("/api/v1/webhooks", { config: { roles: ROLES.admin }, schema: { tags: ["automation"], body: HookBody } }, async (req, reply) => {
    const a = actorOf(req);
    await checkHookUrl(req.body.url);
    const secret = req.body.secret ?? `whsec_${randomToken(24)}`;
    const w = await deps.db
      .insertInto("webhooks")
      .values({ id: newId(), tenant_id: a.tenantId, url: req.body.url, events: req.body.events, secret, active: req.body.active })
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(deps.db, a, "webhook.create", "webhook", w.id, undefined, hookOut(w));
    // The secret is shown once, at creation.
    return reply.code(201).send({ ...hookOut(w), secret });
  });
  app.patch(
    "/api/v1/webhooks/:id",
    {
      config: { roles: ROLES.admin },
      schema: {
        tags: ["automation"],
        params: idParam,
        body: z.strictObject({
          url: HookBody.shape.url.optional(),
          events: HookBody.shape.events.optional(),
          active: z.boolean().optional(),
        }),
      },
    },
    async (req) => {
      const a = actorOf(req);
      if (req.body.url) await checkHookUrl(req.body.url);
      const w = await deps.db
        .updateTable("webhooks")
        .set(
          requireChanges({
            ...(req.body.url && { url: req.body.url }),
            ...(req.body.events && { events: req.body.events }),
            ...(req.body.active !== undefined && { active: req.body.active }),
          }),
        )
        .where("tenant_id", "=", a.tenantId)
        .where("id", "=", req.params.id)
        .returningAll()
        .executeTakeFirst();
      if (!w) throw notFound("webhook");
      await audit(deps.db, a, "webhook.update", "webhook", w.id, undefined, req.body);
      return hookOut(w);
    },
  );
  app.delete("/api/v1/webhooks/:id", { config: { roles: ROLES.admin }, schema: { tags: ["automation"], params: idParam } }, async (req) => {
    const a = actorOf(req);
    const w = await deps.db
      .updateTable("webhooks")
      .set({ active: false })
      .where("tenant_id", "=", a.tenantId)
      .where("id", "=", req.params.id)
      .returningAll()
      .executeTakeFirst();
    if (!w) throw notFound("webhook");
    await audit(deps.db, a, "webhook.delete", "webhook", w.id);
    return { ok: true };
  });
  app.get(
    "/api/v1/webhooks/:id/deliveries",
    { config: { roles: ROLES.admin }, schema: { tags: ["automation"], params: idParam, querystring: z.strictObject({ ...pageQuery }) } },
    async (req) => {
      const a = actorOf(req);
      let q = deps.db
        .selectFrom("webhook_deliveries")
        .selectAll()
        .where("tenant_id", "=", a.tenantId)
        .where("webhook_id", "=", req.params.id);
      const c = decodeCursor(req.query.cursor);
      if (c) q = q.where("id", "<", c);
      const page = toPage(
        await q
          .orderBy("id", "desc")
          .limit(req.query.limit + 1)
          .execute(),
        req.query.limit,
      );
      return {
        ...page,
        items: page.items.map((d) => ({
          id: d.id,
          event: d.event,
          eventId: d.event_id,
          status: d.status,
          attempts: d.attempts,
          lastStatusCode: d.last_status_code,
          lastError: d.last_error,
          deliveredAt: d.delivered_at,
          createdAt: d.created_at,
          payload: d.payload,
        })),
      };
    },
  );
  app.post(
    "/api/v1/webhooks/:id/deliveries/:deliveryId/actions/replay",
    {
      config: { roles: ROLES.admin },
      schema: { tags: ["automation"], params: z.object({ id: z.string().uuid(), deliveryId: z.string().uuid() }) },
    },
    async (req) => {
      const a = actorOf(req);
      const d = await deps.db
        .selectFrom("webhook_deliveries")
        .select("id")
        .where("tenant_id", "=", a.tenantId)
        .where("webhook_id", "=", req.params.id)
        .where("id", "=", req.params.deliveryId)
        .executeTakeFirst();
      if (!d) throw notFound("delivery");
      return { delivered: await sendDelivery(deps, d.id) };
    },
  );

  app.get("/api/v1/sla/overdue", { config: { roles: ROLES.staff }, schema: { tags: ["automation"] } }, async (req) =>
    slaOverdueCounts(deps, actorOf(req).tenantId),
  );

  // Surveys ---------------------------------------------------------------------------------
  const tokenParam = z.object({ token: z.string().min(10).max(100) });
  app.get("/portal/api/surveys/:token", { config: { public: true }, schema: { tags: ["portal"], params: tokenParam } }, async (req) => {
    const s = await deps.db
      .selectFrom("surveys as s")
      .innerJoin("cases as c", "c.id", "s.case_id")
      .select(["s.score", "s.comment", "s.answered_at", "c.case_no", "c.type"])
      .where("s.token", "=", req.params.token)
      .executeTakeFirst();
    if (!s) throw notFound("survey");
    return { caseNo: s.case_no, type: s.type, answered: Boolean(s.answered_at), score: s.score, comment: s.comment };
  });
  app.post(
    "/portal/api/surveys/:token",
    {
      config: { public: true },
      schema: {
        tags: ["portal"],
        params: tokenParam,
        body: z.strictObject({ score: z.number().int().min(1).max(5), comment: z.string().max(2000).optional() }),
      },
    },
    async (req) => {
      const b = req.body;
      return deps.db.transaction().execute(async (tx) => {
        const s = await tx.selectFrom("surveys").selectAll().where("token", "=", req.params.token).forUpdate().executeTakeFirst();
        if (!s) throw notFound("survey");
        if (s.answered_at) throw new AppError("conflict", "this survey was answered already");
        await tx
          .updateTable("surveys")
          .set({ score: b.score, comment: b.comment ?? null, answered_at: deps.clock.now() })
          .where("id", "=", s.id)
          .execute();
        await tx
          .updateTable("cases")
          .set({ csat_score: b.score, csat_comment: b.comment ?? null })
          .where("id", "=", s.case_id)
          .execute();
        return { ok: true, score: b.score };
      });
    },
  );
}
