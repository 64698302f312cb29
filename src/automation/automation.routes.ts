import { z } from "zod";
import type { Deps, DomainEvent } from "../platform/context.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { runPendingJobs, startJobs } from "../platform/jobs.js";
import { pageQuery, sendCsv, wantsCsv } from "../platform/list.js";
import { outboundPolicy } from "../platform/outbound.js";
import { type Channels, channelsFromEnv, createSurvey, deliverWebhooks, eventWanted, notify } from "./delivery.js";
import { listNotifications, listTemplates, saveTemplate } from "./notification.service.js";
import { runSlaSweep } from "./sla.js";
import { slaOverdueCounts } from "./sla-overdue.js";
import { answerSurvey, readSurvey } from "./survey.service.js";
import { DEFAULT_TEMPLATES } from "./templates.js";
import { createWebhook, disableWebhook, listDeliveries, listWebhooks, replayDelivery, updateWebhook } from "./webhook.service.js";

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
    const { wanted, webhooks } = await eventWanted(tx, event);
    if (wanted) await jobs.enqueue(tx, webhooks === undefined ? event : { ...event, webhooks });
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

const TemplateBody = z.strictObject({
  event: z.string().refine((e) => e in DEFAULT_TEMPLATES, "not an event with messages"),
  locale: z.enum(["zh-CN", "en"]),
  channel: z.enum(["email", "sms"]),
  subject: z.string().max(200).default(""),
  body: z.string().min(1).max(4000),
  active: z.boolean().default(true),
});
const NotificationQuery = z.strictObject({
  ...pageQuery,
  status: z.enum(["pending", "sent", "failed"]).optional(),
  caseId: z.string().uuid().optional(),
  event: z.string().max(60).optional(),
});
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
const HookPatch = z.strictObject({
  url: HookBody.shape.url.optional(),
  events: HookBody.shape.events.optional(),
  active: z.boolean().optional(),
});
const tokenParam = z.object({ token: z.string().min(10).max(100) });
const SurveyAnswer = z.strictObject({ score: z.number().int().min(1).max(5), comment: z.string().max(2000).optional() });

export function automationRoutes(app: ZApp, deps: Deps) {
  const admin = { config: { roles: ROLES.admin } };
  // Notification templates and notifications -------------------------------------------------
  app.get("/api/v1/notification-templates", { ...admin, schema: { tags: ["automation"] } }, async (req) =>
    listTemplates(deps, actorOf(req)),
  );
  app.put("/api/v1/notification-templates", { ...admin, schema: { tags: ["automation"], body: TemplateBody } }, async (req) =>
    saveTemplate(deps, actorOf(req), req.body),
  );
  app.get(
    "/api/v1/notifications",
    { config: { roles: ["admin", "cs", "viewer"] }, schema: { tags: ["automation"], querystring: NotificationQuery } },
    async (req, reply) => {
      const fetch = (cursor: string | undefined, limit: number) => listNotifications(deps, actorOf(req), { ...req.query, cursor, limit });
      if (wantsCsv(req)) return sendCsv(reply, "notifications", fetch);
      return fetch(req.query.cursor, req.query.limit);
    },
  );

  // Webhooks --------------------------------------------------------------------------------
  app.get("/api/v1/webhooks", { ...admin, schema: { tags: ["automation"] } }, async (req) => listWebhooks(deps, actorOf(req)));
  app.post("/api/v1/webhooks", { ...admin, schema: { tags: ["automation"], body: HookBody } }, async (req, reply) =>
    reply.code(201).send(await createWebhook(deps, actorOf(req), req.body)),
  );
  app.patch("/api/v1/webhooks/:id", { ...admin, schema: { tags: ["automation"], params: idParam, body: HookPatch } }, async (req) =>
    updateWebhook(deps, actorOf(req), req.params.id, req.body),
  );
  app.delete("/api/v1/webhooks/:id", { ...admin, schema: { tags: ["automation"], params: idParam } }, async (req) =>
    disableWebhook(deps, actorOf(req), req.params.id),
  );
  app.get(
    "/api/v1/webhooks/:id/deliveries",
    { ...admin, schema: { tags: ["automation"], params: idParam, querystring: z.strictObject({ ...pageQuery }) } },
    async (req) => listDeliveries(deps, actorOf(req), req.params.id, req.query),
  );
  app.post(
    "/api/v1/webhooks/:id/deliveries/:deliveryId/actions/replay",
    { ...admin, schema: { tags: ["automation"], params: z.object({ id: z.string().uuid(), deliveryId: z.string().uuid() }) } },
    async (req) => replayDelivery(deps, actorOf(req), req.params.id, req.params.deliveryId),
  );

  app.get("/api/v1/sla/overdue", { config: { roles: ROLES.staff }, schema: { tags: ["automation"] } }, async (req) =>
    slaOverdueCounts(deps, actorOf(req).tenantId),
  );

  // Surveys ---------------------------------------------------------------------------------
  app.get("/portal/api/surveys/:token", { config: { public: true }, schema: { tags: ["portal"], params: tokenParam } }, async (req) =>
    readSurvey(deps, req.params.token),
  );
  app.post(
    "/portal/api/surveys/:token",
    { config: { public: true }, schema: { tags: ["portal"], params: tokenParam, body: SurveyAnswer } },
    async (req) => answerSurvey(deps, req.params.token, req.body),
  );
}
