import type { CaseType, Reason } from "../../policies/rules.js";
import type { ExternalOrder } from "../kind.js";
import { fromMinorUnits, toMinorUnits } from "../money.js";
import { fromTopTime, type TopJson } from "./top.js";

/**
 * Taobao's trades and refunds as TOP returns them (`taobao.trade.fullinfo.get`,
 * `taobao.refund.get`), mapped to Dropdesk. Money is yuan as decimal text ("39.00").
 *
 * A trade (tid) has sub-orders (oid): `price` × `num` less the sub-order's own discounts and the
 * seller's adjustment is its `total_fee`; the trade's `payment` is what the buyer paid, postage
 * (`post_fee`) included and shop-level discounts (满减, coupons) taken off. Dropdesk keeps each
 * sub-order's own discount on its line and the rest as one `platform` discount spread by
 * createOrder, so that Σ lines − discounts + shipping = payment to the fen, or the trade is refused.
 */
type Json = TopJson;

const UNPAID = new Set(["TRADE_NO_CREATE_PAY", "WAIT_BUYER_PAY", "PAY_PENDING", "WAIT_PRE_AUTH_CONFIRM"]);
const clip = (v: unknown, max: number) => (v === null || v === undefined || v === "" ? undefined : String(v).slice(0, max));

/** The payment method of a Taobao or Tmall order: the platform holds the buyer's money and refunds it. */
export const platformMethod = (tmall: boolean) => (tmall ? "tmall" : "taobao");

export function tradeOrders(t: Json): Json[] {
  const o = t.orders?.order;
  return Array.isArray(o) ? o : [];
}

export function toExternalOrder(t: Json, opts: { shopCurrency: string; tmall: boolean }): ExternalOrder {
  const tid = String(t.tid ?? t.tid_str ?? "");
  const paidAt = fromTopTime(t.pay_time);
  const closed = t.status === "TRADE_CLOSED_BY_TAOBAO" || (t.status === "TRADE_CLOSED" && !paidAt);
  const base = { externalId: tid, platformOrderNo: tid, updatedAt: fromTopTime(t.modified), cancelled: closed };
  const refuse = (refusal: string): ExternalOrder => ({ ...base, refusal });
  if (!tid) return refuse("交易没有 tid / the trade has no tid");
  if (opts.shopCurrency !== "CNY")
    return refuse(
      `淘宝交易以人民币结算，但店铺使用 ${opts.shopCurrency} / Taobao trades are in CNY but the shop keeps ${opts.shopCurrency}`,
    );
  const cur = "CNY";
  try {
    const m = (v: unknown) => toMinorUnits(String(v ?? "0"), cur);
    const subs = tradeOrders(t);
    if (!subs.length) throw new Error("交易没有子订单 / the trade has no sub-orders");
    const lines = subs.map((o, i) => {
      const sku = o.outer_sku_id || o.outer_iid;
      if (!sku)
        throw new Error(
          `子订单 ${i + 1}（${o.title ?? ""}）没有商家编码 outer_sku_id / outer_iid / sub-order ${i + 1} (${o.title ?? "untitled"}) has no merchant code (outer_sku_id or outer_iid)`,
        );
      const num = Number(o.num);
      if (!Number.isInteger(num) || num < 1) throw new Error(`子订单 ${i + 1} 数量为 ${o.num} / sub-order ${i + 1} has quantity ${o.num}`);
      const unitPrice = m(o.price);
      const total = m(o.total_fee ?? o.payment);
      const discount = unitPrice * num - total;
      if (discount < 0)
        throw new Error(
          `子订单 ${i + 1} 被卖家改高了价格（${fromMinorUnits(-discount, cur)}），Dropdesk 暂不支持 / the seller raised the price of sub-order ${i + 1} by ${fromMinorUnits(-discount, cur)}, which Dropdesk does not model yet`,
        );
      return {
        skuCode: String(sku).slice(0, 80),
        title: clip(o.title, 300),
        quantity: num,
        unitPrice,
        discount,
        isGift: false,
        giftPrice: 0,
        noReasonReturnWaived: false,
      };
    });
    const shippingFee = m(t.post_fee);
    const paid = m(t.payment);
    const expected = lines.reduce((s, l) => s + l.quantity * l.unitPrice - l.discount, 0) + shippingFee;
    const shopDiscount = expected - paid;
    if (shopDiscount < 0)
      throw new Error(
        `金额对不上：子订单合计 + 运费 = ${fromMinorUnits(expected, cur)}，实付 payment = ${fromMinorUnits(paid, cur)} / the money does not add up: sub-orders + postage = ${fromMinorUnits(expected, cur)} CNY but payment = ${fromMinorUnits(paid, cur)} CNY`,
      );
    const isPaid = Boolean(paidAt) && !UNPAID.has(String(t.status));
    const placed = fromTopTime(t.created);
    return {
      ...base,
      order: {
        platformOrderNo: tid,
        customer: { name: clip(t.receiver_name ?? t.buyer_nick, 100), phone: clip(t.receiver_mobile ?? t.receiver_phone, 40) },
        address: {
          name: clip(t.receiver_name, 100),
          phone: clip(t.receiver_mobile ?? t.receiver_phone, 40),
          country: "CN",
          province: clip(t.receiver_state, 60),
          city: clip(t.receiver_city, 60),
          district: clip(t.receiver_district, 60),
          line1: clip(t.receiver_address, 300),
          postalCode: clip(t.receiver_zip, 20),
        },
        lines,
        discounts: shopDiscount > 0 ? [{ kind: "platform" as const, amount: shopDiscount }] : [],
        shippingFee,
        ...(isPaid
          ? {
              paid: {
                amount: paid,
                method: platformMethod(opts.tmall),
                reference: `${platformMethod(opts.tmall)}:${tid}`,
                paidAt: paidAt?.toISOString(),
              },
            }
          : {}),
        placedAt: placed?.toISOString(),
      },
    };
  } catch (e) {
    return refuse(e instanceof Error ? e.message : String(e));
  }
}

/** 仅退款 / 退货退款 / 换货: `dispute_type` when TOP gives it, else whether goods go back. */
export function caseTypeOf(r: Json): CaseType {
  const d = String(r.dispute_type ?? "");
  if (/EXCHANGE/.test(d)) return "exchange";
  if (d === "REFUND") return "refund_only";
  if (d === "REFUND_AND_RETURN") return "return_refund";
  return r.has_good_return === true || r.has_good_return === "true" ? "return_refund" : "refund_only";
}

/** The buyer's reason (free text chosen from the platform's list) as one of Dropdesk's. */
const REASON_WORDS: [RegExp, Reason][] = [
  [/七天无理由|7天无理由|不想要|拍错|多拍|不喜欢|效果不好|无理由/, "changed_mind"],
  [/发错|错发|型号不符|颜色.*不符/, "wrong_item"],
  [/少件|漏发|缺件|少发|配件缺失/, "missing_item"],
  [/破损|损坏|压坏|变形|污渍/, "damaged_in_transit"],
  [/质量|做工|瑕疵|故障|无法使用|假冒|品牌/, "quality"],
  [/描述不符|与描述|材质|图片不符|色差/, "not_as_described"],
  [/尺码|大小|尺寸|偏大|偏小/, "size_fit"],
  [/未收到|没收到|未到货|空包|物流.*不动|快递一直/, "not_received"],
  [/未按约定时间发货|发货慢|延迟发货|物流慢/, "late_delivery"],
];
export function reasonOf(text: string | null | undefined): Reason {
  const t = text ?? "";
  for (const [re, reason] of REASON_WORDS) if (re.test(t)) return reason;
  return "other";
}

/** Refund statuses in which the buyer's request is still open on the platform. */
export const OPEN_REFUND = new Set(["WAIT_SELLER_AGREE", "WAIT_BUYER_RETURN_GOODS", "WAIT_SELLER_CONFIRM_GOODS", "SELLER_REFUSE_BUYER"]);

export const REFUND_STATUS_WORDS: Record<string, string> = {
  WAIT_SELLER_AGREE: "买家已申请，等待卖家同意 / waiting for the seller to agree",
  WAIT_BUYER_RETURN_GOODS: "卖家已同意，等待买家退货 / agreed, waiting for the buyer to return the goods",
  WAIT_SELLER_CONFIRM_GOODS: "买家已退货，等待卖家确认收货 / the buyer shipped the return, waiting for the seller to confirm",
  SELLER_REFUSE_BUYER: "卖家已拒绝 / refused by the seller",
  CLOSED: "退款关闭 / closed",
  SUCCESS: "退款成功 / refunded",
};
