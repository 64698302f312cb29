import { createHash, createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local TOP gateway from the open platform's public documentation: `POST /router/rest` with the
 * system parameters, signatures checked (md5, hmac, hmac-sha256 over the sorted parameters, files
 * left out), the 10-minute timestamp tolerance, sessions (27 when invalid or expired), JSON
 * answers wrapped in `<method>_response` or `error_response {code, msg, sub_code, sub_msg}`, call
 * limits (7 with its ban), and the trade, refund and logistics APIs Dropdesk uses with their
 * documented rules: the one-day window of trades.sold.increment.get, page_no/page_size with
 * total_results or has_next, the batch limits of rp.refunds.agree (20 refunds and ¥6,000 on
 * Taobao, 30 and ¥10,000 on Tmall), refund versions, and what only the back office may do.
 */
type Json = Record<string, any>;

export interface EmuSubOrder {
  oid: string;
  outer_iid?: string | null;
  outer_sku_id?: string | null;
  title: string;
  price: string;
  num: number;
  total_fee: string;
  payment: string;
  invoice_no?: string;
  logistics_company?: string;
  refund_status?: string;
}
export interface EmuTrade extends Json {
  tid: string;
  status: string;
  modified: string;
  orders: { order: EmuSubOrder[] };
}
export interface EmuRefund extends Json {
  refund_id: string;
  tid: string;
  oid: string;
  status: string;
  refund_fee: string;
  modified: string;
  refund_version: number;
}
export type Fault = { error: Json } | { status: number } | { hang: true };
export interface EmuRequest {
  method: string;
  params: Record<string, string>;
  files: Record<string, { filename: string; data: Buffer }>;
  at: number;
  error?: Json;
  status?: number;
}

const yuan = (fen: number) => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, "0")}`;
const fen = (s: string) => Math.round(Number(s) * 100);
export const topTime = (d: Date) => {
  const t = new Date(d.getTime() + 8 * 3600_000).toISOString();
  return `${t.slice(0, 10)} ${t.slice(11, 19)}`;
};
const parseTop = (s: string) => new Date(`${s.replace(" ", "T")}+08:00`);
const COMPANIES = new Set(["SF", "YTO", "ZTO", "YUNDA", "STO", "EMS", "POSTB", "JD", "DBKD", "HTKY", "JTSD"]);

export function sign(params: Record<string, string>, secret: string, method: string) {
  const joined = Object.keys(params)
    .filter((k) => k !== "sign" && params[k] !== "")
    .sort()
    .map((k) => `${k}${params[k]}`)
    .join("");
  if (method === "md5") return createHash("md5").update(`${secret}${joined}${secret}`, "utf8").digest("hex").toUpperCase();
  if (method === "hmac") return createHmac("md5", secret).update(joined, "utf8").digest("hex").toUpperCase();
  if (method === "hmac-sha256") return createHmac("sha256", secret).update(joined, "utf8").digest("hex").toUpperCase();
  return null;
}

function parseMultipart(body: Buffer, boundary: string) {
  const params: Record<string, string> = {};
  const files: Record<string, { filename: string; data: Buffer }> = {};
  const sep = Buffer.from(`--${boundary}`);
  let at = body.indexOf(sep);
  while (at >= 0) {
    const next = body.indexOf(sep, at + sep.length);
    if (next < 0) break;
    const part = body.subarray(at + sep.length + 2, next - 2);
    const head = part.indexOf("\r\n\r\n");
    const headers = part.subarray(0, head).toString("utf8");
    const data = part.subarray(head + 4);
    const name = /name="([^"]+)"/.exec(headers)?.[1] ?? "";
    const filename = /filename="([^"]*)"/.exec(headers)?.[1];
    if (filename !== undefined) files[name] = { filename: decodeURIComponent(filename), data: Buffer.from(data) };
    else params[name] = data.toString("utf8");
    at = next;
  }
  return { params, files };
}

export class TaobaoEmulator {
  appKey = "23456789";
  appSecret = "emu-app-secret-0123456789";
  sessionKey = "6100e2b7c9d8f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5";
  nick = "代发小店";
  tmall = false;
  sessionExpired = false;
  trades = new Map<string, EmuTrade>();
  refunds = new Map<string, EmuRefund>();
  messages = new Map<string, Json[]>();
  pictures = new Map<string, Buffer>();
  requests: EmuRequest[] = [];
  faults: Fault[] = [];
  /** Refunds only the web back office may agree (operation_contraint=refund_onweb). */
  private server = http.createServer((req, res) => void this.handle(req, res));
  private seq = 0;
  url = "";
  constructor(readonly now: () => Date) {}

  get gateway() {
    return `${this.url}/router/rest`;
  }

  async start() {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }
  async stop() {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private stamp() {
    return topTime(this.now());
  }

  /** A paid trade: sub-orders of { sku, price, num, discount? }, postage and a shop discount. */
  addTrade(o: {
    lines: { sku: string | null; title?: string; price: string; num: number; discount?: string }[];
    post?: string;
    shopDiscount?: string;
    status?: string;
    modifiedAgo?: number;
  }) {
    this.seq += 1;
    const tid = String(4_000_000_000_000 + this.seq * 1000);
    const modified = topTime(new Date(this.now().getTime() - (o.modifiedAgo ?? 60_000)));
    const orders = o.lines.map((l, i) => {
      const total = fen(l.price) * l.num - fen(l.discount ?? "0");
      return {
        oid: String(Number(tid) + i + 1),
        outer_iid: l.sku,
        outer_sku_id: l.sku,
        title: l.title ?? `宝贝 ${l.sku}`,
        price: l.price,
        num: l.num,
        total_fee: yuan(total),
        payment: yuan(total),
        discount_fee: l.discount ?? "0.00",
        adjust_fee: "0.00",
      } as EmuSubOrder;
    });
    const goods = orders.reduce((s, x) => s + fen(x.total_fee), 0);
    const payment = goods + fen(o.post ?? "0") - fen(o.shopDiscount ?? "0");
    // divide_order_fee: each sub-order's payment after the shop discount is spread over them
    // (largest remainder), the most a buyer can ask back for it.
    const off = fen(o.shopDiscount ?? "0");
    const raw = orders.map((x) => (off * fen(x.total_fee)) / Math.max(1, goods));
    const share = raw.map(Math.floor);
    let left = off - share.reduce((a, b) => a + b, 0);
    for (const i of raw
      .map((r, i) => [r - Math.floor(r), i])
      .sort((a, b) => b[0] - a[0])
      .map(([, i]) => i)) {
      if (left <= 0) break;
      share[i] += 1;
      left -= 1;
    }
    for (const [i, x] of orders.entries()) Object.assign(x, { divide_order_fee: yuan(fen(x.total_fee) - share[i]) });
    const t: EmuTrade = {
      tid,
      tid_str: tid,
      type: this.tmall ? "tmall_i" : "fixed",
      status: o.status ?? "WAIT_SELLER_SEND_GOODS",
      created: modified,
      modified,
      pay_time: o.status === "WAIT_BUYER_PAY" ? undefined : modified,
      payment: yuan(payment),
      post_fee: o.post ?? "0.00",
      total_fee: yuan(goods),
      discount_fee: o.shopDiscount ?? "0.00",
      buyer_nick: `买家${this.seq}`,
      receiver_name: "王小明",
      receiver_mobile: "13912345678",
      receiver_state: "浙江省",
      receiver_city: "杭州市",
      receiver_district: "余杭区",
      receiver_address: "文一西路 969 号",
      receiver_zip: "311121",
      orders: { order: orders },
    };
    this.trades.set(tid, t);
    return t;
  }

  /** Changes a trade the way the platform does: a new modified time. */
  update(t: EmuTrade, change: Json) {
    Object.assign(t, change, { modified: this.stamp() });
  }

  /** The buyer asks for a refund of one sub-order. */
  addRefund(
    t: EmuTrade,
    o: {
      index?: number;
      fee?: string;
      reason?: string;
      desc?: string;
      goods?: boolean;
      dispute?: string;
      constraint?: string;
      status?: string;
      pictures?: number;
      timeoutHours?: number;
    },
  ) {
    this.seq += 1;
    const sub = t.orders.order[o.index ?? 0];
    const id = String(70_000_000_000 + this.seq);
    const r: EmuRefund = {
      refund_id: id,
      tid: t.tid,
      oid: sub.oid,
      title: sub.title,
      num: sub.num,
      buyer_nick: t.buyer_nick,
      seller_nick: this.nick,
      total_fee: sub.total_fee,
      payment: sub.payment,
      refund_fee: o.fee ?? (sub as EmuSubOrder & { divide_order_fee: string }).divide_order_fee,
      status: o.status ?? "WAIT_SELLER_AGREE",
      good_status: o.goods ? "BUYER_RECEIVED" : "BUYER_NOT_RECEIVED",
      has_good_return: Boolean(o.goods),
      dispute_type: o.dispute ?? (o.goods ? "REFUND_AND_RETURN" : "REFUND"),
      reason: o.reason ?? "不想要了",
      desc: o.desc ?? "",
      order_status: t.status,
      created: this.stamp(),
      modified: this.stamp(),
      refund_phase: "aftersale",
      refund_version: this.now().getTime(),
      operation_contraint: o.constraint ?? "null",
      outer_id: sub.outer_iid,
      refund_remind_timeout: {
        remind_type: 1,
        exist_timeout: true,
        timeout: topTime(new Date(this.now().getTime() + (o.timeoutHours ?? 48) * 3600_000)),
      },
    };
    this.refunds.set(id, r);
    sub.refund_status = r.status;
    const pics = Array.from({ length: o.pictures ?? 0 }, (_, i) => {
      const name = `${id}-${i}.png`;
      this.pictures.set(name, PNG);
      return { url: `${this.url}/pics/${name}` };
    });
    this.messages.set(id, [
      {
        id: this.seq * 10 + 1,
        owner_role: "1",
        owner_nick: t.buyer_nick,
        content: o.desc || "申请退款",
        created: this.stamp(),
        message_type: "NORMAL",
        pic_urls: { pic_url: pics },
      },
    ]);
    return r;
  }

  /** A change of the refund on the platform (the buyer ships the return, the platform pays). */
  updateRefund(r: EmuRefund, change: Json) {
    Object.assign(r, change, { modified: this.stamp(), refund_version: this.now().getTime() + ++this.seq });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    if (req.method === "GET" && req.url?.startsWith("/pics/")) {
      const pic = this.pictures.get(req.url.slice(6));
      res.writeHead(pic ? 200 : 404, { "content-type": "image/png" }).end(pic ?? "");
      return;
    }
    if (req.method !== "POST" || !req.url?.startsWith("/router/rest")) return void res.writeHead(404).end();
    const type = String(req.headers["content-type"] ?? "");
    const boundary = /boundary=(.+)$/.exec(type)?.[1];
    const { params, files } = boundary
      ? parseMultipart(raw, boundary)
      : { params: Object.fromEntries(new URLSearchParams(raw.toString("utf8"))), files: {} };
    const entry: EmuRequest = { method: params.method ?? "", params, files, at: Date.now() };
    this.requests.push(entry);
    const send = (status: number, body: Json) => {
      entry.status = status;
      if (body.error_response) entry.error = body.error_response;
      res.writeHead(status, { "content-type": "application/json;charset=UTF-8" }).end(JSON.stringify(body));
    };
    const fail = (code: number, msg: string, sub_code?: string, sub_msg?: string) =>
      send(200, { error_response: { code, msg, sub_code, sub_msg, request_id: `emu${this.requests.length}` } });
    const fault = this.faults.shift();
    if (fault && "hang" in fault) return; // never answers
    if (fault && "status" in fault) return send(fault.status, { error: "bad gateway" });
    if (!params.app_key) return fail(28, "Missing App Key");
    if (params.app_key !== this.appKey) return fail(29, "Invalid App Key");
    if (!params.timestamp) return fail(30, "Missing Timestamp");
    if (Math.abs(parseTop(params.timestamp).getTime() - this.now().getTime()) > 10 * 60_000) return fail(31, "Invalid Timestamp");
    if (!params.sign) return fail(24, "Missing Signature");
    const expected = sign(params, this.appSecret, params.sign_method ?? "md5");
    if (!expected) return fail(25, "Invalid Signature", "isv.invalid-signature-method");
    if (expected !== params.sign) return fail(25, "Invalid Signature", "isv.invalid-signature", "Invalid Signature");
    if (params.format !== "json") return fail(23, "Invalid Format");
    if (params.v !== "2.0") return fail(33, "Invalid Version");
    if (!params.session) return fail(26, "Missing Session");
    if (params.session !== this.sessionKey) return fail(27, "Invalid session", "invalid-sessionkey", "SessionKey非法");
    if (this.sessionExpired) return fail(27, "Invalid session", "session-expired", "SessionKey已过期");
    if (fault && "error" in fault) return send(200, { error_response: fault.error });
    const api = API[params.method];
    if (!api) return fail(22, "Invalid Method");
    const out = api.call(this, params, files);
    if ("error_response" in out) return send(200, out);
    send(200, {
      [`${params.method.replace(/^taobao\./, "").replaceAll(".", "_")}_response`]: { ...out, request_id: `emu${this.requests.length}` },
    });
  }
}

const err = (code: number, msg: string, sub_code: string, sub_msg: string) => ({ error_response: { code, msg, sub_code, sub_msg } });
const pick = (o: Json, fields: string | undefined) => {
  if (!fields) return { ...o };
  const want = new Set(fields.split(",").map((f) => f.trim()));
  return Object.fromEntries(Object.entries(o).filter(([k]) => want.has(k)));
};

function page<T extends { modified: string }>(items: T[], p: Record<string, string>, wrap: string, item: string, max: number) {
  const size = Math.min(Number(p.page_size ?? 40), max);
  const no = Math.max(1, Number(p.page_no ?? 1));
  const sorted = [...items].sort((a, b) => (a.modified < b.modified ? 1 : a.modified > b.modified ? -1 : 0));
  const slice = sorted.slice((no - 1) * size, no * size).map((x) => pick(x, p.fields));
  const base = { [wrap]: { [item]: slice } };
  return p.use_has_next === "true" ? { ...base, has_next: no * size < sorted.length } : { ...base, total_results: sorted.length };
}

function inWindow(p: Record<string, string>, m: string) {
  return (!p.start_modified || m >= p.start_modified) && (!p.end_modified || m <= p.end_modified);
}

type Api = (this: TaobaoEmulator, p: Record<string, string>, files: Record<string, { filename: string; data: Buffer }>) => Json;
const API: Record<string, Api> = {
  "taobao.user.seller.get"() {
    return { user: { nick: this.nick, user_id: 2_200_000_001, type: this.tmall ? "B" : "C" } };
  },
  "taobao.trades.sold.increment.get"(p) {
    if (!p.start_modified || !p.end_modified)
      return err(40, "Missing Required Arguments", "isv.missing-parameter", "start_modified, end_modified");
    if (parseTop(p.end_modified).getTime() - parseTop(p.start_modified).getTime() > 86_400_000)
      return err(41, "Invalid Arguments", "isv.invalid-parameter", "end_modified 与 start_modified 的间隔不能超过一天");
    return page(
      [...this.trades.values()].filter((t) => inWindow(p, t.modified)),
      p,
      "trades",
      "trade",
      100,
    );
  },
  "taobao.trade.fullinfo.get"(p) {
    const t = this.trades.get(p.tid);
    if (!t) return err(15, "Remote service error", "isv.trade-not-exist", "交易不存在");
    return { trade: pick(t, p.fields) };
  },
  "taobao.refunds.receive.get"(p) {
    return page(
      [...this.refunds.values()].filter((r) => inWindow(p, r.modified) && (!p.status || r.status === p.status)),
      p,
      "refunds",
      "refund",
      100,
    );
  },
  "taobao.refund.get"(p) {
    const r = this.refunds.get(p.refund_id);
    if (!r) return err(15, "Remote service error", "isv.refund-not-exist", "退款不存在");
    return { refund: pick(r, p.fields) };
  },
  "taobao.refund.messages.get"(p) {
    const m = this.messages.get(p.refund_id) ?? [];
    return { refund_messages: { refund_message: m }, total_results: m.length };
  },
  "taobao.rp.refunds.agree"(p) {
    const infos = String(p.refund_infos ?? "")
      .split(",")
      .filter(Boolean)
      .map((s) => s.split("|"));
    const limit = this.tmall ? { count: 30, amount: 1_000_000 } : { count: 20, amount: 600_000 };
    const total = infos.reduce((s, [, a]) => s + Number(a), 0);
    if (!infos.length) return err(40, "Missing Required Arguments", "isv.missing-parameter", "refund_infos");
    if (infos.length > limit.count || total > limit.amount)
      return err(15, "Remote service error", "isv.refund-batch-limit", `一次最多 ${limit.count} 笔、总金额不超过 ${limit.amount / 100} 元`);
    const results = infos.map(([id, amount, version, phase]) => {
      const r = this.refunds.get(id);
      const no = (message: string) => ({ refund_id: id, succ: false, message });
      if (!r) return no("退款不存在");
      if (r.operation_contraint === "refund_onweb") return no("该退款需要到网页版操作");
      if (r.status !== "WAIT_SELLER_AGREE" && r.status !== "WAIT_SELLER_CONFIRM_GOODS") return no(`退款状态为 ${r.status}，不能同意`);
      if (Number(amount) !== fen(r.refund_fee)) return no("退款金额与买家申请金额不一致");
      if (version && Number(version) !== r.refund_version) return no("退款版本已变更，请刷新后重试");
      if (this.tmall && !phase) return no("天猫退款必须传入退款阶段");
      this.updateRefund(r, { status: "SUCCESS", refund_remind_timeout: { exist_timeout: false } });
      return { refund_id: id, succ: true, message: "" };
    });
    const ok = results.filter((r) => r.succ).length;
    return {
      msg_code: ok === results.length ? "OP_SUCC" : ok ? "SOME_OP_SUCC" : "OP_FAILURE_UE",
      succ: ok === results.length,
      message: ok === results.length ? "操作成功" : "部分或全部失败",
      results: { refund_mapping_result: results },
    };
  },
  "taobao.rp.returngoods.agree"(p) {
    const r = this.refunds.get(p.refund_id);
    if (!r) return err(15, "Remote service error", "isv.refund-not-exist", "退款不存在");
    const need = this.tmall
      ? ["remark", "refund_phase", "refund_version", "seller_address_id"]
      : ["name", "address", "post", "tel", "mobile", "seller_address_id"];
    const missing = need.filter((k) => !p[k]);
    if (missing.length)
      return err(40, "Missing Required Arguments", `isv.missing-parameter:${missing[0]}`, `缺少参数 ${missing.join(",")}`);
    if (r.status !== "WAIT_SELLER_AGREE") return err(15, "Remote service error", "isv.refund-status-error", "退款状态不正确");
    this.updateRefund(r, {
      status: "WAIT_BUYER_RETURN_GOODS",
      address: `${p.name ?? ""} ${p.address ?? ""} ${p.post ?? ""} ${p.mobile ?? ""}`.trim(),
      seller_address_id: p.seller_address_id,
      refund_remind_timeout: { exist_timeout: true, timeout: topTime(new Date(this.now().getTime() + 7 * 86_400_000)) },
    });
    return { is_success: true };
  },
  "taobao.refund.refuse"(p, files) {
    const r = this.refunds.get(p.refund_id);
    if (!r) return err(15, "Remote service error", "isv.refund-not-exist", "退款不存在");
    const msg = p.refuse_message ?? "";
    if (msg.length < 2 || msg.length > 200)
      return err(41, "Invalid Arguments", "isv.invalid-parameter:refuse_message", "拒绝说明长度为 2-200");
    if (this.tmall && !files.refuse_proof)
      return err(40, "Missing Required Arguments", "isv.missing-parameter:refuse_proof", "天猫拒绝退款必须上传凭证");
    if (files.refuse_proof && files.refuse_proof.data.length > 130_000)
      return err(41, "Invalid Arguments", "isv.invalid-parameter:refuse_proof", "凭证不能超过 130000 字节");
    if (r.operation_contraint === "cannot_refuse") return err(15, "Remote service error", "isv.refund-cannot-refuse", "该退款不允许拒绝");
    if (r.status !== "WAIT_SELLER_AGREE" && r.status !== "WAIT_SELLER_CONFIRM_GOODS")
      return err(15, "Remote service error", "isv.refund-status-error", "退款状态不正确");
    this.updateRefund(r, { status: "SELLER_REFUSE_BUYER", refuse_message: msg, refuse_proof: files.refuse_proof?.data ?? null });
    return { is_success: true, refund: { refund_id: r.refund_id, status: r.status, modified: r.modified } };
  },
  "taobao.logistics.offline.send"(p) {
    const t = this.trades.get(p.tid);
    if (!t) return err(15, "Remote service error", "isv.logistics-offline-service-error:B01", "交易不存在");
    if (!COMPANIES.has(p.company_code))
      return err(15, "Remote service error", "isv.logistics-offline-service-error:S01", "物流公司编码不正确");
    if (t.status !== "WAIT_SELLER_SEND_GOODS" && t.status !== "SELLER_CONSIGNED_PART")
      return err(15, "Remote service error", "isv.logistics-offline-service-error:B04", "交易状态不允许发货");
    const oids = p.is_split === "1" ? String(p.sub_tid ?? "").split(",") : t.orders.order.map((o) => o.oid);
    for (const o of t.orders.order)
      if (oids.includes(o.oid)) Object.assign(o, { invoice_no: p.out_sid, logistics_company: p.company_code });
    const all = t.orders.order.every((o) => o.invoice_no);
    this.update(t, { status: all ? "WAIT_BUYER_CONFIRM_GOODS" : "SELLER_CONSIGNED_PART", consign_time: topTime(this.now()) });
    return { shipping: { is_success: true } };
  },
};

/** A 1×1 PNG (a buyer's photo). */
const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d4948445200000001000000010806000000" +
    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082",
  "hex",
);
