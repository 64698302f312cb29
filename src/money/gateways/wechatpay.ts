import { createDecipheriv, createPublicKey, createSign, createVerify, type KeyObject, randomBytes, X509Certificate } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { OutboundPolicy } from "../../platform/outbound.js";
import { type Answer, guardedRequest } from "./transport.js";
import { GatewayDown, type LegAnswer, type LegLookup, type LegRequest, type PaymentGateway, type PaymentRef } from "./types.js";

/**
 * WeChat Pay API v3 (微信支付), a small client of its documented scheme with node:crypto (there is
 * no maintained official Node SDK):
 *
 * - requests carry `Authorization: WECHATPAY2-SHA256-RSA2048 mchid=…,nonce_str=…,signature=…,
 *   timestamp=…,serial_no=…`, the signature being SHA256withRSA by the merchant's API certificate
 *   key over `METHOD\nPATH\nTIMESTAMP\nNONCE\nBODY\n`;
 * - every answer is verified before it is read: `Wechatpay-Signature` by the platform key (the
 *   WeChat Pay public key or platform certificate named by `Wechatpay-Serial`) over
 *   `TIMESTAMP\nNONCE\nBODY\n`, with `Wechatpay-Timestamp` within five minutes;
 * - `POST /v3/refund/domestic/refunds` with `out_refund_no` = the leg's key (WeChat Pay refunds at
 *   most once per `out_refund_no`; a repeat answers with the same refund), and
 *   `GET /v3/refund/domestic/refunds/{out_refund_no}` to learn what a refund became;
 * - refund notifications are verified the same way and their `resource` decrypted with the APIv3 key
 *   (AEAD_AES_256_GCM: key = the 32-byte APIv3 key, nonce and associated data as sent, the last 16
 *   bytes of the ciphertext the tag).
 */
export interface WechatPaySettings {
  /** 商户号 */
  mchId: string;
  /** The serial number of the merchant's API certificate (商户API证书序列号). */
  merchantSerialNo: string;
  /** The merchant API certificate's private key (PEM, `apiclient_key.pem`). */
  merchantPrivateKey: string;
  /** The APIv3 key (32 characters) that encrypts notifications. */
  apiV3Key: string;
  /** The WeChat Pay public key or platform certificate (PEM) that signs every answer and notification. */
  platformPublicKey: string;
  /** Its id: the public key id (`PUB_KEY_ID_…`) or the platform certificate's serial number. */
  platformSerial: string;
  /** The API's base URL, as in WeChat Pay's documentation. Tests point it at an emulator. */
  endpoint: string;
  /** Which number the payment's reference is: WeChat Pay's `transaction_id` (default) or the merchant's `out_trade_no`. */
  referenceIs?: "transaction_id" | "out_trade_no";
}

export interface WechatRefund {
  refund_id?: string;
  out_refund_no?: string;
  transaction_id?: string;
  out_trade_no?: string;
  /** Answers: SUCCESS, CLOSED, PROCESSING, ABNORMAL. Notifications: refund_status with the same values. */
  status?: string;
  refund_status?: string;
  success_time?: string;
  user_received_account?: string;
  amount?: { total?: number; refund?: number; payer_total?: number; payer_refund?: number; currency?: string };
}

const MAX_SKEW_S = 300;

function platformKey(pem: string): KeyObject {
  return pem.includes("BEGIN CERTIFICATE") ? new X509Certificate(pem).publicKey : createPublicKey(pem);
}

const header = (h: IncomingHttpHeaders, name: string) => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

/** Checks the WeChat Pay signature headers over a body; the reason in words when it does not verify. */
export function verifyWechatSignature(
  settings: Pick<WechatPaySettings, "platformPublicKey" | "platformSerial">,
  headers: IncomingHttpHeaders,
  body: string,
  nowMs = Date.now(),
): string | null {
  const ts = header(headers, "wechatpay-timestamp");
  const nonce = header(headers, "wechatpay-nonce");
  const signature = header(headers, "wechatpay-signature");
  const serial = header(headers, "wechatpay-serial");
  if (!ts || !nonce || !signature || !serial) return "the Wechatpay-Timestamp, -Nonce, -Signature and -Serial headers are missing";
  if (serial !== settings.platformSerial) return `signed by key ${serial}, not the configured platform key ${settings.platformSerial}`;
  if (!/^\d{1,12}$/.test(ts) || Math.abs(nowMs / 1000 - Number(ts)) > MAX_SKEW_S)
    return "Wechatpay-Timestamp is more than five minutes away";
  const ok = createVerify("RSA-SHA256")
    .update(`${ts}\n${nonce}\n${body}\n`)
    .verify(platformKey(settings.platformPublicKey), signature, "base64");
  return ok ? null : "Wechatpay-Signature does not verify with the platform key";
}

/** Decrypts a notification's `resource` (AEAD_AES_256_GCM with the APIv3 key); throws when it does not open. */
export function decryptWechatResource(
  apiV3Key: string,
  resource: { algorithm?: string; ciphertext?: string; nonce?: string; associated_data?: string },
): string {
  if (resource.algorithm !== "AEAD_AES_256_GCM") throw new Error(`unknown resource algorithm ${resource.algorithm}`);
  const key = Buffer.from(apiV3Key, "utf8");
  if (key.length !== 32) throw new Error("the APIv3 key is not 32 bytes");
  const data = Buffer.from(resource.ciphertext ?? "", "base64");
  if (data.length < 17) throw new Error("the ciphertext is too short");
  const d = createDecipheriv("aes-256-gcm", key, Buffer.from(resource.nonce ?? "", "utf8"));
  d.setAAD(Buffer.from(resource.associated_data ?? "", "utf8"));
  d.setAuthTag(data.subarray(data.length - 16));
  return Buffer.concat([d.update(data.subarray(0, data.length - 16)), d.final()]).toString("utf8");
}

export type WechatNotification =
  | { ok: false; status: number; message: string }
  | { ok: true; id: string; eventType: string; refund: WechatRefund };

/** A refund notification checked (signature, timestamp, platform key) and opened (APIv3 key). */
export function readWechatNotification(
  settings: WechatPaySettings,
  headers: IncomingHttpHeaders,
  raw: string,
  nowMs = Date.now(),
): WechatNotification {
  const why = verifyWechatSignature(settings, headers, raw, nowMs);
  if (why) return { ok: false, status: 401, message: why };
  let msg: { id?: unknown; event_type?: unknown; resource?: Record<string, string> };
  try {
    msg = JSON.parse(raw);
  } catch {
    return { ok: false, status: 400, message: "the body is not JSON" };
  }
  if (typeof msg.id !== "string" || typeof msg.event_type !== "string" || !msg.resource)
    return { ok: false, status: 400, message: "a notification carries id, event_type and resource" };
  let refund: WechatRefund;
  try {
    refund = JSON.parse(decryptWechatResource(settings.apiV3Key, msg.resource));
  } catch (e) {
    return { ok: false, status: 400, message: `the resource does not open with the APIv3 key (${e instanceof Error ? e.message : e})` };
  }
  return { ok: true, id: msg.id, eventType: msg.event_type, refund };
}

/** What a refund's status means for Dropdesk. */
export function wechatOutcome(r: WechatRefund): LegAnswer {
  const status = r.status ?? r.refund_status;
  if (status === "SUCCESS") return { status: "succeeded", reference: r.refund_id };
  if (status === "CLOSED") return { status: "failed", reference: r.refund_id, error: "WeChat Pay closed the refund (退款关闭)" };
  if (status === "ABNORMAL")
    return {
      status: "processing",
      reference: r.refund_id,
      error: "WeChat Pay reports the refund abnormal (退款异常: the buyer's account cannot receive it); handle it in the merchant platform",
    };
  return { status: "processing", reference: r.refund_id };
}

export class WechatPayGateway implements PaymentGateway {
  readonly name = "wechatpay";
  constructor(
    private settings: WechatPaySettings,
    private opts: { policy: OutboundPolicy; timeoutMs: number; now?: () => number },
  ) {}

  private authorization(method: string, path: string, body: string): string {
    const ts = String(Math.floor((this.opts.now?.() ?? Date.now()) / 1000));
    const nonce = randomBytes(16).toString("hex");
    const signature = createSign("RSA-SHA256")
      .update(`${method}\n${path}\n${ts}\n${nonce}\n${body}\n`)
      .sign(this.settings.merchantPrivateKey, "base64");
    const s = this.settings;
    return `WECHATPAY2-SHA256-RSA2048 mchid="${s.mchId}",nonce_str="${nonce}",signature="${signature}",timestamp="${ts}",serial_no="${s.merchantSerialNo}"`;
  }

  /** One call; the answer is returned only when its signature verified. */
  private async call(method: "GET" | "POST", path: string, payload?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const body = payload === undefined ? "" : JSON.stringify(payload);
    const res: Answer = await guardedRequest(`${this.settings.endpoint.replace(/\/+$/, "")}${path}`, {
      policy: this.opts.policy,
      method,
      headers: {
        accept: "application/json",
        ...(payload === undefined ? {} : { "content-type": "application/json" }),
        "user-agent": "dropdesk",
        authorization: this.authorization(method, path, body),
      },
      body: payload === undefined ? undefined : body,
      timeoutMs: this.opts.timeoutMs,
      what: "WeChat Pay",
    });
    if (res.status >= 500) throw new GatewayDown(`WeChat Pay answered ${res.status}${codeOf(res.body)}`);
    if (res.status === 429) throw new GatewayDown(`WeChat Pay is limiting the calls (429${codeOf(res.body)})`, 60_000);
    const why = verifyWechatSignature(this.settings, res.headers, res.body, this.opts.now?.() ?? Date.now());
    if (why) {
      if (res.status === 401)
        throw new GatewayDown(
          `WeChat Pay refused the request's signature (401${codeOf(res.body)}): check mchId, merchantSerialNo and the merchant private key`,
        );
      throw new GatewayDown(`WeChat Pay's answer (${res.status}) was not trusted: ${why}`);
    }
    let json: Record<string, unknown> = {};
    try {
      json = res.body ? JSON.parse(res.body) : {};
    } catch {
      throw new GatewayDown(`WeChat Pay's answer (${res.status}) is not JSON`);
    }
    return { status: res.status, json };
  }

  private order(payment: PaymentRef) {
    return this.settings.referenceIs === "out_trade_no" ? { out_trade_no: payment.reference } : { transaction_id: payment.reference };
  }

  async refund(req: LegRequest): Promise<LegAnswer> {
    if (req.currency !== "CNY")
      return { status: "failed", error: `WeChat Pay refunds domestic payments in CNY; this order is in ${req.currency}` };
    const r = await this.call("POST", "/v3/refund/domestic/refunds", {
      ...this.order(req.payment),
      out_refund_no: req.key,
      ...(req.reason ? { reason: req.reason.slice(0, 80) } : {}),
      ...(req.notifyUrl ? { notify_url: req.notifyUrl } : {}),
      amount: { refund: req.amount, total: req.payment.amount, currency: "CNY" },
    });
    if (r.status === 200) return wechatOutcome(r.json as WechatRefund);
    const code = String(r.json.code ?? r.status);
    const message = String(r.json.message ?? "");
    if (code === "SYSTEM_ERROR" || code === "FREQUENCY_LIMITED")
      throw new GatewayDown(`WeChat Pay could not take the refund now (${code} ${message})`);
    // A refusal WeChat Pay signed: nothing was refunded under this out_refund_no.
    const hint = code === "SIGN_ERROR" ? " (check mchId, merchantSerialNo and the merchant private key)" : "";
    return { status: "failed", error: `WeChat Pay refused the refund: ${code} ${message}${hint}`.trim() };
  }

  async lookup(req: { key: string; payment: PaymentRef }): Promise<LegLookup> {
    const r = await this.call("GET", `/v3/refund/domestic/refunds/${encodeURIComponent(req.key)}`);
    if (r.status === 200) return wechatOutcome(r.json as WechatRefund);
    if (r.status === 404 && r.json.code === "RESOURCE_NOT_EXISTS") return { status: "unknown" };
    throw new GatewayDown(`WeChat Pay did not answer the refund query (${r.status} ${String(r.json.code ?? "")})`);
  }
}

function codeOf(body: string): string {
  try {
    const j = JSON.parse(body) as { code?: unknown };
    return typeof j.code === "string" ? ` ${j.code}` : "";
  } catch {
    return "";
  }
}
