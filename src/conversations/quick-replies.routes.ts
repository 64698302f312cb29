import { z } from "zod";
import { audit } from "../platform/audit.js";
import type { Deps } from "../platform/context.js";
import { validation } from "../platform/errors.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { caseOwner, orderOwner } from "./messages.repo.js";
import { MAX_BODY_CHARS } from "./messages.service.js";
import {
  createQuickReply,
  deleteQuickReply,
  getQuickReply,
  listQuickReplies,
  QUICK_REPLY_VARIABLES,
  quickReplyVars,
  renderQuickReply,
  updateQuickReply,
} from "./quick-replies.js";
import { QUICK_REPLY_PURPOSES } from "./tables.js";

const idParam = z.object({ id: z.string().uuid() });
const title = z.string().trim().min(1).max(100);
const text = z.string().trim().min(1).max(MAX_BODY_CHARS);
const purpose = z.enum(QUICK_REPLY_PURPOSES);

/** Quick replies (快捷短语): the tenant's texts with {{variables}}, for messages and for reject / request-info notes. */
export function quickReplyRoutes(app: ZApp, deps: Deps) {
  const tags = ["conversations"];
  app.get(
    "/api/v1/quick-replies",
    { config: { roles: ROLES.staff }, schema: { tags, querystring: z.strictObject({ purpose: purpose.optional() }) } },
    async (req) => ({
      items: await listQuickReplies(deps.db, actorOf(req), req.query.purpose),
      nextCursor: null,
      variables: QUICK_REPLY_VARIABLES,
    }),
  );
  app.post(
    "/api/v1/quick-replies",
    {
      config: { roles: ROLES.staffWrite },
      schema: { tags, body: z.strictObject({ title, body: text, purpose: purpose.default("message") }) },
    },
    async (req, reply) => {
      const a = actorOf(req);
      const r = await createQuickReply(deps.db, a, req.body);
      await audit(deps.db, a, "quick_reply.create", "quick_reply", r.id, undefined, r);
      return reply.code(201).send(r);
    },
  );
  app.patch(
    "/api/v1/quick-replies/:id",
    {
      config: { roles: ROLES.staffWrite },
      schema: {
        tags,
        params: idParam,
        body: z.strictObject({ title: title.optional(), body: text.optional(), purpose: purpose.optional() }),
      },
    },
    async (req) => {
      const a = actorOf(req);
      const r = await updateQuickReply(deps.db, a, req.params.id, req.body, deps.clock.now());
      await audit(deps.db, a, "quick_reply.update", "quick_reply", r.id, undefined, req.body);
      return r;
    },
  );
  app.delete("/api/v1/quick-replies/:id", { config: { roles: ROLES.staffWrite }, schema: { tags, params: idParam } }, async (req) => {
    const a = actorOf(req);
    await deleteQuickReply(deps.db, a, req.params.id);
    await audit(deps.db, a, "quick_reply.delete", "quick_reply", req.params.id);
    return { ok: true };
  });
  // The text as it would be sent on this case (or order): the composer and the reject / request-info
  // forms show it before sending.
  app.post(
    "/api/v1/quick-replies/:id/actions/render",
    {
      config: { roles: ROLES.staff },
      schema: {
        tags,
        params: idParam,
        body: z.strictObject({ caseId: z.string().uuid().optional(), orderId: z.string().uuid().optional() }),
      },
    },
    async (req) => {
      const a = actorOf(req);
      if (!req.body.caseId && !req.body.orderId) throw validation("caseId", "say which case (or order) to render for");
      const qr = await getQuickReply(deps.db, a, req.params.id);
      const o = req.body.caseId ? await caseOwner(deps.db, a, req.body.caseId) : await orderOwner(deps.db, a, req.body.orderId as string);
      const vars = await quickReplyVars(deps.db, a, o);
      return { id: qr.id, title: qr.title, purpose: qr.purpose, body: renderQuickReply(qr.body, vars), variables: vars };
    },
  );
}
