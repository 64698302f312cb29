import { timingSafeEqual } from "node:crypto";
import cookie from "@fastify/cookie";
import multipart from "@fastify/multipart";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from "fastify";
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import client from "prom-client";
import { z } from "zod";
import { STAFF_ROLES, ROLES as USER_ROLES } from "../domain/vocabulary.js";
import { assertSameOrigin, resolveActor, watchCredentialChanges } from "./auth.js";
import type { Actor, Deps, Role } from "./context.js";
import { AppError, ERRORS, fieldMessageIn, type Locale, localeOf } from "./errors.js";
import { beginIdempotent, finishIdempotent, runInRequestScope } from "./idempotency.js";
import { refuseBadText, uploadError } from "./input.js";

export type ZApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

declare module "fastify" {
  interface FastifyContextConfig {
    /** Roles allowed on this route. A route with neither `roles` nor `public` refuses everyone. */
    roles?: readonly (Role | "customer")[];
    public?: boolean;
  }
  interface FastifyRequest {
    actor?: Actor;
  }
}

/** The caller of an authenticated route (the auth hook guarantees it is set). */
export function actorOf(req: FastifyRequest): Actor {
  if (!req.actor) throw new AppError("unauthorized", "sign in first");
  return req.actor;
}

export const ROLES = {
  staff: STAFF_ROLES,
  staffWrite: ["admin", "cs"],
  admin: ["admin"],
  finance: ["admin", "finance"],
  warehouse: ["admin", "warehouse", "cs"],
  anyStaffOrSupplier: USER_ROLES,
} as const satisfies Record<string, readonly Role[]>;

const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Pages may not be framed, sniffed into another type, or load code from elsewhere. antd writes its
 * styles at run time, hence 'unsafe-inline' for styles only.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

function setSecurityHeaders(reply: FastifyReply) {
  reply.header("x-content-type-options", "nosniff");
  reply.header("x-frame-options", "DENY");
  reply.header("referrer-policy", "same-origin");
  const type = String(reply.getHeader("content-type") ?? "");
  if (type.startsWith("text/html")) reply.header("content-security-policy", CONTENT_SECURITY_POLICY);
}

/** /metrics: public only when configured; otherwise the metrics token or an admin's credential. */
async function assertMayReadMetrics(deps: Deps, req: FastifyRequest) {
  if (deps.config.metricsPublic) return;
  const given = req.headers.authorization?.replace(/^Bearer\s+/i, "");
  const wanted = deps.config.metricsToken;
  if (wanted && given && given.length === wanted.length && timingSafeEqual(Buffer.from(given), Buffer.from(wanted))) return;
  const actor = await resolveActor(deps, req);
  if (!actor) throw new AppError("unauthorized", "send the metrics token or sign in as an admin");
  if (actor.role !== "admin") throw new AppError("forbidden", "only admins and the metrics token may read metrics");
}

/** zod's own Chinese messages for schema failures. */
const zodZh = z.locales.zhCN();
const zodMessage = (m: unknown) =>
  typeof m === "string" ? m : m && typeof m === "object" && "message" in m ? String(m.message) : undefined;

/** Details as the caller reads them: each field's message in the caller's language, nothing else added. */
function localizedDetails(details: Record<string, unknown> | undefined, locale: Locale) {
  const fields = details?.fields;
  if (!Array.isArray(fields)) return details;
  return {
    ...details,
    fields: fields.map((f: { field: string; message: string; zh?: string }) => {
      const { zh: _zh, ...rest } = f;
      return { ...rest, message: fieldMessageIn(f, locale) };
    }),
  };
}

export type RouteModule = (app: ZApp, deps: Deps) => void | Promise<void>;

export async function buildServer(deps: Deps, modules: RouteModule[], opts: { logger?: boolean } = {}) {
  const app = Fastify({
    logger: opts.logger
      ? { level: deps.config.logLevel, redact: ["req.headers.authorization", "req.headers.cookie", "*.password", "*.token", "*.secret"] }
      : false,
    bodyLimit: 1024 * 1024,
    trustProxy: deps.config.trustProxy ?? false,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(cookie);
  await app.register(multipart, { limits: { fileSize: 50 * 1024 * 1024, files: 10 } });
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: { title: "Dropdesk API", version: "1", description: "After-sales and fulfilment for dropshipping merchants." },
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer" },
          session: { type: "apiKey", in: "cookie", name: "dd_session" },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: "/api/docs" });

  const registry = new client.Registry();
  // The event-loop delay is sampled every 100 ms (prom-client's default, 10 ms, wakes an idle
  // server a hundred times a second: 0.8 % of a core on these machines with nothing to do).
  client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  const httpDuration = new client.Histogram({
    name: "dropdesk_http_request_duration_seconds",
    help: "HTTP request duration by route and status",
    labelNames: ["method", "route", "status"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  app.addHook("onRequest", async (req, reply) => {
    const cfg = req.routeOptions.config;
    if (!req.routeOptions.url || cfg.public || !(req.url.startsWith("/api/v1") || req.url.startsWith("/portal/api"))) return;
    const actor = await resolveActor(deps, req);
    if (!actor) throw new AppError("unauthorized", { en: "sign in or send a valid API token", "zh-CN": "请先登录，或提供有效的 API 令牌" });
    if (MUTATING.has(req.method)) assertSameOrigin(req);
    const allowed = cfg.roles ?? [];
    if (!allowed.includes(actor.role as Role)) {
      throw new AppError("forbidden", `the ${actor.role} role may not ${req.method} ${req.routeOptions.url}`);
    }
    req.actor = actor;
    void reply;
  });

  // Idempotency runs after validation, so a malformed request never reserves a key.
  app.addHook("preHandler", async (req, reply) => {
    if (!MUTATING.has(req.method) || !req.actor) return;
    await beginIdempotent(deps, req, reply, req.actor);
  });
  app.addHook("onSend", async (req, reply, payload) => {
    if (req.idempotency) await finishIdempotent(deps, req, reply, payload);
    return payload;
  });
  app.addHook("onSend", async (_req, reply, payload) => {
    setSecurityHeaders(reply);
    return payload;
  });
  app.addHook("onResponse", async (req, reply) => {
    // Work a capability queued to run after its transaction committed (e.g. calling a gateway).
    for (const hook of (deps.services.afterResponse as (() => Promise<void>)[] | undefined) ?? []) {
      await hook().catch((err) => req.log.error({ err }, "after-response work failed"));
    }
    httpDuration.observe(
      { method: req.method, route: req.routeOptions.url ?? "unknown", status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  // Text no column can hold (U+0000) or that is not Unicode (a lone surrogate) is refused before
  // validation on every route, naming the field, instead of failing deep in the database.
  app.addHook("preValidation", async (req) => refuseBadText(req));

  app.setErrorHandler((err, req, reply) => {
    const locale = localeOf(req.headers["accept-language"]);
    if (err instanceof AppError) {
      const retryAfter = err.details?.retryAfterSeconds;
      if (typeof retryAfter === "number") reply.header("retry-after", String(retryAfter));
      return reply
        .code(err.status)
        .send({ error: { code: err.code, message: err.messageIn(locale), details: localizedDetails(err.details, locale) } });
    }
    // An upload that is not multipart, or is cut short: the request's fault, naming `file`.
    const upload = uploadError(err as { code?: string; message?: string });
    if (upload) return reply.code(upload.status).send({ error: { code: upload.code, message: upload.message, details: upload.details } });
    if (hasZodFastifySchemaValidationErrors(err)) {
      const fields = err.validation.map((v) => {
        const path = String(v.instancePath ?? "")
          .replace(/^\//, "")
          .replaceAll("/", ".");
        const field =
          [err.validationContext === "body" ? "" : err.validationContext, path].filter(Boolean).join(".") || String(err.validationContext);
        const params = v.params as { issue?: { keys?: string[] } } | undefined;
        const keys = params?.issue?.keys;
        const issue = (v.params as { issue?: Parameters<typeof zodZh.localeError>[0] } | undefined)?.issue;
        const zh = issue ? zodMessage(zodZh.localeError(issue)) : undefined;
        return {
          field: keys?.length ? [field === "body" ? "" : field, keys.join(",")].filter(Boolean).join(".") : field,
          message: locale === "en" ? (v.message ?? "invalid") : (zh ?? "此项填写有误"),
        };
      });
      return reply.code(400).send({
        error: {
          code: "validation_failed",
          message:
            locale === "en"
              ? `invalid ${fields.map((f) => f.field).join(", ")}: ${fields[0]?.message}`
              : `${ERRORS.validation_failed["zh-CN"]}：${fields.map((f) => f.field).join("、")}（${fields[0]?.message}）`,
          details: { fields },
        },
      });
    }
    const e = err as { statusCode?: number; code?: string; message?: string };
    if (e.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      // An oversized JSON body is a validation failure of the body, like any other.
      return reply.code(400).send({
        error: {
          code: "validation_failed",
          message: "body: larger than the 1 MB a request may carry",
          details: { fields: [{ field: "body", message: "larger than 1 MB" }] },
        },
      });
    }
    if (e.code === "FST_REQ_FILE_TOO_LARGE") {
      return reply
        .code(413)
        .send({ error: { code: "payload_too_large", message: "file: the upload is too large", details: { field: "file" } } });
    }
    if (e.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      return reply.code(415).send({ error: { code: "unsupported_media_type", message: "send application/json or multipart/form-data" } });
    }
    if (e.statusCode === 400 || e.code === "FST_ERR_CTP_EMPTY_JSON_BODY" || e.code === "FST_ERR_CTP_INVALID_JSON_BODY") {
      return reply.code(400).send({
        error: {
          code: "validation_failed",
          message: `body: ${e.message ?? "malformed request"}`,
          details: { fields: [{ field: "body", message: e.message }] },
        },
      });
    }
    // A unique key raced by two requests means the other one won: a conflict, not a crash.
    const pgCode = (err as { code?: string }).code;
    if (pgCode === "23505")
      return reply.code(409).send({
        error: {
          code: "conflict",
          message:
            locale === "en" ? "this was just changed by another request; reload and try again" : "数据刚被其他操作修改，请刷新后重试",
        },
      });
    if (pgCode === "40001" || pgCode === "40P01")
      return reply
        .code(409)
        .send({ error: { code: "conflict", message: locale === "en" ? "concurrent change, try again" : "数据刚被其他操作修改，请重试" } });
    if (pgCode === "23514" || pgCode === "23503") {
      req.log.warn({ err }, "constraint refused a write");
      return reply.code(409).send({
        error: {
          code: "conflict",
          message: locale === "en" ? "the change breaks a rule of the data and was not made" : "这项修改违反了数据规则，没有保存",
        },
      });
    }
    req.log.error({ err }, "unhandled error");
    return reply.code(500).send({ error: { code: "internal", message: ERRORS.internal[locale] } });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: { code: "not_found", message: `no route ${req.method} ${req.url.split("?")[0]}` } });
  });

  app.get("/health", { config: { public: true }, schema: { hide: true } }, async (_req, reply) => {
    try {
      await deps.h.query("SELECT 1");
      return { status: "ok" };
    } catch {
      return reply.code(503).send({ status: "unavailable" });
    }
  });
  app.get("/metrics", { config: { public: true }, schema: { hide: true } }, async (req, reply) => {
    await assertMayReadMetrics(deps, req);
    reply.type(registry.contentType);
    return registry.metrics();
  });
  app.get("/api/openapi.json", { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  // The route table, kept for the role-matrix tests and the docs.
  const routeTable: { method: string; url: string; roles: readonly string[]; public: boolean }[] = [];
  app.addHook("onRoute", (r) => {
    // Handlers run in the request's scope, so that the transactions they commit are recorded
    // against its Idempotency-Key (src/platform/idempotency.ts).
    const handler = r.handler;
    r.handler = function (this: unknown, req, reply) {
      return runInRequestScope(req, () => handler.call(this as never, req, reply));
    };
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    for (const m of methods) {
      if (m === "HEAD") continue;
      routeTable.push({ method: m, url: r.url, roles: r.config?.roles ?? [], public: Boolean(r.config?.public) });
    }
  });
  deps.services.routeTable = routeTable;
  for (const m of modules) await m(app, deps);
  const stopWatching = await watchCredentialChanges(deps);
  app.addHook("onClose", stopWatching);
  return app;
}
