import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * An emulator of 快递100's public protocol, written from its documentation and official demos,
 * for contract tests: it never calls Dropdesk's code, only speaks the protocol.
 *
 * - 订阅 `POST /poll`: form `schema=json`, `param` = {company, number, key, parameters:{callbackurl,
 *   salt, resultv2, phone}}, `sign` = MD5(param + key + customer); answers {result, returnCode,
 *   message}: 200 提交成功, 501 重复订阅, 600 您不是合法的订阅者, 701 拒绝订阅的快递公司.
 * - 推送 (the emulator as 快递100 calling back): form `param` = {status, billstatus, message,
 *   lastResult:{message, state, status, condition, ischeck, com, nu, data:[{context, time, ftime,
 *   status, areaName}]}} — the whole history, newest first — and `sign` = MD5(param + salt).
 * - 商家寄件 `POST /order/borderapi.do`: form `method` (create | cancel), `key`, `t`, `sign` =
 *   MD5(param + t + key + secret), `param`; its order callback posts `param` = {kuaidicom,
 *   kuaidinum, status, message, data:{orderId, thirdOrderId, status, courierName, courierMobile,
 *   cancelMsg}}, `sign` = MD5(param + salt) and `taskId`. Order states: 0 下单成功, 1 已接单,
 *   2 收件中, 9 用户主动取消, 10 已取件, 11 揽货失败, 99 订单已取消.
 * - 拦截 `POST /label/order?method=interceptOrder`: the same signed form; answers {success, code,
 *   message, data:{taskId}}. Its result callback posts `param` = {orderId, kuaidicom, kuaidinum,
 *   status: success | fail | processing, message} signed like the others (the public demos do not
 *   show this callback's body; these are the fields the emulator settles on).
 *
 * Callbacks go through `deliver`, which the test points at the application (app.inject), with the
 * exact form body 快递100 would send.
 */
const md5 = (s: string) => createHash("md5").update(s, "utf8").digest("hex").toUpperCase();
const KNOWN = new Set([
  "shunfeng",
  "yuantong",
  "zhongtong",
  "yunda",
  "shentong",
  "jtexpress",
  "ems",
  "youzhengguonei",
  "jd",
  "debangkuaidi",
  "dhl",
  "ups",
  "fedex",
]);
const STATE_WORD: Record<string, string> = {
  "0": "在途",
  "1": "揽收",
  "2": "疑难",
  "3": "签收",
  "4": "退签",
  "5": "派件",
  "6": "退回",
  "14": "拒签",
};

export interface Entry {
  /** Beijing time, `YYYY-MM-DD HH:mm:ss`. */
  time: string;
  context: string;
  state: string;
}
interface Subscription {
  company: string;
  number: string;
  callbackurl: string;
  salt: string;
  resultv2: string;
  phone?: string;
  entries: Entry[];
}
export interface BOrder {
  taskId: string;
  orderId: string;
  kuaidicom: string;
  kuaidinum: string;
  status: number;
  param: Record<string, string>;
}
export interface Intercept {
  taskId: string;
  param: Record<string, string>;
}
type Form = Record<string, string>;
export type Deliver = (url: string, form: string) => Promise<{ status: number; body: string }>;

export class Kuaidi100Emulator {
  readonly customer = `CUST${randomBytes(4).toString("hex").toUpperCase()}`;
  readonly key = `key${randomBytes(6).toString("hex")}`;
  readonly secret = `sec${randomBytes(8).toString("hex")}`;
  readonly subscriptions = new Map<string, Subscription>();
  readonly orders = new Map<string, BOrder>();
  readonly intercepts = new Map<string, Intercept>();
  /** Every request received, for assertions on what was sent. */
  readonly requests: { path: string; form: Form }[] = [];
  /** Answers the next calls with HTTP 500 (a passing outage). */
  failNext = 0;
  deliver: Deliver = async () => {
    throw new Error("set emulator.deliver");
  };
  private server = http.createServer((req, res) => void this.handle(req, res));
  private seq = 0;
  url = "";

  async start() {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }
  async stop() {
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString("utf8")));
    const url = new URL(req.url ?? "/", this.url);
    this.requests.push({ path: url.pathname, form });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json;charset=UTF-8" });
      res.end(JSON.stringify(body));
    };
    if (this.failNext > 0) {
      this.failNext -= 1;
      return send(500, { result: false, returnCode: "500", message: "服务器错误" });
    }
    if (req.method !== "POST") return send(405, { result: false, returnCode: "405", message: "POST only" });
    if (url.pathname === "/poll") return send(200, this.poll(form));
    if (url.pathname === "/order/borderapi.do") return send(200, this.border(form));
    if (url.pathname === "/label/order" && (url.searchParams.get("method") ?? form.method) === "interceptOrder")
      return send(200, this.intercept(form));
    return send(404, { result: false, returnCode: "404", message: "not found" });
  }

  private poll(form: Form) {
    if (form.schema !== "json") return { result: false, returnCode: "700", message: "订阅方的订阅数据存在错误（schema）" };
    let p: { company?: string; number?: string; key?: string; parameters?: Record<string, string> };
    try {
      p = JSON.parse(form.param ?? "");
    } catch {
      return { result: false, returnCode: "700", message: "订阅方的订阅数据存在错误（param）" };
    }
    if (p.key !== this.key || (form.sign !== undefined && form.sign !== md5(form.param + this.key + this.customer)))
      return { result: false, returnCode: "600", message: "您不是合法的订阅者（即授权Key出错）" };
    if (!p.company || !KNOWN.has(p.company)) return { result: false, returnCode: "701", message: "拒绝订阅的快递公司" };
    if (!p.number || !p.parameters?.callbackurl)
      return { result: false, returnCode: "700", message: "订阅方的订阅数据存在错误（number/callbackurl）" };
    const id = `${p.company}:${p.number}`;
    if (this.subscriptions.has(id)) return { result: false, returnCode: "501", message: "重复订阅" };
    this.subscriptions.set(id, {
      company: p.company,
      number: p.number,
      callbackurl: p.parameters.callbackurl,
      salt: p.parameters.salt ?? "",
      resultv2: p.parameters.resultv2 ?? "0",
      phone: p.parameters.phone,
      entries: [],
    });
    return { result: true, returnCode: "200", message: "提交成功" };
  }

  private signedForm(form: Form): { ok: true; param: Record<string, unknown> } | { ok: false; answer: unknown } {
    if (form.key !== this.key || !form.t || form.sign !== md5(`${form.param}${form.t}${this.key}${this.secret}`))
      return { ok: false, answer: { result: false, success: false, returnCode: "600", code: 600, message: "签名错误" } };
    try {
      return { ok: true, param: JSON.parse(form.param ?? "") };
    } catch {
      return { ok: false, answer: { result: false, success: false, returnCode: "400", code: 400, message: "param 格式错误" } };
    }
  }

  private border(form: Form) {
    const v = this.signedForm(form);
    if (!v.ok) return v.answer;
    const p = v.param as Record<string, string>;
    if (form.method === "create") {
      for (const f of [
        "kuaidicom",
        "recManName",
        "recManMobile",
        "recManPrintAddr",
        "sendManName",
        "sendManMobile",
        "sendManPrintAddr",
        "cargo",
      ])
        if (!p[f]) return { result: false, returnCode: "400", message: `${f} 不能为空` };
      if (!KNOWN.has(p.kuaidicom)) return { result: false, returnCode: "400", message: "暂不支持该快递公司" };
      if (p.kuaidicom === "shunfeng" && (!p.pickupStartTime || !p.pickupEndTime))
        return { result: false, returnCode: "400", message: "顺丰需要预约取件时间" };
      this.seq += 1;
      const o: BOrder = {
        taskId: randomBytes(16).toString("hex").toUpperCase(),
        orderId: String(20_000_000 + this.seq),
        kuaidicom: p.kuaidicom,
        kuaidinum: `${p.kuaidicom === "shunfeng" ? "SF" : "YT"}${String(1_300_000_000_000 + this.seq)}`,
        status: 0,
        param: p,
      };
      this.orders.set(o.orderId, o);
      return {
        result: true,
        returnCode: "200",
        message: "提交成功",
        data: { taskId: o.taskId, orderId: o.orderId, kuaidinum: o.kuaidinum },
      };
    }
    if (form.method === "cancel") {
      const o = this.orders.get(p.orderId);
      if (!o || o.taskId !== p.taskId) return { result: false, returnCode: "400", message: "订单不存在" };
      if (o.status >= 10 && o.status !== 11) return { result: false, returnCode: "400", message: "订单已取件，不能取消" };
      o.status = 99;
      return { result: true, returnCode: "200", message: "取消成功" };
    }
    return { result: false, returnCode: "400", message: "不支持的 method" };
  }

  private intercept(form: Form) {
    const v = this.signedForm(form);
    if (!v.ok) return v.answer;
    const p = v.param as Record<string, string>;
    if (!p.kuaidicom || !p.kuaidinum || !p.callbackUrl)
      return { success: false, code: 400, message: "kuaidicom/kuaidinum/callbackUrl 不能为空" };
    const it: Intercept = { taskId: randomBytes(16).toString("hex").toUpperCase(), param: p };
    this.intercepts.set(p.orderId ?? it.taskId, it);
    return { success: true, code: 200, message: "success", data: { taskId: it.taskId, orderId: p.orderId } };
  }

  // ------------------------------------------------------------------- 快递100 calling back

  /** Adds tracking entries to a subscribed number (as the carrier reports them). */
  track(company: string, number: string, ...entries: Entry[]) {
    const s = this.subscriptions.get(`${company}:${number}`);
    if (!s) throw new Error(`${company} ${number} is not subscribed`);
    s.entries.push(...entries);
    return this;
  }

  /** The push `param` of a subscription as it stands: the whole history, newest first. */
  pushParam(company: string, number: string, opts: { status?: string; upTo?: number } = {}) {
    const s = this.subscriptions.get(`${company}:${number}`);
    if (!s) throw new Error(`${company} ${number} is not subscribed`);
    const entries = [...s.entries].sort((a, b) => a.time.localeCompare(b.time)).slice(0, opts.upTo ?? s.entries.length);
    const newest = entries[entries.length - 1];
    const state = newest?.state ?? "0";
    return JSON.stringify({
      status: opts.status ?? (state === "3" ? "shutdown" : "polling"),
      billstatus: "got",
      message: "",
      autoCheck: "0",
      comOld: "",
      comNew: "",
      lastResult: {
        message: "ok",
        state,
        status: "200",
        condition: "F00",
        ischeck: state === "3" ? "1" : "0",
        com: s.company,
        nu: s.number,
        data: entries.reverse().map((e) => ({
          context: e.context,
          time: e.time,
          ftime: e.time,
          ...(s.resultv2 !== "0" ? { status: STATE_WORD[e.state] ?? e.state, statusCode: e.state, areaName: "" } : {}),
        })),
      },
    });
  }

  /** Pushes a subscription (its whole history, or the first `upTo` entries) signed with its salt, or with `salt` to forge one. */
  async push(company: string, number: string, opts: { upTo?: number; salt?: string; status?: string; param?: string } = {}) {
    const s = this.subscriptions.get(`${company}:${number}`);
    if (!s) throw new Error(`${company} ${number} is not subscribed`);
    const param = opts.param ?? this.pushParam(company, number, opts);
    const body = new URLSearchParams({ param, sign: md5(param + (opts.salt ?? s.salt)) }).toString();
    const r = await this.deliver(s.callbackurl, body);
    return { status: r.status, answer: JSON.parse(r.body) as { result: boolean; returnCode: string; message: string } };
  }

  /** The courier-order callback: the order moved to `status` (10 已取件, 9 用户主动取消, 11 揽货失败, …). */
  async orderCallback(orderId: string, status: number, extra: Record<string, string> = {}, salt?: string) {
    const o = this.orders.get(orderId);
    if (!o) throw new Error(`no order ${orderId}`);
    o.status = status;
    const param = JSON.stringify({
      kuaidicom: o.kuaidicom,
      kuaidinum: o.kuaidinum,
      status: "200",
      message: "成功",
      data: {
        orderId: o.orderId,
        thirdOrderId: o.param.thirdOrderId,
        status,
        courierName: "王师傅",
        courierMobile: "13800000000",
        ...extra,
      },
    });
    const body = new URLSearchParams({ taskId: o.taskId, param, sign: md5(param + (salt ?? o.param.salt)) }).toString();
    const r = await this.deliver(o.param.callBackUrl, body);
    return { status: r.status, answer: JSON.parse(r.body) };
  }

  /** The interception's result callback. */
  async interceptCallback(orderId: string, status: "success" | "fail" | "processing", message: string) {
    const it = this.intercepts.get(orderId);
    if (!it) throw new Error(`no intercept ${orderId}`);
    const param = JSON.stringify({
      orderId,
      taskId: it.taskId,
      kuaidicom: it.param.kuaidicom,
      kuaidinum: it.param.kuaidinum,
      status,
      message,
    });
    const body = new URLSearchParams({ param, sign: md5(param + it.param.salt) }).toString();
    const r = await this.deliver(it.param.callbackUrl, body);
    return { status: r.status, answer: JSON.parse(r.body) };
  }
}
