import { z } from "zod";
import { readUpload } from "../after-sales/evidence.service.js";
import { resolveRange } from "../analytics/analytics.js";
import type { Actor, Deps } from "../platform/context.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { sendCsv, wantsCsv } from "../platform/list.js";
import { FIRST_RESPONSE_PERIODS, firstResponseReport } from "./messages.analytics.js";
import {
  listMessages,
  MAX_ATTACHMENTS,
  MAX_BODY_CHARS,
  markRead,
  postMessage,
  sendAttachment,
  type Target,
  unreadSummary,
  uploadAttachment,
} from "./messages.service.js";
import { VISIBILITIES } from "./tables.js";

const idParam = z.object({ id: z.string().uuid() });
export const MessageBody = z.strictObject({
  body: z.string().max(MAX_BODY_CHARS).optional(),
  visibility: z.enum(VISIBILITIES).optional(),
  attachments: z.array(z.string().uuid()).max(MAX_ATTACHMENTS).optional(),
  quickReplyId: z.string().uuid().optional(),
});
const listQuery = z.strictObject({ visibility: z.enum(VISIBILITIES).optional() });
const readBody = z.strictObject({ visibility: z.enum(VISIBILITIES).optional() }).nullish();

/** Staff, and supplier users on their own cases, read threads; viewers read but do not write. */
const READ_ROLES = ROLES.anyStaffOrSupplier;
const WRITE_ROLES = ["admin", "cs", "warehouse", "finance", "supplier"] as const;
const STAFF_WRITE = ["admin", "cs", "warehouse", "finance"] as const;
const CUSTOMER = ["customer"] as const;

/**
 * One set of handlers per thread owner, mounted for staff and suppliers under /api/v1 and for the
 * customer under /portal/api: the service decides what each caller sees and may write.
 */
function threadRoutes(
  app: ZApp,
  deps: Deps,
  base: string,
  target: (params: { id?: string }, a: Actor) => Target,
  roles: { read: readonly string[]; write: readonly string[] },
) {
  const tags = [base.startsWith("/portal") ? "portal" : "conversations"];
  const params = base.includes(":id") ? idParam : z.object({});
  const cfg = (r: readonly string[]) => ({ roles: r as typeof READ_ROLES });
  app.get(`${base}/messages`, { config: cfg(roles.read), schema: { tags, params, querystring: listQuery } }, async (req) => {
    const a = actorOf(req);
    const t = target(req.params as { id?: string }, a);
    return { items: await listMessages(deps, a, t, { visibility: req.query.visibility }), nextCursor: null };
  });
  app.post(`${base}/messages`, { config: cfg(roles.write), schema: { tags, params, body: MessageBody } }, async (req, reply) => {
    const a = actorOf(req);
    return reply.code(201).send(await postMessage(deps, a, target(req.params as { id?: string }, a), req.body));
  });
  app.post(`${base}/messages/actions/read`, { config: cfg(roles.read), schema: { tags, params, body: readBody } }, async (req) => {
    const a = actorOf(req);
    return markRead(deps, a, target(req.params as { id?: string }, a), req.body?.visibility);
  });
  app.post(
    `${base}/messages/attachments`,
    { config: cfg(roles.write), schema: { tags, params, consumes: ["multipart/form-data"] } },
    async (req, reply) => {
      const a = actorOf(req);
      return reply.code(201).send(await uploadAttachment(deps, a, target(req.params as { id?: string }, a), await readUpload(req)));
    },
  );
}

export function messageRoutes(app: ZApp, deps: Deps) {
  const caseTarget = (p: { id?: string }): Target => ({ caseId: p.id as string });
  threadRoutes(app, deps, "/api/v1/cases/:id", caseTarget, { read: READ_ROLES, write: WRITE_ROLES });
  threadRoutes(app, deps, "/api/v1/orders/:id", (p) => ({ orderId: p.id as string }), { read: ROLES.staff, write: STAFF_WRITE });
  threadRoutes(app, deps, "/portal/api/cases/:id", caseTarget, { read: CUSTOMER, write: CUSTOMER });
  // The portal's order thread: questions before (or beside) any case, on the token's own order.
  threadRoutes(app, deps, "/portal/api", (_p, a) => ({ orderId: a.orderId as string }), { read: CUSTOMER, write: CUSTOMER });

  app.get(
    "/api/v1/message-attachments/:id",
    { config: { roles: READ_ROLES }, schema: { tags: ["conversations"], params: idParam } },
    (req, reply) => sendAttachment(deps, actorOf(req), req.params.id, reply),
  );
  app.get(
    "/portal/api/message-attachments/:id",
    { config: { roles: CUSTOMER }, schema: { tags: ["portal"], params: idParam } },
    (req, reply) => sendAttachment(deps, actorOf(req), req.params.id, reply),
  );

  // What the caller has not read: staff across the tenant (the console's badge), a supplier across
  // its cases, a customer across the order's cases and its own thread.
  app.get("/api/v1/messages/unread", { config: { roles: READ_ROLES }, schema: { tags: ["conversations"] } }, (req) =>
    unreadSummary(deps, actorOf(req)),
  );
  app.get("/portal/api/messages/unread", { config: { roles: CUSTOMER }, schema: { tags: ["portal"] } }, (req) =>
    unreadSummary(deps, actorOf(req)),
  );

  const date = z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, "a date YYYY-MM-DD")
    .max(10);
  app.get(
    "/api/v1/analytics/first-response",
    {
      config: { roles: ["admin", "cs", "finance", "viewer"] },
      schema: {
        tags: ["analytics"],
        querystring: z.strictObject({
          from: date.optional(),
          to: date.optional(),
          shopId: z.string().uuid().optional(),
          groupBy: z.enum(FIRST_RESPONSE_PERIODS).optional(),
          format: z.enum(["json", "csv"]).optional(),
        }),
      },
    },
    async (req, reply) => {
      const a = actorOf(req);
      const r = await resolveRange(deps.db, a.tenantId, req.query, deps.clock.now());
      const report = await firstResponseReport(deps.db, r, deps.clock.now(), req.query.groupBy);
      if (wantsCsv(req)) {
        // One row per period, then the range's total, like the other analytics exports.
        const { items, groupBy: _, ...total } = report;
        const rows = [...items, { period: `${r.from}..${r.to}`, ...total }];
        return sendCsv(reply, "analytics-first-response", async () => ({ items: rows, nextCursor: null }));
      }
      return { range: { from: r.from, to: r.to, timeZone: r.tz }, ...report };
    },
  );
}
