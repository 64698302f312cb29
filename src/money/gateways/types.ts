/**
 * What a real payment gateway (Alipay, WeChat Pay, Stripe) does for a refund by the original
 * route: one call per leg of the refund (the part paid by that method), keyed by the leg's gateway
 * key, which each service treats as its idempotency key (Alipay `out_request_no`, WeChat Pay
 * `out_refund_no`, Stripe `Idempotency-Key`), so a retry or a reconciliation never pays twice.
 *
 * Only an answer whose signature verified may settle a refund; anything else (a service that is
 * down, an answer that does not verify, credentials it refuses) throws GatewayDown, and the refund
 * stays `processing` with the reason in words, to be retried with back-off.
 */
export type GatewayName = "alipay" | "wechatpay" | "stripe";

/** The original payment the leg goes back to: the platform's trade number and what it paid. */
export interface PaymentRef {
  /** Alipay `trade_no`/`out_trade_no`, WeChat Pay `transaction_id`/`out_trade_no`, Stripe `pi_…`/`ch_…`. */
  reference: string;
  /** What this payment paid, in minor units (WeChat Pay needs the original total). */
  amount: number;
  currency: string;
}

export interface LegRequest {
  key: string;
  amount: number;
  currency: string;
  payment: PaymentRef;
  reason?: string;
  /** Where the service sends its refund notification (WeChat Pay), when it does. */
  notifyUrl?: string;
}

export interface LegAnswer {
  status: "succeeded" | "processing" | "failed";
  /** The service's id of the refund (Alipay's trade number, WeChat Pay `refund_id`, Stripe `re_…`). */
  reference?: string;
  /** Why it failed, or why it is still processing, in words. */
  error?: string;
}

export interface LegLookup {
  /** `unknown`: the service never received this key, so sending it again under the same key is safe. */
  status: "succeeded" | "processing" | "failed" | "unknown";
  reference?: string;
  error?: string;
}

export interface PaymentGateway {
  readonly name: GatewayName;
  refund(req: LegRequest): Promise<LegAnswer>;
  /** What the service knows of a key: the query API, for reconciliation after a crash. */
  lookup(req: { key: string; payment: PaymentRef }): Promise<LegLookup>;
}

/** A gateway that cannot give a trustworthy answer now; the refund stays processing and is retried. */
export class GatewayDown extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "GatewayDown";
  }
}

/** 1230 → "12.30" for a currency with two decimals (the services' notation for CNY). */
export function yuan(amount: number): string {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new Error(`${amount} is not an amount in fen`);
  const s = String(amount).padStart(3, "0");
  return `${s.slice(0, -2)}.${s.slice(-2)}`;
}

/** "12.30" → 1230; null for text that is not an exact amount with at most two decimals. */
export function fen(text: unknown): number | null {
  const m = typeof text === "string" ? /^(\d+)(?:\.(\d{1,2}))?$/.exec(text.trim()) : null;
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] ?? "").padEnd(2, "0"));
}
