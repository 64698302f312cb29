import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { Agent as UndiciAgent } from "urllib";
import { checkOutbound, type OutboundPolicy, OutboundRefused, type ResolvedAddress } from "../../platform/outbound.js";
import { GatewayDown } from "./types.js";

/**
 * Refund gateways call their services only through Dropdesk's outbound guard
 * (src/platform/outbound.ts): public addresses, or those the installation allows
 * (`DROPDESK_OUTBOUND_ALLOW`). A configured base URL is checked before the call; the connection's
 * own DNS lookup checks again and answers only with the checked addresses, so a second DNS answer
 * cannot point it elsewhere. The official SDKs (alipay-sdk over urllib, stripe over node:http) take
 * the guarded lookup through their agent options.
 */

/** Checks a configured base URL; a refusal is a configuration problem, said in words. */
export async function checkBase(url: string, policy: OutboundPolicy): Promise<URL> {
  try {
    return (await checkOutbound(url, policy)).url;
  } catch (e) {
    if (e instanceof OutboundRefused) throw new GatewayDown(`the gateway's address ${url} may not be called: ${e.message}`);
    throw e;
  }
}

function answer(addresses: ResolvedAddress[], options: { all?: boolean; family?: number | string }, cb: (...args: unknown[]) => void) {
  const family = options?.family === 4 || options?.family === "IPv4" ? 4 : options?.family === 6 || options?.family === "IPv6" ? 6 : 0;
  const fit = addresses.filter((a) => !family || a.family === family);
  if (!fit.length) {
    cb(Object.assign(new Error("no checked address of that family"), { code: "ENOTFOUND" }));
    return;
  }
  if (options?.all) cb(null, fit);
  else cb(null, fit[0].address, fit[0].family);
}

/** A DNS lookup that resolves through the outbound guard and answers only with what it allowed. */
export function guardedLookup(policy: OutboundPolicy, protocol: "http:" | "https:", port?: number): LookupFunction {
  return ((host: string, options: { all?: boolean; family?: number | string }, cb: (...args: unknown[]) => void) => {
    const where = `${protocol}//${host.includes(":") ? `[${host}]` : host}${port ? `:${port}` : ""}/`;
    checkOutbound(where, policy).then(
      (t) => answer(t.addresses, options, cb),
      (e) => cb(Object.assign(new Error(e instanceof Error ? e.message : String(e)), { code: "EREFUSED" })),
    );
  }) as LookupFunction;
}

/** A node:http(s) agent whose connections go through the guard (for the stripe SDK). */
export function guardedNodeAgent(policy: OutboundPolicy, url: URL | undefined): http.Agent {
  const protocol = url?.protocol === "http:" ? "http:" : "https:";
  const port = url?.port ? Number(url.port) : undefined;
  const opts = { keepAlive: false, lookup: guardedLookup(policy, protocol, port) };
  return protocol === "http:" ? new http.Agent(opts) : new https.Agent(opts);
}

/** An undici dispatcher whose connections go through the guard (for alipay-sdk, which calls urllib). */
export function guardedDispatcher(policy: OutboundPolicy, url: URL | undefined): UndiciAgent {
  const protocol = url?.protocol === "http:" ? "http:" : "https:";
  const port = url?.port ? Number(url.port) : undefined;
  return new UndiciAgent({ connect: { lookup: guardedLookup(policy, protocol, port) }, pipelining: 0 });
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const MAX_BODY = 2 * 1024 * 1024;

/** One HTTP call through the guard, reading the answer; any network failure is GatewayDown. */
export async function guardedRequest(
  input: string,
  req: { policy: OutboundPolicy; method: string; headers: Record<string, string>; body?: string; timeoutMs: number; what: string },
): Promise<Answer> {
  const url = await checkBase(input, req.policy);
  const lib = url.protocol === "https:" ? https : http;
  const body = req.body === undefined ? undefined : Buffer.from(req.body);
  return new Promise<Answer>((resolve, reject) => {
    const r = lib.request(
      url,
      {
        method: req.method,
        headers: { ...req.headers, ...(body ? { "content-length": String(body.length) } : {}) },
        lookup: guardedLookup(req.policy, url.protocol === "http:" ? "http:" : "https:", url.port ? Number(url.port) : undefined),
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
        res.on("error", () => reject(new GatewayDown(`${req.what}'s answer was cut off (network error or timeout)`)));
      },
    );
    r.on("error", () => reject(new GatewayDown(`could not reach ${req.what} (network error or timeout)`)));
    r.end(body);
  });
}
