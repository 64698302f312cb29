import { createHmac, randomBytes } from "node:crypto";
import { type EmuAnswer, type EmuRequest, type Fault, serve } from "./emulator-server.js";

/**
 * A local Stripe API for contract tests, from Stripe's public API reference:
 * - `Authorization: Bearer sk_…` (401 `invalid_request_error` "Invalid API Key provided" otherwise),
 *   form-encoded bodies with `metadata[key]` brackets, errors as `{"error": {type, code, message, param}}`;
 * - idempotent requests: a repeated `Idempotency-Key` with the same parameters replays the first
 *   answer (`Idempotent-Replayed: true`); with other parameters, 400 `idempotency_error`;
 * - `POST /v1/refunds` (`payment_intent` or `charge`, `amount`, `reason`, `metadata`): never more
 *   than the charge's unrefunded amount (`charge_already_refunded`, `amount_too_large`), 400
 *   `resource_missing` for an unknown payment; a refund is `succeeded` at once, or `pending` until
 *   settle() when `pendingRefunds` is set;
 * - `GET /v1/refunds?payment_intent=…|charge=…&limit&starting_after`: the payment's refunds, newest
 *   first, as a list object with `has_more`;
 * - webhooks signed as Stripe signs them: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of
 *   "t.payload" with the endpoint secret>`;
 * - faults for the next requests: `outage` (500 `api_error`), `busy` (429 `rate_limit`), `drop`
 *   (the refund is made, the answer lost), `forge` (a webhook signed with another secret).
 */
interface Charge {
  id: string;
  paymentIntent: string;
  amount: number;
  currency: string;
}
interface Refund {
  id: string;
  object: "refund";
  amount: number;
  charge: string;
  payment_intent: string;
  currency: string;
  created: number;
  metadata: Record<string, string>;
  reason: string | null;
  status: "succeeded" | "pending" | "failed" | "canceled";
  failure_reason: string | null;
}

/** Stripe's form encoding read back: `metadata[k]=v` into nested objects. */
function parseForm(body: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const m = /^(\w+)\[(\w+)\]$/.exec(k);
    if (m) {
      const inner = (out[m[1]] as Record<string, string> | undefined) ?? {};
      inner[m[2]] = v;
      out[m[1]] = inner;
    } else out[k] = v;
  }
  return out;
}

export class StripeEmulator {
  readonly secretKey = `sk_test_${randomBytes(12).toString("hex")}`;
  readonly webhookSecret = `whsec_${randomBytes(16).toString("hex")}`;
  charges = new Map<string, Charge>();
  refunds: Refund[] = [];
  faults: Fault[] = [];
  pendingRefunds = false;
  /** Requests that reached the API. */
  calls: { method: string; path: string; idempotencyKey?: string; replayed?: boolean }[] = [];
  private idem = new Map<string, { params: string; answer: EmuAnswer }>();
  private server?: Awaited<ReturnType<typeof serve>>;
  private seq = 0;

  get endpoint() {
    return this.server?.base ?? "";
  }
  async start() {
    this.server = await serve((r) => this.handle(r));
    return this;
  }
  async stop() {
    await this.server?.close();
  }

  addCharge(amount: number, currency = "cny"): Charge {
    this.seq += 1;
    const id = randomBytes(8).toString("hex");
    const c = { id: `ch_${id}`, paymentIntent: `pi_${id}`, amount, currency };
    this.charges.set(c.id, c);
    return c;
  }
  refundedOf(c: Charge) {
    return this.refunds
      .filter((r) => r.charge === c.id && (r.status === "succeeded" || r.status === "pending"))
      .reduce((s, r) => s + r.amount, 0);
  }

  /** An event as Stripe would post it to the endpoint, with its Stripe-Signature. */
  event(type: string, refund: Refund, opts: { forge?: boolean; at?: number } = {}) {
    const t = opts.at ?? Math.floor(Date.now() / 1000);
    const body = JSON.stringify({
      id: `evt_${randomBytes(12).toString("hex")}`,
      object: "event",
      api_version: "2025-01-27.acacia",
      created: t,
      type,
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      data: { object: refund },
    });
    const v1 = createHmac("sha256", opts.forge ? "whsec_not_the_endpoint_secret" : this.webhookSecret)
      .update(`${t}.${body}`)
      .digest("hex");
    return { body, headers: { "content-type": "application/json", "stripe-signature": `t=${t},v1=${v1}` } };
  }
  settle(refundId: string, status: "succeeded" | "failed" = "succeeded") {
    const r = this.refunds.find((x) => x.id === refundId);
    if (!r) throw new Error(`no refund ${refundId}`);
    r.status = status;
    if (status === "failed") r.failure_reason = "lost_or_stolen_card";
    return r;
  }

  private error(status: number, type: string, message: string, code?: string, param?: string): EmuAnswer {
    return {
      status,
      body: JSON.stringify({ error: { type, message, ...(code ? { code } : {}), ...(param ? { param } : {}) } }),
      headers: { "request-id": `req_${randomBytes(7).toString("hex")}` },
    };
  }
  private ok(data: unknown): EmuAnswer {
    return { status: 200, body: JSON.stringify(data), headers: { "request-id": `req_${randomBytes(7).toString("hex")}` } };
  }

  private handle(req: EmuRequest): EmuAnswer {
    const key = typeof req.headers["idempotency-key"] === "string" ? req.headers["idempotency-key"] : undefined;
    const call: (typeof this.calls)[number] = { method: req.method, path: req.url.pathname, idempotencyKey: key };
    this.calls.push(call);
    if (req.headers.authorization !== `Bearer ${this.secretKey}`)
      return this.error(401, "invalid_request_error", "Invalid API Key provided: sk_test_****");
    const fault = this.faults.shift();
    if (fault === "outage") return this.error(500, "api_error", "An unknown error occurred");
    if (fault === "busy") return this.error(429, "invalid_request_error", "Too many requests hit the API too quickly.", "rate_limit");
    if (req.method === "POST" && req.url.pathname === "/v1/refunds") {
      if (key) {
        const seen = this.idem.get(key);
        if (seen) {
          if (seen.params !== req.body)
            return this.error(
              400,
              "idempotency_error",
              `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
            );
          call.replayed = true;
          return { ...seen.answer, headers: { ...seen.answer.headers, "idempotent-replayed": "true" }, drop: fault === "drop" };
        }
      }
      const answer = this.create(parseForm(req.body));
      // Stripe saves the answer of a request that ran (2xx and 4xx alike) under its key.
      if (key && answer.status < 500) this.idem.set(key, { params: req.body, answer });
      return fault === "drop" ? { ...answer, drop: true } : answer;
    }
    if (req.method === "GET" && req.url.pathname === "/v1/refunds") return this.list(req.url.searchParams);
    return this.error(404, "invalid_request_error", `Unrecognized request URL (${req.method}: ${req.url.pathname}).`);
  }

  private create(p: Record<string, unknown>): EmuAnswer {
    const pi = typeof p.payment_intent === "string" ? p.payment_intent : undefined;
    const ch = typeof p.charge === "string" ? p.charge : undefined;
    const c = pi ? [...this.charges.values()].find((x) => x.paymentIntent === pi) : ch ? this.charges.get(ch) : undefined;
    if (!pi && !ch)
      return this.error(
        400,
        "invalid_request_error",
        "One of the following params should be provided for this request: payment_intent or charge.",
        "parameter_missing",
      );
    if (!c)
      return this.error(
        400,
        "invalid_request_error",
        `No such ${pi ? "payment_intent" : "charge"}: '${pi ?? ch}'`,
        "resource_missing",
        pi ? "payment_intent" : "charge",
      );
    const left = c.amount - this.refundedOf(c);
    if (left <= 0) return this.error(400, "invalid_request_error", `Charge ${c.id} has already been refunded.`, "charge_already_refunded");
    const amount = p.amount === undefined ? left : Number(p.amount);
    if (!Number.isInteger(amount) || amount <= 0)
      return this.error(400, "invalid_request_error", "Invalid integer: amount", "parameter_invalid_integer", "amount");
    if (amount > left)
      return this.error(
        400,
        "invalid_request_error",
        `Refund amount (${amount}) is greater than unrefunded amount on charge (${left})`,
        "amount_too_large",
        "amount",
      );
    this.seq += 1;
    const r: Refund = {
      id: `re_${randomBytes(12).toString("hex")}`,
      object: "refund",
      amount,
      charge: c.id,
      payment_intent: c.paymentIntent,
      currency: c.currency,
      created: Math.floor(Date.now() / 1000) + this.seq,
      metadata: (p.metadata as Record<string, string> | undefined) ?? {},
      reason: typeof p.reason === "string" ? p.reason : null,
      status: this.pendingRefunds ? "pending" : "succeeded",
      failure_reason: null,
    };
    this.refunds.push(r);
    return this.ok(r);
  }

  private list(q: URLSearchParams): EmuAnswer {
    const limit = Math.min(100, Number(q.get("limit") ?? 10));
    let items = [...this.refunds].sort((a, b) => b.created - a.created);
    if (q.get("payment_intent")) items = items.filter((r) => r.payment_intent === q.get("payment_intent"));
    if (q.get("charge")) items = items.filter((r) => r.charge === q.get("charge"));
    const after = q.get("starting_after");
    if (after) items = items.slice(items.findIndex((r) => r.id === after) + 1);
    return this.ok({ object: "list", url: "/v1/refunds", has_more: items.length > limit, data: items.slice(0, limit) });
  }
}
