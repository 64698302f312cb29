import { createHmac, randomBytes } from "node:crypto";
import type { Deps } from "../../platform/context.js";
import { outboundPolicy } from "../../platform/outbound.js";
import { retryAfterMs, serviceRequest } from "../http.js";
import type { ConnectorOptions } from "../kind.js";
import { platformAmount } from "../money.js";
import { PlatformError } from "../platform-error.js";
import { withRetries } from "../retry.js";

/**
 * The 1688 open platform (Alibaba AOP) as its documentation describes it: every API is
 * `POST <endpoint>/openapi/param2/<version>/<namespace>/<name>/<appKey>` with form fields; the
 * buyer's `access_token` and `_aop_timestamp` travel as fields and the request is signed with
 * `_aop_signature` = upper-case hex HMAC-SHA1 (key: the app secret) of the URL path from `param2`
 * on followed by every field but the signature, sorted by name, each as name + value. Structured
 * fields are sent as JSON text. A file field (uploadRefundVoucher's `imageData`) goes as
 * multipart and is not signed.
 *
 * Gateway failures come back as `{error_code, error_message}` with a 4xx/5xx status; business
 * failures as `success: false` with `errorCode`/`code` and a message. Both become ServiceError:
 * credentials (`auth`), frequency limits (`rate_limited`), the platform being down (`transient`)
 * or a refusal in the platform's words (`refused`, with its code in `Ali1688Error.code`).
 */
export interface Ali1688Settings {
  appKey: string;
  appSecret: string;
  accessToken: string;
  endpoint: string;
}

export class Ali1688Error extends PlatformError {
  override name = "Ali1688Error";
}

export function settingsOf1688(settings: Record<string, string | undefined>): Ali1688Settings {
  const endpoint = settings.endpoint || process.env.DROPDESK_ALIBABA1688_URL;
  if (!settings.appKey || !settings.appSecret || !settings.accessToken)
    throw new Ali1688Error("config", "the 1688 connector needs appKey, appSecret and the buyer's accessToken", "auth");
  if (!endpoint)
    throw new Ali1688Error("config", "set the 1688 gateway's base URL (config endpoint or DROPDESK_ALIBABA1688_URL)", "refused");
  return {
    appKey: settings.appKey,
    appSecret: settings.appSecret,
    accessToken: settings.accessToken,
    endpoint: endpoint.replace(/\/+$/, ""),
  };
}

/** The signature the platform documents: HMAC-SHA1(appSecret, urlPath + Σ sorted name+value), hex, upper case. */
export function sign1688(urlPath: string, params: Record<string, string>, appSecret: string): string {
  const canonical = Object.keys(params)
    .filter((k) => k !== "_aop_signature")
    .sort()
    .map((k) => `${k}${params[k]}`)
    .join("");
  return createHmac("sha1", appSecret).update(`${urlPath}${canonical}`).digest("hex").toUpperCase();
}

export const apiPath = (namespace: string, name: string, appKey: string, version = 1) => `param2/${version}/${namespace}/${name}/${appKey}`;

const text = (v: unknown) => (typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : JSON.stringify(v));

const AUTH_CODES = new Set([
  "401",
  "gw.AccessTokenInvalid",
  "gw.AccessTokenExpired",
  "gw.SignatureInvalid",
  "gw.AppKeyInvalid",
  "gw.APIUnsupported",
]);
const LIMIT_CODES = /QosAppFrequencyLimit|QosApiFrequencyLimit|FLOW_LIMIT|ACCESS_LIMIT/;

export interface Ali1688Client {
  call<T = Record<string, unknown>>(
    namespace: string,
    name: string,
    params: Record<string, unknown>,
    file?: { field: string; data: Buffer; filename: string; mime: string },
  ): Promise<T>;
}

export function client1688(deps: Deps, settings: Ali1688Settings, options: ConnectorOptions): Ali1688Client {
  const policy = outboundPolicy(deps.config.outboundAllow);
  const once = async (
    namespace: string,
    name: string,
    params: Record<string, unknown>,
    file?: { field: string; data: Buffer; filename: string; mime: string },
  ) => {
    const path = apiPath(namespace, name, settings.appKey);
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) fields[k] = text(v);
    fields.access_token = settings.accessToken;
    fields._aop_timestamp = String(deps.clock.now().getTime());
    fields._aop_signature = sign1688(path, fields, settings.appSecret);
    const url = `${settings.endpoint}/openapi/${path}`;
    let body: string | Buffer;
    let contentType: string;
    if (file) {
      const boundary = `----dropdesk${randomBytes(8).toString("hex")}`;
      const parts: Buffer[] = [];
      for (const [k, v] of Object.entries(fields))
        parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
      parts.push(
        Buffer.from(
          `--${boundary}\r\ncontent-disposition: form-data; name="${file.field}"; filename="${file.filename}"\r\ncontent-type: ${file.mime}\r\n\r\n`,
        ),
        file.data,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      );
      body = Buffer.concat(parts);
      contentType = `multipart/form-data; boundary=${boundary}`;
    } else {
      body = new URLSearchParams(fields).toString();
      contentType = "application/x-www-form-urlencoded;charset=utf-8";
    }
    const res = await serviceRequest(url, {
      policy,
      method: "POST",
      headers: { "content-type": contentType, accept: "application/json" },
      body,
      timeoutMs: options.timeoutMs,
    });
    let json: Record<string, unknown> = {};
    try {
      json = res.body ? (JSON.parse(res.body) as Record<string, unknown>) : {};
    } catch {
      if (res.status >= 500) throw new Ali1688Error(String(res.status), `1688 answered ${res.status}`, "transient", { status: res.status });
      throw new Ali1688Error("invalid_answer", `1688 answered ${res.status} with something that is not JSON`, "transient", {
        status: res.status,
      });
    }
    const gwCode = json.error_code !== undefined ? String(json.error_code) : undefined;
    const gwMessage = String(json.error_message ?? json.errorMessage ?? "");
    if (res.status === 429 || (gwCode && LIMIT_CODES.test(gwCode)))
      throw new Ali1688Error(gwCode ?? "429", `1688 rate limit: ${gwMessage || res.status}`, "rate_limited", {
        status: res.status,
        retryAfterMs: retryAfterMs(res.headers["retry-after"]) ?? 1000,
      });
    if (res.status === 401 || (gwCode && AUTH_CODES.has(gwCode)))
      throw new Ali1688Error(gwCode ?? "401", `1688 refused the credentials (${res.status} ${gwCode ?? ""}: ${gwMessage})`, "auth", {
        status: res.status,
      });
    if (res.status >= 500)
      throw new Ali1688Error(gwCode ?? String(res.status), `1688 answered ${res.status}: ${gwMessage}`, "transient", {
        status: res.status,
      });
    if (res.status >= 400 || gwCode)
      throw new Ali1688Error(gwCode ?? String(res.status), `1688 refused the call: ${gwMessage || res.status}`, "refused", {
        status: res.status,
      });
    return json;
  };
  return {
    async call<T>(
      namespace: string,
      name: string,
      params: Record<string, unknown>,
      file?: { field: string; data: Buffer; filename: string; mime: string },
    ) {
      return (await withRetries(options, () => once(namespace, name, params, file))) as T;
    },
  };
}

/** A business answer that says no (`success: false`, an error code) as an Ali1688Error in the platform's words. */
export function businessRefusal(r: Record<string, unknown> | undefined): Ali1688Error | null {
  if (!r) return new Ali1688Error("empty", "1688 gave no result");
  const ok = r.success;
  const code = r.errorCode ?? r.code;
  if (ok === false || ok === "false" || (code !== undefined && code !== null && code !== "" && ok !== true && ok !== "true")) {
    const c = String(code ?? "unknown");
    // Platform-side trouble (the documentation's 4xxx and system-busy codes) is worth trying again.
    const transient = /^4\d{3}$|SYSTEM_ERROR|SYSTEM_BUSY/.test(c);
    return new Ali1688Error(c, `1688: ${String(r.errorMessage ?? r.message ?? c)}`, transient ? "transient" : "refused");
  }
  return null;
}

/** Yuan as 1688 writes them (numbers or decimal text) → fen, digit by digit. */
export function yuanToFen(v: unknown): number {
  return platformAmount(v, "CNY", (m) => new Ali1688Error("invalid_answer", m));
}
