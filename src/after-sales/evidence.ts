import type { FastifyReply } from "fastify";
/** Recognises uploads by their content, never by the name or the type the client claims. */
export type Sniffed = { kind: "image" | "video"; mime: string } | null;

export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
export const MAX_VIDEO_BYTES = 50 * 1024 * 1024;

export function sniff(buf: Buffer): Sniffed {
  const b = (i: number) => buf[i];
  const ascii = (from: number, to: number) => buf.subarray(from, to).toString("latin1");
  if (buf.length >= 3 && b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return { kind: "image", mime: "image/jpeg" };
  if (buf.length >= 8 && ascii(0, 8) === "\x89PNG\r\n\x1a\n") return { kind: "image", mime: "image/png" };
  if (buf.length >= 6 && (ascii(0, 6) === "GIF87a" || ascii(0, 6) === "GIF89a")) return { kind: "image", mime: "image/gif" };
  if (buf.length >= 12 && ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return { kind: "image", mime: "image/webp" };
  if (buf.length >= 12 && ascii(4, 8) === "ftyp") {
    const brand = ascii(8, 12);
    if (["heic", "heix", "mif1", "msf1", "heim", "heis"].includes(brand)) return { kind: "image", mime: "image/heic" };
    if (brand === "qt  ") return { kind: "video", mime: "video/quicktime" };
    return { kind: "video", mime: "video/mp4" };
  }
  if (buf.length >= 4 && b(0) === 0x1a && b(1) === 0x45 && b(2) === 0xdf && b(3) === 0xa3) return { kind: "video", mime: "video/webm" };
  return null;
}

const EXTENSION: Record<string, string> = {
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/gif": "gif",
  "image/webp": "webp",
  "image/heic": "heic",
  "video/mp4": "mp4",
  "video/quicktime": "mov",
  "video/webm": "webm",
};

/**
 * `Content-Disposition: inline` for a stored evidence file (RFC 6266): a plain-ASCII `filename`
 * every client understands and, when the name is not plain ASCII, the exact name as
 * `filename*=UTF-8''…` (RFC 5987). Quotes, backslashes, separators and control characters never
 * reach the header; a missing name becomes `evidence-<id>.<ext>`.
 */
export function evidenceDisposition(filename: string | null | undefined, id: string, mime: string): string {
  // Only the last path segment, without control characters (CR/LF would split the header).
  const last = String(filename ?? "")
    .split(/[\\/]/)
    .pop() as string;
  const name = [...last]
    .filter((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f)
    .join("")
    .trim();
  const safe = name || `evidence-${id}.${EXTENSION[mime] ?? "bin"}`;
  const ascii = safe.replace(/[^\x20-\x7e]/g, "_").replace(/["\\%]/g, "_");
  if (ascii === safe) return `inline; filename="${ascii}"`;
  const encoded = encodeURIComponent(
    safe.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd"),
  ).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `inline; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** Sends a stored upload (case evidence or a message attachment) as the type its content was recognised as, inline, unsniffed. */
export function sendStoredFile(reply: FastifyReply, f: { id: string; mime: string; filename: string | null }, data: Buffer) {
  return reply
    .type(f.mime)
    .header("content-disposition", evidenceDisposition(f.filename, f.id, f.mime))
    .header("cache-control", "private, max-age=3600")
    .header("x-content-type-options", "nosniff")
    .send(data);
}
