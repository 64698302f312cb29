import { timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { CONNECTOR_KINDS } from "../connectors/context.js";
import { REFUND_KINDS, REFUND_METHODS, REFUND_STATUSES } from "../domain/vocabulary.js";
import { audit } from "../platform/audit.js";
import type { Actor, Deps, DomainEvent } from "../platform/context.js";
import type { Tx } from "../platform/db.js";
import { AppError, notFound, validation } from "../platform/errors.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { keysetPage, pageQuery, sendCsv, wantsCsv } from "../platform/list.js";
import { installationSecret } from "../platform/secrets.js";
import { registerPaymentKinds } from "./gateways/kinds.js";
import { gatewayQueue, retryNow } from "./gateways/queue.js";
import { routedGateway } from "./gateways/route.js";
import { gateways, type RefundGateway, SandboxGateway, signSandbox } from "./gateways.js";
import { trialBalance } from "./ledger.js";
import {
  createOrderRefund,
  executeRefund,
  quoteCaseRefund,
  reconcileRefunds,
  refundAction,
  refundOut,
  refundView,
  sendAfterCommit,
  settleRefund,
} from "./refunds.js";

const idParam = z.object({ id: z.string().uuid() });

/**
 * The key that signs the sandbox gateway's callbacks: `DROPDESK_SANDBOX_GATEWAY_SECRET` when set,
 * otherwise one the installation made at random on first start and keeps in its database.
 */
export const sandboxSecretOf = (deps: Deps): string => {
  const s = deps.services.sandboxSecret;
  if (typeof s !== "string" || !s) throw new Error("the sandbox gateway's secret is not set up");
  return s;
};

/** Wires the payment gateways, the cancellation refunds and reconciliation into the application. */
export async function setupMoney(deps: Deps) {
  const secret = deps.config.sandboxGatewaySecret || (await installationSecret(deps.db, "sandbox_gateway_secret"));
  deps.services.sandboxSecret = secret;
  const sandbox = new SandboxGateway({
    secret,
    confirmAfterMs: Number(process.env.DROPDESK_SANDBOX_CONFIRM_MS ?? 300),
    failEvery: Number(process.env.DROPDESK_SANDBOX_FAIL_EVERY ?? 0) || undefined,
    onCallback: async (body, signature) => {
      await handleSandboxCallback(deps, body, signature);
    },
  });
  const made: Record<string, RefundGateway> = { ...gateways(deps), sandbox };
  // Shops with payment connectors refund by the original route through them (src/money/gateways/route.ts).
  deps.services.gateways = { ...made, sandbox: routedGateway(deps, sandbox), manual: routedGateway(deps, made.manual) };
  registerPaymentKinds(CONNECTOR_KINDS);
  const pendingRefunds: string[] = [];
  deps.eventSinks.push(async (tx: Tx, e: DomainEvent) => {
    if (e.type !== "order.cancelled") return;
    const due = Number(e.data.refundDue ?? 0);
    if (due <= 0) return;
    const actor: Actor = { kind: "system", id: String(e.data.actorId ?? "system"), tenantId: e.tenantId, role: "system", locale: "zh-CN" };
    const r = await createOrderRefund(tx, deps, actor, {
      orderId: e.entityId,
      amount: due,
      kind: "cancellation",
      reason: String(e.data.reason ?? "order cancelled before shipping"),
    });
    pendingRefunds.push(r.id);
  });
  // Refunds started by a cancellation inside an order transaction go out once it has committed;
  // one that never does (a crash, a rollback) is found again by reconciliation.
  deps.services.afterResponse ??= [];
  const after = deps.services.afterResponse as (() => Promise<void>)[];
  after.push(async () => {
    while (pendingRefunds.length) await sendAfterCommit(deps, pendingRefunds.shift() as string);
  });
  deps.services.reconcileRefunds = () => reconcileRefunds(deps);
  if (deps.config.workers) {
    // Refunds left processing by a crash are asked about at start-up and then every minute.
    const run = () => void reconcileRefunds(deps).catch(() => {});
    setTimeout(run, 1000).unref();
    setInterval(run, 60_000).unref();
  }
}

/**
 * A signed answer of the sandbox gateway. It settles only a refund sent through the sandbox: a
 * manual refund waits for finance's bank reference, and no other gateway's refund is the sandbox's
 * to settle, whatever the key.
 */
async function handleSandboxCallback(deps: Deps, body: string, signature: string) {
  const expected = Buffer.from(signSandbox(sandboxSecretOf(deps), body));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new AppError("unauthorized", "bad gateway signature");
  const msg = JSON.parse(body) as { key?: unknown; status?: unknown; reference?: unknown };
  if (typeof msg.key !== "string" || (msg.status !== "succeeded" && msg.status !== "failed"))
    throw new AppError("validation_failed", "a callback carries a key and a status of succeeded or failed");
  const r = await deps.db
    .selectFrom("refunds")
    .select("id")
    .where("gateway_key", "=", msg.key)
    .where("gateway", "=", "sandbox")
    .executeTakeFirst();
  if (!r) throw notFound("sandbox refund");
  return settleRefund(deps, r.id, msg.status, typeof msg.reference === "string" ? msg.reference : undefined);
}

export function moneyRoutes(app: ZApp, deps: Deps) {
  app.get(
    "/api/v1/cases/:id/refund-quote",
    {
      config: { roles: ["admin", "cs", "finance", "viewer"] },
      schema: { tags: ["money"], params: idParam, querystring: z.strictObject({ method: z.enum(REFUND_METHODS).optional() }) },
    },
    async (req) => quoteCaseRefund(deps.db, actorOf(req).tenantId, req.params.id, { preference: req.query.method }),
  );

  const listQuery = z.strictObject({
    ...pageQuery,
    status: z.enum(REFUND_STATUSES).optional(),
    orderId: z.string().uuid().optional(),
    caseId: z.string().uuid().optional(),
    kind: z.enum(REFUND_KINDS).optional(),
  });
  app.get(
    "/api/v1/refunds",
    { config: { roles: ["admin", "cs", "finance", "viewer"] }, schema: { tags: ["money"], querystring: listQuery } },
    async (req, reply) => {
      const a = actorOf(req);
      const f = req.query;
      const fetch = async (cursor: string | undefined, limit: number) => {
        let q = deps.db.selectFrom("refunds").selectAll().where("tenant_id", "=", a.tenantId);
        if (f.status) q = q.where("status", "=", f.status);
        if (f.orderId) q = q.where("order_id", "=", f.orderId);
        if (f.caseId) q = q.where("case_id", "=", f.caseId);
        if (f.kind) q = q.where("kind", "=", f.kind);
        const page = await keysetPage(q, "id", cursor, limit);
        return { ...page, items: page.items.map(refundOut) };
      };
      if (wantsCsv(req)) return sendCsv(reply, "refunds", fetch);
      return fetch(f.cursor, f.limit);
    },
  );
  app.get(
    "/api/v1/refunds/:id",
    { config: { roles: ["admin", "cs", "finance", "viewer"] }, schema: { tags: ["money"], params: idParam } },
    async (req) => refundView(deps.db, actorOf(req), req.params.id),
  );
  app.post(
    "/api/v1/refunds/:id/actions/confirm",
    {
      config: { roles: ROLES.finance },
      schema: { tags: ["money"], params: idParam, body: z.strictObject({ reference: z.string().min(1).max(200) }) },
    },
    async (req) => refundAction(deps, actorOf(req), req.params.id, "confirm", req.body),
  );
  app.post(
    "/api/v1/refunds/:id/actions/retry",
    { config: { roles: ROLES.finance }, schema: { tags: ["money"], params: idParam, body: z.strictObject({}).nullish() } },
    async (req) => refundAction(deps, actorOf(req), req.params.id, "retry", {}),
  );
  app.get("/api/v1/refunds/gateway-queue", { config: { roles: ["admin", "finance"] }, schema: { tags: ["money"] } }, async (req) =>
    gatewayQueue(deps, actorOf(req).tenantId),
  );
  app.post(
    "/api/v1/refunds/:id/actions/retry-now",
    { config: { roles: ["admin", "finance"] }, schema: { tags: ["money"], params: idParam, body: z.strictObject({}).nullish() } },
    async (req) => retryNow(deps, actorOf(req), req.params.id),
  );
  app.post("/api/v1/refunds/reconcile", { config: { roles: ROLES.finance }, schema: { tags: ["money"] } }, async () => ({
    settled: await reconcileRefunds(deps),
  }));

  app.post(
    "/api/v1/orders/:id/actions/goodwill-refund",
    {
      config: { roles: ["admin", "cs", "finance"] },
      schema: {
        tags: ["money"],
        params: idParam,
        body: z.strictObject({
          amount: z.number().int().min(1).max(1e11),
          reason: z.string().min(1).max(500),
          method: z.enum(REFUND_METHODS).optional(),
        }),
      },
    },
    async (req) => {
      const a = actorOf(req);
      const o = await deps.db
        .selectFrom("orders")
        .select(["id", "status"])
        .where("tenant_id", "=", a.tenantId)
        .where("id", "=", req.params.id)
        .executeTakeFirst();
      if (!o) throw notFound("order");
      const r = await deps.db.transaction().execute(async (tx) => {
        const made = await createOrderRefund(tx, deps, a, {
          orderId: o.id,
          amount: req.body.amount,
          kind: "goodwill",
          reason: req.body.reason,
          method: req.body.method,
        });
        await audit(tx, a, "order.goodwill-refund", "order", o.id, undefined, req.body);
        return made;
      });
      await executeRefund(deps, r.id);
      return refundView(deps.db, a, r.id);
    },
  );

  app.post("/api/v1/gateways/sandbox/callback", { config: { public: true }, schema: { hide: true } }, async (req, reply) => {
    const signature = String(req.headers["dropdesk-signature"] ?? "");
    if (req.body === undefined) throw validation("body", "send the gateway's signed JSON message");
    const body = JSON.stringify(req.body);
    const ok = await handleSandboxCallback(deps, body, signature);
    return reply.send({ ok });
  });

  // Ledger ------------------------------------------------------------------------------------
  const postingsOf = async (tenantId: string, where: { orderId?: string; caseId?: string }) => {
    let q = deps.db.selectFrom("ledger_postings").selectAll().where("tenant_id", "=", tenantId);
    if (where.orderId) q = q.where("order_id", "=", where.orderId);
    if (where.caseId) q = q.where("case_id", "=", where.caseId);
    const postings = await q.orderBy("at").orderBy("id").execute();
    const entries = postings.length
      ? await deps.db
          .selectFrom("ledger_entries")
          .select(["posting_id", "account", "amount"])
          .where(
            "posting_id",
            "in",
            postings.map((p) => p.id),
          )
          .execute()
      : [];
    const items = postings.map((p) => ({
      id: p.id,
      code: p.code,
      memo: p.memo,
      currency: p.currency,
      at: p.at,
      orderId: p.order_id,
      caseId: p.case_id,
      refundId: p.refund_id,
      claimId: p.claim_id,
      entries: entries.filter((e) => e.posting_id === p.id).map((e) => ({ account: e.account, amount: Number(e.amount) })),
    }));
    const sum = (acc: string[]) => entries.filter((e) => acc.includes(e.account)).reduce((s, e) => s + Number(e.amount), 0);
    // P&L from the merchant's side: what came in, what went back out, what the supplier returns.
    const pnl = {
      revenue: -sum(["revenue"]),
      refunds: sum(["customer_refunds"]),
      costOfGoods: sum(["cost_of_goods"]),
      freight: sum(["freight_expense"]),
      compensation: sum(["compensation_expense"]),
      recoveredFromSupplier: sum(["supplier_claims_receivable"]),
    };
    return { items, pnl };
  };
  app.get(
    "/api/v1/orders/:id/ledger",
    { config: { roles: ["admin", "finance", "cs", "viewer"] }, schema: { tags: ["money"], params: idParam } },
    async (req) => {
      const a = actorOf(req);
      if (
        !(await deps.db
          .selectFrom("orders")
          .select("id")
          .where("tenant_id", "=", a.tenantId)
          .where("id", "=", req.params.id)
          .executeTakeFirst())
      )
        throw notFound("order");
      const r = await postingsOf(a.tenantId, { orderId: req.params.id });
      return {
        postings: r.items,
        pnl: { ...r.pnl, net: r.pnl.revenue - r.pnl.refunds - r.pnl.costOfGoods - r.pnl.freight - r.pnl.compensation },
      };
    },
  );
  app.get(
    "/api/v1/cases/:id/ledger",
    { config: { roles: ["admin", "finance", "cs", "viewer"] }, schema: { tags: ["money"], params: idParam } },
    async (req) => {
      const a = actorOf(req);
      const c = await deps.db
        .selectFrom("cases")
        .select(["id", "order_id"])
        .where("tenant_id", "=", a.tenantId)
        .where("id", "=", req.params.id)
        .executeTakeFirst();
      if (!c) throw notFound("case");
      const r = await postingsOf(a.tenantId, { caseId: c.id });
      const cost = r.pnl.refunds + r.pnl.costOfGoods + r.pnl.freight + r.pnl.compensation;
      const recovered = r.pnl.recoveredFromSupplier;
      return {
        postings: r.items,
        pnl: {
          ...r.pnl,
          cost,
          recovered,
          net: cost - recovered,
          summary: `this case cost ${(cost / 100).toFixed(2)}, ${(recovered / 100).toFixed(2)} recovered from the supplier`,
        },
      };
    },
  );
  app.get("/api/v1/ledger/trial-balance", { config: { roles: ["admin", "finance"] }, schema: { tags: ["money"] } }, async (req) =>
    trialBalance(deps.db, actorOf(req).tenantId),
  );
  app.get(
    "/api/v1/ledger/postings",
    {
      config: { roles: ["admin", "finance"] },
      schema: {
        tags: ["money"],
        querystring: z.strictObject({
          ...pageQuery,
          code: z.string().max(60).optional(),
          orderId: z.string().uuid().optional(),
          caseId: z.string().uuid().optional(),
          /** Postings at or after this moment (ISO date or date-time). */
          from: z.iso
            .date()
            .or(z.iso.datetime({ offset: true }))
            .optional(),
          /** Postings before this moment (ISO date or date-time). */
          to: z.iso
            .date()
            .or(z.iso.datetime({ offset: true }))
            .optional(),
        }),
      },
    },
    async (req, reply) => {
      const a = actorOf(req);
      const f = req.query;
      const fetch = async (cursor: string | undefined, limit: number) => {
        let q = deps.db.selectFrom("ledger_postings").selectAll().where("tenant_id", "=", a.tenantId);
        if (f.code) q = q.where("code", "=", f.code);
        if (f.orderId) q = q.where("order_id", "=", f.orderId);
        if (f.caseId) q = q.where("case_id", "=", f.caseId);
        if (f.from) q = q.where("at", ">=", new Date(f.from));
        if (f.to) q = q.where("at", "<", new Date(f.to));
        const page = await keysetPage(q, "id", cursor, limit);
        return {
          ...page,
          items: page.items.map((p) => ({
            id: p.id,
            code: p.code,
            memo: p.memo,
            currency: p.currency,
            orderId: p.order_id,
            caseId: p.case_id,
            refundId: p.refund_id,
            at: p.at,
          })),
        };
      };
      if (wantsCsv(req)) return sendCsv(reply, "postings", fetch);
      return fetch(f.cursor, f.limit);
    },
  );

  app.get(
    "/api/v1/coupons",
    { config: { roles: ROLES.staff }, schema: { tags: ["money"], querystring: z.strictObject({ ...pageQuery }) } },
    async (req, reply) => {
      const a = actorOf(req);
      const fetch = async (cursor: string | undefined, limit: number) => {
        const q = deps.db.selectFrom("coupons").selectAll().where("tenant_id", "=", a.tenantId);
        const page = await keysetPage(q, "id", cursor, limit);
        return {
          ...page,
          items: page.items.map((x) => ({
            id: x.id,
            code: x.code,
            amount: Number(x.amount),
            caseId: x.case_id,
            customerId: x.customer_id,
            expiresAt: x.expires_at,
            usedAt: x.used_at,
          })),
        };
      };
      if (wantsCsv(req)) return sendCsv(reply, "coupons", fetch);
      return fetch(req.query.cursor, req.query.limit);
    },
  );
}
