import Stripe from "stripe";
import type { OutboundPolicy } from "../../platform/outbound.js";
import { checkBase, guardedNodeAgent } from "./transport.js";
import { GatewayDown, type LegAnswer, type LegLookup, type LegRequest, type PaymentGateway, type PaymentRef } from "./types.js";

/**
 * Stripe through the official `stripe` package: `POST /v1/refunds` with `Idempotency-Key` = the
 * leg's gateway key (Stripe replays the first answer for a repeated key, and refuses the key with
 * other parameters) and the key in the refund's metadata, so that reconciliation finds the refund
 * among the payment's refunds (`GET /v1/refunds?payment_intent=…`) even after Stripe has forgotten
 * the idempotency key (24 hours). Webhooks (`refund.updated`, `charge.refund.updated`, …) are
 * checked with `Stripe-Signature` (HMAC-SHA256 of `t.payload` with the endpoint's signing secret,
 * five minutes' tolerance) by the SDK.
 */
export interface StripeSettings {
  /** The secret API key (`sk_…` or a restricted `rk_…` with write access to refunds). */
  secretKey: string;
  /** The webhook endpoint's signing secret (`whsec_…`). */
  webhookSecret?: string;
  /** The API's base URL; unset, the SDK's own. Tests point it at an emulator. */
  endpoint?: string;
}

export const KEY_METADATA = "dropdesk_key";

/** What a Stripe refund's status means for Dropdesk. */
export function stripeOutcome(r: Pick<Stripe.Refund, "id" | "status" | "failure_reason">): LegAnswer {
  if (r.status === "succeeded") return { status: "succeeded", reference: r.id };
  if (r.status === "failed" || r.status === "canceled")
    return {
      status: "failed",
      reference: r.id,
      error: `Stripe reports the refund ${r.status}${r.failure_reason ? ` (${r.failure_reason})` : ""}`,
    };
  if (r.status === "requires_action")
    return { status: "processing", reference: r.id, error: "Stripe needs the customer's bank details for this refund (requires_action)" };
  return { status: "processing", reference: r.id };
}

/** The payment's reference as Stripe's parameter: a PaymentIntent (`pi_…`) or a charge (`ch_…`, `py_…`). */
function target(payment: PaymentRef): { payment_intent: string } | { charge: string } {
  return payment.reference.startsWith("pi_") ? { payment_intent: payment.reference } : { charge: payment.reference };
}

export class StripeGateway implements PaymentGateway {
  readonly name = "stripe";
  private client: Stripe | undefined;
  constructor(
    private settings: StripeSettings,
    private opts: { policy: OutboundPolicy; timeoutMs: number },
  ) {}

  private async stripe(): Promise<Stripe> {
    if (this.client) return this.client;
    const base = this.settings.endpoint ? await checkBase(this.settings.endpoint, this.opts.policy) : undefined;
    this.client = new Stripe(this.settings.secretKey, {
      ...(base
        ? {
            host: base.hostname.replace(/^\[|\]$/g, ""),
            port: base.port || (base.protocol === "http:" ? 80 : 443),
            protocol: base.protocol === "http:" ? "http" : "https",
          }
        : {}),
      httpAgent: guardedNodeAgent(this.opts.policy, base),
      timeout: this.opts.timeoutMs,
      // The SDK retries network failures and 409/5xx answers itself, under the same Idempotency-Key.
      maxNetworkRetries: 2,
      telemetry: false,
    });
    return this.client;
  }

  /** Verifies a webhook's Stripe-Signature and returns the event; throws with the reason otherwise. */
  async event(raw: Buffer | string, signature: string): Promise<Stripe.Event> {
    if (!this.settings.webhookSecret) throw new Error("the connector has no webhook signing secret");
    return (await this.stripe()).webhooks.constructEvent(raw, signature, this.settings.webhookSecret);
  }

  private down(e: unknown, what: string): never {
    if (e instanceof Stripe.errors.StripeError) {
      const detail = `${e.rawType ?? e.type}${e.code ? ` ${e.code}` : ""}: ${e.message}`;
      if (e instanceof Stripe.errors.StripeRateLimitError) throw new GatewayDown(`Stripe is limiting the calls (${detail})`, 60_000);
      if (e instanceof Stripe.errors.StripeAuthenticationError || e instanceof Stripe.errors.StripePermissionError)
        throw new GatewayDown(`Stripe refused the API key for ${what} (${detail}): check the connector's secret key`);
      if (e instanceof Stripe.errors.StripeConnectionError) throw new GatewayDown("could not reach Stripe (network error or timeout)");
      throw new GatewayDown(`Stripe could not ${what} now (${detail})`);
    }
    throw e;
  }

  async refund(req: LegRequest): Promise<LegAnswer> {
    const stripe = await this.stripe();
    try {
      const r = await stripe.refunds.create(
        {
          ...target(req.payment),
          amount: req.amount,
          reason: "requested_by_customer",
          metadata: { [KEY_METADATA]: req.key, ...(req.reason ? { reason: req.reason.slice(0, 500) } : {}) },
        },
        { idempotencyKey: req.key },
      );
      return stripeOutcome(r);
    } catch (e) {
      // A refusal of the request itself (the charge is refunded already, the amount is too large,
      // no such payment): Stripe created no refund under this key. An idempotency error is not one.
      if (
        e instanceof Stripe.errors.StripeInvalidRequestError &&
        !(e instanceof Stripe.errors.StripeIdempotencyError) &&
        e.type !== "idempotency_error"
      )
        return { status: "failed", error: `Stripe refused the refund: ${e.code ?? e.type}: ${e.message}` };
      if (e instanceof Stripe.errors.StripeCardError)
        return { status: "failed", error: `Stripe refused the refund: ${e.code ?? e.type}: ${e.message}` };
      // Refused credentials: nothing was refunded; retrying without a new key would not help.
      if (e instanceof Stripe.errors.StripeAuthenticationError || e instanceof Stripe.errors.StripePermissionError)
        return { status: "failed", error: `Stripe refused the API key (${e.message}): check the connector's secret key` };
      return this.down(e, "take the refund");
    }
  }

  async lookup(req: { key: string; payment: PaymentRef }): Promise<LegLookup> {
    const stripe = await this.stripe();
    try {
      for await (const r of stripe.refunds.list({ ...target(req.payment), limit: 100 })) {
        if (r.metadata?.[KEY_METADATA] === req.key) return stripeOutcome(r);
      }
      return { status: "unknown" };
    } catch (e) {
      if (e instanceof Stripe.errors.StripeInvalidRequestError && e.code === "resource_missing") return { status: "unknown" };
      return this.down(e, "list the payment's refunds");
    }
  }
}
