import { AppError } from "./errors.js";

/**
 * Input that no route can use, refused the same way wherever it is sent: text that a database
 * column cannot hold, and uploads whose multipart body is not multipart or is cut short.
 */

/** Deeper than any body the API takes; deeper still would overflow the stack of `JSON.stringify`. */
export const MAX_DEPTH = 32;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function textProblem(s: string): string | null {
  if (s.includes("\u0000")) return "contains a NUL character (U+0000), which cannot be stored";
  if (LONE_SURROGATE.test(s)) return "contains an unpaired UTF-16 surrogate, which is not Unicode text";
  return null;
}

/** A key as it appears in a field name: itself, or escaped when it is the bad text. */
const keyName = (k: string) => (textProblem(k) ? JSON.stringify(k).slice(1, -1) : k);

/**
 * The first string or key in `value` that PostgreSQL cannot store (U+0000) or that is not valid
 * Unicode (an unpaired surrogate, which JSON columns refuse), with its dotted field name under
 * `root` ("body" names the body itself and is left out of deeper names, like the validation
 * errors do); or `root` itself when the value nests deeper than MAX_DEPTH. Walks iteratively.
 */
export function findBadText(value: unknown, root: "body" | "querystring" | "params"): { field: string; message: string } | null {
  // Each node keeps a link to its parent; the dotted name is only built for the bad one.
  type Node = { v: unknown; key?: string; up?: Node; isKey?: boolean; depth: number };
  const name = (n: Node) => {
    const path: string[] = [];
    for (let at: Node | undefined = n; at?.key !== undefined; at = at.up) path.unshift(at.isKey ? keyName(at.key) : at.key);
    return root === "body" ? path.join(".") || "body" : [root, ...path].join(".");
  };
  const stack: Node[] = [{ v: value, depth: 0 }];
  while (stack.length) {
    const n = stack.pop() as Node;
    const keyProblem = n.isKey ? textProblem(n.key as string) : null;
    if (keyProblem) return { field: name(n), message: `key ${keyProblem}` };
    if (typeof n.v === "string") {
      const problem = textProblem(n.v);
      if (problem) return { field: name(n), message: problem };
    } else if (n.v && typeof n.v === "object" && !ArrayBuffer.isView(n.v)) {
      if (n.depth >= MAX_DEPTH) return { field: root, message: `nested deeper than ${MAX_DEPTH} levels` };
      const isArray = Array.isArray(n.v);
      const entries = isArray ? (n.v as unknown[]).map((x, i) => [String(i), x] as const) : Object.entries(n.v);
      // Pushed in reverse, so the first bad field in document order is the one named.
      for (let i = entries.length - 1; i >= 0; i--)
        stack.push({ v: entries[i][1], key: entries[i][0], up: n, isKey: !isArray, depth: n.depth + 1 });
    }
  }
  return null;
}

/** Refuses a request whose params, query string or JSON body carry such text (400 `validation_failed`). */
export function refuseBadText(req: { params?: unknown; query?: unknown; body?: unknown }) {
  const bad = findBadText(req.params, "params") ?? findBadText(req.query, "querystring") ?? findBadText(req.body, "body");
  if (bad) throw new AppError("validation_failed", `${bad.field}: ${bad.message}`, { fields: [bad] });
}

const MULTIPART_MALFORMED = new Set(["FST_MP_PREMATURE_CLOSE", "FST_PROTO_VIOLATION", "FST_INVALID_JSON_FIELD_ERROR"]);
const MULTIPART_LIMITS = new Set(["FST_PARTS_LIMIT", "FST_FILES_LIMIT", "FST_FIELDS_LIMIT"]);

/**
 * The error a failed upload parse becomes, naming the field `file`: not multipart at all → 415;
 * malformed or cut short (the parser's own errors carry no code, only their message) → 400;
 * too many parts → 413. Anything else is not an upload problem and gets null.
 */
export function uploadError(err: { code?: string; message?: string }): AppError | null {
  if (err.code === "FST_INVALID_MULTIPART_CONTENT_TYPE")
    return new AppError("unsupported_media_type", "file: send the upload as multipart/form-data with the field `file`", {
      field: "file",
      fields: [{ field: "file", message: "not multipart/form-data" }],
    });
  if (err.code && MULTIPART_LIMITS.has(err.code))
    return new AppError("payload_too_large", "file: the upload has too many parts", {
      field: "file",
      fields: [{ field: "file", message: "too many parts" }],
    });
  const parserMessage =
    !err.code && /multipart|boundary|end of form|part header|malformed part/i.test(String(err.message ?? "")) && String(err.message);
  if ((err.code && MULTIPART_MALFORMED.has(err.code)) || parserMessage) {
    const message = `malformed multipart body (${parserMessage || err.message})`;
    return new AppError("validation_failed", `file: ${message}`, { fields: [{ field: "file", message }] });
  }
  return null;
}
