import type { FastifyReply } from "fastify";
import type { Actor, Deps } from "../platform/context.js";
import { AppError, notFound, validation } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import { uploadError } from "../platform/input.js";
import { actorType, caseEvent } from "./case.repo.js";
import { caseView } from "./case.view.js";
import { MAX_IMAGE_BYTES, MAX_VIDEO_BYTES, sendStoredFile, sniff } from "./evidence.js";

// Evidence (photos and short videos) on a case: stored after its content is recognised, and sent
// back to whoever may see the case — staff, the case's supplier, or the customer in the portal.

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
    await caseEvent(tx, {
      tenantId: actor.tenantId,
      caseId,
      action: "evidence",
      actorType: actorType(actor),
      actorId: actor.id,
      note: filename,
      data: { evidenceId: id, kind: kind.kind },
      at: deps.clock.now(),
    });
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
  return sendStoredFile(reply, e, data);
}

/** The part of a multipart upload that readUpload reads (@fastify/multipart's file). */
type UploadPart = { toBuffer(): Promise<Buffer>; file?: { truncated?: boolean }; filename?: string };

export async function readUpload(req: { file: () => Promise<UploadPart | undefined> }): Promise<{ filename: string; data: Buffer }> {
  // Not multipart (415) or malformed (400) is said as such, naming `file`, like on every upload route.
  const part = await req.file().catch((err: { code?: string; message?: string }) => {
    throw uploadError(err) ?? err;
  });
  if (!part) throw validation("file", "send the file as multipart/form-data field `file`");
  const data: Buffer = await part.toBuffer();
  if (part.file?.truncated) throw new AppError("payload_too_large", `file: at most ${MAX_VIDEO_BYTES / 1024 / 1024} MB`, { field: "file" });
  return { filename: part.filename ?? "upload", data };
}
