import { z } from "zod";
import { REFUND_METHODS } from "../domain/vocabulary.js";
import type { Deps } from "../platform/context.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { pageQuery, sendCsv, wantsCsv } from "../platform/list.js";
import { gatewayQueue, retryNow } from "./gateways/queue.js";
import { goodwillRefund } from "./goodwill.service.js";
import { trialBalance } from "./ledger.js";
import { caseLedger, listPostings, orderLedger } from "./ledger.view.js";
import { GoodwillBody, PostingListQuery, RefundListQuery } from "./money.schemas.js";
import { listCoupons, listRefunds } from "./refund.view.js";
import { quoteCaseRefund, reconcileRefunds, refundAction, refundView } from "./refunds.js";
import { sandboxCallback } from "./sandbox.js";

const idParam = z.object({ id: z.string().uuid() });

export function moneyRoutes(app: ZApp, deps: Deps) {
  app.get(
    "/api/v1/cases/:id/refund-quote",
    {
      config: { roles: ["admin", "cs", "finance", "viewer"] },
      schema: { tags: ["money"], params: idParam, querystring: z.strictObject({ method: z.enum(REFUND_METHODS).optional() }) },
    },
    async (req) => quoteCaseRefund(deps.db, actorOf(req).tenantId, req.params.id, { preference: req.query.method }),
  );

  app.get(
    "/api/v1/refunds",
    { config: { roles: ["admin", "cs", "finance", "viewer"] }, schema: { tags: ["money"], querystring: RefundListQuery } },
    async (req, reply) => {
      const fetch = (cursor: string | undefined, limit: number) => listRefunds(deps, actorOf(req), req.query, cursor, limit);
      if (wantsCsv(req)) return sendCsv(reply, "refunds", fetch);
      return fetch(req.query.cursor, req.query.limit);
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
    { config: { roles: ["admin", "cs", "finance"] }, schema: { tags: ["money"], params: idParam, body: GoodwillBody } },
    async (req) => goodwillRefund(deps, actorOf(req), req.params.id, req.body),
  );

  app.post("/api/v1/gateways/sandbox/callback", { config: { public: true }, schema: { hide: true } }, async (req, reply) =>
    reply.send(await sandboxCallback(deps, req.body, String(req.headers["dropdesk-signature"] ?? ""))),
  );

  // Ledger ------------------------------------------------------------------------------------
  app.get(
    "/api/v1/orders/:id/ledger",
    { config: { roles: ["admin", "finance", "cs", "viewer"] }, schema: { tags: ["money"], params: idParam } },
    async (req) => orderLedger(deps, actorOf(req), req.params.id),
  );
  app.get(
    "/api/v1/cases/:id/ledger",
    { config: { roles: ["admin", "finance", "cs", "viewer"] }, schema: { tags: ["money"], params: idParam } },
    async (req) => caseLedger(deps, actorOf(req), req.params.id),
  );
  app.get("/api/v1/ledger/trial-balance", { config: { roles: ["admin", "finance"] }, schema: { tags: ["money"] } }, async (req) =>
    trialBalance(deps.db, actorOf(req).tenantId),
  );
  app.get(
    "/api/v1/ledger/postings",
    { config: { roles: ["admin", "finance"] }, schema: { tags: ["money"], querystring: PostingListQuery } },
    async (req, reply) => {
      const fetch = (cursor: string | undefined, limit: number) => listPostings(deps, actorOf(req), req.query, cursor, limit);
      if (wantsCsv(req)) return sendCsv(reply, "postings", fetch);
      return fetch(req.query.cursor, req.query.limit);
    },
  );

  app.get(
    "/api/v1/coupons",
    { config: { roles: ROLES.staff }, schema: { tags: ["money"], querystring: z.strictObject({ ...pageQuery }) } },
    async (req, reply) => {
      const fetch = (cursor: string | undefined, limit: number) => listCoupons(deps, actorOf(req), cursor, limit);
      if (wantsCsv(req)) return sendCsv(reply, "coupons", fetch);
      return fetch(req.query.cursor, req.query.limit);
    },
  );
}
