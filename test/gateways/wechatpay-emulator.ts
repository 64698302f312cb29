import { createCipheriv, createSign, createVerify, randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import { type EmuAnswer, type EmuRequest, type Fault, rsaPair, serve } from "./emulator-server.js";

/**
 * A local WeChat Pay API v3 for contract tests, from WeChat Pay's public documentation:
 * - every request must carry `Authorization: WECHATPAY2-SHA256-RSA2048 mchid,nonce_str,
 *   signature,timestamp,serial_no`, the signature checked with the merchant certificate's public key
 *   over `METHOD\nPATH\nTIMESTAMP\nNONCE\nBODY\n` (401 `SIGN_ERROR` otherwise, timestamps more than
 *   five minutes off refused);
 * - every answer is signed with the platform key: `Wechatpay-Timestamp`, `-Nonce`, `-Serial`,
 *   `-Signature` = SHA256withRSA over `TIMESTAMP\nNONCE\nBODY\n`;
 * - `POST /v3/refund/domestic/refunds`: one refund per `out_refund_no` (a repeat answers with the
 *   same refund; other amounts are `INVALID_REQUEST`), `amount.total` must be the payment's total,
 *   the refunds never exceed it, `RESOURCE_NOT_EXISTS` for an unknown payment; a refund is
 *   `PROCESSING` until it settles, then `SUCCESS`;
 * - `GET /v3/refund/domestic/refunds/{out_refund_no}`: the refund, or 404 `RESOURCE_NOT_EXISTS`;
 * - refund notifications to `notify_url`: `REFUND.SUCCESS` events whose `resource` is the refund
 *   encrypted with AEAD_AES_256_GCM under the APIv3 key (associated data `refund`), signed like
 *   answers; redelivered until the receiver answers 2xx;
 * - faults for the next requests: `outage` (500 `SYSTEM_ERROR`), `busy` (429 `FREQUENCY_LIMITED`),
 *   `drop` (the refund is made, the answer lost), `forge` (signed with a key that is not the platform's).
 */
export interface WxPayment {
  transactionId: string;
  outTradeNo: string;
  total: number;
}
interface WxRefund {
  refund_id: string;
  out_refund_no: string;
  transaction_id: string;
  out_trade_no: string;
  channel: "ORIGINAL";
  user_received_account: string;
  create_time: string;
  success_time?: string;
  status: "SUCCESS" | "PROCESSING" | "CLOSED" | "ABNORMAL";
  funds_account: "AVAILABLE";
  amount: {
    total: number;
    refund: number;
    payer_total: number;
    payer_refund: number;
    settlement_refund: number;
    settlement_total: number;
    discount_refund: number;
    currency: "CNY";
  };
  notify_url?: string;
}

export class WechatPayEmulator {
  readonly merchant = rsaPair();
  readonly platform = rsaPair();
  private impostor = rsaPair();
  readonly mchId = "1900000109";
  readonly merchantSerialNo = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
  readonly platformSerial = "PUB_KEY_ID_0119000001092026030100000000000001";
  readonly apiV3Key = randomBytes(16).toString("hex");
  payments = new Map<string, WxPayment>();
  refunds = new Map<string, WxRefund>();
  faults: Fault[] = [];
  /** Every request that reached the API, with whether its signature verified. */
  calls: { method: string; path: string; verified: boolean }[] = [];
  /** Notifications sent, with the receiver's status. */
  deliveries: { outRefundNo: string; status: number }[] = [];
  /** How notifications reach the receiver; by default an HTTP POST to notify_url. */
  deliver: (url: string, body: string, headers: Record<string, string>) => Promise<number> = postJson;
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

  addPayment(total: number): WxPayment {
    this.seq += 1;
    const p = { transactionId: `42000000012026030${String(100000000 + this.seq)}`, outTradeNo: `DDWX${Date.now()}${this.seq}`, total };
    this.payments.set(p.transactionId, p);
    return p;
  }
  refundedOf(p: WxPayment) {
    return [...this.refunds.values()]
      .filter((r) => r.transaction_id === p.transactionId && r.status !== "CLOSED")
      .reduce((s, r) => s + r.amount.refund, 0);
  }

  /** Signs a body as the platform does (`forge`: with a key that is not the platform's). */
  signed(body: string, forge = false): Record<string, string> {
    const ts = String(Math.floor(Date.now() / 1000));
    const nonce = randomBytes(16).toString("hex");
    const signature = createSign("RSA-SHA256")
      .update(`${ts}\n${nonce}\n${body}\n`)
      .sign(forge ? this.impostor.privateKey : this.platform.privateKey, "base64");
    return {
      "wechatpay-timestamp": ts,
      "wechatpay-nonce": nonce,
      "wechatpay-serial": this.platformSerial,
      "wechatpay-signature": signature,
      "wechatpay-signature-type": "WECHATPAY2-SHA256-RSA2048",
      "request-id": randomUUID(),
    };
  }

  /** A notification as WeChat Pay sends it: the refund encrypted under the APIv3 key, the envelope signed. */
  notification(r: WxRefund, opts: { forge?: boolean; key?: string } = {}) {
    const plain = JSON.stringify({
      mchid: this.mchId,
      transaction_id: r.transaction_id,
      out_trade_no: r.out_trade_no,
      refund_id: r.refund_id,
      out_refund_no: r.out_refund_no,
      refund_status: r.status,
      success_time: r.success_time,
      user_received_account: r.user_received_account,
      amount: { total: r.amount.total, refund: r.amount.refund, payer_total: r.amount.payer_total, payer_refund: r.amount.payer_refund },
    });
    const nonce = randomBytes(6).toString("hex");
    const c = createCipheriv("aes-256-gcm", Buffer.from(opts.key ?? this.apiV3Key, "utf8"), Buffer.from(nonce, "utf8"));
    c.setAAD(Buffer.from("refund", "utf8"));
    const ciphertext = Buffer.concat([c.update(plain, "utf8"), c.final(), c.getAuthTag()]).toString("base64");
    const body = JSON.stringify({
      id: randomUUID(),
      create_time: new Date().toISOString().replace(/\.\d+Z$/, "+08:00"),
      resource_type: "encrypt-resource",
      event_type: `REFUND.${r.status}`,
      summary: r.status === "SUCCESS" ? "退款成功" : "退款关闭",
      resource: { original_type: "refund", algorithm: "AEAD_AES_256_GCM", ciphertext, associated_data: "refund", nonce },
    });
    return { body, headers: { "content-type": "application/json", ...this.signed(body, opts.forge) } };
  }

  /** Settles a refund at WeChat Pay and notifies the merchant; the status the receiver answered. */
  async settle(outRefundNo: string, status: "SUCCESS" | "CLOSED" = "SUCCESS"): Promise<number | null> {
    const r = this.refunds.get(outRefundNo);
    if (!r) throw new Error(`no refund ${outRefundNo}`);
    r.status = status;
    if (status === "SUCCESS") r.success_time = new Date().toISOString().replace(/\.\d+Z$/, "+08:00");
    return this.notify(outRefundNo);
  }
  /** (Re)sends the notification of a refund's current status. */
  async notify(outRefundNo: string): Promise<number | null> {
    const r = this.refunds.get(outRefundNo);
    if (!r?.notify_url) return null;
    const n = this.notification(r);
    const status = await this.deliver(r.notify_url, n.body, n.headers);
    this.deliveries.push({ outRefundNo, status });
    return status;
  }

  private answer(status: number, data: unknown, forge: boolean): EmuAnswer {
    const body = data === undefined ? "" : JSON.stringify(data);
    return { status, body, headers: this.signed(body, forge) };
  }

  private verify(req: EmuRequest): boolean {
    const auth = String(req.headers.authorization ?? "");
    if (!auth.startsWith("WECHATPAY2-SHA256-RSA2048 ")) return false;
    const f: Record<string, string> = {};
    for (const m of auth.slice(26).matchAll(/(\w+)="([^"]*)"/g)) f[m[1]] = m[2];
    if (f.mchid !== this.mchId || f.serial_no !== this.merchantSerialNo || !f.nonce_str || !f.signature) return false;
    if (!/^\d+$/.test(f.timestamp ?? "") || Math.abs(Date.now() / 1000 - Number(f.timestamp)) > 300) return false;
    const path = `${req.url.pathname}${req.url.search}`;
    return createVerify("RSA-SHA256")
      .update(`${req.method}\n${path}\n${f.timestamp}\n${f.nonce_str}\n${req.body}\n`)
      .verify(this.merchant.publicKey, f.signature, "base64");
  }

  private async handle(req: EmuRequest): Promise<EmuAnswer> {
    const verified = this.verify(req);
    this.calls.push({ method: req.method, path: req.url.pathname, verified });
    const fault = this.faults.shift();
    const forge = fault === "forge";
    if (fault === "outage") return this.answer(500, { code: "SYSTEM_ERROR", message: "系统错误" }, false);
    if (!verified) return this.answer(401, { code: "SIGN_ERROR", message: "签名错误" }, forge);
    if (fault === "busy") return this.answer(429, { code: "FREQUENCY_LIMITED", message: "频率超限" }, forge);
    let a: EmuAnswer;
    if (req.method === "POST" && req.url.pathname === "/v3/refund/domestic/refunds") a = this.create(req.body, forge);
    else if (req.method === "GET" && req.url.pathname.startsWith("/v3/refund/domestic/refunds/")) {
      const r = this.refunds.get(decodeURIComponent(req.url.pathname.slice("/v3/refund/domestic/refunds/".length)));
      a = r ? this.answer(200, this.view(r), forge) : this.answer(404, { code: "RESOURCE_NOT_EXISTS", message: "退款单不存在" }, forge);
    } else a = this.answer(404, { code: "NOT_FOUND", message: "请求的资源不存在" }, forge);
    return fault === "drop" ? { ...a, drop: true } : a;
  }

  private view(r: WxRefund) {
    const { notify_url: _n, ...v } = r;
    return v;
  }

  private create(raw: string, forge: boolean): EmuAnswer {
    const bad = (message: string) => this.answer(400, { code: "PARAM_ERROR", message }, forge);
    let b: {
      transaction_id?: string;
      out_trade_no?: string;
      out_refund_no?: string;
      notify_url?: string;
      amount?: { refund?: number; total?: number; currency?: string };
    };
    try {
      b = JSON.parse(raw);
    } catch {
      return bad("请求体不是合法的JSON");
    }
    if (!b.out_refund_no || !/^[0-9A-Za-z_\-|*@]{1,64}$/.test(b.out_refund_no)) return bad("out_refund_no 格式错误");
    const a = b.amount;
    if (!a || !Number.isInteger(a.refund) || !Number.isInteger(a.total) || (a.refund ?? 0) <= 0 || a.currency !== "CNY")
      return bad("amount 格式错误");
    const p = b.transaction_id
      ? this.payments.get(b.transaction_id)
      : [...this.payments.values()].find((x) => x.outTradeNo === b.out_trade_no);
    if (!p) return this.answer(404, { code: "RESOURCE_NOT_EXISTS", message: "订单不存在" }, forge);
    const prior = this.refunds.get(b.out_refund_no);
    if (prior) {
      if (prior.amount.refund !== a.refund || prior.transaction_id !== p.transactionId)
        return this.answer(400, { code: "INVALID_REQUEST", message: "同一退款单号的退款金额或订单与原请求不一致" }, forge);
      return this.answer(200, this.view(prior), forge);
    }
    if (a.total !== p.total) return this.answer(400, { code: "INVALID_REQUEST", message: "订单金额与原订单不一致" }, forge);
    if (this.refundedOf(p) + (a.refund ?? 0) > p.total)
      return this.answer(400, { code: "INVALID_REQUEST", message: "申请退款金额超过订单可退金额" }, forge);
    this.seq += 1;
    const refund = a.refund ?? 0;
    const r: WxRefund = {
      refund_id: `50300000012026030${String(100000000 + this.seq)}`,
      out_refund_no: b.out_refund_no,
      transaction_id: p.transactionId,
      out_trade_no: p.outTradeNo,
      channel: "ORIGINAL",
      user_received_account: "支付用户零钱",
      create_time: new Date().toISOString().replace(/\.\d+Z$/, "+08:00"),
      status: "PROCESSING",
      funds_account: "AVAILABLE",
      amount: {
        total: p.total,
        refund,
        payer_total: p.total,
        payer_refund: refund,
        settlement_refund: refund,
        settlement_total: p.total,
        discount_refund: 0,
        currency: "CNY",
      },
      notify_url: b.notify_url,
    };
    this.refunds.set(r.out_refund_no, r);
    return this.answer(200, this.view(r), forge);
  }
}

async function postJson(url: string, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const r = http.request(url, { method: "POST", headers: { ...headers, "content-length": String(Buffer.byteLength(body)) } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    r.on("error", () => resolve(0));
    r.end(body);
  });
}
