import type http from "node:http";
import { listenLocal } from "./supplier-platform-helpers.js";

/**
 * A local CJdropshipping API 2.0, from CJ's public documentation: `/api2.0/v1/…` answering the
 * envelope `{code, result, message, data, requestId}`; tokens issued from the API key (15 days) and
 * renewed with the refresh token (180 days), expired or unknown tokens answered 1600001, a missing
 * one 1600002, a bad refresh token 1600003; the account's QPS (1600200, or HTTP 429 in `limitStyle`
 * "http"), injectable busy (1600000), down (503) and hangs; createOrderV2 (orderNumber unique,
 * variants 1602000, stock, balance payment), order list paging, order detail (1603100), deletion
 * of unpaid orders only (1603002), tracking, variant price and stock, and disputes: products,
 * confirmation with reasons and the maximum, creation (businessDisputeId unique, amounts checked),
 * the list with paging and filters, cancellation. CJ's side (ship, deliver, answer a dispute by
 * refund — all or part —, reissue or rejection) is driven by the test. Amounts are USD.
 */
export interface EmuVariant {
  vid: string;
  pid: string;
  nameEn: string;
  /** USD cents */
  price: number;
  stock: number;
}
export interface EmuCjOrder {
  orderId: string;
  orderNumber: string;
  status: string;
  lines: { lineItemId: string; vid: string; quantity: number; price: number }[];
  postage: number;
  address: Record<string, unknown>;
  trackNumber?: string;
  logisticName?: string;
  trackingStatus?: string;
  deliveryTime?: number;
  createdAt: number;
}
export interface EmuDispute {
  id: string;
  businessDisputeId: string;
  orderId: string;
  disputeReasonId: number;
  reason: string;
  messageText: string;
  imageUrl: string[];
  asked: number;
  status: string;
  finallyDeal?: number;
  money?: number;
  resendOrderCode?: string;
  createdAt: number;
}

export const CJ_REASONS = [
  { disputeReasonId: 1, reasonName: "Quality problem" },
  { disputeReasonId: 2, reasonName: "Damaged product" },
  { disputeReasonId: 3, reasonName: "Wrong product sent" },
  { disputeReasonId: 4, reasonName: "Product missing" },
  { disputeReasonId: 5, reasonName: "Other" },
];

const usd = (cents: number) => Math.round(cents) / 100;
const DAY = 86_400_000;

export class CjEmulator {
  apiKey = "CJ1234567@api@emu0000000000000000000000000000";
  /** The emulated account's calls per second. */
  qps = 1000;
  limitStyle: "code" | "http" = "code";
  /** Postage CJ charges per order, USD cents. */
  postage = 80;
  balance = 1_000_000;
  accessTtlMs = 15 * DAY;
  now: () => number = () => Date.now();
  variants = new Map<string, EmuVariant>();
  orders = new Map<string, EmuCjOrder>();
  disputes = new Map<string, EmuDispute>();
  calls: { method: string; path: string; token?: string; body: Record<string, unknown> }[] = [];
  tokensIssued = 0;
  refreshes = 0;
  qpsViolations = 0;
  faults: ("down" | "busy" | "limited" | "hang")[] = [];
  down = false;
  url = "";
  private tokens = new Map<string, { expires: number; refresh: string }>();
  private refreshTokens = new Map<string, number>();
  private window: number[] = [];
  private server?: Awaited<ReturnType<typeof listenLocal>>;
  private seq = 0;

  async start() {
    this.server = await listenLocal((req, res) => void this.handle(req, res));
    this.url = this.server.url;
    return this;
  }
  async stop() {
    await this.server?.stop();
  }
  callsOf(path: string) {
    return this.calls.filter((c) => c.path === path);
  }
  setVariant(v: EmuVariant) {
    this.variants.set(v.vid, v);
  }
  order(id: string) {
    const o = this.orders.get(id);
    if (!o) throw new Error(`no CJ order ${id}`);
    return o;
  }
  resetWindow() {
    this.window = [];
  }
  /** Revokes every token (the account logged out): the next call gets 1600001. */
  revokeTokens() {
    this.tokens.clear();
  }

  // CJ's side ----------------------------------------------------------------------------------
  ship(id: string, trackNumber = `CJPKL${id.slice(-8)}`, logisticName = "CJPacket Ordinary") {
    Object.assign(this.order(id), { status: "SHIPPED", trackNumber, logisticName, trackingStatus: "In transit" });
  }
  deliver(id: string) {
    Object.assign(this.order(id), { status: "DELIVERED", trackingStatus: "Delivered", deliveryTime: this.now() });
  }
  /** CJ's final answer: refund `cents` (all or part), reissue, reject; or the dispute is cancelled. */
  answerDispute(id: string, a: { refund: number } | { reissue: true } | { reject: true } | { cancel: true }) {
    const d = this.disputes.get(id);
    if (!d) throw new Error(`no dispute ${id}`);
    if ("refund" in a) Object.assign(d, { status: "Completed", finallyDeal: 1, money: a.refund });
    else if ("reissue" in a) Object.assign(d, { status: "Completed", finallyDeal: 2, resendOrderCode: `R${d.orderId}` });
    else if ("reject" in a) Object.assign(d, { status: "Completed", finallyDeal: 3 });
    else d.status = "Cancelled";
  }

  // The API ------------------------------------------------------------------------------------
  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? "/", "http://x");
    const path = url.pathname.replace(/^\/api2\.0\/v1\//, "");
    let body: Record<string, unknown> = Object.fromEntries(url.searchParams);
    if (req.method === "POST") {
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
      } catch {
        return this.send(res, 1600300, "The request parameter is not in a correct JSON format");
      }
    }
    const token = req.headers["cj-access-token"] as string | undefined;
    this.calls.push({ method: req.method ?? "", path, token, body });
    const fault = this.faults.shift();
    if (fault === "hang") return; // never answers: the client's timeout
    if (this.down || fault === "down") {
      res.writeHead(503, { "content-type": "text/html" });
      return res.end("<html>503 Service Temporarily Unavailable</html>");
    }
    if (fault === "busy") return this.send(res, 1600000, "System busy");
    if (fault === "limited" || this.overQps()) {
      this.qpsViolations += fault === "limited" ? 0 : 1;
      if (this.limitStyle === "http") {
        res.writeHead(429, { "content-type": "application/json", "retry-after": "0" });
        return res.end(JSON.stringify({ code: 1600200, result: false, message: "Too Many Requests", data: null }));
      }
      return this.send(res, 1600200, "Too much request, QPS limit is 1 time/1second");
    }
    if (path.startsWith("authentication/")) return this.auth(res, path, body);
    if (!token) return this.send(res, 1600002, "CJ-Access-Token not found");
    const t = this.tokens.get(token);
    if (!t || t.expires < this.now()) return this.send(res, 1600001, "Invalid API key or access token");
    const route = `${req.method} ${path}`;
    const h = this.routes[route];
    if (!h) return this.send(res, 1600101, "Interface not found");
    try {
      const data = h(body);
      return this.send(res, 200, "Success", data);
    } catch (e) {
      const err = e as { code?: number; message: string };
      return this.send(res, err.code ?? 1600300, err.message);
    }
  }

  private overQps() {
    const t = Date.now();
    this.window = this.window.filter((x) => t - x < 1000);
    this.window.push(t);
    return this.window.length > this.qps;
  }

  private send(res: http.ServerResponse, code: number, message: string, data: unknown = null) {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ code, result: code === 200, message, data, requestId: `emu-${++this.seq}` }));
  }

  private issue() {
    const access = `at-${++this.seq}-${Math.random().toString(36).slice(2)}`;
    const refresh = `rt-${this.seq}-${Math.random().toString(36).slice(2)}`;
    const now = this.now();
    this.tokens.set(access, { expires: now + this.accessTtlMs, refresh });
    this.refreshTokens.set(refresh, now + 180 * DAY);
    const iso = (ms: number) => new Date(ms).toISOString().replace("Z", "+00:00");
    return {
      openId: 123456789,
      accessToken: access,
      accessTokenExpiryDate: iso(now + this.accessTtlMs),
      refreshToken: refresh,
      refreshTokenExpiryDate: iso(now + 180 * DAY),
      createDate: iso(now),
    };
  }

  private auth(res: http.ServerResponse, path: string, body: Record<string, unknown>) {
    if (path === "authentication/getAccessToken") {
      if (body.apiKey !== this.apiKey) return this.send(res, 1600001, "Invalid API key or access token");
      this.tokensIssued += 1;
      return this.send(res, 200, "Success", this.issue());
    }
    if (path === "authentication/refreshAccessToken") {
      const exp = this.refreshTokens.get(String(body.refreshToken));
      if (!exp || exp < this.now()) return this.send(res, 1600003, "Invalid Refresh token");
      this.refreshTokens.delete(String(body.refreshToken));
      this.refreshes += 1;
      return this.send(res, 200, "Success", this.issue());
    }
    return this.send(res, 1600101, "Interface not found");
  }

  private fail(code: number, message: string): never {
    throw Object.assign(new Error(message), { code });
  }

  private orderOut(o: EmuCjOrder) {
    const product = o.lines.reduce((s, l) => s + l.price * l.quantity, 0);
    return {
      orderId: o.orderId,
      orderNum: o.orderNumber,
      cjOrderId: o.orderId,
      shippingCountryCode: o.address.shippingCountryCode,
      shippingProvince: o.address.shippingProvince,
      shippingCity: o.address.shippingCity,
      shippingAddress: o.address.shippingAddress,
      shippingCustomerName: o.address.shippingCustomerName,
      shippingPhone: o.address.shippingPhone,
      logisticName: o.logisticName ?? "CJPacket Ordinary",
      trackNumber: o.trackNumber ?? null,
      orderAmount: usd(product + o.postage),
      productAmount: usd(product),
      postageAmount: usd(o.postage),
      orderStatus: o.status,
      createDate: new Date(o.createdAt).toISOString(),
      productList: o.lines.map((l) => ({ vid: l.vid, quantity: l.quantity, sellPrice: usd(l.price), lineItemId: l.lineItemId })),
    };
  }

  private readonly routes: Record<string, (b: Record<string, unknown>) => unknown> = {
    "POST shopping/order/createOrderV2": (b) => {
      const number = String(b.orderNumber ?? "");
      if (!number) this.fail(1600300, "orderNumber is required");
      if ([...this.orders.values()].some((o) => o.orderNumber === number)) this.fail(1603000, `Order number ${number} already exists`);
      for (const f of ["shippingCountryCode", "shippingCustomerName", "shippingAddress", "shippingPhone"])
        if (!b[f]) this.fail(1600300, `${f} is required`);
      const products = Array.isArray(b.products) ? (b.products as Record<string, unknown>[]) : [];
      if (!products.length) this.fail(1600300, "products is required");
      const lines = products.map((p) => {
        const v = this.variants.get(String(p.vid));
        if (!v) this.fail(1602000, `Variant not found: ${String(p.vid)}`);
        const q = Number(p.quantity);
        if (v.stock < q) this.fail(1603000, `Order create fail: ${v.nameEn} is out of stock`);
        return { lineItemId: `${++this.seq}${Date.now() % 100000}`, vid: v.vid, quantity: q, price: v.price };
      });
      const product = lines.reduce((s, l) => s + l.price * l.quantity, 0);
      const pay = Number(b.payType ?? 3) === 2;
      if (pay && this.balance < product + this.postage) this.fail(1604000, "Balance is insufficient");
      for (const l of lines) (this.variants.get(l.vid) as EmuVariant).stock -= l.quantity;
      if (pay) this.balance -= product + this.postage;
      const o: EmuCjOrder = {
        orderId: `2${String(++this.seq).padStart(17, "0")}`,
        orderNumber: number,
        status: pay ? "UNSHIPPED" : "UNPAID",
        lines,
        postage: this.postage,
        address: b,
        logisticName: b.logisticName ? String(b.logisticName) : undefined,
        createdAt: this.now(),
      };
      this.orders.set(o.orderId, o);
      return {
        orderId: o.orderId,
        orderNumber: number,
        shipmentOrderId: `S${o.orderId}`,
        productAmount: usd(product),
        postageAmount: usd(o.postage),
        orderAmount: usd(product + o.postage),
        actualPayment: pay ? usd(product + o.postage) : 0,
        orderStatus: o.status,
        productInfoList: lines.map((l) => ({ lineItemId: l.lineItemId, variantId: l.vid, quantity: l.quantity })),
      };
    },
    "GET shopping/order/list": (b) => {
      const pageNum = Number(b.pageNum ?? 1);
      const pageSize = Math.min(200, Number(b.pageSize ?? 20));
      const all = [...this.orders.values()].sort((x, y) => y.createdAt - x.createdAt || (y.orderId > x.orderId ? 1 : -1));
      return {
        pageNum,
        pageSize,
        total: all.length,
        list: all.slice((pageNum - 1) * pageSize, pageNum * pageSize).map((o) => this.orderOut(o)),
      };
    },
    "GET shopping/order/getOrderDetail": (b) => {
      const o = this.orders.get(String(b.orderId));
      if (!o) this.fail(1603100, "Order not found, Please check the CJ order id");
      return this.orderOut(o);
    },
    "DELETE shopping/order/deleteOrder": (b) => {
      const o = this.orders.get(String(b.orderId));
      if (!o) this.fail(1603100, "Order not found, Please check the CJ order id");
      if (!["CREATED", "IN_CART", "UNPAID"].includes(o.status)) this.fail(1603002, "Order delete fail");
      o.status = "CANCELLED";
      for (const l of o.lines) {
        const v = this.variants.get(l.vid);
        if (v) v.stock += l.quantity;
      }
      return o.orderId;
    },
    "GET logistic/getTrackInfo": (b) => this.track(String(b.trackNumber)),
    "GET logistic/trackInfo": (b) => this.track(String(b.trackNumber)),
    "GET product/variant/queryByVid": (b) => {
      const v = this.variants.get(String(b.vid));
      if (!v) this.fail(1602000, "Variant not found");
      return { vid: v.vid, pid: v.pid, variantNameEn: v.nameEn, variantSku: `CJ${v.vid}`, variantSellPrice: usd(v.price) };
    },
    "GET product/stock/queryByVid": (b) => {
      const v = this.variants.get(String(b.vid));
      if (!v) this.fail(1602000, "Variant not found");
      return [{ vid: v.vid, areaId: 2, areaEn: "China Warehouse", countryCode: "CN", totalInventoryNum: v.stock, storageNum: v.stock }];
    },
    "GET disputes/disputeProducts": (b) => {
      const o = this.disputable(String(b.orderId));
      const open = [...this.disputes.values()].some((d) => d.orderId === o.orderId && !["Completed", "Cancelled"].includes(d.status));
      return {
        orderId: o.orderId,
        orderNumber: o.orderNumber,
        productInfoList: o.lines.map((l) => ({
          lineItemId: l.lineItemId,
          cjVariantId: l.vid,
          canChoose: !open,
          price: usd(l.price),
          quantity: l.quantity,
          sku: `CJ${l.vid}`,
          supplierName: "CJ",
        })),
      };
    },
    "POST disputes/disputeConfirmInfo": (b) => {
      const o = this.disputable(String(b.orderId));
      const { goods, lines } = this.chosen(o, b.productInfoList);
      return {
        orderId: o.orderId,
        orderNumber: o.orderNumber,
        maxProductPrice: usd(goods),
        maxPostage: usd(o.postage),
        maxAmount: usd(goods + o.postage),
        expectResultOptionList: ["1", "2"],
        disputeReasonList: CJ_REASONS,
        productInfoList: lines,
      };
    },
    "POST disputes/create": (b) => {
      const o = this.disputable(String(b.orderId));
      const biz = String(b.businessDisputeId ?? "");
      if (!biz) this.fail(1600300, "businessDisputeId is required");
      if ([...this.disputes.values()].some((d) => d.businessDisputeId === biz)) this.fail(1600300, "businessDisputeId already exists");
      if ([...this.disputes.values()].some((d) => d.orderId === o.orderId && !["Completed", "Cancelled"].includes(d.status)))
        this.fail(1600300, "The order has an unfinished dispute");
      const reason = CJ_REASONS.find((r) => r.disputeReasonId === Number(b.disputeReasonId));
      if (!reason) this.fail(1600300, "disputeReasonId is not valid");
      if (![1, 2].includes(Number(b.expectType))) this.fail(1600300, "expectType must be 1 or 2");
      if (![1, 2].includes(Number(b.refundType))) this.fail(1600300, "refundType must be 1 or 2");
      if (!String(b.messageText ?? "").trim()) this.fail(1600300, "messageText is required");
      const { goods } = this.chosen(o, b.productInfoList);
      const asked = (b.productInfoList as Record<string, unknown>[]).reduce((s, p) => s + Math.round(Number(p.price) * 100), 0);
      if (asked > goods + o.postage) this.fail(1600300, "The refund amount exceeds the maximum");
      const d: EmuDispute = {
        id: String(900000 + ++this.seq),
        businessDisputeId: biz,
        orderId: o.orderId,
        disputeReasonId: reason.disputeReasonId,
        reason: reason.reasonName,
        messageText: String(b.messageText),
        imageUrl: Array.isArray(b.imageUrl) ? (b.imageUrl as string[]) : [],
        asked,
        status: "Pending",
        createdAt: this.now(),
      };
      this.disputes.set(d.id, d);
      return true;
    },
    "POST disputes/cancel": (b) => {
      const d = this.disputes.get(String(b.disputeId));
      if (!d || d.orderId !== String(b.orderId)) this.fail(1600300, "dispute not found");
      d.status = "Cancelled";
      return true;
    },
    "GET disputes/getDisputeList": (b) => {
      const pageNum = Number(b.pageNum ?? 1);
      const pageSize = Number(b.pageSize ?? 10);
      const all = [...this.disputes.values()]
        .filter((d) => (!b.orderId || d.orderId === String(b.orderId)) && (!b.disputeId || d.id === String(b.disputeId)))
        .sort((x, y) => y.createdAt - x.createdAt || (y.id > x.id ? 1 : -1));
      return {
        pageNum,
        pageSize,
        total: all.length,
        list: all.slice((pageNum - 1) * pageSize, pageNum * pageSize).map((d) => this.disputeOut(d)),
      };
    },
    "GET disputes/getDisputeDetail": (b) => {
      const d = this.disputes.get(String(b.disputeId));
      if (!d) this.fail(1600300, "dispute not found");
      return { ...this.disputeOut(d), refundAmount: d.money === undefined ? null : usd(d.money) };
    },
  };

  private disputeOut(d: EmuDispute) {
    return {
      id: d.id,
      status: d.status,
      disputeReason: d.reason,
      replacementAmount: d.finallyDeal === 2 ? usd(d.asked) : null,
      resendOrderCode: d.resendOrderCode ?? null,
      money: d.money === undefined ? null : usd(d.money),
      finallyDeal: d.finallyDeal ?? null,
      createDate: String(d.createdAt),
      productList: this.order(d.orderId).lines.map((l) => ({ lineItemId: l.lineItemId, cjVariantId: l.vid, price: usd(l.price) })),
    };
  }

  private disputable(orderId: string) {
    const o = this.orders.get(orderId);
    if (!o) this.fail(1603100, "Order not found, Please check the CJ order id");
    if (!["SHIPPED", "DELIVERED"].includes(o.status)) this.fail(1600300, "Only shipped orders can be disputed");
    return o;
  }

  private chosen(o: EmuCjOrder, raw: unknown) {
    const picks = Array.isArray(raw) ? (raw as Record<string, unknown>[]) : [];
    if (!picks.length) this.fail(1600300, "productInfoList is required");
    let goods = 0;
    const lines = picks.map((p) => {
      const l = o.lines.find((x) => x.lineItemId === String(p.lineItemId));
      if (!l) this.fail(1600300, `lineItemId ${String(p.lineItemId)} is not in the order`);
      const q = Number(p.quantity);
      if (!(q >= 1 && q <= l.quantity)) this.fail(1600300, "quantity is not valid");
      goods += l.price * q;
      return { lineItemId: l.lineItemId, cjVariantId: l.vid, canChoose: true, price: usd(l.price), quantity: q };
    });
    return { goods, lines };
  }

  private track(trackNumber: string) {
    const o = [...this.orders.values()].find((x) => x.trackNumber === trackNumber);
    if (!o) return [];
    return [
      {
        trackingNumber: trackNumber,
        trackingFrom: "CN",
        trackingTo: String(o.address.shippingCountryCode ?? ""),
        deliveryDay: o.deliveryTime ? "5" : null,
        deliveryTime: o.deliveryTime ? new Date(o.deliveryTime).toISOString() : null,
        trackingStatus: o.trackingStatus ?? "In transit",
        lastMileCarrier: null,
        lastTrackNumber: null,
      },
    ];
  }
}
