import { createHash } from "node:crypto";
import type { Deps } from "../../platform/context.js";
import { outboundPolicy } from "../../platform/outbound.js";
import { retryAfterMs, serviceRequest } from "../http.js";
import type { ConnectorContext } from "../kind.js";
import { fromMinorUnits, platformAmount } from "../money.js";
import { PlatformError } from "../platform-error.js";
import { withRetries } from "../retry.js";
import { openSecrets, SecretKeyMissing, sealSecrets } from "../secrets.js";

/**
 * CJdropshipping's REST API 2.0 as CJ documents it: JSON over HTTPS under `<endpoint>/api2.0/v1/`,
 * every call but authentication carrying the account's access token in the `CJ-Access-Token`
 * header. The token comes from the account's API key (`authentication/getAccessToken`, 15 days)
 * and is renewed with its refresh token (`authentication/refreshAccessToken`, 180 days) a day
 * before it expires; both are sealed in `supplier_platform_tokens` (never logged or returned).
 *
 * Every answer is the envelope `{code, result, message, data, requestId}`; `code` 200 is success and
 * the rest follow CJ's global error codes: 1600001/1600002 an invalid or missing token (renewed
 * once, then credentials), 1600003 an invalid refresh token (a new one from the API key),
 * 1600004–1600008 the API key refused, 1600200 (and HTTP 429) the call limit, 1600201 the day's
 * quota, 1600000 and 5xx CJ busy or down; anything else (1600300 illegal parameter, 1602000 variant
 * not found, 1603000 order create fail, 1604000 balance insufficient …) is a refusal in CJ's words.
 * Calls are spaced by the account's QPS (config `qps`, 1 by default: CJ's free level).
 */
export interface CjSettings {
  apiKey: string;
  endpoint: string;
  qps: number;
}

export class CjError extends PlatformError {
  override name = "CjError";
}

export function settingsOfCj(settings: Record<string, string | undefined>): CjSettings {
  const endpoint = settings.endpoint || process.env.DROPDESK_CJ_URL;
  if (!settings.apiKey) throw new CjError("config", "the CJdropshipping connector needs the account's apiKey", "auth");
  if (!endpoint) throw new CjError("config", "set CJ's API base URL (config endpoint or DROPDESK_CJ_URL)", "refused");
  const qps = Number(settings.qps ?? 1);
  return { apiKey: settings.apiKey, endpoint: endpoint.replace(/\/+$/, ""), qps: Number.isFinite(qps) && qps > 0 ? qps : 1 };
}

const AUTH_FAILURES = new Set(["1600004", "1600005", "1600006", "1600007", "1600008"]);
const TOKEN_INVALID = new Set(["1600001", "1600002", "1600030"]);
const DAY = 86_400_000;

type Envelope = { code?: number | string; result?: boolean; message?: string; data?: unknown; requestId?: string };

/** The next call may start at this time, per connector: CJ counts calls per account and second. */
const nextSlot = new Map<string, number>();
async function paced(ctx: ConnectorContext, qps: number) {
  // A fifth over 1/qps apart, so that jitter on the way (a busy event loop, a slow network) never
  // lands qps + 1 calls in one of CJ's seconds.
  const gap = Math.ceil(1200 / qps);
  const now = Date.now();
  const at = Math.max(now, nextSlot.get(ctx.connector.id) ?? 0);
  nextSlot.set(ctx.connector.id, at + gap);
  if (at > now) await ctx.options.sleep(at - now);
}

/** One HTTP exchange, its envelope read and its failures classified. */
async function exchange(
  deps: Deps,
  ctx: ConnectorContext,
  s: CjSettings,
  method: "GET" | "POST" | "DELETE",
  path: string,
  body: unknown,
  token: string | null,
): Promise<Envelope> {
  await paced(ctx, s.qps);
  let url = `${s.endpoint}/api2.0/v1/${path}`;
  if (method !== "POST" && body && typeof body === "object") {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) if (v !== undefined && v !== null) q.set(k, String(v));
    url += `?${q.toString()}`;
  }
  const res = await serviceRequest(url, {
    policy: outboundPolicy(deps.config.outboundAllow),
    method,
    headers: { "content-type": "application/json", accept: "application/json", ...(token ? { "CJ-Access-Token": token } : {}) },
    body: method === "POST" ? JSON.stringify(body ?? {}) : undefined,
    timeoutMs: ctx.options.timeoutMs,
  });
  let env: Envelope = {};
  try {
    env = res.body ? (JSON.parse(res.body) as Envelope) : {};
  } catch {
    if (res.status < 500 && res.status !== 429)
      throw new CjError("invalid_answer", `CJ answered ${res.status} with something that is not JSON`, "transient", { status: res.status });
  }
  const code = env.code === undefined ? String(res.status) : String(env.code);
  const words = `${env.message ?? res.status}${env.requestId ? ` (requestId ${env.requestId})` : ""}`;
  if (res.status === 429 || code === "1600200")
    throw new CjError(code, `CJ call limit exceeded: ${words}`, "rate_limited", {
      status: res.status,
      retryAfterMs: retryAfterMs(res.headers["retry-after"]) ?? 1000,
    });
  if (code === "1600201") {
    // The day's quota: CJ resets it at 00:00 UTC.
    const now = Date.now();
    throw new CjError(code, `CJ's daily quota is used up: ${words}`, "rate_limited", { retryAfterMs: DAY - (now % DAY) });
  }
  if (res.status >= 500 || code === "1600000")
    throw new CjError(code, `CJ answered ${res.status}: ${words}`, "transient", { status: res.status });
  if (code === "200" && env.result !== false) return env;
  if (TOKEN_INVALID.has(code)) throw new CjError(code, `CJ refused the access token (${code}: ${words})`, "auth", { status: res.status });
  if (AUTH_FAILURES.has(code) || code === "1600003" || res.status === 401 || res.status === 403)
    throw new CjError(code, `CJ refused the API key (${code}: ${words})`, "auth", { status: res.status });
  throw new CjError(code, `CJ: ${env.message ?? code} (${code})`, "refused", { status: res.status });
}

// Tokens ----------------------------------------------------------------------------------------

/** The installation's secret key (read here, not through context.ts, which lists this kind). */
function secretKey(deps: Deps): Buffer {
  const key = deps.services.connectorSecretKey as Buffer | undefined;
  if (!key) throw new CjError("config", new SecretKeyMissing().message, "refused");
  return key;
}

interface Tokens {
  accessToken: string;
  refreshToken: string;
  accessExpires: number;
  refreshExpires: number;
  /** Which API key issued them: a key changed in the connector's settings asks for new ones. */
  keyHash: string;
}
const keyHash = (apiKey: string) => createHash("sha256").update(apiKey).digest("hex").slice(0, 16);
const dateOf = (v: unknown, fallback: number) => {
  const t = Date.parse(String(v ?? ""));
  return Number.isNaN(t) ? fallback : t;
};

async function loadTokens(ctx: ConnectorContext): Promise<Tokens | null> {
  const row = await ctx.deps.db
    .selectFrom("supplier_platform_tokens")
    .select(["sealed"])
    .where("connector_id", "=", ctx.connector.id)
    .executeTakeFirst();
  if (!row) return null;
  try {
    const t = openSecrets(secretKey(ctx.deps), ctx.connector.id, row.sealed);
    return {
      accessToken: t.accessToken,
      refreshToken: t.refreshToken,
      accessExpires: Number(t.accessExpires),
      refreshExpires: Number(t.refreshExpires),
      keyHash: t.keyHash,
    };
  } catch {
    return null;
  }
}

async function saveTokens(ctx: ConnectorContext, t: Tokens) {
  const sealed = sealSecrets(secretKey(ctx.deps), ctx.connector.id, {
    accessToken: t.accessToken,
    refreshToken: t.refreshToken,
    accessExpires: String(t.accessExpires),
    refreshExpires: String(t.refreshExpires),
    keyHash: t.keyHash,
  });
  const now = ctx.deps.clock.now();
  const values = {
    sealed,
    access_expires_at: new Date(t.accessExpires),
    refresh_expires_at: new Date(t.refreshExpires),
    obtained_at: now,
    updated_at: now,
  };
  await ctx.deps.db
    .insertInto("supplier_platform_tokens")
    .values({ connector_id: ctx.connector.id, tenant_id: ctx.connector.tenant_id, ...values })
    .onConflict((oc) => oc.column("connector_id").doUpdateSet(values))
    .execute();
}

function tokensOf(data: unknown, s: CjSettings, now: number): Tokens {
  const d = (data ?? {}) as Record<string, unknown>;
  if (!d.accessToken) throw new CjError("invalid_answer", "CJ issued no access token", "transient");
  return {
    accessToken: String(d.accessToken),
    refreshToken: String(d.refreshToken ?? ""),
    accessExpires: dateOf(d.accessTokenExpiryDate, now + 15 * DAY),
    refreshExpires: dateOf(d.refreshTokenExpiryDate, now + 180 * DAY),
    keyHash: keyHash(s.apiKey),
  };
}

/** A valid access token: the sealed one, refreshed a day before it expires, or a new one from the API key. */
async function accessToken(ctx: ConnectorContext, s: CjSettings, force = false): Promise<string> {
  const now = ctx.deps.clock.now().getTime();
  const t = await loadTokens(ctx);
  const own = t && t.keyHash === keyHash(s.apiKey);
  if (own && !force && t.accessExpires - now > DAY) return t.accessToken;
  if (own && t.refreshToken && t.refreshExpires > now) {
    try {
      const env = await exchange(ctx.deps, ctx, s, "POST", "authentication/refreshAccessToken", { refreshToken: t.refreshToken }, null);
      const fresh = tokensOf(env.data, s, now);
      await saveTokens(ctx, fresh);
      await ctx.log("info", "CJ access token refreshed");
      return fresh.accessToken;
    } catch (e) {
      // An invalid refresh token (1600003) is replaced from the API key; anything else is reported.
      if (!(e instanceof CjError) || e.kind !== "auth") throw e;
    }
  }
  const env = await exchange(ctx.deps, ctx, s, "POST", "authentication/getAccessToken", { apiKey: s.apiKey }, null);
  const fresh = tokensOf(env.data, s, now);
  await saveTokens(ctx, fresh);
  await ctx.log("info", "CJ access token obtained from the API key");
  return fresh.accessToken;
}

export interface CjClient {
  call<T = unknown>(method: "GET" | "POST" | "DELETE", path: string, body?: Record<string, unknown>): Promise<T>;
}

/** A client that signs every call with a valid token and renews it once when CJ says it is no longer valid. */
export function cjClient(ctx: ConnectorContext): CjClient {
  const s = settingsOfCj(ctx.settings);
  const once = async (method: "GET" | "POST" | "DELETE", path: string, body?: Record<string, unknown>) => {
    const token = await accessToken(ctx, s);
    try {
      return await exchange(ctx.deps, ctx, s, method, path, body, token);
    } catch (e) {
      if (!(e instanceof CjError) || !TOKEN_INVALID.has(e.code)) throw e;
      return exchange(ctx.deps, ctx, s, method, path, body, await accessToken(ctx, s, true));
    }
  };
  return {
    async call<T>(method: "GET" | "POST" | "DELETE", path: string, body?: Record<string, unknown>) {
      const env = await withRetries(ctx.options, () => once(method, path, body));
      return env.data as T;
    },
  };
}

/** USD as CJ writes it (numbers or decimal text) → cents, digit by digit. */
export const usdToCents = (v: unknown) => platformAmount(v, "USD", (m) => new CjError("invalid_answer", m));
export const centsToUsd = (c: number) => fromMinorUnits(c, "USD");
