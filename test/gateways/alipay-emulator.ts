import { createSign, createVerify } from "node:crypto";
import { type EmuAnswer, type EmuRequest, type Fault, rsaPair, serve } from "./emulator-server.js";

/**
 * A local Alipay open-platform gateway (`POST …/gateway.do`) for contract tests, from Alipay's
 * public documentation:
 * - common parameters (`app_id`, `method`, `format`, `charset`, `sign_type`, `timestamp`,
 *   `version`, `sign`) in the query, `biz_content` in the form body; the request's RSA2 signature
 *   (SHA256withRSA over every parameter but `sign`, sorted, `k=v` joined by `&`) is checked with
 *   the application's public key — a bad one answers `40002 isv.invalid-signature`;
 * - every answer is `{"<method>_response": {...}, "sign": "..."}`, signed with Alipay's private key
 *   over the exact text of the response object;
 * - `alipay.trade.refund`: at most one refund per `out_request_no` (a repeat with the same amount
 *   answers `10000` with `fund_change: "N"`, with another amount `ACQ.DISCORDANT_REPEAT_REQUEST`),
 *   never more than the trade's total (`ACQ.REFUND_AMT_NOT_EQUAL_TOTAL`), `ACQ.TRADE_NOT_EXIST` for
 *   an unknown trade; `refund_fee` is the trade's refunded total;
 * - `alipay.trade.fastpay.refund.query`: `refund_status: REFUND_SUCCESS` for a settled refund,
 *   neither status nor amount for an `out_request_no` it never received;
 * - faults for the next requests: `outage` (HTTP 502), `busy` (`20000 isp.unknow-error` / `40004
 *   ACQ.SYSTEM_ERROR`, nothing done), `drop` (the refund is made, the answer lost), `forge` (the
 *   answer signed with a key that is not Alipay's).
 */
interface Trade {
  tradeNo: string;
  outTradeNo: string;
  total: number;
  refunds: Map<string, { amount: number; settled: boolean; at: Date }>;
}

const yuan = (n: number) => `${Math.floor(n / 100)}.${String(n % 100).padStart(2, "0")}`;
const pad = (n: number) => String(n).padStart(2, "0");
const stamp = (d: Date) =>
  `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;

export class AlipayEmulator {
  readonly app = rsaPair();
  readonly alipay = rsaPair();
  private impostor = rsaPair();
  readonly appId = "2021000000000001";
  trades = new Map<string, Trade>();
  faults: Fault[] = [];
  /** New refunds stay unsettled (fund_change N, no refund_status) until settle(). */
  deferSettlement = false;
  /** Every call that reached the gateway: method and out_request_no. */
  calls: { method: string; outRequestNo?: string; verified: boolean }[] = [];
  private server?: Awaited<ReturnType<typeof serve>>;
  private seq = 0;

  get gateway() {
    return `${this.server?.base}/gateway.do`;
  }

  async start() {
    this.server = await serve((r) => this.handle(r));
    return this;
  }
  async stop() {
    await this.server?.close();
  }

  /** A paid trade: Alipay's trade_no and the merchant's out_trade_no. */
  addTrade(total: number, outTradeNo = `DD${Date.now()}${this.seq}`): Trade {
    this.seq += 1;
    const t: Trade = { tradeNo: `2026030122001${String(4000000000000 + this.seq)}`, outTradeNo, total, refunds: new Map() };
    this.trades.set(t.tradeNo, t);
    return t;
  }
  refundedOf(t: Trade) {
    return [...t.refunds.values()].reduce((s, r) => s + r.amount, 0);
  }
  settle(outRequestNo: string) {
    for (const t of this.trades.values()) {
      const r = t.refunds.get(outRequestNo);
      if (r) r.settled = true;
    }
  }

  private answer(method: string, data: Record<string, unknown>, forge = false): EmuAnswer {
    const key = `${method.replaceAll(".", "_")}_response`;
    const json = JSON.stringify(data);
    const sign = createSign("RSA-SHA256")
      .update(json, "utf8")
      .sign(forge ? this.impostor.privateKey : this.alipay.privateKey, "base64");
    return { status: 200, body: `{"${key}":${json},"sign":"${sign}"}` };
  }

  private find(biz: Record<string, unknown>): Trade | undefined {
    if (typeof biz.trade_no === "string") return this.trades.get(biz.trade_no);
    if (typeof biz.out_trade_no === "string") return [...this.trades.values()].find((t) => t.outTradeNo === biz.out_trade_no);
    return undefined;
  }

  private handle(req: EmuRequest): EmuAnswer {
    if (req.method !== "POST" || req.url.pathname !== "/gateway.do") return { status: 404, body: "not found" };
    const params: Record<string, string> = {};
    for (const [k, v] of req.url.searchParams) params[k] = v;
    for (const [k, v] of new URLSearchParams(req.body)) params[k] = v;
    const method = params.method ?? "";
    const fault = this.faults.shift();
    if (fault === "outage") return { status: 502, body: "<html>Bad Gateway</html>", headers: { "content-type": "text/html" } };
    const { sign, ...rest } = params;
    const content = Object.keys(rest)
      .sort()
      .map((k) => `${k}=${rest[k]}`)
      .join("&");
    const verified = Boolean(sign) && createVerify("RSA-SHA256").update(content, "utf8").verify(this.app.publicKey, sign, "base64");
    let biz: Record<string, unknown> = {};
    try {
      biz = JSON.parse(params.biz_content ?? "{}");
    } catch {
      // Checked below as a missing parameter.
    }
    this.calls.push({ method, outRequestNo: typeof biz.out_request_no === "string" ? biz.out_request_no : undefined, verified });
    const forge = fault === "forge";
    if (!verified || params.sign_type !== "RSA2")
      return this.answer(
        method,
        { code: "40002", msg: "Invalid Arguments", sub_code: "isv.invalid-signature", sub_msg: "验签出错" },
        forge,
      );
    if (params.app_id !== this.appId)
      return this.answer(
        method,
        { code: "40002", msg: "Invalid Arguments", sub_code: "isv.invalid-app-id", sub_msg: "无效的AppID参数" },
        forge,
      );
    if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(params.timestamp ?? ""))
      return this.answer(
        method,
        { code: "40002", msg: "Invalid Arguments", sub_code: "isv.invalid-timestamp", sub_msg: "非法的时间戳参数" },
        forge,
      );
    if (fault === "busy")
      return this.answer(
        method,
        method === "alipay.trade.refund"
          ? { code: "40004", msg: "Business Failed", sub_code: "ACQ.SYSTEM_ERROR", sub_msg: "系统错误" }
          : { code: "20000", msg: "Service Currently Unavailable", sub_code: "isp.unknow-error", sub_msg: "系统繁忙" },
        forge,
      );
    const a = method === "alipay.trade.refund" ? this.refund(biz) : method === "alipay.trade.fastpay.refund.query" ? this.query(biz) : null;
    if (!a)
      return this.answer(
        method,
        { code: "40004", msg: "Business Failed", sub_code: "isv.invalid-method", sub_msg: "不存在的方法名" },
        forge,
      );
    const out = this.answer(method, a, forge);
    return fault === "drop" ? { ...out, drop: true } : out;
  }

  private refund(biz: Record<string, unknown>): Record<string, unknown> {
    const fail = (sub_code: string, sub_msg: string) => ({ code: "40004", msg: "Business Failed", sub_code, sub_msg });
    const amountText = String(biz.refund_amount ?? "");
    const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(amountText);
    const outRequestNo = typeof biz.out_request_no === "string" ? biz.out_request_no : "";
    if (!m || !outRequestNo || outRequestNo.length > 64)
      return { code: "40002", msg: "Invalid Arguments", sub_code: "isv.invalid-parameter", sub_msg: "参数无效" };
    const amount = Number(m[1]) * 100 + Number((m[2] ?? "").padEnd(2, "0"));
    const t = this.find(biz);
    if (!t) return fail("ACQ.TRADE_NOT_EXIST", "交易不存在");
    const base = {
      code: "10000",
      msg: "Success",
      trade_no: t.tradeNo,
      out_trade_no: t.outTradeNo,
      buyer_logon_id: "159****5620",
      buyer_open_id: "074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5",
    };
    const prior = t.refunds.get(outRequestNo);
    if (prior) {
      if (prior.amount !== amount) return fail("ACQ.DISCORDANT_REPEAT_REQUEST", "请求信息不一致");
      return { ...base, fund_change: "N", refund_fee: yuan(this.refundedOf(t)), gmt_refund_pay: stamp(prior.at) };
    }
    if (amount <= 0 || this.refundedOf(t) + amount > t.total) return fail("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限");
    const at = new Date();
    t.refunds.set(outRequestNo, { amount, settled: !this.deferSettlement, at });
    return { ...base, fund_change: this.deferSettlement ? "N" : "Y", refund_fee: yuan(this.refundedOf(t)), gmt_refund_pay: stamp(at) };
  }

  private query(biz: Record<string, unknown>): Record<string, unknown> {
    const t = this.find(biz);
    if (!t) return { code: "40004", msg: "Business Failed", sub_code: "ACQ.TRADE_NOT_EXIST", sub_msg: "交易不存在" };
    const outRequestNo = String(biz.out_request_no ?? "");
    const r = t.refunds.get(outRequestNo);
    const base = { code: "10000", msg: "Success", trade_no: t.tradeNo, out_trade_no: t.outTradeNo };
    if (!r) return base;
    return {
      ...base,
      out_request_no: outRequestNo,
      total_amount: yuan(t.total),
      refund_amount: yuan(r.amount),
      ...(r.settled ? { refund_status: "REFUND_SUCCESS", gmt_refund_pay: stamp(r.at) } : {}),
    };
  }
}
