import { allocate } from "./allocate.js";

/** Pure refund arithmetic. Amounts are integer minor units. */

export interface QuoteLine {
  id: string;
  quantity: number;
  unitPrice: number;
  discount: number;
  paidAmount: number;
  isGift: boolean;
  giftPrice: number;
}
export interface QuoteDiscount {
  kind: "threshold" | "coupon" | "platform" | "points";
  amount: number;
  threshold: number | null;
  code: string | null;
}
export interface QuoteInput {
  lines: QuoteLine[];
  discounts: QuoteDiscount[];
  shippingFee: number;
  payments: { method: string; amount: number }[];
  /** Units of each line returned by earlier refunded cases. */
  returnedBefore: Record<string, number>;
  /** Units of each line in this case. */
  caseLines: { orderLineId: string; quantity: number }[];
  refundShipping: boolean;
  returnFreight: number;
  deductions: { amount: number; reason: string }[];
  /** What may still be refunded on the order (paid − refunded − pending). */
  remaining: number;
  preference: "original" | "balance";
}

export interface Quote {
  total: number;
  goods: number;
  lines: { orderLineId: string; quantity: number; amount: number }[];
  shipping: number;
  returnFreight: number;
  deductions: { amount: number; reason: string }[];
  giftDeduction: number;
  thresholdResettlement: number;
  couponsReissued: { kind: string; code: string | null; amount: number }[];
  byMethod: { method: string; amount: number }[];
  capped: boolean;
}

/** Unit amounts of a line: its paid amount spread over its units, so any run of units adds up exactly. */
const unitAmounts = (amount: number, quantity: number) => allocate(amount, Array(quantity).fill(1));
/** The amount of units [from, from + n) of a line. */
const unitsSum = (amount: number, quantity: number, from: number, n: number) =>
  unitAmounts(amount, quantity)
    .slice(from, from + n)
    .reduce((s, x) => s + x, 0);

export function quoteRefund(q: QuoteInput): Quote {
  const byId = new Map(q.lines.map((l) => [l.id, l]));
  const lines = q.caseLines.map((cl) => {
    const l = byId.get(cl.orderLineId);
    if (!l) throw new Error(`line ${cl.orderLineId} is not on the order`);
    const before = q.returnedBefore[l.id] ?? 0;
    const n = Math.min(cl.quantity, l.quantity - before);
    return { orderLineId: l.id, quantity: n, amount: n > 0 ? unitsSum(l.paidAmount, l.quantity, before, n) : 0 };
  });
  const goods = lines.reduce((s, l) => s + l.amount, 0);
  const after: Record<string, number> = { ...q.returnedBefore };
  for (const l of lines) after[l.orderLineId] = (after[l.orderLineId] ?? 0) + l.quantity;
  const paidLines = q.lines.filter((l) => !l.isGift);
  const allPaidReturned = paidLines.every((l) => (after[l.id] ?? 0) >= l.quantity);

  // Gifts kept when everything they came with goes back are charged at the gift price shown at sale.
  let giftDeduction = 0;
  if (allPaidReturned) {
    for (const g of q.lines.filter((l) => l.isGift)) giftDeduction += (g.quantity - (after[g.id] ?? 0)) * g.giftPrice;
  }

  // 满减: if what the customer keeps no longer reaches a threshold, the kept items are settled at
  // their purchase price less only the discounts that still apply, and the difference comes back
  // out of the refund. The re-settlement is worked out from the kept goods' totals — each line's
  // total under the re-settled terms, less what its kept units were paid — so that paid − refunded
  // is exactly what the kept goods cost under those terms (shares rounded one unit at a time would
  // drift by a fen). It is measured before and after this case, so a later return of the kept items
  // gives it back and all the refunds of a fully returned order still add up to what was paid.
  const nets = q.lines.map((l) => (l.isGift ? 0 : l.quantity * l.unitPrice - l.discount));
  /** What the units of a line not yet returned carry of an amount of the whole line. */
  const keptOf = (amount: number, l: QuoteLine, returned: Record<string, number>) =>
    amount - unitsSum(amount, l.quantity, 0, Math.min(l.quantity, returned[l.id] ?? 0));
  const orderDiscounts = q.discounts.reduce((s, d) => s + d.amount, 0);
  const withheld = (returned: Record<string, number>) => {
    const keptNet = q.lines.reduce((s, l, i) => (l.isGift ? s : s + keptOf(nets[i], l, returned)), 0);
    const broken = q.discounts
      .filter((d) => d.kind === "threshold" && d.threshold !== null && keptNet < d.threshold)
      .reduce((s, d) => s + d.amount, 0);
    if (broken === 0) return 0;
    // The discounts that still apply, spread over the lines by net amount as at sale.
    const still = allocate(orderDiscounts - broken, nets);
    return q.lines.reduce((s, l, i) => (l.isGift ? s : s + keptOf(nets[i] - still[i], l, returned) - keptOf(l.paidAmount, l, returned)), 0);
  };
  const thresholdResettlement = withheld(after) - withheld(q.returnedBefore);

  // Coupons and points come back as themselves, for the share the returned units carried.
  const couponsReissued = q.discounts
    .filter((d) => d.kind === "coupon" || d.kind === "points")
    .map((d) => {
      const shares = allocate(d.amount, nets);
      let amount = 0;
      q.lines.forEach((l, i) => {
        const cl = lines.find((x) => x.orderLineId === l.id);
        if (cl && cl.quantity > 0) amount += unitsSum(shares[i], l.quantity, q.returnedBefore[l.id] ?? 0, cl.quantity);
      });
      return { kind: d.kind, code: d.code, amount };
    })
    .filter((c) => c.amount > 0);

  const shipping = q.refundShipping ? q.shippingFee : 0;
  const deductionTotal = q.deductions.reduce((s, d) => s + d.amount, 0);
  let total = goods + shipping + q.returnFreight - deductionTotal - giftDeduction - thresholdResettlement;
  total = Math.max(0, total);
  const capped = total > q.remaining;
  if (capped) total = q.remaining;
  const byMethod =
    q.preference === "balance" || q.payments.length === 0
      ? [{ method: "balance", amount: total }]
      : allocate(
          total,
          q.payments.map((p) => p.amount),
        )
          .map((amount, i) => ({ method: q.payments[i].method, amount }))
          .filter((m) => m.amount > 0);
  return {
    total,
    goods,
    lines,
    shipping,
    returnFreight: q.returnFreight,
    deductions: q.deductions,
    giftDeduction,
    thresholdResettlement,
    couponsReissued,
    byMethod,
    capped,
  };
}
