import http from "node:http";
import https from "node:https";
import { checkOutbound, type OutboundPolicy, pinnedLookup } from "../platform/outbound.js";

/**
 * A connector's calls to its service, through the same guard as webhooks (src/platform/outbound.ts:
 * public or allowed addresses only, pinned after DNS, no redirects), reading the answer's body.
 * Failures come out as ServiceError with what a sync needs to decide: give up (credentials), wait
 * (rate limit, with the service's Retry-After) or back off and retry (5xx, timeout, network).
 */
export type ServiceErrorKind = "auth" | "rate_limited" | "transient" | "refused";

export class ServiceError extends Error {
  constructor(
    readonly kind: ServiceErrorKind,
    message: string,
    readonly opts: { status?: number; retryAfterMs?: number } = {},
  ) {
    super(message);
    this.name = "ServiceError";
  }
}

export interface ServiceResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Reads `Retry-After`: seconds (possibly fractional, as Shopify sends) or an HTTP date. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const seconds = Number(v);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const MAX_BODY = 20 * 1024 * 1024;

export async function serviceRequest(
  input: string,
  req: { policy: OutboundPolicy; method?: string; headers?: Record<string, string>; body?: string | Buffer; timeoutMs: number },
): Promise<ServiceResponse> {
  let target: Awaited<ReturnType<typeof checkOutbound>>;
  try {
    target = await checkOutbound(input, req.policy);
  } catch (e) {
    throw new ServiceError("refused", e instanceof Error ? e.message : String(e));
  }
  const lib = target.url.protocol === "https:" ? https : http;
  const body = req.body === undefined ? undefined : typeof req.body === "string" ? Buffer.from(req.body) : req.body;
  return new Promise<ServiceResponse>((resolve, reject) => {
    const r = lib.request(
      {
        protocol: target.url.protocol,
        hostname: target.hostname,
        port: target.port,
        path: `${target.url.pathname}${target.url.search}`,
        method: req.method ?? "POST",
        headers: { ...req.headers, ...(body ? { "content-length": String(body.length) } : {}) },
        lookup: pinnedLookup(target.addresses),
        agent: false,
        signal: AbortSignal.timeout(req.timeoutMs),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) res.destroy(new Error("answer too large"));
          else chunks.push(c);
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", () => reject(new ServiceError("transient", "the service's answer was cut off (network error or timeout)")));
      },
    );
    r.on("error", () => reject(new ServiceError("transient", "could not reach the service (network error or timeout)")));
    r.end(body);
  });
}
