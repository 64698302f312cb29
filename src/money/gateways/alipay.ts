import { AlipayRequestError, AlipaySdk } from "alipay-sdk";
import type { OutboundPolicy } from "../../platform/outbound.js";
import { checkBase, guardedDispatcher } from "./transport.js";
import { fen, GatewayDown, type LegAnswer, type LegLookup, type LegRequest, type PaymentGateway, type PaymentRef, yuan } from "./types.js";

/**
 * Alipay (支付宝开放平台) through the official `alipay-sdk`, RSA2 keys (SHA256withRSA):
 * `alipay.trade.refund` with `out_request_no` = the leg's gateway key — Alipay refunds a trade at
 * most once per `out_request_no`, and a repeat answers with `fund_change: "N"` — and
 * `alipay.trade.fastpay.refund.query` for what a refund became (`refund_status: REFUND_SUCCESS`,
 * or nothing when Alipay never received it). Every answer's signature is checked against the
 * Alipay public key (`validateSign`) before anything is read from it.
 */
export interface AlipaySettings {
  appId: string;
  /** The application's RSA2 private key (PEM, PKCS#1 or PKCS#8). */
  privateKey: string;
  /** Alipay's public key (PEM) from the open platform's 接口加签方式 page; every answer is checked with it. */
  alipayPublicKey: string;
  /** The gateway's URL (`…/gateway.do`); unset, the SDK's production gateway. Tests point it at an emulator. */
  gateway?: string;
  /** Which of Alipay's numbers the payment's reference is: Alipay's `trade_no` (default) or the merchant's `out_trade_no`. */
  referenceIs?: "trade_no" | "out_trade_no";
}

type AlipayResult = Record<string, unknown> & { code?: string; msg?: string; sub_code?: string; sub_msg?: string };

/** Answers that say Alipay could not decide now: the same request may be sent again. */
const RETRY_SUB_CODES = new Set(["ACQ.SYSTEM_ERROR", "isp.unknow-error", "aop.ACQ.SYSTEM_ERROR", "ACQ.TRADE_STATUS_ERROR_RETRY"]);

export class AlipayGateway implements PaymentGateway {
  readonly name = "alipay";
  private sdk: AlipaySdk | undefined;
  constructor(
    private settings: AlipaySettings,
    private opts: { policy: OutboundPolicy; timeoutMs: number },
  ) {}

  private async client(): Promise<AlipaySdk> {
    if (this.sdk) return this.sdk;
    const base = this.settings.gateway ? await checkBase(this.settings.gateway, this.opts.policy) : undefined;
    const pkcs8 = this.settings.privateKey.includes("BEGIN PRIVATE KEY");
    this.sdk = new AlipaySdk({
      appId: this.settings.appId,
      privateKey: this.settings.privateKey,
      keyType: pkcs8 ? "PKCS8" : "PKCS1",
      signType: "RSA2",
      alipayPublicKey: this.settings.alipayPublicKey,
      ...(base ? { gateway: base.toString() } : {}),
      timeout: this.opts.timeoutMs,
      camelcase: false,
      // The connection goes through the outbound guard (urllib takes an undici dispatcher).
      proxyAgent: guardedDispatcher(this.opts.policy, base) as never,
    });
    return this.sdk;
  }

  private trade(payment: PaymentRef) {
    return this.settings.referenceIs === "out_trade_no" ? { out_trade_no: payment.reference } : { trade_no: payment.reference };
  }

  private async call(method: string, biz: Record<string, unknown>): Promise<AlipayResult> {
    const sdk = await this.client();
    try {
      return (await sdk.exec(method, { bizContent: biz }, { validateSign: true })) as AlipayResult;
    } catch (e) {
      if (e instanceof AlipayRequestError) {
        if (e.message.includes("验签失败"))
          throw new GatewayDown(`Alipay's answer to ${method} did not verify against the Alipay public key; it was not trusted`);
        if (e.message.startsWith("HTTP 请求错误"))
          throw new GatewayDown(`Alipay answered ${method} with an HTTP error (${e.message.replace(/^.*status: /, "status ")})`);
        if (e.message.startsWith("HttpClient Request error")) throw new GatewayDown("could not reach Alipay (network error or timeout)");
        throw new GatewayDown(`Alipay's answer to ${method} could not be read`);
      }
      throw e;
    }
  }

  /** Alipay answered but could not decide (20000, system error): say so and retry later. */
  private undecided(r: AlipayResult, what: string): GatewayDown | null {
    if (r.code === "20000" || (r.sub_code && RETRY_SUB_CODES.has(r.sub_code)))
      return new GatewayDown(
        `Alipay could not ${what} now (${r.code} ${r.sub_code ?? ""} ${r.sub_msg ?? r.msg ?? ""})`.replace(/\s+\)/, ")"),
      );
    return null;
  }

  async refund(req: LegRequest): Promise<LegAnswer> {
    if (req.currency !== "CNY") return { status: "failed", error: `Alipay refunds trades in CNY; this order is in ${req.currency}` };
    const r = await this.call("alipay.trade.refund", {
      ...this.trade(req.payment),
      refund_amount: yuan(req.amount),
      out_request_no: req.key,
      ...(req.reason ? { refund_reason: req.reason.slice(0, 256) } : {}),
    });
    const down = this.undecided(r, "take the refund");
    if (down) throw down;
    if (r.code !== "10000")
      return { status: "failed", error: `Alipay refused the refund: ${r.sub_code ?? r.code} ${r.sub_msg ?? r.msg ?? ""}`.trim() };
    // fund_change Y: money moved on this call. N: a repeat, or not settled yet — the query says which.
    if (r.fund_change === "Y") return { status: "succeeded", reference: String(r.trade_no ?? req.payment.reference) };
    const known = await this.lookup({ key: req.key, payment: req.payment });
    if (known.status === "succeeded") return { status: "succeeded", reference: known.reference };
    return { status: "processing", reference: String(r.trade_no ?? ""), error: "Alipay took the refund and has not settled it yet" };
  }

  async lookup(req: { key: string; payment: PaymentRef }): Promise<LegLookup> {
    const r = await this.call("alipay.trade.fastpay.refund.query", {
      ...this.trade(req.payment),
      out_request_no: req.key,
      query_options: ["gmt_refund_pay"],
    });
    const down = this.undecided(r, "answer the refund query");
    if (down) throw down;
    if (r.code !== "10000") {
      // No such trade: no refund of it can exist either.
      if (r.sub_code === "ACQ.TRADE_NOT_EXIST") return { status: "unknown" };
      throw new GatewayDown(`Alipay refused the refund query: ${r.sub_code ?? r.code} ${r.sub_msg ?? r.msg ?? ""}`.trim());
    }
    if (r.refund_status === "REFUND_SUCCESS") return { status: "succeeded", reference: String(r.trade_no ?? req.payment.reference) };
    // No refund_status and no amount: Alipay has no refund under this out_request_no.
    if (r.refund_status === undefined && fen(r.refund_amount) === null) return { status: "unknown" };
    return { status: "processing", reference: String(r.trade_no ?? "") };
  }
}
