import { createHash, randomBytes } from "node:crypto";
import { type EmuAnswer, type EmuRequest, serve } from "../gateways/emulator-server.js";

/**
 * An emulator of 17TRACK's tracking API v2.2, written from its public documentation, for contract
 * tests; it never calls Dropdesk's code, only speaks the protocol.
 *
 * - `POST /track/v2.2/register`: header `17token` (else 401 with code -18010002), a JSON array of
 *   at most 40 `{number, carrier?, tag?}` (more: code -18010014); answers
 *   `{code: 0, data: {accepted: [{origin, number, carrier}], rejected: [{number, error: {code, message}}]}}`.
 *   Per number: -18019901 already registered, -18010012 a number in a bad format, -18019903 a
 *   carrier it cannot detect (here: numbers starting `ZZ` sent without a carrier).
 * - `POST /track/v2.2/getquota`: `{code: 0, data: {quota_total, quota_used, quota_remain}}`.
 * - Faults on demand: the next calls answer 429 (rate limit, with Retry-After) or 500/503.
 * - Webhooks (the emulator as 17TRACK calling back): `{event: "TRACKING_UPDATED" | "TRACKING_STOPPED",
 *   data: {number, carrier, tag, track_info: {latest_status, latest_event, tracking: {providers:
 *   [{provider, events: [{time_iso, time_utc, description, location, stage, sub_status}]}]}}}}` —
 *   the whole history, newest first — with header `sign` = SHA-256 hex of the raw body + "/" + key.
 */
export interface Track17Entry {
  /** UTC instant, ISO 8601. */
  at: string;
  description: string;
  stage: string;
  sub?: string;
  location?: string;
}
interface Registered {
  number: string;
  carrier: number;
  tag?: string;
  entries: Track17Entry[];
}
export type Deliver = (url: string, body: string, headers: Record<string, string>) => Promise<{ status: number; body: string }>;

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
/** The ISO time with the +08:00 offset 17TRACK gives for a Chinese origin scan. */
const isoAt8 = (utc: string) => `${new Date(new Date(utc).getTime() + 8 * 3600_000).toISOString().slice(0, 19)}+08:00`;

export class Track17Emulator {
  readonly key = `k17${randomBytes(12).toString("hex")}`;
  readonly registered = new Map<string, Registered>();
  readonly calls: { path: string; body: unknown }[] = [];
  /** Statuses the next calls answer with (429, 500, 503), in order. */
  faults: number[] = [];
  /** Where pushes go (the test points it at the application). */
  webhook = "";
  deliver: Deliver = async () => {
    throw new Error("set emulator.deliver");
  };
  url = "";
  private close?: () => Promise<void>;

  async start() {
    const s = await serve((req) => this.handle(req));
    this.url = s.base;
    this.close = s.close;
    return this;
  }
  async stop() {
    await this.close?.();
  }

  private json(status: number, body: unknown, headers: Record<string, string> = {}): EmuAnswer {
    return { status, body: JSON.stringify(body), headers };
  }

  private handle(req: EmuRequest): EmuAnswer {
    let body: unknown;
    try {
      body = JSON.parse(req.body || "null");
    } catch {
      body = undefined;
    }
    this.calls.push({ path: req.url.pathname, body });
    const fault = this.faults.shift();
    if (fault === 429) return this.json(429, { code: 429, message: "Too Many Requests" }, { "retry-after": "2" });
    if (fault) return this.json(fault, { code: -18010003, message: "Internal service error" });
    if (req.method !== "POST") return this.json(404, { code: 404 });
    if (req.headers["17token"] !== this.key)
      return this.json(401, { code: -18010002, data: { errors: [{ code: -18010002, message: "Invalid security key." }] } });
    if (req.url.pathname === "/track/v2.2/getquota")
      return this.json(200, {
        code: 0,
        data: { quota_total: 1000, quota_used: this.registered.size, quota_remain: 1000 - this.registered.size },
      });
    if (req.url.pathname === "/track/v2.2/register") return this.register(body);
    return this.json(404, { code: 404, message: "not found" });
  }

  private register(body: unknown): EmuAnswer {
    if (!Array.isArray(body))
      return this.json(200, { code: -18010013, data: { errors: [{ code: -18010013, message: "Invalid submitted data." }] } });
    if (body.length > 40)
      return this.json(200, { code: -18010014, data: { errors: [{ code: -18010014, message: "Tracking numbers exceed the 40 limit." }] } });
    const accepted: unknown[] = [];
    const rejected: unknown[] = [];
    for (const item of body as { number?: string; carrier?: number; tag?: string }[]) {
      const number = String(item.number ?? "");
      const reject = (code: number, message: string) => rejected.push({ number, error: { code, message } });
      if (!/^[A-Za-z0-9]{5,50}$/.test(number)) reject(-18010012, `The format of data '${number}' is invalid.`);
      else if (this.registered.has(number)) reject(-18019901, `Tracking number ${number} is already registered.`);
      else if (!item.carrier && number.startsWith("ZZ"))
        reject(-18019903, "Carrier cannot be detected. Visit carrier info for carrier code and send as a parameter.");
      else {
        const carrier = item.carrier ?? 3011;
        this.registered.set(number, { number, carrier, tag: item.tag, entries: [] });
        accepted.push({ origin: 1, number, carrier });
      }
    }
    return this.json(200, { code: 0, data: { accepted, rejected } });
  }

  // ------------------------------------------------------------------- 17TRACK calling back

  track(number: string, ...entries: Track17Entry[]) {
    const r = this.registered.get(number);
    if (!r) throw new Error(`${number} is not registered`);
    r.entries.push(...entries);
    return this;
  }

  /** The TRACKING_UPDATED body as it stands (the first `upTo` entries in time), newest first. */
  updateBody(number: string, opts: { upTo?: number } = {}) {
    const r = this.registered.get(number);
    if (!r) throw new Error(`${number} is not registered`);
    const sorted = [...r.entries].sort((a, b) => a.at.localeCompare(b.at)).slice(0, opts.upTo ?? r.entries.length);
    const events = sorted.reverse().map((e) => ({
      time_iso: isoAt8(e.at),
      time_utc: new Date(e.at).toISOString().replace(".000Z", "Z"),
      time_raw: { date: isoAt8(e.at).slice(0, 10), time: isoAt8(e.at).slice(11, 19), timezone: "+08:00" },
      description: e.description,
      location: e.location ?? null,
      stage: e.stage,
      sub_status: e.sub ?? `${e.stage}_Other`,
      address: {},
    }));
    const newest = events[0];
    return JSON.stringify({
      event: "TRACKING_UPDATED",
      data: {
        number: r.number,
        carrier: r.carrier,
        param: null,
        tag: r.tag ?? null,
        track_info: {
          shipping_info: { shipper_address: {}, recipient_address: {} },
          latest_status: {
            status: newest?.stage ?? "NotFound",
            sub_status: newest?.sub_status ?? "NotFound_Other",
            sub_status_descr: null,
          },
          latest_event: newest ?? null,
          time_metrics: {},
          milestone: [],
          misc_info: {},
          tracking: {
            providers_hash: 0,
            providers: [{ provider: { key: r.carrier, name: "carrier" }, latest_sync_status: "Success", events_hash: 0, events }],
          },
        },
      },
    });
  }

  /** Posts a body to the webhook signed with the key (or `key` to forge one). */
  async post(body: string, opts: { key?: string; sign?: string } = {}) {
    const sign = opts.sign ?? sha256(`${body}/${opts.key ?? this.key}`);
    const r = await this.deliver(this.webhook, body, { "content-type": "application/json", sign });
    return { status: r.status, body: r.body };
  }

  push(number: string, opts: { upTo?: number; key?: string } = {}) {
    return this.post(this.updateBody(number, opts), opts);
  }

  stopped(number: string) {
    const r = this.registered.get(number);
    return this.post(
      JSON.stringify({ event: "TRACKING_STOPPED", data: { number, carrier: r?.carrier ?? 0, param: null, tag: r?.tag ?? null } }),
    );
  }
}
