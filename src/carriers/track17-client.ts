import { retryAfterMs, ServiceError, serviceRequest } from "../connectors/http.js";
import type { Deps } from "../platform/context.js";
import { outboundPolicy } from "../platform/outbound.js";
import { TRACK17_BATCH, TRACK17_PREFIX, track17Error } from "./track17.js";

/**
 * Calls to 17TRACK (API v2.2): `register` (at most 40 numbers a call) and `getquota` (the
 * connector's test). Every call is a JSON post through the outbound guard with the security key
 * in the `17token` header. HTTP 429 is a rate limit (17TRACK allows a few calls a second per key),
 * 5xx and the internal-error code are worth trying again, 401 and the key/IP/account codes are the
 * credentials; the answer of a number it would not take comes back per number.
 */
export interface Track17Settings {
  apiKey: string;
  endpoint: string;
  timeoutMs: number;
}

export function track17SettingsOf(settings: Record<string, string | undefined>, timeoutMs: number): Track17Settings {
  const endpoint = settings.endpoint ?? process.env.DROPDESK_TRACK17_URL;
  if (!settings.apiKey) throw new ServiceError("auth", "the 17TRACK connector needs its security key (apiKey)");
  if (!endpoint) throw new ServiceError("refused", "set 17TRACK's base URL (config.endpoint or DROPDESK_TRACK17_URL)");
  return { apiKey: settings.apiKey, endpoint: endpoint.replace(/\/+$/, ""), timeoutMs };
}

type Envelope = { code?: number; data?: { accepted?: unknown[]; rejected?: unknown[] } & Record<string, unknown> };

async function call(deps: Deps, s: Track17Settings, method: string, body: unknown): Promise<Envelope> {
  const r = await serviceRequest(`${s.endpoint}${TRACK17_PREFIX}/${method}`, {
    policy: outboundPolicy(deps.config.outboundAllow),
    headers: { "content-type": "application/json", "17token": s.apiKey },
    body: JSON.stringify(body),
    timeoutMs: s.timeoutMs,
  });
  if (r.status === 429)
    throw new ServiceError("rate_limited", "17TRACK asks to slow down (HTTP 429)", {
      status: 429,
      retryAfterMs: retryAfterMs(r.headers["retry-after"]) ?? 1000,
    });
  if (r.status >= 500) throw new ServiceError("transient", `17TRACK answered HTTP ${r.status}`, { status: r.status });
  if (r.status === 401 || r.status === 403)
    throw new ServiceError("auth", `17TRACK refused the security key (HTTP ${r.status})`, { status: r.status });
  let a: Envelope;
  try {
    a = JSON.parse(r.body) as Envelope;
  } catch {
    throw new ServiceError("transient", `17TRACK answered HTTP ${r.status} with something that is not JSON`, { status: r.status });
  }
  if (a.code !== 0) {
    const e = track17Error(Number(a.code));
    throw new ServiceError(e.kind === "auth" ? "auth" : e.kind === "transient" ? "transient" : "refused", `${e.words} (${a.code})`);
  }
  return a;
}

export interface RegisterItem {
  number: string;
  carrier?: number;
  tag?: string;
}
export interface RegisterAnswer {
  accepted: { number: string; carrier?: number }[];
  rejected: { number: string; code: number; message: string }[];
}

/** register: asks 17TRACK to track these numbers (at most 40) and push their events to the account's webhook. */
export async function registerNumbers(deps: Deps, s: Track17Settings, items: RegisterItem[]): Promise<RegisterAnswer> {
  if (items.length > TRACK17_BATCH) throw new Error(`at most ${TRACK17_BATCH} numbers per register call`);
  const a = await call(deps, s, "register", items);
  const accepted = (a.data?.accepted ?? []) as { number?: string; carrier?: number }[];
  const rejected = (a.data?.rejected ?? []) as { number?: string; error?: { code?: number; message?: string } }[];
  return {
    accepted: accepted.map((x) => ({ number: String(x.number ?? ""), carrier: x.carrier })),
    rejected: rejected.map((x) => ({
      number: String(x.number ?? ""),
      code: Number(x.error?.code ?? 0),
      message: String(x.error?.message ?? ""),
    })),
  };
}

/** getquota: what the account may still register (the connector's test). */
export async function quota(deps: Deps, s: Track17Settings) {
  const a = await call(deps, s, "getquota", {});
  const d = (a.data ?? {}) as { quota_total?: number; quota_used?: number; quota_remain?: number };
  return { total: d.quota_total, used: d.quota_used, remaining: d.quota_remain };
}
