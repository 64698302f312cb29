import type { FastifyReply } from "fastify";
import { caseEvent } from "../after-sales/case.repo.js";
import { MAX_IMAGE_BYTES, MAX_VIDEO_BYTES, sendStoredFile, sniff } from "../after-sales/evidence.js";
import { type Actor, type Deps, emit } from "../platform/context.js";
import type { Tx } from "../platform/db.js";
import { AppError, forbidden, notFound, validation } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import { loadPolicy, loadPolicyById } from "../policies/policy.repo.js";
import { actorKey, caseOwner, orderOwner, READABLE, type Side, sideOf, type ThreadOwner, unreadFor } from "./messages.repo.js";
import { getQuickReply, quickReplyVars, renderQuickReply } from "./quick-replies.js";
import { type AuthorKind, conv, type Visibility } from "./tables.js";

const HOUR = 3600_000;
const DAY = 24 * HOUR;
export const MAX_BODY_CHARS = 20_000;
export const MAX_ATTACHMENTS = 10;

/** A case's threads, or an order's thread before any case. */
export type Target = { caseId: string } | { orderId: string };

export interface MessageInput {
  body?: string;
  visibility?: Visibility;
  attachments?: string[];
  quickReplyId?: string;
}

const owner = (ex: Deps["db"] | Tx, actor: Actor, target: Target) =>
  "caseId" in target ? caseOwner(ex, actor, target.caseId) : orderOwner(ex, actor, target.orderId);

/** The threads a side may write in: staff all of a case's (an order's: the customer's and internal), viewers none. */
function writable(actor: Actor, o: ThreadOwner): readonly Visibility[] {
  const side = sideOf(actor);
  if (side !== "staff") return READABLE[side];
  if (actor.role === "viewer") return [];
  return o.caseId ? ["customer", "supplier", "internal"] : ["customer", "internal"];
}

const AUTHOR: Record<Side, AuthorKind> = { staff: "staff", customer: "customer", supplier: "supplier" };

async function rulesOf(tx: Tx, o: ThreadOwner) {
  const p = o.policyId ? await loadPolicyById(tx, o.tenantId, o.policyId) : await loadPolicy(tx, o.tenantId, o.shopId);
  return p.rules.sla;
}

async function authorName(tx: Tx, actor: Actor, o: ThreadOwner, side: Side): Promise<string> {
  if (side === "customer") return o.customer?.name ?? "";
  if (side === "supplier") {
    const s = await tx
      .selectFrom("suppliers")
      .select("name")
      .where("id", "=", actor.supplierId ?? "")
      .executeTakeFirst();
    return s?.name ?? actor.name ?? "";
  }
  return actor.name ?? "";
}

/**
 * Writes one message: checks who may write in which thread, the body, the closed case's reopen
 * window and the attachments, then in one transaction the message, its attachments, the timeline
 * event, the SLA bookkeeping and the event that sends it on to the customer or the supplier.
 * Any refusal writes nothing.
 */
export async function postMessage(deps: Deps, actor: Actor, target: Target, input: MessageInput) {
  const side = sideOf(actor);
  const now = deps.clock.now();
  const id = await deps.db.transaction().execute(async (tx) => {
    const o = await owner(tx, actor, target);
    const visibility = input.visibility ?? (side === "staff" ? undefined : side);
    if (!visibility) throw validation("visibility", "say which thread: customer, supplier or internal");
    const allowed = writable(actor, o);
    if (!allowed.includes(visibility)) {
      const why =
        side === "staff" && actor.role !== "viewer"
          ? "an order's thread before any case is with the customer, or internal"
          : allowed.length
            ? `you may write only in the ${allowed.join(" / ")} thread`
            : "your role may not write messages";
      throw new AppError(side === "staff" && actor.role !== "viewer" ? "validation_failed" : "forbidden", `visibility: ${why}`, {
        fields: [{ field: "visibility", message: why }],
        allowed,
      });
    }
    const sla = await rulesOf(tx, o);
    if (o.closedAt && visibility !== "internal") {
      const reopenDays = sla.messageReopenDays ?? 15;
      if (now.getTime() > o.closedAt.getTime() + reopenDays * DAY)
        throw new AppError(
          "conflict",
          `caseId: the case ended on ${o.closedAt.toISOString().slice(0, 10)} and takes no messages after ${reopenDays} days; open a new request`,
          { fields: [{ field: "caseId", message: "past the reopen window" }], status: o.status, reopenDays },
        );
    }
    let body = input.body;
    if (input.quickReplyId) {
      if (side !== "staff") throw new AppError("forbidden", "quickReplyId: quick replies are for staff", { field: "quickReplyId" });
      const qr = await getQuickReply(tx, actor, input.quickReplyId).catch(() => {
        throw validation("quickReplyId", "no such quick reply");
      });
      body = renderQuickReply(body ?? qr.body, await quickReplyVars(tx, actor, o));
    }
    body = body?.trim() ?? "";
    if (!body) throw validation("body", "write a message");
    if (body.length > MAX_BODY_CHARS) throw validation("body", `at most ${MAX_BODY_CHARS} characters`);
    const attachmentIds = [...new Set(input.attachments ?? [])];
    if (attachmentIds.length > MAX_ATTACHMENTS) throw validation("attachments", `at most ${MAX_ATTACHMENTS} files`);
    const m = conv(tx);
    if (attachmentIds.length) {
      const mine = await m
        .selectFrom("message_attachments")
        .select("id")
        .where("tenant_id", "=", actor.tenantId)
        .where("id", "in", attachmentIds)
        .where("message_id", "is", null)
        .where("uploaded_by", "=", actorKey(actor))
        .where("order_id", "=", o.orderId)
        .where((eb) => (o.caseId ? eb("case_id", "=", o.caseId) : eb("case_id", "is", null)))
        .forUpdate()
        .execute();
      const found = new Set(mine.map((x) => x.id));
      const i = attachmentIds.findIndex((x) => !found.has(x));
      if (i >= 0) throw validation(`attachments.${i}`, "not a file you uploaded to this thread, or already sent");
    }
    const id = newId();
    await m
      .insertInto("messages")
      .values({
        id,
        tenant_id: actor.tenantId,
        order_id: o.orderId,
        case_id: o.caseId,
        visibility,
        author_kind: AUTHOR[side],
        author_id: actor.id,
        author_name: await authorName(tx, actor, o, side),
        body,
        quick_reply_id: input.quickReplyId ?? null,
        response_due_at: side === "customer" ? new Date(now.getTime() + (sla.customerMessageResponseHours ?? 24) * HOUR) : null,
        created_at: now,
      })
      .execute();
    if (attachmentIds.length) await m.updateTable("message_attachments").set({ message_id: id }).where("id", "in", attachmentIds).execute();
    if (visibility !== "internal") {
      // Writing in a thread reads what the other side wrote there; a staff reply to the customer
      // also answers every customer message waiting in it (the first-response SLA).
      const u = unreadFor(side);
      await threadRows(tx, o, visibility)
        .set({ read_at: now, read_by: actorKey(actor) })
        .where("read_at", "is", null)
        .where("author_kind", "in", u.authors)
        .execute();
      if (side === "staff" && visibility === "customer") {
        await threadRows(tx, o, "customer")
          .set({ answered_at: now })
          .where("answered_at", "is", null)
          .where("author_kind", "=", "customer")
          .execute();
        if (o.caseId)
          await tx
            .updateTable("cases")
            .set((eb) => ({ first_response_at: eb.fn.coalesce("first_response_at", eb.val(now)) }))
            .where("id", "=", o.caseId)
            .execute();
      }
    }
    if (o.caseId)
      await caseEvent(tx, {
        tenantId: actor.tenantId,
        caseId: o.caseId,
        action: "message",
        actorType: side === "staff" ? String(actor.role) : side,
        actorId: actor.id,
        // Only staff see message events on the timeline (case.view.ts), so the excerpt stays with them.
        note: body.length > 140 ? `${body.slice(0, 140)}…` : body,
        data: { messageId: id, visibility, attachments: attachmentIds.length },
        at: now,
      });
    await announce(deps, tx, actor, o, { id, visibility, side, body });
    return id;
  });
  return (await listMessages(deps, actor, target, { ids: [id] }))[0];
}

/** The rows of one thread, to update. */
const threadRows = (tx: Tx, o: ThreadOwner, visibility: Visibility) => {
  const q = conv(tx).updateTable("messages").where("tenant_id", "=", o.tenantId).where("visibility", "=", visibility);
  return o.caseId ? q.where("case_id", "=", o.caseId) : q.where("order_id", "=", o.orderId).where("case_id", "is", null);
};

/**
 * The message's domain event, in its transaction: to the customer (their channel, with a link into
 * the portal) or to the supplier (e-mail, with a link to the supplier portal) when staff wrote it;
 * `message.received` when the customer or the supplier did (for webhooks). Internal notes: none.
 */
async function announce(
  deps: Deps,
  tx: Tx,
  actor: Actor,
  o: ThreadOwner,
  m: { id: string; visibility: Visibility; side: Side; body: string },
) {
  if (m.visibility === "internal") return;
  const type = m.side !== "staff" ? "message.received" : m.visibility === "customer" ? "message.to_customer" : "message.to_supplier";
  await emit(deps, tx, {
    type,
    tenantId: actor.tenantId,
    entityId: m.id,
    data: {
      messageId: m.id,
      caseId: o.caseId,
      orderId: o.orderId,
      caseNo: o.caseNo,
      visibility: m.visibility,
      ...(m.visibility === "supplier" && { supplierId: o.supplierId }),
      body: m.body,
    },
    key: `${type}:${m.id}`,
  });
}

type MessageRow = {
  id: string;
  case_id: string | null;
  order_id: string;
  visibility: Visibility;
  author_kind: AuthorKind;
  author_id: string | null;
  author_name: string;
  body: string;
  quick_reply_id: string | null;
  read_at: Date | null;
  response_due_at: Date | null;
  answered_at: Date | null;
  created_at: Date;
};

/** What the caller may see of a case's (or an order's) threads, oldest first, with attachments and read state. */
export async function listMessages(deps: Deps, actor: Actor, target: Target, opts: { visibility?: Visibility; ids?: string[] } = {}) {
  const o = await owner(deps.db, actor, target);
  const side = sideOf(actor);
  const visible = READABLE[side].filter((v) => !opts.visibility || v === opts.visibility);
  if (!visible.length) return [];
  let q = conv(deps.db).selectFrom("messages").selectAll().where("tenant_id", "=", actor.tenantId).where("visibility", "in", visible);
  q = o.caseId ? q.where("case_id", "=", o.caseId) : q.where("order_id", "=", o.orderId).where("case_id", "is", null);
  if (opts.ids) q = q.where("id", "in", opts.ids);
  const rows = (await q.orderBy("created_at").orderBy("id").limit(2000).execute()) as MessageRow[];
  const files = rows.length
    ? await conv(deps.db)
        .selectFrom("message_attachments")
        .select(["id", "message_id", "kind", "mime", "size_bytes", "filename"])
        .where(
          "message_id",
          "in",
          rows.map((r) => r.id),
        )
        .orderBy("created_at")
        .orderBy("id")
        .execute()
    : [];
  const unread = unreadFor(side);
  const base = side === "customer" ? "/portal/api" : "/api/v1";
  return rows.map((r) => ({
    id: r.id,
    caseId: r.case_id,
    orderId: r.order_id,
    visibility: r.visibility,
    body: r.body,
    author: { kind: r.author_kind, name: r.author_name, ...(side === "staff" && { id: r.author_id }) },
    createdAt: r.created_at,
    /** When the other side read it (staff for the customer's and supplier's messages, else the customer or supplier). */
    readAt: r.read_at,
    /** True when the message is addressed to the caller's side and nobody there has read it yet. */
    unread: !r.read_at && unread.visibility.includes(r.visibility) && unread.authors.includes(r.author_kind),
    ...(side === "staff" && {
      quickReplyId: r.quick_reply_id,
      responseDueAt: r.response_due_at,
      answeredAt: r.answered_at,
    }),
    attachments: files
      .filter((f) => f.message_id === r.id)
      .map((f) => ({
        id: f.id,
        kind: f.kind,
        mime: f.mime,
        sizeBytes: f.size_bytes,
        filename: f.filename,
        url: `${base}/message-attachments/${f.id}`,
      })),
  }));
}

/** Marks what the caller's side has not read in the case's (or order's) threads as read by the caller. */
export async function markRead(deps: Deps, actor: Actor, target: Target, visibility?: Visibility) {
  const o = await owner(deps.db, actor, target);
  const u = unreadFor(sideOf(actor));
  const threads = u.visibility.filter((v) => !visibility || v === visibility);
  if (!threads.length) return { marked: 0 };
  let q = conv(deps.db)
    .updateTable("messages")
    .set({ read_at: deps.clock.now(), read_by: actorKey(actor) })
    .where("tenant_id", "=", actor.tenantId)
    .where("read_at", "is", null)
    .where("visibility", "in", threads)
    .where("author_kind", "in", u.authors);
  q = o.caseId ? q.where("case_id", "=", o.caseId) : q.where("order_id", "=", o.orderId).where("case_id", "is", null);
  const r = await q.executeTakeFirst();
  return { marked: Number(r.numUpdatedRows) };
}

/**
 * The caller's unread messages per case (and, for a customer, in the order's own thread): a
 * supplier's across its cases, a customer's across the order's cases.
 */
export async function unreadSummary(deps: Deps, actor: Actor) {
  const side = sideOf(actor);
  const u = unreadFor(side);
  let q = conv(deps.db)
    .selectFrom("messages")
    .select("case_id")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("tenant_id", "=", actor.tenantId)
    .where("read_at", "is", null)
    .where("visibility", "in", u.visibility)
    .where("author_kind", "in", u.authors);
  if (side === "customer") q = q.where("order_id", "=", actor.orderId ?? "");
  if (side === "supplier")
    q = q.where("case_id", "in", (eb) =>
      eb
        .selectFrom("cases")
        .select("id")
        .where("supplier_id", "=", actor.supplierId ?? ""),
    );
  const rows = await q.groupBy("case_id").execute();
  const byCase: Record<string, number> = {};
  let order = 0;
  for (const r of rows) {
    if (r.case_id) byCase[r.case_id] = Number(r.n);
    else order += Number(r.n);
  }
  return { total: rows.reduce((s, r) => s + Number(r.n), 0), byCase, order };
}

// Attachments ------------------------------------------------------------------------------------

/** The type from the first bytes and the size limit, exactly as for evidence (src/after-sales/evidence.ts). */
export function checkMedia(data: Buffer) {
  const kind = sniff(data);
  if (!kind)
    throw new AppError(
      "unsupported_media_type",
      "file: only photos (JPEG, PNG, GIF, WebP, HEIC) and videos (MP4, MOV, WebM) are accepted",
      { field: "file" },
    );
  const max = kind.kind === "image" ? MAX_IMAGE_BYTES : MAX_VIDEO_BYTES;
  if (data.length > max)
    throw new AppError("payload_too_large", `file: a ${kind.kind} may be at most ${max / 1024 / 1024} MB`, { field: "file" });
  return kind;
}

/** Stores a file for a message the caller is about to send in this case's (or order's) threads. */
export async function uploadAttachment(deps: Deps, actor: Actor, target: Target, file: { filename: string; data: Buffer }) {
  const o = await owner(deps.db, actor, target);
  if (sideOf(actor) === "staff" && actor.role === "viewer") throw forbidden("your role may not write messages");
  const kind = checkMedia(file.data);
  const filename = [...file.filename]
    .filter((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f)
    .join("")
    .slice(0, 200);
  const id = newId();
  const key = `${actor.tenantId}/messages/${o.caseId ?? o.orderId}/${id}`;
  await deps.storage.put(key, file.data, kind.mime);
  await conv(deps.db)
    .insertInto("message_attachments")
    .values({
      id,
      tenant_id: actor.tenantId,
      order_id: o.orderId,
      case_id: o.caseId,
      kind: kind.kind,
      mime: kind.mime,
      size_bytes: file.data.length,
      storage_key: key,
      filename,
      uploaded_by: actorKey(actor),
    })
    .execute();
  const base = sideOf(actor) === "customer" ? "/portal/api" : "/api/v1";
  return { id, kind: kind.kind, mime: kind.mime, sizeBytes: file.data.length, filename, url: `${base}/message-attachments/${id}` };
}

/**
 * Sends an attachment to whoever may read its message (or, before it is sent, to its uploader),
 * with the same headers as evidence: the recognised type, `inline`, no sniffing, private caching.
 */
export async function sendAttachment(deps: Deps, actor: Actor, id: string, reply: FastifyReply) {
  const f = await conv(deps.db)
    .selectFrom("message_attachments as f")
    .leftJoin("messages as m", "m.id", "f.message_id")
    .leftJoin("cases as c", "c.id", "f.case_id")
    .select([
      "f.id",
      "f.mime",
      "f.filename",
      "f.storage_key",
      "f.uploaded_by",
      "f.order_id",
      "f.message_id",
      "m.visibility",
      "c.supplier_id",
    ])
    .where("f.tenant_id", "=", actor.tenantId)
    .where("f.id", "=", id)
    .executeTakeFirst();
  const side = sideOf(actor);
  const mayRead =
    f &&
    (f.message_id
      ? READABLE[side].includes(f.visibility as Visibility) &&
        (side !== "customer" || f.order_id === actor.orderId) &&
        (side !== "supplier" || f.supplier_id === actor.supplierId)
      : f.uploaded_by === actorKey(actor));
  if (!f || !mayRead) throw notFound("attachment");
  const data = await deps.storage.get(f.storage_key);
  if (!data) throw notFound("attachment file");
  return sendStoredFile(reply, f, data);
}

// First-response SLA -----------------------------------------------------------------------------

/**
 * Customer messages past the policy's first-response deadline with no staff reply: each raises one
 * overdue alert (`case.message_overdue`, or `order.message_overdue` for an order's own thread), the
 * marker and the event committing together, so a failed alert fires again on the next sweep.
 */
export async function sweepUnansweredMessages(deps: Deps): Promise<string[]> {
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (tx) => {
    const rows = await conv(tx)
      .updateTable("messages")
      .set({ overdue_alerted_at: now })
      .where("answered_at", "is", null)
      .where("overdue_alerted_at", "is", null)
      .where("response_due_at", "<", now)
      .returning(["id", "tenant_id", "case_id", "order_id", "response_due_at"])
      .execute();
    for (const m of rows) {
      const type = m.case_id ? "case.message_overdue" : "order.message_overdue";
      await emit(deps, tx, {
        type,
        tenantId: m.tenant_id,
        entityId: m.case_id ?? m.order_id,
        data: { messageId: m.id, caseId: m.case_id, orderId: m.order_id, dueAt: m.response_due_at },
        key: `${type}:${m.id}`,
      });
    }
    return rows.map((m) => `message_overdue:${m.id}`);
  });
}
