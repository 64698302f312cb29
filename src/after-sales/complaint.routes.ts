import { z } from "zod";
import { COMPLAINT_STATUSES, SEVERITIES } from "../domain/vocabulary.js";
import type { Deps } from "../platform/context.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { pageQuery, sendCsv, wantsCsv } from "../platform/list.js";
import { createComplaint, listComplaints, runComplaintAction } from "./complaint.service.js";
import { COMPLAINT_MACHINE, type ComplaintAction } from "./complaint.states.js";

const idParam = z.object({ id: z.string().uuid() });

const ComplaintBody = z.strictObject({
  orderId: z.string().uuid().optional(),
  caseId: z.string().uuid().optional(),
  severity: z.enum(SEVERITIES).default("medium"),
  subject: z.string().min(1).max(200),
  description: z.string().max(4000).default(""),
  ownerId: z.string().uuid().optional(),
});

const ACTION_BODIES: Record<ComplaintAction, z.ZodType> = {
  assign: z.strictObject({ ownerId: z.string().uuid() }),
  resolve: z.strictObject({ resolution: z.string().min(1).max(4000) }),
  close: z.strictObject({}).nullish(),
};

export function complaintRoutes(app: ZApp, deps: Deps) {
  app.get(
    "/api/v1/complaints",
    {
      config: { roles: ROLES.staff },
      schema: { tags: ["complaints"], querystring: z.strictObject({ ...pageQuery, status: z.enum(COMPLAINT_STATUSES).optional() }) },
    },
    async (req, reply) => {
      const a = actorOf(req);
      const fetch = (cursor: string | undefined, limit: number) => listComplaints(deps, a, { status: req.query.status, cursor, limit });
      if (wantsCsv(req)) return sendCsv(reply, "complaints", fetch);
      return fetch(req.query.cursor, req.query.limit);
    },
  );
  app.post(
    "/api/v1/complaints",
    { config: { roles: ROLES.staffWrite }, schema: { tags: ["complaints"], body: ComplaintBody } },
    async (req, reply) => reply.code(201).send(await createComplaint(deps, actorOf(req), req.body)),
  );
  for (const [name, body] of Object.entries(ACTION_BODIES) as [ComplaintAction, z.ZodType][]) {
    app.post(
      `/api/v1/complaints/:id/actions/${name}`,
      { config: { roles: COMPLAINT_MACHINE.roles[name] }, schema: { tags: ["complaints"], params: idParam, body } },
      async (req) =>
        runComplaintAction(deps, actorOf(req), req.params.id, name, (req.body ?? {}) as { ownerId?: string; resolution?: string }),
    );
  }
}
