import { z } from "zod";
import { createCase } from "../after-sales/case.create.js";
import { CaseBody } from "../after-sales/case.routes.js";
import { runCaseAction } from "../after-sales/case.service.js";
import { caseView } from "../after-sales/case.view.js";
import { readUpload, sendEvidence, storeEvidence } from "../after-sales/evidence.service.js";
import { orderView } from "../orders/order.view.js";
import { signPortalToken } from "../platform/auth.js";
import type { Deps } from "../platform/context.js";
import { AppError, notFound } from "../platform/errors.js";
import { actorOf, type ZApp } from "../platform/http.js";
import { type Backoff, checkBackoff, clearFailures, rateLimit, recordFailure } from "../platform/rate-limit.js";
import { orderEligibility } from "../policies/policy.repo.js";
import { REASONS } from "../policies/rules.js";

const LOOKUP_BACKOFF: Backoff = { free: 5, firstDelaySeconds: 1, maxDelaySeconds: 30, forgetAfterSeconds: 900 };

const CUSTOMER = { roles: ["customer"] as const };
const idParam = z.object({ id: z.string().uuid() });

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
        body: z.strictObject({
          platformOrderNo: z.string().min(1).max(100),
          phoneLast4: z
            .string()
            .regex(/^\d{4}$/)
            .optional(),
          email: z.string().email().max(200).optional(),
        }),
      },
    },
    async (req) => {
      const b = req.body;
      if (!b.phoneLast4 && !b.email)
        throw new AppError(
          "validation_failed",
          { en: "phoneLast4: give the last 4 digits of the phone, or the email", "zh-CN": "请填写手机号后 4 位或邮箱" },
          { fields: [{ field: "phoneLast4", message: "phoneLast4 or email required", zh: "请填写手机号后 4 位或邮箱" }] },
        );
      // Per address a fixed window; per order number an escalating wait after wrong answers
      // (at most 30 s), so guessing the last four digits is slow and the customer is never locked out.
      await rateLimit(deps, `portal:${req.ip}`, 20, 300);
      const orderKey = `portal-order:${b.platformOrderNo}`;
      await checkBackoff(deps, orderKey, LOOKUP_BACKOFF);
      const orders = await deps.db
        .selectFrom("orders as o")
        .innerJoin("tenants as t", "t.id", "o.tenant_id")
        .select(["o.id", "o.tenant_id", "o.customer", "t.portal_secret"])
        .where("o.platform_order_no", "=", b.platformOrderNo)
        .limit(20)
        .execute();
      const match = orders.find((o) => {
        const customer = o.customer as { phone?: string; email?: string } | null;
        const phone = String(customer?.phone ?? "").replace(/\D/g, "");
        if (b.phoneLast4) return phone.length >= 4 && phone.endsWith(b.phoneLast4);
        return String(customer?.email ?? "").toLowerCase() === b.email?.toLowerCase();
      });
      // The same answer for a wrong number and a wrong phone, so order numbers cannot be probed.
      if (!match) {
        await recordFailure(deps, orderKey, LOOKUP_BACKOFF);
        throw new AppError("not_found", {
          en: "no order matches this number and phone or email",
          "zh-CN": "没有找到与订单号和手机号（或邮箱）匹配的订单",
        });
      }
      await clearFailures(deps, orderKey);
      return { token: signPortalToken(match.portal_secret, match.tenant_id, match.id), orderId: match.id, expiresInSeconds: 7200 };
    },
  );

  app.get("/portal/api/order", { config: CUSTOMER, schema: { tags: ["portal"] } }, async (req) => {
    const a = actorOf(req);
    const o = await orderView(deps.db, a, a.orderId as string);
    const cases = await deps.db
      .selectFrom("cases")
      .select(["id", "case_no", "type", "reason", "status", "created_at"])
      .where("order_id", "=", a.orderId as string)
      .orderBy("created_at")
      .execute();
    return {
      id: o.id,
      platformOrderNo: o.platformOrderNo,
      status: o.status,
      currency: o.currency,
      paidTotal: o.paidTotal,
      deliveredAt: o.deliveredAt,
      lines: o.lines.map((l) => ({
        id: l.id,
        skuCode: l.skuCode,
        title: l.title,
        quantity: l.quantity,
        paidAmount: l.paidAmount,
        isGift: l.isGift,
      })),
      shipments: o.supplierOrders.map((s) => ({
        carrier: s.carrier,
        trackingNo: s.trackingNo,
        status: s.status,
        shippedAt: s.shippedAt,
        deliveredAt: s.deliveredAt,
      })),
      cases: cases.map((c) => ({ id: c.id, caseNo: c.case_no, type: c.type, reason: c.reason, status: c.status, createdAt: c.created_at })),
    };
  });

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
