import { lookup as dnsLookup } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";

/**
 * The one way Dropdesk calls URLs that tenants or operators typed in (webhooks, the SMS provider,
 * future connectors). A URL is called only when it is http(s) and every address its host resolves
 * to is public, or the installation allows it (`DROPDESK_OUTBOUND_ALLOW`: a comma list of hosts,
 * host:port, addresses or CIDRs). The connection goes to the addresses that were checked (no
 * second DNS answer can point it elsewhere), and redirects are never followed.
 */

/** A URL that may not be called; nothing was connected to. */
export class OutboundRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OutboundRefused";
  }
}

/** What a caller reports about a receiver it could not reach, whatever the cause: one message. */
export const UNREACHABLE = "could not reach the receiver (network error or timeout)";

type Bytes = number[];
interface Range {
  bytes: Bytes;
  bits: number;
}
type Rule =
  | { kind: "host"; host: string; port?: number }
  | { kind: "address"; bytes: Bytes; port?: number }
  | { kind: "range"; range: Range };

export interface OutboundPolicy {
  rules: Rule[];
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

const systemResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

// Addresses -----------------------------------------------------------------------------------

function parseV4(text: string): Bytes | null {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  return parts.map(Number);
}

function parseV6(input: string): Bytes | null {
  let text = input;
  const zone = text.indexOf("%");
  if (zone >= 0) text = text.slice(0, zone);
  if (isIP(text) !== 6) return null;
  // A trailing dotted quad (::ffff:127.0.0.1) is the last four bytes.
  let tail: Bytes = [];
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    const v4 = parseV4(text.slice(lastColon + 1));
    if (!v4) return null;
    tail = v4;
    text = text.slice(0, lastColon + 1);
    if (!text.endsWith("::")) text = text.slice(0, -1);
  }
  const halves = text.split("::");
  const groups = (s: string | undefined) => (s ? s.split(":").filter((g) => g !== "") : []);
  const head = groups(halves[0]);
  const rest = groups(halves[1]);
  const missing = 8 - tail.length / 2 - head.length - rest.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return null;
  const bytes: Bytes = [];
  for (const g of [...head, ...Array<string>(missing).fill("0"), ...rest]) {
    const n = Number.parseInt(g, 16);
    bytes.push(n >> 8, n & 0xff);
  }
  return [...bytes, ...tail];
}

/** An IP address as its bytes (4 or 16), or null when the text is not one. */
export function addressBytes(text: string): Bytes | null {
  const t = text.replace(/^\[|\]$/g, "");
  return isIP(t) === 4 ? parseV4(t) : parseV6(t);
}

function parseRange(text: string): Range | null {
  const [addr, bitsText] = text.split("/");
  const bytes = addressBytes(addr);
  const bits = Number(bitsText);
  if (!bytes || !/^\d{1,3}$/.test(bitsText ?? "") || bits > bytes.length * 8) return null;
  return { bytes, bits };
}

const inRange = (bytes: Bytes, r: Range) => {
  if (bytes.length !== r.bytes.length) return false;
  for (let i = 0; i < r.bits; i++) {
    const bit = (b: Bytes) => (b[i >> 3] >> (7 - (i & 7))) & 1;
    if (bit(bytes) !== bit(r.bytes)) return false;
  }
  return true;
};

const range = (text: string, why: string) => ({ ...(parseRange(text) as Range), why });

/** Address blocks that are never public: nothing outbound goes there unless allowed. */
const INTERNAL = [
  range("0.0.0.0/8", "unspecified"),
  range("10.0.0.0/8", "private"),
  range("100.64.0.0/10", "shared (CGNAT)"),
  range("127.0.0.0/8", "loopback"),
  range("169.254.0.0/16", "link-local (cloud metadata)"),
  range("172.16.0.0/12", "private"),
  range("192.0.0.0/24", "protocol assignments"),
  range("192.168.0.0/16", "private"),
  range("198.18.0.0/15", "benchmarking"),
  range("224.0.0.0/4", "multicast"),
  range("240.0.0.0/4", "reserved or broadcast"),
  range("::/128", "unspecified"),
  range("::1/128", "loopback"),
  range("::/96", "IPv4-compatible"),
  range("100::/64", "discard"),
  range("fc00::/7", "unique-local"),
  range("fe80::/10", "link-local"),
  range("fec0::/10", "site-local"),
  range("ff00::/8", "multicast"),
];
const MAPPED = parseRange("::ffff:0:0/96") as Range;
const NAT64 = parseRange("64:ff9b::/96") as Range;

/** Why an address is not public (loopback, private, ...), or null for a public one. */
export function internalReason(address: string | Bytes): string | null {
  const bytes = typeof address === "string" ? addressBytes(address) : address;
  if (!bytes) return "not an IP address";
  // IPv4 inside IPv6 (::ffff:a.b.c.d, 64:ff9b::a.b.c.d) is judged by its IPv4 address.
  if (bytes.length === 16 && (inRange(bytes, MAPPED) || inRange(bytes, NAT64))) return internalReason(bytes.slice(12));
  return INTERNAL.find((r) => inRange(bytes, r))?.why ?? null;
}

// Policy --------------------------------------------------------------------------------------

/** Reads an allow-list: `host`, `host:port`, `address`, `[v6]:port` or `address/bits`, comma-separated. */
export function parseOutboundAllow(text: string | undefined): OutboundPolicy {
  const rules: Rule[] = [];
  for (const raw of (text ?? "").split(",")) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry.includes("/")) {
      const r = parseRange(entry);
      if (!r) throw new Error(`DROPDESK_OUTBOUND_ALLOW: "${entry}" is not a CIDR range`);
      rules.push({ kind: "range", range: r });
      continue;
    }
    let host = entry;
    let port: number | undefined;
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    if (bracketed) {
      host = bracketed[1];
      port = bracketed[2] ? Number(bracketed[2]) : undefined;
    } else if (isIP(entry) !== 6) {
      const m = /^(.+):(\d+)$/.exec(entry);
      if (m) {
        host = m[1];
        port = Number(m[2]);
      }
    }
    if (port !== undefined && (port < 1 || port > 65535)) throw new Error(`DROPDESK_OUTBOUND_ALLOW: "${entry}" has a bad port`);
    const bytes = addressBytes(host);
    rules.push(bytes ? { kind: "address", bytes, port } : { kind: "host", host: host.replace(/\.$/, ""), port });
  }
  return { rules };
}

const policies = new Map<string, OutboundPolicy>();
/** The installation's policy from its configured allow-list (read once per distinct text). */
export function outboundPolicy(allow: string | undefined): OutboundPolicy {
  const key = allow ?? "";
  let p = policies.get(key);
  if (!p) {
    p = parseOutboundAllow(key);
    policies.set(key, p);
  }
  return p;
}

const sameBytes = (a: Bytes, b: Bytes) => a.length === b.length && a.every((x, i) => x === b[i]);

export interface OutboundTarget {
  url: URL;
  /** The host without IPv6 brackets, as connected to (TLS name, Host header). */
  hostname: string;
  port: number;
  /** The checked addresses the connection must use. */
  addresses: ResolvedAddress[];
}

/**
 * Checks a URL before anything is sent: http(s) only, and every address of its host public or
 * allowed. Throws OutboundRefused otherwise; resolves to the addresses to connect to.
 */
export async function checkOutbound(input: string, policy: OutboundPolicy, opts: { resolve?: Resolver } = {}): Promise<OutboundTarget> {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new OutboundRefused("not a valid URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new OutboundRefused("only http and https URLs are called");
  const hostname = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  const portOk = (p?: number) => p === undefined || p === port;
  const hostAllowed = policy.rules.some((r) => r.kind === "host" && r.host === hostname.replace(/\.$/, "") && portOk(r.port));
  let addresses: ResolvedAddress[];
  const literal = isIP(hostname);
  if (literal) addresses = [{ address: hostname, family: literal === 6 ? 6 : 4 }];
  else {
    try {
      addresses = await (opts.resolve ?? systemResolver)(hostname);
    } catch {
      throw new OutboundRefused("the host name does not resolve");
    }
    if (!addresses.length) throw new OutboundRefused("the host name does not resolve");
  }
  if (!hostAllowed) {
    for (const a of addresses) {
      const bytes = addressBytes(a.address);
      if (!bytes) throw new OutboundRefused("the host does not resolve to an IP address");
      const why = internalReason(bytes);
      if (!why) continue;
      const allowed = policy.rules.some(
        (r) => (r.kind === "address" && sameBytes(r.bytes, bytes) && portOk(r.port)) || (r.kind === "range" && inRange(bytes, r.range)),
      );
      if (!allowed)
        throw new OutboundRefused(
          `the URL points to an address that is not public (${why}); only public addresses are called unless the installation allows it`,
        );
    }
  }
  return { url, hostname, port, addresses };
}

/** A DNS lookup that answers only with the addresses already checked (connectors use it too). */
export function pinnedLookup(addresses: ResolvedAddress[]): LookupFunction {
  return ((_host: string, options: { all?: boolean; family?: number | string }, cb: (...args: unknown[]) => void) => {
    const family = options?.family === 4 || options?.family === "IPv4" ? 4 : options?.family === 6 || options?.family === "IPv6" ? 6 : 0;
    const fit = addresses.filter((a) => !family || a.family === family);
    if (!fit.length) {
      cb(Object.assign(new Error("no checked address of that family"), { code: "ENOTFOUND" }));
      return;
    }
    if (options?.all) cb(null, fit);
    else cb(null, fit[0].address, fit[0].family);
  }) as LookupFunction;
}

export interface OutboundResponse {
  status: number;
}

/**
 * Sends one request to a checked target. Answers with the status (a 3xx is returned as it is, not
 * followed). Throws OutboundRefused for a refused URL and Error(UNREACHABLE) for any network
 * failure or timeout, so that a caller's log never tells a closed port from a silent one.
 */
export async function outboundRequest(
  input: string,
  req: {
    policy: OutboundPolicy;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    timeoutMs?: number;
    resolve?: Resolver;
  },
): Promise<OutboundResponse> {
  const target = await checkOutbound(input, req.policy, { resolve: req.resolve });
  const lib = target.url.protocol === "https:" ? https : http;
  const body = req.body === undefined ? undefined : Buffer.from(req.body);
  return new Promise<OutboundResponse>((resolve, reject) => {
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
        signal: AbortSignal.timeout(req.timeoutMs ?? 10_000),
      },
      (res) => {
        resolve({ status: res.statusCode ?? 0 });
        // The answer's body is not read: the status is all a caller records.
        res.destroy();
      },
    );
    r.on("error", () => reject(new Error(UNREACHABLE)));
    r.end(body);
  });
}

/** Checks a URL typed into a form: the refusal's reason, or null when it may be called. */
export async function outboundRefusal(input: string, policy: OutboundPolicy, opts: { resolve?: Resolver } = {}): Promise<string | null> {
  try {
    await checkOutbound(input, policy, opts);
    return null;
  } catch (e) {
    if (e instanceof OutboundRefused) return e.message;
    throw e;
  }
}
