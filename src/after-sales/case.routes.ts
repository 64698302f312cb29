import { z } from "zod";
import { caseMessageStats, messageFields } from "../conversations/messages.repo.js";
import { DISPOSITIONS, INSPECTION_GRADES, OFFER_KINDS, REFUND_METHODS, SEVERITIES } from "../domain/vocabulary.js";
import type { Deps } from "../platform/context.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { sendCsv, wantsCsv } from "../platform/list.js";
import { CASE_TYPES, REASONS, RESPONSIBILITIES } from "../policies/rules.js";
import { createCase } from "./case.create.js";
import { CaseListQuery, listCases } from "./case.list.js";
import { runCaseAction } from "./case.service.js";
import { actionRouteRoles, type CaseAction } from "./case.states.js";
import { caseView } from "./case.view.js";
import { readUpload, sendEvidence, storeEvidence } from "./evidence.service.js";

const idParam = z.object({ id: z.string().uuid() });
const money = z.number().int().min(0).max(1e11);

export const CaseBody = z.strictObject({
  orderId: z.string().uuid(),
  type: z.enum(CASE_TYPES),
  reason: z.enum(REASONS),
  lines: z
    .array(z.strictObject({ orderLineId: z.string().uuid(), quantity: z.number().int().min(1).max(100000) }))
    .min(1)
    .max(100),
  description: z.string().max(4000).default(""),
  channel: z.enum(["portal", "phone", "platform", "email", "chat", "api", "import"]).default("api"),
  at: z.string().datetime({ offset: true }).optional(),
  refundPreference: z.enum(REFUND_METHODS).optional(),
});

const note = z.string().max(2000);
/** Each action's body. */
export const ACTION_BODIES: Record<CaseAction, z.ZodType> = {
  approve: z.strictObject({ note: note.optional() }).nullish(),
  reject: z.strictObject({ note }),
  "request-info": z.strictObject({ note }),
  "provide-info": z.strictObject({ note }),
  "set-responsibility": z.strictObject({ responsibility: z.enum(RESPONSIBILITIES), note }),
  "ship-return": z.strictObject({
    carrier: z.string().min(1).max(60),
    trackingNo: z.string().min(3).max(60),
    freight: money.optional(),
    note: note.optional(),
  }),
  receive: z.strictObject({ note: note.optional(), trackingNo: z.string().max(60).optional() }).nullish(),
  inspect: z.strictObject({
    grade: z.enum(INSPECTION_GRADES),
    matchesOrder: z.boolean(),
    complete: z.boolean(),
    disposition: z.enum(DISPOSITIONS),
    deduction: z.strictObject({ amount: z.number().int().min(1).max(1e11), reason: z.string().min(1).max(500) }).optional(),
    note: note.optional(),
  }),
  refund: z.strictObject({ method: z.enum(REFUND_METHODS).optional(), note: note.optional() }).nullish(),
  "offer-compensation": z.strictObject({
    kind: z.enum(OFFER_KINDS),
    amount: money.default(0),
    note: note.optional(),
  }),
  "accept-offer": z.strictObject({ note: note.optional() }).nullish(),
  resolve: z.strictObject({ note: note.optional() }).nullish(),
  close: z.strictObject({ note: note.optional() }).nullish(),
  cancel: z.strictObject({ note: note.optional() }).nullish(),
  escalate: z.strictObject({ note: note.optional(), severity: z.enum(SEVERITIES).optional() }).nullish(),
  assign: z.strictObject({ assigneeId: z.string().uuid().nullable(), note: note.optional() }),
};

/** Stores one uploaded evidence file after checking what it really is and its size. */
export function caseRoutes(app: ZApp, deps: Deps) {
  app.post("/api/v1/cases", { config: { roles: ROLES.staffWrite }, schema: { tags: ["cases"], body: CaseBody } }, async (req, reply) =>
    reply.code(201).send(await createCase(deps, actorOf(req), req.body)),
  );

  app.get(
    "/api/v1/cases",
    { config: { roles: ROLES.anyStaffOrSupplier }, schema: { tags: ["cases"], querystring: CaseListQuery } },
    async (req, reply) => {
      const fetch = (cursor: string | undefined, limit: number) => listCases(deps, actorOf(req), req.query, cursor, limit);
      if (wantsCsv(req)) return sendCsv(reply, "cases", fetch);
      return fetch(req.query.cursor, req.query.limit);
    },
  );

  app.get(
    "/api/v1/cases/:id",
    { config: { roles: ROLES.anyStaffOrSupplier }, schema: { tags: ["cases"], params: idParam } },
    async (req) => {
      const a = actorOf(req);
      const view = await caseView(deps.db, a, req.params.id);
      return { ...view, ...messageFields((await caseMessageStats(deps.db, a, [view.id], deps.clock.now())).get(view.id)) };
    },
  );

  for (const action of Object.keys(ACTION_BODIES) as CaseAction[]) {
    app.post(
      `/api/v1/cases/:id/actions/${action}`,
      {
        config: { roles: actionRouteRoles(action) },
        schema: { tags: ["cases"], params: idParam, body: ACTION_BODIES[action] },
      },
      async (req) => runCaseAction(deps, actorOf(req), req.params.id, action, (req.body as Record<string, unknown>) ?? {}),
    );
  }

  app.post(
    "/api/v1/cases/:id/evidence",
    { config: { roles: ["admin", "cs", "warehouse"] }, schema: { tags: ["cases"], params: idParam, consumes: ["multipart/form-data"] } },
    async (req, reply) => {
      const a = actorOf(req);
      await caseView(deps.db, a, req.params.id);
      return reply.code(201).send(await storeEvidence(deps, a, req.params.id, await readUpload(req)));
    },
  );

  app.get(
    "/api/v1/evidence/:id",
    { config: { roles: ROLES.anyStaffOrSupplier }, schema: { tags: ["cases"], params: idParam } },
    async (req, reply) => sendEvidence(deps, actorOf(req), req.params.id, reply),
  );
}
