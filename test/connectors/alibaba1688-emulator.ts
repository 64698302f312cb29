import { createHmac } from "node:crypto";
import type http from "node:http";
import { listenLocal } from "./supplier-platform-helpers.js";

/**
 * A local 1688 open-platform gateway, from the platform's public API documentation: the param2
 * URL scheme, `_aop_signature` (HMAC-SHA1 of the URL path and the sorted fields, upper-case hex)
 * checked on every call, the buyer's access token, the gateway's `{error_code, error_message}`
 * errors, and the buyer-side trade, logistics, product and refund APIs Dropdesk uses, with the
 * seller's side driven by the test (pay, ship, sign, close, agree, refuse, refund). Amounts are
 * in yuan where the documentation says yuan (buyer view) and in fen where it says fen.
 */
export interface EmuSpec {
  specId: string;
  price: string;
  consignPrice?: string;
  amountOnSale: number;
}
export interface EmuOffer {
  offerId: string;
  subject: string;
  status: string;
  specs: EmuSpec[];
}
export interface EmuEntry {
  subItemID: string;
  offerId: string;
  specId: string | null;
  quantity: number;
  /** fen */
  amount: number;
}
export interface EmuOrder {
  id: string;
  outOrderId?: string;
  status: string;
  entries: EmuEntry[];
  postFee: number;
  address: Record<string, string>;
  modified: number;
  closeReason?: string;
  refundStatus?: string;
  refundId?: string;
  logistics?: { company: string; billNo: string; status: string };
}
export interface EmuRefund {
  refundId: string;
  orderId: string;
  disputeRequest: string;
  applyPayment: number;
  applyReasonId: number;
  goodsStatus: string;
  description: string;
  vouchers: string[];
  status: string;
  refundPayment: number;
  rejectReason?: string;
}

export const REASONS = [
  { id: 20001, name: "质量问题", needVoucher: true, noRefundCarriage: false, tip: "" },
  { id: 20002, name: "收到商品破损", needVoucher: true, noRefundCarriage: false, tip: "" },
  { id: 20003, name: "卖家发错货", needVoucher: true, noRefundCarriage: false, tip: "" },
  { id: 20004, name: "少件/漏发", needVoucher: false, noRefundCarriage: false, tip: "" },
  { id: 20005, name: "我不想要了", needVoucher: false, noRefundCarriage: true, tip: "" },
  { id: 20006, name: "其他", needVoucher: false, noRefundCarriage: true, tip: "" },
];

const fenToYuan = (f: number) => `${Math.floor(f / 100)}.${String(f % 100).padStart(2, "0")}`;
const date1688 = (ms: number) => {
  const d = new Date(ms + 8 * 3600_000);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}${p(d.getUTCMilliseconds(), 3)}+0800`;
};

export class Ali1688Emulator {
  appKey = "7654321";
  appSecret = "emu-1688-secret";
  accessToken = "emu-buyer-token-1688";
  offers = new Map<string, EmuOffer>();
  orders = new Map<string, EmuOrder>();
  refunds = new Map<string, EmuRefund>();
  vouchers: { path: string; bytes: number }[] = [];
  calls: { api: string; params: Record<string, string> }[] = [];
  /** Orders are paid at once (the buyer's 免密支付), as a dropshipping account runs. */
  autoPay = true;
  /** Faults for the next calls: an HTTP status (503 down, 429 limited), or hang. */
  faults: ("down" | "limited" | "hang" | "refuse-create")[] = [];
  down = false;
  private server?: Awaited<ReturnType<typeof listenLocal>>;
  private seq = 0;
  url = "";

  async start() {
    this.server = await listenLocal((req, res) => void this.handle(req, res));
    this.url = this.server.url;
    return this;
  }
  async stop() {
    await this.server?.stop();
  }
  callsOf(api: string) {
    return this.calls.filter((c) => c.api === api);
  }

  // The seller's side -------------------------------------------------------------------------
  setOffer(o: EmuOffer) {
    this.offers.set(o.offerId, o);
  }
  pay(id: string) {
    this.order(id).status = "waitsellersend";
    this.touch(id);
  }
  ship(id: string, company = "圆通速递", billNo = `YT${id.slice(-10)}`) {
    const o = this.order(id);
    o.status = "waitbuyerreceive";
    o.logistics = { company, billNo, status: "TRANSPORT" };
    this.touch(id);
  }
  sign(id: string) {
    const o = this.order(id);
    if (o.logistics) o.logistics.status = "SIGN";
    o.status = "confirm_goods";
    this.touch(id);
  }
  closeBySeller(id: string, reason = "sellerGoodsLack") {
    const o = this.order(id);
    o.status = "cancel";
    o.closeReason = reason;
    this.touch(id);
  }
  /** The seller's answer to a refund: agree (and pay `amount` fen), refuse, ask for the goods back, or close. */
  answerRefund(refundId: string, a: { agree: number } | { refuse: string } | { waitReturn: true } | { close: true }) {
    const r = this.refunds.get(refundId);
    if (!r) throw new Error(`no refund ${refundId}`);
    if ("agree" in a) {
      r.status = "refundsuccess";
      r.refundPayment = a.agree;
      const o = this.order(r.orderId);
      o.refundStatus = "refundsuccess";
      // A refund of everything paid before shipping closes the order.
      if (o.status === "waitsellersend" && a.agree >= o.entries.reduce((s, e) => s + e.amount, 0)) o.status = "cancel";
    } else if ("refuse" in a) {
      r.status = "waitbuyermodify";
      r.rejectReason = a.refuse;
    } else if ("waitReturn" in a) r.status = "waitbuyersend";
    else r.status = "refundclose";
    this.order(r.orderId).refundStatus = r.status;
    this.touch(r.orderId);
  }
  order(id: string) {
    const o = this.orders.get(id);
    if (!o) throw new Error(`no order ${id}`);
    return o;
  }
  private touch(id: string) {
    this.order(id).modified = Date.now();
  }

  // The gateway -------------------------------------------------------------------------------
  private send(res: http.ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { "content-type": "application/json;charset=UTF-8" });
    res.end(JSON.stringify(body));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? "/", this.url);
    const m = /^\/openapi\/(param2\/1\/([^/]+)\/([^/]+)\/([^/]+))$/.exec(url.pathname);
    if (!m || req.method !== "POST") return this.send(res, 404, { error_code: "gw.APIUnsupported", error_message: "API not found" });
    const [, path, , api, appKey] = m;
    const fault = this.faults.shift();
    if (fault === "hang") return; // never answers
    if (this.down || fault === "down")
      return this.send(res, 503, { error_code: "gw.ServiceUnavailable", error_message: "service unavailable" });
    if (fault === "limited")
      return this.send(res, 429, { error_code: "gw.QosAppFrequencyLimit", error_message: "App call exceeds limited frequency" });
    const params: Record<string, string> = {};
    const files: Record<string, Buffer> = {};
    for (const [k, v] of url.searchParams) params[k] = v;
    const type = String(req.headers["content-type"] ?? "");
    if (type.startsWith("multipart/form-data")) {
      const boundary = /boundary=(.+)$/.exec(type)?.[1] ?? "";
      for (const part of splitMultipart(raw, boundary)) {
        if (part.filename !== undefined) files[part.name] = part.data;
        else params[part.name] = part.data.toString("utf8");
      }
    } else for (const [k, v] of new URLSearchParams(raw.toString("utf8"))) params[k] = v;
    if (appKey !== this.appKey) return this.send(res, 400, { error_code: "gw.AppKeyInvalid", error_message: "appKey is invalid" });
    const expected = sign(path, params, this.appSecret);
    if (params._aop_signature !== expected)
      return this.send(res, 400, { error_code: "gw.SignatureInvalid", error_message: "Invalid signature", request_id: `emu${++this.seq}` });
    if (params.access_token !== this.accessToken)
      return this.send(res, 401, { error_code: "gw.AccessTokenInvalid", error_message: "Request need user authorized" });
    this.calls.push({ api, params });
    try {
      return this.send(res, 200, this.api(api, params, files, fault));
    } catch (e) {
      return this.send(res, 500, { error_code: "gw.InternalError", error_message: String(e) });
    }
  }

  private tradeInfo(o: EmuOrder) {
    const goods = o.entries.reduce((s, e) => s + e.amount, 0);
    return {
      baseInfo: {
        id: Number(o.id),
        idOfStr: o.id,
        status: o.status,
        totalAmount: fenToYuan(goods + o.postFee),
        shippingFee: fenToYuan(o.postFee),
        sumProductPayment: fenToYuan(goods),
        refundStatus: o.refundStatus,
        refundId: o.refundId,
        closeReason: o.closeReason,
        outOrderId: o.outOrderId,
        modifyTime: date1688(o.modified),
        ...(o.logistics && { allDeliveredTime: date1688(o.modified) }),
      },
      productItems: o.entries.map((e) => ({
        subItemID: Number(e.subItemID),
        subItemIDString: e.subItemID,
        productID: Number(e.offerId),
        specId: e.specId,
        quantity: e.quantity,
        itemAmount: fenToYuan(e.amount),
        price: fenToYuan(e.amount / e.quantity),
      })),
      nativeLogistics: {
        contactPerson: o.address.fullName,
        mobile: o.address.mobile,
        province: o.address.provinceText,
        city: o.address.cityText,
      },
    };
  }

  private api(api: string, p: Record<string, string>, files: Record<string, Buffer>, fault?: string): unknown {
    const json = <T>(k: string): T | undefined => (p[k] ? (JSON.parse(p[k]) as T) : undefined);
    switch (api) {
      case "alibaba.trade.fastCreateOrder": {
        if (p.outOrderId) {
          const same = [...this.orders.values()].find((o) => o.outOrderId === p.outOrderId);
          if (same) {
            const total = same.entries.reduce((s, e) => s + e.amount, 0) + same.postFee;
            return { success: true, result: { orderId: same.id, totalSuccessAmount: total, postFee: same.postFee } };
          }
        }
        const cargo = json<{ offerId: string | number; specId?: string; quantity: number }[]>("cargoParamList") ?? [];
        const address = json<Record<string, string>>("addressParam") ?? {};
        if (fault === "refuse-create") return { success: false, code: "FAIL_BIZ_STOCK_NOT_ENOUGH", message: "库存不足" };
        if (!address.fullName || !address.address) return { success: false, code: "500_003", message: "收货地址不完整" };
        const entries: EmuEntry[] = [];
        for (const c of cargo) {
          const offer = this.offers.get(String(c.offerId));
          const gone = { success: false, code: "FAIL_BIZ_OFFER_NOT_EXIST", message: `商品${c.offerId}不存在或已下架` };
          if (!offer) return gone;
          if (offer.status !== "published") return gone;
          const spec = c.specId ? offer.specs.find((s) => s.specId === c.specId) : offer.specs[0];
          if (!spec) return { success: false, code: "FAIL_BIZ_SPEC_NOT_EXIST", message: `规格${c.specId}不存在` };
          if (spec.amountOnSale < c.quantity) return { success: false, code: "FAIL_BIZ_STOCK_NOT_ENOUGH", message: "库存不足" };
          spec.amountOnSale -= c.quantity;
          const unit = Math.round(Number(spec.consignPrice ?? spec.price) * 100);
          entries.push({
            subItemID: `${Date.now()}${++this.seq}`,
            offerId: String(c.offerId),
            specId: c.specId ?? null,
            quantity: c.quantity,
            amount: unit * c.quantity,
          });
        }
        const id = `${3000000000000000000n + BigInt(Date.now()) * 1000n + BigInt(++this.seq)}`;
        const postFee = 500;
        this.orders.set(id, {
          id,
          outOrderId: p.outOrderId,
          status: this.autoPay ? "waitsellersend" : "waitbuyerpay",
          entries,
          postFee,
          address,
          modified: Date.now(),
        });
        const total = entries.reduce((s, e) => s + e.amount, 0) + postFee;
        return { success: true, result: { orderId: id, totalSuccessAmount: total, postFee } };
      }
      case "alibaba.trade.getBuyerOrderList": {
        let list = [...this.orders.values()];
        // Long[] as JSON: read the digits exactly (they exceed a double's precision).
        const ids: string[] | undefined = p.orderIds ? (p.orderIds.match(/\d+/g) ?? []) : undefined;
        if (ids) list = list.filter((o) => ids.includes(o.id));
        if (p.outOrderId) list = list.filter((o) => o.outOrderId === p.outOrderId);
        if (p.orderStatus) list = list.filter((o) => o.status === p.orderStatus);
        list.sort((a, b) => b.modified - a.modified || (a.id < b.id ? -1 : 1));
        const page = Math.max(1, Number(p.page ?? 1));
        const size = Math.min(50, Math.max(1, Number(p.pageSize ?? 20)));
        return { result: list.slice((page - 1) * size, page * size).map((o) => this.tradeInfo(o)), totalRecord: list.length };
      }
      case "alibaba.trade.get.buyerView": {
        const o = this.find(p.orderId);
        if (!o) return { success: "false", errorCode: "ORDER_NOT_EXIST", errorMessage: "订单不存在" };
        return { success: "true", result: this.tradeInfo(o) };
      }
      case "alibaba.trade.getLogisticsInfos.buyerView": {
        const o = this.find(p.orderId);
        if (!o) return { success: false, errorCode: "ORDER_NOT_EXIST", errorMessage: "订单不存在" };
        if (!o.logistics) return { success: false, errorCode: "500_2", errorMessage: "该订单没有发货，没有物流详情信息" };
        return {
          success: true,
          result: [
            {
              logisticsId: `BX${o.id.slice(-9)}`,
              logisticsBillNo: o.logistics.billNo,
              logisticsCompanyName: o.logistics.company,
              status: o.logistics.status,
              orderEntryIds: o.entries.map((e) => e.subItemID).join(","),
              sendGoods: o.entries.map((e) => ({ goodName: e.offerId, quantity: e.quantity, unit: "件" })),
            },
          ],
        };
      }
      case "alibaba.trade.cancel": {
        const o = this.find(p.tradeID);
        if (!o) return { success: false, errorCode: "ORDER_NOT_EXIST", errorMessage: "订单不存在" };
        if (o.status !== "waitbuyerpay") return { success: false, errorCode: "ORDER_STATUS_ERROR", errorMessage: "订单状态错误" };
        o.status = "cancel";
        o.closeReason = p.cancelReason;
        this.touch(o.id);
        return { success: true };
      }
      case "alibaba.product.simple.get": {
        const offer = this.offers.get(p.productID);
        if (!offer) return { errMsg: `商品[${p.productID}]不存在` };
        return {
          productInfo: {
            productID: Number(offer.offerId),
            subject: offer.subject,
            status: offer.status,
            skuInfos: offer.specs.map((s) => ({
              specId: s.specId,
              price: Number(s.price),
              consignPrice: s.consignPrice ? Number(s.consignPrice) : undefined,
              amountOnSale: s.amountOnSale,
            })),
            saleInfo: {
              amountOnSale: offer.specs.reduce((s, x) => s + x.amountOnSale, 0),
              priceRanges: [{ startQuantity: 1, price: Number(offer.specs[0]?.price ?? 0) }],
            },
          },
        };
      }
      case "alibaba.trade.getRefundReasonList": {
        const o = this.find(p.orderId);
        if (!o) return { result: { success: false, code: "5001", message: "订单不存在" } };
        return { result: { success: true, result: { reasons: REASONS } } };
      }
      case "alibaba.trade.uploadRefundVoucher": {
        const data = files.imageData;
        if (!data?.length) return { result: { success: false, code: "4000", message: "imageData 参数错误" } };
        if (data.length > 1024 * 1024) return { result: { success: false, code: "4000", message: "图片大于1M" } };
        const path = `img/ibank/refund/${++this.seq}.jpg`;
        this.vouchers.push({ path, bytes: data.length });
        return { result: { success: true, result: { imageDomain: "emu-img", imageRelativeUrl: path } } };
      }
      case "alibaba.trade.createRefund": {
        const o = this.find(p.orderId);
        if (!o) return { result: { success: false, code: "5001", message: "订单不存在" } };
        const reason = REASONS.find((r) => r.id === Number(p.applyReasonId));
        if (!reason) return { result: { success: false, code: "5004", message: "退款原因错误" } };
        const vouchers = json<string[]>("vouchers") ?? [];
        if (reason.needVoucher && vouchers.length === 0) return { result: { success: false, code: "5005", message: "需要上传凭证" } };
        if (vouchers.some((v) => !this.vouchers.some((x) => v.endsWith(x.path))))
          return { result: { success: false, code: "5100", message: "凭证不存在" } };
        const paid = o.entries.reduce((s, e) => s + e.amount, 0);
        const apply = Number(p.applyPayment);
        if (!(apply > 0) || apply > paid) return { result: { success: false, code: "5011", message: "退款金额错误" } };
        if (p.disputeRequest === "returnRefund" && !["waitbuyerreceive", "confirm_goods", "success"].includes(o.status))
          return { result: { success: false, code: "5010", message: "退货状态错误" } };
        if ((p.description ?? "").length < 2 || p.description.length > 150)
          return { result: { success: false, code: "5012", message: "退款说明长度错误" } };
        if (o.refundStatus && !["refundclose", "refundsuccess"].includes(o.refundStatus))
          return { result: { success: false, code: "5010", message: "已有退款" } };
        const refundId = `TQ${Date.now()}${++this.seq}`;
        this.refunds.set(refundId, {
          refundId,
          orderId: o.id,
          disputeRequest: p.disputeRequest,
          applyPayment: apply,
          applyReasonId: reason.id,
          goodsStatus: p.goodsStatus,
          description: p.description,
          vouchers,
          status: "waitselleragree",
          refundPayment: 0,
        });
        o.refundStatus = "waitselleragree";
        o.refundId = refundId;
        this.touch(o.id);
        return { result: { success: true, result: { refundId } } };
      }
      case "alibaba.trade.refund.OpQueryOrderRefund": {
        const r = this.refunds.get(p.refundId);
        if (!r) return { errorCode: "500", errorMessage: "退款单错误", extErrorMessage: "REFUND_DATA_ERROR" };
        return {
          result: {
            opOrderRefundModelDetail: {
              refundId: r.refundId,
              orderId: Number(r.orderId),
              status: r.status,
              applyPayment: r.applyPayment,
              applyReasonId: r.applyReasonId,
              applyReason: REASONS.find((x) => x.id === r.applyReasonId)?.name,
              refundPayment: r.refundPayment,
              refundCarriage: 0,
              rejectReason: r.rejectReason,
              onlyRefund: r.disputeRequest === "refund",
              refundGoods: r.disputeRequest === "returnRefund",
            },
          },
        };
      }
      default:
        return { success: false, errorCode: "gw.APIUnsupported", errorMessage: `${api} is not emulated` };
    }
  }

  private find(id: string | undefined) {
    if (!id) return undefined;
    return this.orders.get(id);
  }
}

function sign(path: string, params: Record<string, string>, secret: string) {
  const s = Object.keys(params)
    .filter((k) => k !== "_aop_signature")
    .sort()
    .map((k) => `${k}${params[k]}`)
    .join("");
  return createHmac("sha1", secret).update(`${path}${s}`).digest("hex").toUpperCase();
}

function splitMultipart(raw: Buffer, boundary: string) {
  const out: { name: string; filename?: string; data: Buffer }[] = [];
  const delim = Buffer.from(`--${boundary}`);
  let pos = raw.indexOf(delim);
  while (pos !== -1) {
    const start = pos + delim.length;
    if (raw.subarray(start, start + 2).toString() === "--") break;
    const next = raw.indexOf(delim, start);
    if (next === -1) break;
    const part = raw.subarray(start + 2, next - 2);
    const sep = part.indexOf("\r\n\r\n");
    const head = part.subarray(0, sep).toString("utf8");
    const name = /name="([^"]+)"/.exec(head)?.[1] ?? "";
    const filename = /filename="([^"]*)"/.exec(head)?.[1];
    out.push({ name, filename, data: part.subarray(sep + 4) });
    pos = next;
  }
  return out;
}
