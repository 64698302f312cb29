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
import { CjError, centsToUsd, cjClient, usdToCents } from "./client.js";

/**
 * CJdropshipping as a supplier channel: orders placed with `shopping/order/createOrderV2` shipped
 * straight to the end customer with CJ's variant ids (the offer's vid), their status from
 * `shopping/order/getOrderDetail` and the parcel's from `logistic/getTrackInfo`, unpaid orders
 * deleted (`shopping/order/deleteOrder`), a variant's price and stock (`product/variant/queryByVid`,
 * `product/stock/queryByVid`), and disputes (`disputes/disputeProducts` → `disputeConfirmInfo` →
 * `create` with the case's photos as image URLs, followed with `getDisputeList`).
 *
 * CJ prices in USD. `usdRate` is what one USD is in the shop's currency (unset: the shop keeps
 * USD); amounts are converted to the cent at that one rate, both ways.
 */
const ConfigSchema = z.strictObject({
  apiKey: z.string().min(1).max(200),
  /** CJ's API base URL (the part before /api2.0); unset, DROPDESK_CJ_URL. */
  endpoint: z.string().url().max(500).optional(),
  /** The account's calls per second (CJ's levels: 1 free, 2 Plus, 4 Prime, 6 Advanced). */
  qps: z.number().int().min(1).max(100).optional(),
  /** One USD in the shop's currency, as decimal text ("7.2"). */
  usdRate: z
    .string()
    .regex(/^\d{1,4}(\.\d{1,6})?$/)
    .optional(),
  /** CJ's logistics product for new orders (CJ's own default when unset) and where it ships from. */
  logisticName: z.string().max(100).optional(),
  fromCountryCode: z.string().length(2).optional(),
  /** Pay orders from the CJ balance at once (payType 2, default) or leave them to be paid in CJ (3). */
  payFromBalance: z.boolean().optional(),
  /** CJ's after-sales terms toward the account: days after delivery to open a dispute. */
  disputeWindowDays: z.number().int().min(1).max(365).optional(),
});

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === "object" ? (v as Obj) : {});
const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);
const rateOf = (ctx: ConnectorContext) => Number(ctx.settings.usdRate || 1);
/** CJ's USD → the shop's minor units. */
export const toLocal = (ctx: ConnectorContext, usd: unknown) => Math.round(usdToCents(usd) * rateOf(ctx));
const toUsd = (ctx: ConnectorContext, local: number) => centsToUsd(Math.round(local / rateOf(ctx)));
const when = (v: unknown) => {
  if (v === null || v === undefined || v === "") return undefined;
  const t = typeof v === "number" ? v : Number.isNaN(Number(v)) ? Date.parse(String(v)) : Number(v);
  return Number.isNaN(t) ? undefined : new Date(t);
};

const STAGES: Record<string, PlatformOrderStage> = {
  CREATED: "placed",
  IN_CART: "placed",
  UNPAID: "placed",
  UNSHIPPED: "accepted",
  SHIPPED: "shipped",
  DELIVERED: "delivered",
  CANCELLED: "closed",
};

async function orderDetail(ctx: ConnectorContext, orderId: string): Promise<Obj> {
  return obj(await cjClient(ctx).call("GET", "shopping/order/getOrderDetail", { orderId }));
}

async function trackOf(ctx: ConnectorContext, trackNumber: string): Promise<Obj | undefined> {
  const d = await cjClient(ctx).call("GET", "logistic/getTrackInfo", { trackNumber });
  return (Array.isArray(d) ? list(d) : [obj(d)]).find((x) => x.trackingNumber || x.trackingStatus);
}

async function stateOf(ctx: ConnectorContext, d: Obj): Promise<PlatformOrderState> {
  const status = String(d.orderStatus ?? "");
  const st: PlatformOrderState = {
    status,
    stage: STAGES[status] ?? "placed",
    chargedTotal: d.orderAmount !== undefined ? toLocal(ctx, d.orderAmount) : undefined,
    shippedAt: when(d.outWarehouseTime),
    closeReason: status === "CANCELLED" ? "cancelled on CJ" : undefined,
  };
  if ((st.stage === "shipped" || st.stage === "delivered") && d.trackNumber) {
    st.trackingNo = String(d.trackNumber);
    st.carrier = String(d.logisticName ?? "");
    const t = await trackOf(ctx, st.trackingNo);
    if (t && /deliver|签收|妥投/i.test(String(t.trackingStatus ?? ""))) {
      st.stage = "delivered";
      st.deliveredAt = when(t.deliveryTime);
    }
    if (t?.lastMileCarrier && t.lastTrackNumber) {
      // The last-mile carrier's own number is the one the customer (and 快递100) can follow.
      st.carrier = String(t.lastMileCarrier);
      st.trackingNo = String(t.lastTrackNumber);
    }
  }
  return st;
}

export const cjPlatform: SupplierPlatform = {
  kind: "cj",

  async placeOrder(ctx, req: ForwardRequest) {
    const a = req.address;
    const payFromBalance = String(ctx.settings.payFromBalance ?? "true") !== "false";
    const d = obj(
      await cjClient(ctx).call("POST", "shopping/order/createOrderV2", {
        orderNumber: req.outOrderId,
        shippingCountryCode: a.countryCode ?? "CN",
        shippingCountry: a.country ?? a.countryCode ?? "CN",
        shippingProvince: a.province,
        shippingCity: a.city,
        shippingCounty: a.district ?? "",
        shippingAddress: a.line1.slice(0, 200),
        shippingAddress2: a.town ?? "",
        shippingZip: a.postalCode ?? "",
        shippingCustomerName: a.name,
        shippingPhone: a.phone,
        remark: req.message?.slice(0, 500),
        logisticName: ctx.settings.logisticName || undefined,
        fromCountryCode: ctx.settings.fromCountryCode || "CN",
        platform: "Api",
        payType: payFromBalance ? 2 : 3,
        products: req.lines.map((l) => ({ vid: l.externalOfferId, quantity: l.quantity, storeLineItemId: l.externalSpecId ?? undefined })),
      }),
    );
    if (!d.orderId) throw new CjError("invalid_answer", "CJ created no order id");
    const total = toLocal(ctx, d.actualPayment ?? d.orderAmount);
    const shipping = toLocal(ctx, d.postageAmount);
    return { externalOrderId: String(d.orderId), chargedGoods: total - shipping, chargedShipping: shipping, chargedTotal: total };
  },

  async findOrder(ctx, outOrderId) {
    // CJ keys nothing on our number but lists every order with it: read the newest pages.
    for (let pageNum = 1; pageNum <= 5; pageNum++) {
      const d = obj(await cjClient(ctx).call("GET", "shopping/order/list", { pageNum, pageSize: 50 }));
      const rows = list(d.list);
      const hit = rows.find((r) => String(r.orderNum) === outOrderId);
      if (hit) return String(hit.orderId);
      if (rows.length < 50 || pageNum * 50 >= Number(d.total ?? 0)) return null;
    }
    return null;
  },

  async pullOrders(ctx, ids) {
    const out = new Map<string, PlatformOrderState>();
    for (const id of ids) {
      try {
        out.set(id, await stateOf(ctx, await orderDetail(ctx, id)));
      } catch (e) {
        // 1603100: CJ does not know the order (deleted): it is closed.
        if (e instanceof CjError && e.code === "1603100")
          out.set(id, { status: "CANCELLED", stage: "closed", closeReason: "deleted on CJ" });
        else throw e;
      }
    }
    return out;
  },

  async cancelOrder(ctx, orderId, state) {
    if (state.stage !== "placed")
      throw new CjError(
        "paid",
        `CJ deletes only orders not yet paid; order ${orderId} is ${state.status}: cancel it in CJ's order center, or open a dispute`,
      );
    await cjClient(ctx).call("DELETE", "shopping/order/deleteOrder", { orderId });
    return { done: true };
  },

  async pullOffer(ctx, vid) {
    const v = obj(await cjClient(ctx).call("GET", "product/variant/queryByVid", { vid }));
    if (!v.vid) throw new CjError("1602000", `CJ has no variant ${vid}`);
    const stock = list(await cjClient(ctx).call("GET", "product/stock/queryByVid", { vid }));
    const units = stock.reduce((s, w) => s + Number(w.totalInventoryNum ?? w.storageNum ?? 0), 0);
    return { price: toLocal(ctx, v.variantSellPrice), stock: units, title: String(v.variantNameEn ?? "") };
  },

  async openDispute(ctx, req: DisputeRequest) {
    const cj = cjClient(ctx);
    const products = list(obj(await cj.call("GET", "disputes/disputeProducts", { orderId: req.externalOrderId })).productInfoList).filter(
      (p) => p.canChoose !== false,
    );
    if (!products.length)
      throw new CjError("not_disputable", `CJ offers no product of order ${req.externalOrderId} for a dispute (one may be open)`);
    const lines = products.map((p) => ({
      lineItemId: String(p.lineItemId),
      quantity: Number(p.quantity ?? 1),
      price: Number(p.price ?? 0),
    }));
    const confirm = obj(await cj.call("POST", "disputes/disputeConfirmInfo", { orderId: req.externalOrderId, productInfoList: lines }));
    const reasons = list(confirm.disputeReasonList);
    const reason = pickReason(reasons, req.reason, (r) => String(r.reasonName));
    if (!reason) throw new CjError("no_reason", "CJ offered no dispute reason for this order");
    // What is asked: the claim, at most what CJ says may be refunded, spread over the lines by price.
    const max = usdToCents(confirm.maxAmount ?? 0);
    const ask = Math.min(usdToCents(toUsd(ctx, req.amount)), max || Number.MAX_SAFE_INTEGER);
    const weights = lines.map((l) => l.price * l.quantity || 1);
    const sum = weights.reduce((s, w) => s + w, 0);
    let left = ask;
    const productInfoList = lines.map((l, i) => {
      const share = i === lines.length - 1 ? left : Math.floor((ask * weights[i]) / sum);
      left -= share;
      return { lineItemId: l.lineItemId, quantity: l.quantity, price: centsToUsd(share) };
    });
    const known = new Set((await disputesOf(ctx, req.externalOrderId)).map((x) => String(x.id)));
    await cj.call("POST", "disputes/create", {
      businessDisputeId: req.businessId ?? `${req.externalOrderId}-${ctx.deps.clock.now().getTime()}`,
      orderId: req.externalOrderId,
      disputeReasonId: Number(reason.disputeReasonId),
      expectType: 1, // refund (2 is a reissue)
      refundType: 1, // to the CJ balance
      messageText: req.description.slice(0, 500),
      imageUrl: req.evidenceUrls ?? [],
      productInfoList,
    });
    // disputes/create answers only true: the new dispute is the one the list did not have before.
    const mine = (await disputesOf(ctx, req.externalOrderId)).find((x) => !known.has(String(x.id)));
    if (!mine) throw new CjError("invalid_answer", "CJ created the dispute but does not list it yet; pull again later", "transient");
    return {
      refundId: String(mine.id),
      reasonId: String(reason.disputeReasonId),
      reason: String(reason.reasonName),
      vouchers: req.evidenceUrls ?? [],
      status: String(mine.status ?? ""),
    };
  },

  async pullDispute(ctx, disputeId): Promise<DisputeState> {
    const d = obj(list(obj(await cjClient(ctx).call("GET", "disputes/getDisputeList", { disputeId, pageNum: 1, pageSize: 10 })).list)[0]);
    if (!d.id) throw new CjError("1603100", `CJ lists no dispute ${disputeId}`);
    const status = String(d.status ?? "");
    const deal = Number(d.finallyDeal ?? 0);
    if (deal === 1) return { status, state: "refunded", refunded: toLocal(ctx, d.money ?? 0) };
    if (deal === 2)
      return {
        status,
        state: "closed",
        refunded: 0,
        note: `CJ reissued the goods instead of refunding (order ${String(d.resendOrderCode ?? "?")})`,
      };
    if (deal === 3)
      return {
        status,
        state: "closed",
        refunded: 0,
        note: `CJ rejected the dispute${d.disputeReason ? `: ${String(d.disputeReason)}` : ""}`,
      };
    if (/cancel/i.test(status)) return { status, state: "closed", refunded: 0, note: "the dispute was cancelled on CJ" };
    return { status, state: "open", refunded: 0 };
  },

  terms(settings) {
    // CJ's after-sales: a dispute within its window after delivery, with photos for quality and
    // damage; CJ does not take returns back (it refunds or reissues), so return freight is ours.
    return {
      acceptsReturns: false,
      claimDeadlineDays: Number(settings.disputeWindowDays ?? 30),
      evidenceRequired: ["photo"],
      returnFreightPaidBy: "merchant",
      claimSettlement: "refund",
    };
  },
};

/** Every dispute CJ lists for an order, page by page. */
async function disputesOf(ctx: ConnectorContext, orderId: string): Promise<Obj[]> {
  const out: Obj[] = [];
  for (let pageNum = 1; pageNum <= 20; pageNum++) {
    const d = obj(await cjClient(ctx).call("GET", "disputes/getDisputeList", { orderId, pageNum, pageSize: 10 }));
    const rows = list(d.list);
    out.push(...rows);
    if (rows.length < 10 || pageNum * 10 >= Number(d.total ?? 0)) break;
  }
  return out;
}

export const cjKind: ConnectorKind = supplierPlatformKind({
  platform: cjPlatform,
  configSchema: ConfigSchema,
  secretFields: ["apiKey"],
  async probe(ctx) {
    const d = obj(await cjClient(ctx).call("GET", "shopping/order/list", { pageNum: 1, pageSize: 1 }));
    return `the CJdropshipping account answers: ${Number(d.total ?? 0)} orders`;
  },
});
