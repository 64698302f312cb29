import { createHash, createHmac, randomBytes } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { checkOutbound, outboundPolicy, pinnedLookup } from "../../platform/outbound.js";
import { ServiceError, serviceRequest } from "../http.js";
import type { ConnectorContext } from "../kind.js";
import { withRetries } from "../retry.js";

/**
 * The TOP open platform (淘宝开放平台) over plain HTTP, as its protocol documents it: one POST to
 * the gateway (`…/router/rest`) with the system parameters `method`, `app_key`, `session`,
 * `timestamp` (yyyy-MM-dd HH:mm:ss, GMT+8), `format=json`, `v=2.0`, `sign_method` and `sign`.
 * The sign covers every parameter but `sign` and files, sorted by name in ASCII order and joined
 * as name + value (empty values left out): `md5` is MD5(secret + joined + secret), `hmac` is
 * HMAC-MD5 and `hmac-sha256` HMAC-SHA256 of the joined text keyed by the secret; hex, upper case.
 * Answers are `{"<method without taobao., dots as _>_response": {...}}` or
 * `{"error_response": {code, msg, sub_code, sub_msg}}`.
 */
export type SignMethod = "md5" | "hmac" | "hmac-sha256";

/** A TOP answer's JSON: read field by field, each value converted (String, Number, toMinorUnits) or checked where it is used. */
// biome-ignore lint/suspicious/noExplicitAny: TOP's answers are loosely typed JSON documented per API; see the readers.
export type TopJson = Record<string, any>;

export function topSign(params: Record<string, string>, secret: string, method: SignMethod): string {
  const joined = Object.keys(params)
    .filter((k) => k !== "sign" && params[k] !== undefined && params[k] !== "")
    .sort()
    .map((k) => `${k}${params[k]}`)
    .join("");
  const digest =
    method === "md5"
      ? createHash("md5").update(`${secret}${joined}${secret}`, "utf8").digest("hex")
      : createHmac(method === "hmac" ? "md5" : "sha256", secret)
          .update(joined, "utf8")
          .digest("hex");
  return digest.toUpperCase();
}

/** TOP's times: Beijing time (GMT+8) without an offset. */
export function topTime(d: Date): string {
  const t = new Date(d.getTime() + 8 * 3600_000).toISOString();
  return `${t.slice(0, 10)} ${t.slice(11, 19)}`;
}
export function fromTopTime(s: string | null | undefined): Date | undefined {
  if (!s) return undefined;
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$/.exec(s.trim());
  if (!m) return undefined;
  const d = new Date(`${m[1]}T${m[2]}+08:00`);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** The response key of a method: `taobao.trade.fullinfo.get` → `trade_fullinfo_get_response`. */
export const responseKey = (method: string) => `${method.replace(/^taobao\./, "").replaceAll(".", "_")}_response`;

export interface TopErrorBody {
  code: number;
  msg?: string;
  sub_code?: string;
  sub_msg?: string;
}

/** A TOP error answer, kept whole so that callers can read its sub_code. */
export class TopError extends ServiceError {
  constructor(
    kind: ConstructorParameters<typeof ServiceError>[0],
    message: string,
    readonly top: TopErrorBody,
    retryAfterMs?: number,
  ) {
    super(kind, message, { retryAfterMs });
    this.name = "TopError";
  }
}

const describe = (e: TopErrorBody) => `${e.code} ${e.msg ?? ""}${e.sub_code ? `, ${e.sub_code}` : ""}${e.sub_msg ? `: ${e.sub_msg}` : ""}`;

/** "This ban will last for 12 more seconds" → 12 000 ms. */
export function banMs(subMsg: string | undefined): number | undefined {
  const m = /last for (\d+) more seconds?/i.exec(subMsg ?? "");
  return m ? Number(m[1]) * 1000 : undefined;
}

/** What the connector does with each TOP error: fix the credentials, wait, retry, or give up on this call. */
export function classify(e: TopErrorBody): TopError {
  const what = describe(e);
  const sub = e.sub_code ?? "";
  if (e.code === 27 || e.code === 26 || /session/i.test(sub))
    return new TopError(
      "auth",
      `淘宝授权已失效（${what}）：请卖家在开放平台重新授权本应用，再把新的 sessionKey 填入连接器 / The Taobao session has expired or is invalid (${what}): have the seller authorise the app again and enter the new sessionKey in the connector`,
      e,
    );
  if (e.code === 25 || e.code === 24)
    return new TopError(
      "auth",
      `淘宝拒绝了签名（${what}）：请核对 appSecret 与签名方式 / Taobao refused the signature (${what}): check the appSecret and the sign method`,
      e,
    );
  if (e.code === 28 || e.code === 29)
    return new TopError("auth", `淘宝不认识这个 appKey（${what}）/ Taobao does not know this appKey (${what})`, e);
  if (e.code === 11 || e.code === 12)
    return new TopError(
      "auth",
      `应用或卖家没有调用该接口的权限（${what}）：请在开放平台为应用申请该权限包 / The app or the seller lacks the permission for this API (${what}): request its permission package for the app`,
      e,
    );
  if (e.code === 7 || /call-limited|limited-by/.test(sub)) {
    // The app's daily quota ends at midnight Beijing time; the per-API and per-app bans say how long.
    const ms = banMs(e.sub_msg) ?? (/app-access-count/.test(sub) ? untilBeijingMidnight(Date.now()) : 1000);
    return new TopError("rate_limited", `淘宝限流（${what}）/ Taobao is limiting the calls (${what})`, e, ms);
  }
  if (e.code === 10 || e.code === 520 || sub.startsWith("isp."))
    return new TopError("transient", `淘宝服务暂时不可用（${what}）/ Taobao failed for now (${what})`, e);
  return new TopError("refused", `淘宝拒绝了请求（${what}）/ Taobao refused the request (${what})`, e);
}

function untilBeijingMidnight(now: number): number {
  const day = 86_400_000;
  const bj = now + 8 * 3600_000;
  return day - (bj % day) + 1000;
}

export interface TopFile {
  filename: string;
  mime: string;
  data: Buffer;
}

/** The request body: form-encoded, or multipart when a file goes with it (files are not signed). */
function body(params: Record<string, string>, files: Record<string, TopFile>) {
  if (!Object.keys(files).length)
    return { contentType: "application/x-www-form-urlencoded;charset=utf-8", payload: new URLSearchParams(params).toString() };
  const boundary = `----dropdesk${randomBytes(12).toString("hex")}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(params))
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`, "utf8"));
  for (const [k, f] of Object.entries(files)) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${k}"; filename="${encodeURIComponent(f.filename)}"\r\nContent-Type: ${f.mime}\r\n\r\n`,
        "utf8",
      ),
    );
    parts.push(f.data, Buffer.from("\r\n"));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { contentType: `multipart/form-data; boundary=${boundary}`, payload: Buffer.concat(parts) };
}

async function once<T>(ctx: ConnectorContext, method: string, api: Record<string, unknown>, files: Record<string, TopFile>): Promise<T> {
  const s = ctx.settings;
  const signMethod = (s.signMethod as SignMethod | undefined) ?? "hmac-sha256";
  const params: Record<string, string> = {
    method,
    app_key: s.appKey ?? "",
    session: s.sessionKey ?? "",
    timestamp: topTime(ctx.deps.clock.now()),
    format: "json",
    v: "2.0",
    sign_method: signMethod,
  };
  for (const [k, v] of Object.entries(api)) if (v !== undefined && v !== null && v !== "") params[k] = String(v);
  params.sign = topSign(params, s.appSecret ?? "", signMethod);
  const b = body(params, files);
  const res = await serviceRequest(s.gateway ?? "", {
    policy: outboundPolicy(ctx.deps.config.outboundAllow),
    headers: { "content-type": b.contentType, accept: "application/json" },
    body: b.payload as string,
    timeoutMs: ctx.options.timeoutMs,
  });
  if (res.status >= 500)
    throw new ServiceError("transient", `淘宝网关返回 ${res.status} / the TOP gateway answered ${res.status}`, { status: res.status });
  if (res.status !== 200)
    throw new ServiceError(
      "refused",
      `淘宝网关返回 ${res.status}：请核对网关地址 / the TOP gateway answered ${res.status}: check the gateway URL`,
      {
        status: res.status,
      },
    );
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(res.body);
  } catch {
    throw new ServiceError("transient", "淘宝的应答不是 JSON / Taobao's answer was not JSON");
  }
  const err = json.error_response as TopErrorBody | undefined;
  if (err) throw classify(err);
  const out = json[responseKey(method)];
  if (!out || typeof out !== "object")
    throw new ServiceError("transient", `淘宝的应答缺少 ${responseKey(method)} / Taobao's answer had no ${responseKey(method)}`);
  return out as T;
}

/** One TOP call, with the framework's in-job retries and waits. */
export function top<T = TopJson>(
  ctx: ConnectorContext,
  method: string,
  params: Record<string, unknown> = {},
  files: Record<string, TopFile> = {},
): Promise<T> {
  return withRetries(ctx.options, () => once<T>(ctx, method, params, files));
}

/** TOP's lists come wrapped: `{"trades": {"trade": [...]}}`. */
export function list<T = TopJson>(wrapper: unknown, item: string): T[] {
  const inner = (wrapper as Record<string, unknown> | undefined)?.[item];
  return Array.isArray(inner) ? (inner as T[]) : [];
}

/** A file the platform serves (a buyer's photo), read through the outbound guard, as bytes. */
export async function fetchFile(ctx: ConnectorContext, url: string, maxBytes = 10 * 1024 * 1024): Promise<Buffer> {
  const target = await checkOutbound(url, outboundPolicy(ctx.deps.config.outboundAllow));
  const lib = target.url.protocol === "https:" ? https : http;
  return new Promise<Buffer>((resolve, reject) => {
    const r = lib.request(
      {
        protocol: target.url.protocol,
        hostname: target.hostname,
        port: target.port,
        path: `${target.url.pathname}${target.url.search}`,
        method: "GET",
        lookup: pinnedLookup(target.addresses),
        agent: false,
        signal: AbortSignal.timeout(ctx.options.timeoutMs),
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`HTTP ${res.statusCode}`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) res.destroy(new Error("the file is too large"));
          else chunks.push(c);
        });
        res.on("end", () => resolve(Buffer.concat(chunks)));
        res.on("error", reject);
      },
    );
    r.on("error", reject);
    r.end();
  });
}
