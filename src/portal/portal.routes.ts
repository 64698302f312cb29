import { z } from "zod";
import { createCase } from "../after-sales/case.create.js";
import { CaseBody } from "../after-sales/case.routes.js";
import { runCaseAction } from "../after-sales/case.service.js";
import { caseView } from "../after-sales/case.view.js";
import { readUpload, sendEvidence, storeEvidence } from "../after-sales/evidence.service.js";
import type { Deps } from "../platform/context.js";
import { notFound } from "../platform/errors.js";
import { actorOf, type ZApp } from "../platform/http.js";
import { orderEligibility } from "../policies/policy.repo.js";
import { REASONS } from "../policies/rules.js";
import { lookupOrder, portalOrder } from "./portal.service.js";

const CUSTOMER = { roles: ["customer"] as const };
const idParam = z.object({ id: z.string().uuid() });

export const LookupBody = z.strictObject({
  platformOrderNo: z.string().min(1).max(100),
  phoneLast4: z
    .string()
    .regex(/^\d{4}$/)
    .optional(),
  email: z.string().email().max(200).optional(),
});

/**
 * The customer self-service portal: a customer proves they own an order with its number and the
 * last four digits of the phone (or the email) and gets a token that reaches only that order.
 */
export function portalRoutes(app: ZApp, deps: Deps) {
  app.post(
    "/portal/api/lookup",
    {
      config: { public: true },
      schema: {
        tags: ["portal"],
        body: LookupBody,
      },
    },
    async (req) => lookupOrder(deps, req.ip, req.body),
  );

  app.get("/portal/api/order", { config: CUSTOMER, schema: { tags: ["portal"] } }, async (req) => portalOrder(deps, actorOf(req)));

  app.get(
    "/portal/api/eligibility",
    { config: CUSTOMER, schema: { tags: ["portal"], querystring: z.strictObject({ reason: z.enum(REASONS).default("changed_mind") }) } },
    async (req) => {
      const a = actorOf(req);
      return orderEligibility(deps.db, a, a.orderId as string, { reason: req.query.reason, at: deps.clock.now() });
    },
  );

  app.post(
    "/portal/api/cases",
    { config: CUSTOMER, schema: { tags: ["portal"], body: CaseBody.omit({ at: true, channel: true }) } },
    async (req, reply) => {
      const a = actorOf(req);
      if (req.body.orderId !== a.orderId) throw notFound("order");
      return reply.code(201).send(await createCase(deps, a, { ...req.body, channel: "portal" }));
    },
  );

  app.get("/portal/api/cases/:id", { config: CUSTOMER, schema: { tags: ["portal"], params: idParam } }, async (req) =>
    caseView(deps.db, actorOf(req), req.params.id),
  );

  app.post(
    "/portal/api/cases/:id/evidence",
    { config: CUSTOMER, schema: { tags: ["portal"], params: idParam, consumes: ["multipart/form-data"] } },
    async (req, reply) => {
      const a = actorOf(req);
      await caseView(deps.db, a, req.params.id);
      return reply.code(201).send(await storeEvidence(deps, a, req.params.id, await readUpload(req)));
    },
  );

  app.get("/portal/api/evidence/:id", { config: CUSTOMER, schema: { tags: ["portal"], params: idParam } }, async (req, reply) =>
    sendEvidence(deps, actorOf(req), req.params.id, reply),
  );

  app.post(
    "/portal/api/cases/:id/return-shipment",
    {
      config: CUSTOMER,
      schema: {
        tags: ["portal"],
        params: idParam,
        body: z.strictObject({
          carrier: z.string().min(1).max(60),
          trackingNo: z.string().min(3).max(60),
          freight: z.number().int().min(0).max(100000).optional(),
        }),
      },
    },
    async (req) => runCaseAction(deps, actorOf(req), req.params.id, "ship-return", req.body),
  );

  for (const action of ["accept-offer", "cancel", "provide-info"] as const) {
    app.post(
      `/portal/api/cases/:id/actions/${action}`,
      {
        config: CUSTOMER,
        schema: { tags: ["portal"], params: idParam, body: z.strictObject({ note: z.string().max(2000).optional() }).nullish() },
      },
      async (req) => runCaseAction(deps, actorOf(req), req.params.id, action, req.body ?? {}),
    );
  }
}
