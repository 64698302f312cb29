import type { FastifyReply } from "fastify";
import type { Selectable } from "kysely";
import { sql } from "kysely";
import { z } from "zod";
import { caseMessageStats, messageFields, replyOverdueExists, unreadExists } from "../conversations/messages.repo.js";
import type { Complaints } from "../db/schema.js";
import {
  BLOCKLIST_KINDS,
  COMPLAINT_STATUSES,
  DISPOSITIONS,
  INSPECTION_GRADES,
  OFFER_KINDS,
  REFUND_METHODS,
  SEVERITIES,
} from "../domain/vocabulary.js";
import { audit } from "../platform/audit.js";
import type { Actor, Deps } from "../platform/context.js";
import { AppError, invalidTransition, notFound } from "../platform/errors.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { newId } from "../platform/ids.js";
import { uploadError } from "../platform/input.js";
import { keysetPage, pageQuery, sendCsv, wantsCsv } from "../platform/list.js";
import { CASE_TYPES, REASONS, RESPONSIBILITIES } from "../policies/rules.js";
import { createCase } from "./case.create.js";
import { runCaseAction } from "./case.service.js";
import { actionRouteRoles, CASE_STATUSES, type CaseAction } from "./case.states.js";
import { caseListItem, caseView } from "./case.view.js";
import { COMPLAINT_MACHINE, type ComplaintAction } from "./complaint.states.js";
import { evidenceDisposition, MAX_IMAGE_BYTES, MAX_VIDEO_BYTES, sniff } from "./evidence.js";

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
export async function storeEvidence(deps: Deps, actor: Actor, caseId: string, file: { filename: string; data: Buffer }) {
  const kind = sniff(file.data);
  if (!kind)
    throw new AppError(
      "unsupported_media_type",
      "file: only photos (JPEG, PNG, GIF, WebP, HEIC) and videos (MP4, MOV, WebM) are accepted",
      { field: "file" },
    );
  const max = kind.kind === "image" ? MAX_IMAGE_BYTES : MAX_VIDEO_BYTES;
  if (file.data.length > max)
    throw new AppError("payload_too_large", `file: a ${kind.kind} may be at most ${max / 1024 / 1024} MB`, { field: "file" });
  // The name is the client's: kept for people to read, without control characters (a NUL cannot
  // be stored at all) and within the column's length.
  const filename = [...file.filename]
    .filter((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f)
    .join("")
    .slice(0, 200);
  const id = newId();
  const key = `${actor.tenantId}/evidence/${caseId}/${id}`;
  await deps.storage.put(key, file.data, kind.mime);
  await deps.db.transaction().execute(async (tx) => {
    await tx
      .insertInto("evidence")
      .values({
        id,
        tenant_id: actor.tenantId,
        case_id: caseId,
        kind: kind.kind,
        mime: kind.mime,
        size_bytes: file.data.length,
        storage_key: key,
        filename,
        uploaded_by: `${actor.kind}:${actor.id}`,
      })
      .execute();
    await tx
      .insertInto("case_events")
      .values({
        id: newId(),
        tenant_id: actor.tenantId,
        case_id: caseId,
        action: "evidence",
        actor_type: actor.kind === "customer" ? "customer" : String(actor.role),
        actor_id: actor.id,
        note: filename,
        data: JSON.stringify({ evidenceId: id, kind: kind.kind }),
      })
      .execute();
  });
  return { id, kind: kind.kind, mime: kind.mime, sizeBytes: file.data.length };
}

/**
 * Sends one evidence file to whoever may see its case: staff, the case's supplier, or the customer
 * of its order (the portal). One copy for every route, so the headers cannot drift apart: the type
 * the content was recognised as, `inline` with the uploaded name, and no sniffing by the browser.
 */
export async function sendEvidence(deps: Deps, actor: Actor, evidenceId: string, reply: FastifyReply) {
  const e = await deps.db
    .selectFrom("evidence")
    .selectAll()
    .where("tenant_id", "=", actor.tenantId)
    .where("id", "=", evidenceId)
    .executeTakeFirst();
  if (!e) throw notFound("evidence");
  await caseView(deps.db, actor, e.case_id);
  const data = await deps.storage.get(e.storage_key);
  if (!data) throw notFound("evidence file");
  return reply
    .type(e.mime)
    .header("content-disposition", evidenceDisposition(e.filename, e.id, e.mime))
    .header("cache-control", "private, max-age=3600")
    .header("x-content-type-options", "nosniff")
    .send(data);
}

/** The part of a multipart upload that readUpload reads (@fastify/multipart's file). */
type UploadPart = { toBuffer(): Promise<Buffer>; file?: { truncated?: boolean }; filename?: string };

export async function readUpload(req: { file: () => Promise<UploadPart | undefined> }): Promise<{ filename: string; data: Buffer }> {
  // Not multipart (415) or malformed (400) is said as such, naming `file`, like on every upload route.
  const part = await req.file().catch((err: { code?: string; message?: string }) => {
    throw uploadError(err) ?? err;
  });
  if (!part)
    throw new AppError("validation_failed", "file: send the file as multipart/form-data field `file`", {
      fields: [{ field: "file", message: "required" }],
    });
  const data: Buffer = await part.toBuffer();
  if (part.file?.truncated) throw new AppError("payload_too_large", `file: at most ${MAX_VIDEO_BYTES / 1024 / 1024} MB`, { field: "file" });
  return { filename: part.filename ?? "upload", data };
}

export function caseRoutes(app: ZApp, deps: Deps) {
  app.post("/api/v1/cases", { config: { roles: ROLES.staffWrite }, schema: { tags: ["cases"], body: CaseBody } }, async (req, reply) =>
    reply.code(201).send(await createCase(deps, actorOf(req), req.body)),
  );

  const listQuery = z.strictObject({
    ...pageQuery,
    status: z.enum(CASE_STATUSES).optional(),
    type: z.enum(CASE_TYPES).optional(),
    reason: z.enum(REASONS).optional(),
    shopId: z.string().uuid().optional(),
    supplierId: z.string().uuid().optional(),
    orderId: z.string().uuid().optional(),
    overdue: z.enum(["true", "false"]).optional(),
    /** `me`, `none`, or a user's id. */
    assignee: z.union([z.enum(["me", "none"]), z.string().uuid()]).optional(),
    riskFlag: z.enum(["true", "false"]).optional(),
    /** Cases with messages the caller has not read (src/conversations). */
    unread: z.enum(["true", "false"]).optional(),
    q: z.string().max(100).optional(),
    /** Cases opened at or after / before these instants (analytics drill-downs carry them). */
    createdFrom: z.string().datetime({ offset: true }).optional(),
    createdTo: z.string().datetime({ offset: true }).optional(),
    /** Cases with a line of this SKU code. */
    sku: z.string().min(1).max(100).optional(),
  });
  app.get(
    "/api/v1/cases",
    { config: { roles: ROLES.anyStaffOrSupplier }, schema: { tags: ["cases"], querystring: listQuery } },
    async (req, reply) => {
      const a = actorOf(req);
      const f = req.query;
      const now = deps.clock.now();
      const fetch = async (cursor: string | undefined, limit: number) => {
        let q = deps.db
          .selectFrom("cases as c")
          .innerJoin("orders as o", "o.id", "c.order_id")
          .selectAll("c")
          .select("o.platform_order_no")
          .where("c.tenant_id", "=", a.tenantId);
        const supplierId = a.role === "supplier" ? a.supplierId : f.supplierId;
        if (supplierId) q = q.where("c.supplier_id", "=", supplierId);
        if (f.status) q = q.where("c.status", "=", f.status);
        if (f.type) q = q.where("c.type", "=", f.type);
        if (f.reason) q = q.where("c.reason", "=", f.reason);
        if (f.shopId) q = q.where("c.shop_id", "=", f.shopId);
        if (f.orderId) q = q.where("c.order_id", "=", f.orderId);
        if (f.riskFlag) q = q.where("c.risk_flag", "=", f.riskFlag === "true");
        if (f.unread) q = q.where(f.unread === "true" ? unreadExists(a) : sql<boolean>`NOT ${unreadExists(a)}`);
        if (f.createdFrom) q = q.where("c.created_at", ">=", new Date(f.createdFrom));
        if (f.createdTo) q = q.where("c.created_at", "<", new Date(f.createdTo));
        if (f.sku) {
          const sku = f.sku;
          q = q.where(({ exists, selectFrom }) =>
            exists(
              selectFrom("case_lines as cl")
                .innerJoin("order_lines as ol", "ol.id", "cl.order_line_id")
                .select("cl.id")
                .whereRef("cl.case_id", "=", "c.id")
                .where("ol.sku_code", "=", sku),
            ),
          );
        }
        if (f.assignee === "me") q = q.where("c.assignee_id", "=", a.id);
        else if (f.assignee === "none") q = q.where("c.assignee_id", "is", null);
        else if (f.assignee) q = q.where("c.assignee_id", "=", f.assignee);
        if (f.q) q = q.where((eb) => eb.or([eb("c.case_no", "=", f.q as string), eb("o.platform_order_no", "=", f.q as string)]));
        if (f.overdue === "true") {
          q = q.where((eb) =>
            eb.or([
              eb.and([eb("c.status", "in", ["submitted", "info_requested"]), eb("c.response_due_at", "<", now)]),
              eb.and([eb("c.status", "=", "awaiting_return"), eb("c.return_ship_due_at", "<", now)]),
              eb.and([eb("c.status", "in", ["received", "inspected", "refund_pending"]), eb("c.refund_due_at", "<", now)]),
              replyOverdueExists(now),
            ]),
          );
        }
        const page = await keysetPage(q, "c.id", cursor, limit);
        const stats = await caseMessageStats(
          deps.db,
          a,
          page.items.map((x) => x.id),
          now,
        );
        const items = page.items.map((x) => {
          const item = caseListItem(x, now);
          const m = messageFields(stats.get(x.id));
          return { ...item, ...m, overdue: item.overdue || m.replyOverdue };
        });
        return { ...page, items };
      };
      if (wantsCsv(req)) return sendCsv(reply, "cases", fetch);
      return fetch(f.cursor, f.limit);
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

  // Complaints --------------------------------------------------------------------------------
  const complaintOut = (c: Selectable<Complaints>) => ({
    id: c.id,
    orderId: c.order_id,
    caseId: c.case_id,
    severity: c.severity,
    status: c.status,
    ownerId: c.owner_id,
    subject: c.subject,
    description: c.description,
    resolution: c.resolution,
    dueAt: c.due_at,
    createdAt: c.created_at,
    allowedActions: COMPLAINT_MACHINE.allowed(c.status),
  });
  app.get(
    "/api/v1/complaints",
    {
      config: { roles: ROLES.staff },
      schema: {
        tags: ["complaints"],
        querystring: z.strictObject({ ...pageQuery, status: z.enum(COMPLAINT_STATUSES).optional() }),
      },
    },
    async (req, reply) => {
      const a = actorOf(req);
      const fetch = async (cursor: string | undefined, limit: number) => {
        let q = deps.db.selectFrom("complaints").selectAll().where("tenant_id", "=", a.tenantId);
        if (req.query.status) q = q.where("status", "=", req.query.status);
        const page = await keysetPage(q, "id", cursor, limit);
        return { ...page, items: page.items.map(complaintOut) };
      };
      if (wantsCsv(req)) return sendCsv(reply, "complaints", fetch);
      return fetch(req.query.cursor, req.query.limit);
    },
  );
  const SLA_HOURS = { low: 72, medium: 24, high: 8, critical: 2 } as const;
  app.post(
    "/api/v1/complaints",
    {
      config: { roles: ROLES.staffWrite },
      schema: {
        tags: ["complaints"],
        body: z.strictObject({
          orderId: z.string().uuid().optional(),
          caseId: z.string().uuid().optional(),
          severity: z.enum(SEVERITIES).default("medium"),
          subject: z.string().min(1).max(200),
          description: z.string().max(4000).default(""),
          ownerId: z.string().uuid().optional(),
        }),
      },
    },
    async (req, reply) => {
      const a = actorOf(req);
      const b = req.body;
      if (!b.orderId && !b.caseId)
        throw new AppError("validation_failed", "orderId: a complaint is about an order or a case", {
          fields: [{ field: "orderId", message: "orderId or caseId required" }],
        });
      if (
        b.orderId &&
        !(await deps.db
          .selectFrom("orders")
          .select("id")
          .where("tenant_id", "=", a.tenantId)
          .where("id", "=", b.orderId)
          .executeTakeFirst())
      )
        throw notFound("order");
      if (
        b.caseId &&
        !(await deps.db.selectFrom("cases").select("id").where("tenant_id", "=", a.tenantId).where("id", "=", b.caseId).executeTakeFirst())
      )
        throw notFound("case");
      const row = await deps.db
        .insertInto("complaints")
        .values({
          id: newId(),
          tenant_id: a.tenantId,
          order_id: b.orderId ?? null,
          case_id: b.caseId ?? null,
          severity: b.severity,
          status: b.ownerId ? "assigned" : "open",
          owner_id: b.ownerId ?? null,
          subject: b.subject,
          description: b.description,
          due_at: new Date(deps.clock.now().getTime() + SLA_HOURS[b.severity] * 3600_000),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await audit(deps.db, a, "complaint.create", "complaint", row.id, undefined, complaintOut(row));
      return reply.code(201).send(complaintOut(row));
    },
  );
  const complaintAction = (name: ComplaintAction, body: z.ZodType) =>
    app.post(
      `/api/v1/complaints/:id/actions/${name}`,
      { config: { roles: COMPLAINT_MACHINE.roles[name] }, schema: { tags: ["complaints"], params: idParam, body } },
      async (req) => {
        const a = actorOf(req);
        const b = (req.body ?? {}) as { ownerId?: string; resolution?: string };
        return deps.db.transaction().execute(async (tx) => {
          const c = await tx
            .selectFrom("complaints")
            .selectAll()
            .where("tenant_id", "=", a.tenantId)
            .where("id", "=", req.params.id)
            .forUpdate()
            .executeTakeFirst();
          if (!c) throw notFound("complaint");
          const to = COMPLAINT_MACHINE.next(c.status, name);
          if (!to) throw invalidTransition("complaint", name, c.status, COMPLAINT_MACHINE.allowed(c.status));
          const now = deps.clock.now();
          const after = await tx
            .updateTable("complaints")
            .set({
              status: to,
              ...(name === "assign" && { owner_id: b.ownerId }),
              ...(name === "resolve" && { resolution: b.resolution, resolved_at: now }),
              ...(name === "close" && { closed_at: now }),
            })
            .where("id", "=", c.id)
            .returningAll()
            .executeTakeFirstOrThrow();
          await audit(tx, a, `complaint.${name}`, "complaint", c.id, { status: c.status }, { status: to, ...b });
          return complaintOut(after);
        });
      },
    );
  complaintAction("assign", z.strictObject({ ownerId: z.string().uuid() }));
  complaintAction("resolve", z.strictObject({ resolution: z.string().min(1).max(4000) }));
  complaintAction("close", z.strictObject({}).nullish());

  // Blocklist ---------------------------------------------------------------------------------
  app.get("/api/v1/blocklist", { config: { roles: ROLES.staff }, schema: { tags: ["abuse"] } }, async (req) => {
    const a = actorOf(req);
    const rows = await deps.db
      .selectFrom("blocklist")
      .selectAll()
      .where("tenant_id", "=", a.tenantId)
      .orderBy("id", "desc")
      .limit(1000)
      .execute();
    return {
      items: rows.map((r) => ({ id: r.id, shopId: r.shop_id, kind: r.kind, value: r.value, reason: r.reason, createdAt: r.created_at })),
      nextCursor: null,
    };
  });
  app.post(
    "/api/v1/blocklist",
    {
      config: { roles: ROLES.admin },
      schema: {
        tags: ["abuse"],
        body: z.strictObject({
          shopId: z.string().uuid().optional(),
          kind: z.enum(BLOCKLIST_KINDS),
          value: z.string().min(1).max(200),
          reason: z.string().max(500).optional(),
        }),
      },
    },
    async (req, reply) => {
      const a = actorOf(req);
      const b = req.body;
      const value = b.kind === "email" ? b.value.toLowerCase() : b.value;
      const row = await deps.db
        .insertInto("blocklist")
        .values({ id: newId(), tenant_id: a.tenantId, shop_id: b.shopId ?? null, kind: b.kind, value, reason: b.reason ?? null })
        .returningAll()
        .executeTakeFirstOrThrow();
      await audit(deps.db, a, "blocklist.add", "blocklist", row.id, undefined, { kind: b.kind, value });
      return reply.code(201).send({ id: row.id, shopId: row.shop_id, kind: row.kind, value: row.value, reason: row.reason });
    },
  );
  app.delete("/api/v1/blocklist/:id", { config: { roles: ROLES.admin }, schema: { tags: ["abuse"], params: idParam } }, async (req) => {
    const a = actorOf(req);
    const r = await deps.db.deleteFrom("blocklist").where("tenant_id", "=", a.tenantId).where("id", "=", req.params.id).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw notFound("blocklist entry");
    await audit(deps.db, a, "blocklist.remove", "blocklist", req.params.id);
    return { ok: true };
  });
}
