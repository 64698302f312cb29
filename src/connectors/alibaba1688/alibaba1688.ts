import { z } from "zod";
import { pickReason, supplierPlatformKind } from "../../suppliers-platforms/kind.js";
import type {
  DisputeRequest,
  DisputeState,
  ForwardRequest,
  PlatformOrderStage,
  PlatformOrderState,
  SupplierPlatform,
} from "../../suppliers-platforms/platform.js";
import type { ConnectorContext, ConnectorKind } from "../kind.js";
import { Ali1688Error, businessRefusal, client1688, settingsOf1688, yuanToFen } from "./client.js";

/**
 * 1688 as a supplier channel: the buyer's account (app key and secret, the buyer's access token)
 * places 代发 orders shipped straight to the end customer, reads their status and logistics,
 * cancels them, reads offers' prices and stock, and opens refund disputes (退款 / 退货退款) with
 * the case's evidence as vouchers. The APIs and fields are those of the platform's documentation.
 */
const TRADE = "com.alibaba.trade";
const LOGISTICS = "com.alibaba.logistics";
const PRODUCT = "com.alibaba.product";
const WEBSITE = "1688";

const ConfigSchema = z.strictObject({
  appKey: z.string().min(1).max(100),
  appSecret: z.string().min(1).max(200),
  accessToken: z.string().min(1).max(500),
  /** The gateway's base URL (the part before /openapi); unset, DROPDESK_ALIBABA1688_URL. */
  endpoint: z.string().url().max(500).optional(),
  /** The order flow: saleproxy (代销/一件代发, default) or general (大市场). */
  flow: z.enum(["saleproxy", "general"]).optional(),
  /** The seller's after-sales terms toward the buyer: days to return after receipt, days to open a refund. */
  returnWindowDays: z.number().int().min(0).max(365).optional(),
  disputeWindowDays: z.number().int().min(1).max(365).optional(),
});

/** A list of 64-bit ids as the JSON the platform reads (never through a float: they exceed 2^53). */
const longs = (ids: string[]) => `[${ids.filter((i) => /^\d+$/.test(i)).join(",")}]`;
const cli = (ctx: ConnectorContext) => client1688(ctx.deps, settingsOf1688(ctx.settings), ctx.options);
type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === "object" ? (v as Obj) : {});
const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);
/** The documented answers wrap results once or twice (`result.result`). */
const inner = (r: Obj) => {
  const outer = obj(r.result);
  return "result" in outer || "success" in outer ? outer : r;
};
const check = (r: Obj) => {
  const refusal = businessRefusal(r);
  if (refusal) throw refusal;
  return r;
};
/** 1688 dates: `20180614101942000+0800`. */
export function date1688(v: unknown): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{3})([+-]\d{4})$/.exec(String(v ?? ""));
  if (!m) return undefined;
  return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}${m[8].slice(0, 3)}:${m[8].slice(3)}`);
}

const STAGES: Record<string, PlatformOrderStage> = {
  waitbuyerpay: "placed",
  waitsellersend: "accepted",
  waitlogisticstakein: "shipped",
  waitbuyerreceive: "shipped",
  waitbuyersign: "shipped",
  signinsuccess: "delivered",
  confirm_goods: "delivered",
  success: "delivered",
  cancel: "closed",
  terminated: "closed",
};

async function buyerView(ctx: ConnectorContext, orderId: string): Promise<Obj> {
  const r = await cli(ctx).call<Obj>(TRADE, "alibaba.trade.get.buyerView", { webSite: WEBSITE, orderId, includeFields: "NativeLogistics" });
  return obj(check(r).result);
}

async function logistics(ctx: ConnectorContext, orderId: string): Promise<Obj | undefined> {
  try {
    const r = await cli(ctx).call<Obj>(LOGISTICS, "alibaba.trade.getLogisticsInfos.buyerView", {
      orderId,
      webSite: WEBSITE,
      fields: "company.name,sender,receiver,sendgood",
    });
    return list(check(r).result).find((l) => l.logisticsBillNo);
  } catch (e) {
    // 500_2: not shipped yet, no logistics to show.
    if (e instanceof Ali1688Error && e.code === "500_2") return undefined;
    throw e;
  }
}

export const alibaba1688Platform: SupplierPlatform = {
  kind: "alibaba1688",

  async placeOrder(ctx, req: ForwardRequest) {
    const a = req.address;
    const r = await cli(ctx).call<Obj>(TRADE, "alibaba.trade.fastCreateOrder", {
      flow: ctx.settings.flow || "saleproxy",
      outOrderId: req.outOrderId,
      message: req.message?.slice(0, 500),
      addressParam: {
        fullName: a.name,
        mobile: a.phone,
        phone: a.phone,
        postCode: a.postalCode ?? "",
        provinceText: a.province,
        cityText: a.city,
        areaText: a.district ?? "",
        townText: a.town ?? "",
        address: a.line1.slice(0, 200),
      },
      cargoParamList: req.lines.map((l) => ({ offerId: l.externalOfferId, specId: l.externalSpecId ?? undefined, quantity: l.quantity })),
    });
    check(r);
    const res = obj(r.result);
    const orderId = String(res.orderId ?? "");
    if (!orderId) throw new Ali1688Error("invalid_answer", "1688 created no order id");
    // totalSuccessAmount and postFee are in fen, as the API documents.
    const total = Number(res.totalSuccessAmount ?? 0);
    const shipping = Number(res.postFee ?? 0);
    return { externalOrderId: orderId, chargedGoods: total - shipping, chargedShipping: shipping, chargedTotal: total };
  },

  async findOrder(ctx, outOrderId) {
    const r = check(await cli(ctx).call<Obj>(TRADE, "alibaba.trade.getBuyerOrderList", { outOrderId, page: 1, pageSize: 1 }));
    const base = obj(list(r.result)[0]?.baseInfo);
    return base.idOfStr ? String(base.idOfStr) : base.id ? String(base.id) : null;
  },

  async pullOrders(ctx, ids) {
    const out = new Map<string, PlatformOrderState>();
    const pageSize = 20;
    for (let page = 1; ; page++) {
      const r = check(await cli(ctx).call<Obj>(TRADE, "alibaba.trade.getBuyerOrderList", { orderIds: longs(ids), page, pageSize }));
      const rows = list(r.result);
      for (const row of rows) {
        const b = obj(row.baseInfo);
        const id = String(b.idOfStr ?? b.id);
        const status = String(b.status ?? "");
        const st: PlatformOrderState = {
          status,
          stage: STAGES[status] ?? "placed",
          closeReason: b.closeReason ? String(b.closeReason) : undefined,
          refundStatus: b.refundStatus ? String(b.refundStatus) : undefined,
          chargedTotal: b.totalAmount !== undefined ? yuanToFen(b.totalAmount) : undefined,
          shippedAt: date1688(b.allDeliveredTime),
          deliveredAt: date1688(b.receivingTime),
        };
        // A paid order refunded in full (a cancellation before shipping) is closed.
        if (st.stage === "accepted" && st.refundStatus === "refundsuccess") st.stage = "closed";
        if (st.stage === "shipped" || st.stage === "delivered") {
          const l = await logistics(ctx, id);
          if (l) {
            st.carrier = String(l.logisticsCompanyName ?? l.logisticsCompanyNo ?? "");
            st.trackingNo = String(l.logisticsBillNo);
            if (l.status === "SIGN") st.stage = "delivered";
          }
        }
        out.set(id, st);
      }
      const total = Number(r.totalRecord ?? rows.length);
      if (rows.length < pageSize || page * pageSize >= total) return out;
    }
  },

  async cancelOrder(ctx, orderId, state) {
    if (state.status === "waitbuyerpay") {
      check(
        await cli(ctx).call<Obj>(TRADE, "alibaba.trade.cancel", {
          webSite: WEBSITE,
          tradeID: orderId,
          cancelReason: "other",
          remark: "buyer cancelled",
        }),
      );
      return { done: true };
    }
    // Paid and not shipped: the platform cancels by refunding the whole order (售中等待卖家发货).
    const view = await buyerView(ctx, orderId);
    const items = list(view.productItems);
    const entryIds = items.map((i) => String(i.subItemIDString ?? i.subItemID));
    const goodsStatus = "refundWaitSellerSend";
    const reasons = await reasonList(ctx, orderId, entryIds, goodsStatus);
    const reason = reasons.find((x) => /不想要|拍错|协商|其他/.test(String(x.name))) ?? reasons[0];
    if (!reason) throw new Ali1688Error("no_reason", "1688 offered no reason to cancel this order");
    const paid = items.reduce((s, i) => s + yuanToFen(i.itemAmount), 0);
    const r = await cli(ctx).call<Obj>(TRADE, "alibaba.trade.createRefund", {
      orderId,
      orderEntryIds: longs(entryIds),
      disputeRequest: "refund",
      applyPayment: paid,
      applyCarriage: yuanToFen(obj(view.baseInfo).shippingFee),
      applyReasonId: Number(reason.id),
      description: "订单取消，未发货，申请全额退款",
      goodsStatus,
    });
    const res = check(inner(r));
    return { done: false, refundId: String(obj(res.result).refundId) };
  },

  async pullOffer(ctx, offerId, specId) {
    const r = await cli(ctx).call<Obj>(PRODUCT, "alibaba.product.simple.get", { productID: offerId, webSite: WEBSITE });
    const p = obj(r.productInfo);
    if (!p.productID) throw new Ali1688Error("product_missing", `1688: ${String(r.errMsg ?? `offer ${offerId} not found`)}`);
    if (p.status && p.status !== "published") throw new Ali1688Error("product_offline", `1688 offer ${offerId} is ${String(p.status)}`);
    const sale = obj(p.saleInfo);
    const skus = list(p.skuInfos);
    if (specId) {
      const sku = skus.find((s) => String(s.specId) === specId);
      if (!sku) throw new Ali1688Error("spec_missing", `1688 offer ${offerId} has no spec ${specId}`);
      return { price: yuanToFen(sku.consignPrice ?? sku.price), stock: Number(sku.amountOnSale ?? 0), title: String(p.subject ?? "") };
    }
    const price = sale.consignPrice ?? list(sale.priceRanges)[0]?.price ?? p.referencePrice;
    return { price: yuanToFen(price), stock: Number(sale.amountOnSale ?? 0), title: String(p.subject ?? "") };
  },

  async openDispute(ctx, req: DisputeRequest) {
    const view = await buyerView(ctx, req.externalOrderId);
    const base = obj(view.baseInfo);
    const items = list(view.productItems);
    const entryIds = items.map((i) => String(i.subItemIDString ?? i.subItemID));
    const afterSale = base.status === "success";
    const goodsStatus = req.goodsReceived
      ? afterSale
        ? "aftersaleBuyerReceived"
        : "refundBuyerReceived"
      : afterSale
        ? "aftersaleBuyerNotReceived"
        : "refundWaitBuyerReceive";
    const reasons = await reasonList(ctx, req.externalOrderId, entryIds, goodsStatus);
    const reason = pickReason(reasons, req.reason, (x) => String(x.name));
    if (!reason) throw new Ali1688Error("no_reason", "1688 offered no refund reason for this order");
    if (reason.needVoucher && req.evidence.length === 0)
      throw new Ali1688Error("5005", `1688 needs evidence for the reason "${String(reason.name)}"; add photos to the case first`);
    const vouchers: string[] = [];
    for (const f of req.evidence.slice(0, 5)) {
      const up = check(inner(await cli(ctx).call<Obj>(TRADE, "alibaba.trade.uploadRefundVoucher", {}, { field: "imageData", ...f })));
      const u = obj(up.result);
      vouchers.push(`${String(u.imageDomain).replace(/\/+$/, "")}/${String(u.imageRelativeUrl).replace(/^\/+/, "")}`);
    }
    const paid = items.reduce((s, i) => s + yuanToFen(i.itemAmount), 0);
    const description = req.description.length >= 2 ? req.description.slice(0, 150) : `${req.description}——售后`;
    const r = await cli(ctx).call<Obj>(TRADE, "alibaba.trade.createRefund", {
      orderId: req.externalOrderId,
      orderEntryIds: longs(entryIds),
      disputeRequest: req.request,
      applyPayment: Math.min(req.amount, paid),
      applyCarriage: 0,
      applyReasonId: Number(reason.id),
      description,
      goodsStatus,
      vouchers: vouchers.length ? vouchers : undefined,
    });
    const res = check(inner(r));
    return { refundId: String(obj(res.result).refundId), reasonId: String(reason.id), reason: String(reason.name), vouchers };
  },

  terms(settings) {
    // 1688 一件代发: 7 days to return after receipt, refunds (退款/退货退款) with vouchers for
    // quality and damage; return freight follows responsibility (the seller's fault: the seller's).
    return {
      acceptsReturns: true,
      returnWindowDays: Number(settings.returnWindowDays ?? 7),
      claimDeadlineDays: Number(settings.disputeWindowDays ?? 15),
      evidenceRequired: ["photo"],
      returnFreightPaidBy: "by_responsibility",
      claimSettlement: "refund",
    };
  },

  async pullDispute(ctx, refundId): Promise<DisputeState> {
    const r = await cli(ctx).call<Obj>(TRADE, "alibaba.trade.refund.OpQueryOrderRefund", { refundId, needOrderRefundOperation: true });
    if (r.errorCode) throw new Ali1688Error(String(r.errorCode), `1688: ${String(r.errorMessage ?? r.errorCode)}`);
    const d = obj(obj(r.result).opOrderRefundModelDetail);
    const status = String(d.status ?? "");
    const refunded = Number(d.refundPayment ?? 0) + Number(d.refundCarriage ?? 0);
    const note = d.rejectReason ? `the seller refused: ${String(d.rejectReason)}` : undefined;
    if (status === "refundsuccess") return { status, state: "refunded", refunded, note };
    if (status === "refundclose") return { status, state: "closed", refunded: 0, note };
    return { status, state: "open", refunded: 0, note };
  },
};

async function reasonList(ctx: ConnectorContext, orderId: string, entryIds: string[], goodsStatus: string) {
  const r = await cli(ctx).call<Obj>(TRADE, "alibaba.trade.getRefundReasonList", { orderId, orderEntryIds: longs(entryIds), goodsStatus });
  const res = check(inner(r));
  return list(obj(res.result).reasons);
}

/** The connector kind: the account's settings, `test`, and a sync that pulls every open order, offer and dispute. */
export const alibaba1688Kind: ConnectorKind = supplierPlatformKind({
  platform: alibaba1688Platform,
  configSchema: ConfigSchema,
  secretFields: ["appSecret", "accessToken"],
  async probe(ctx) {
    const r = check(await cli(ctx).call<Obj>(TRADE, "alibaba.trade.getBuyerOrderList", { page: 1, pageSize: 1 }));
    return `the 1688 buyer account answers: ${Number(r.totalRecord ?? 0)} orders`;
  },
});
