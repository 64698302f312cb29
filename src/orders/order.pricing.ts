import { allocate } from "../money/allocate.js";
import { validation } from "../platform/errors.js";
import { sha256 } from "../platform/ids.js";
import type { OrderInput } from "./order.schemas.js";

// Pure order arithmetic: no database, no clock.

const fieldError = (field: string, message: string, extra: Record<string, unknown> = {}) => validation(field, message, extra);

/** Canonical JSON of the order's content, so a re-sent order can be told from a different one. */
export function contentHash(input: OrderInput): string {
  const { placedAt: _p, ...rest } = input;
  return sha256(JSON.stringify(rest));
}

export interface PreparedLine {
  lineNo: number;
  skuCode: string;
  quantity: number;
  unitPrice: number;
  discount: number;
  orderDiscountAlloc: number;
  paidAmount: number;
  isGift: boolean;
  giftPrice: number;
  noReasonReturnWaived: boolean;
  title?: string;
}

/**
 * Checks an order's arithmetic and spreads order-level discounts over the non-gift lines by their
 * net amount (largest remainder), so that Σ line paid + shipping = paid, to the fen.
 */
export function prepareOrder(input: OrderInput): {
  lines: PreparedLine[];
  goodsTotal: number;
  lineDiscountTotal: number;
  orderDiscountTotal: number;
  paidTotal: number;
} {
  const nets = input.lines.map((l, i) => {
    const gross = l.quantity * l.unitPrice;
    if (l.discount > gross) throw fieldError(`lines.${i}.discount`, `larger than the line's ${gross}`);
    return gross - l.discount;
  });
  const goodsTotal = input.lines.reduce((s, l) => s + l.quantity * l.unitPrice, 0);
  const lineDiscountTotal = input.lines.reduce((s, l) => s + l.discount, 0);
  const orderDiscountTotal = input.discounts.reduce((s, d) => s + d.amount, 0);
  const netGoods = nets.reduce((s, n) => s + n, 0);
  if (orderDiscountTotal > netGoods) throw fieldError("discounts", `order discounts ${orderDiscountTotal} exceed the goods' ${netGoods}`);
  input.discounts.forEach((d, i) => {
    if (d.kind === "threshold" && d.threshold === undefined)
      throw fieldError(`discounts.${i}.threshold`, "a threshold discount needs its threshold");
    if (d.kind === "threshold" && (d.threshold ?? 0) > netGoods)
      throw fieldError(`discounts.${i}.threshold`, `the goods (${netGoods}) do not reach the threshold ${d.threshold}`);
  });
  const weights = input.lines.map((l, i) => (l.isGift ? 0 : nets[i]));
  const allocs = allocate(orderDiscountTotal, weights.some((w) => w > 0) ? weights : nets);
  const lines = input.lines.map((l, i) => ({
    lineNo: i + 1,
    skuCode: l.skuCode,
    title: l.title,
    quantity: l.quantity,
    unitPrice: l.unitPrice,
    discount: l.discount,
    orderDiscountAlloc: allocs[i],
    paidAmount: nets[i] - allocs[i],
    isGift: l.isGift,
    giftPrice: l.giftPrice,
    noReasonReturnWaived: l.noReasonReturnWaived,
  }));
  const expected = netGoods - orderDiscountTotal + input.shippingFee;
  const payments = input.payments ?? (input.paid ? [input.paid] : []);
  const paidTotal = payments.reduce((s, p) => s + p.amount, 0);
  if (payments.length > 0 && paidTotal !== expected) {
    const field = input.payments ? "payments" : "paid.amount";
    throw fieldError(field, `paid ${paidTotal} but lines − discounts + shipping = ${expected}`, { expected, paid: paidTotal });
  }
  return { lines, goodsTotal, lineDiscountTotal, orderDiscountTotal, paidTotal };
}

export function customerKey(c: OrderInput["customer"]): string | null {
  if (c.phone) return `phone:${c.phone.replace(/\D/g, "")}`;
  if (c.email) return `email:${c.email.toLowerCase()}`;
  return null;
}

export type PreparedOrder = { input: OrderInput; prepared: ReturnType<typeof prepareOrder>; hash: string };
