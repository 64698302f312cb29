import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocate } from "./allocate.js";
import { type QuoteInput, quoteRefund } from "./quote.js";

const base = (over: Partial<QuoteInput>): QuoteInput => ({
  lines: [],
  discounts: [],
  shippingFee: 0,
  payments: [{ method: "alipay", amount: 0 }],
  returnedBefore: {},
  caseLines: [],
  refundShipping: false,
  returnFreight: 0,
  deductions: [],
  remaining: Number.MAX_SAFE_INTEGER,
  preference: "original",
  ...over,
});

describe("refund quote", () => {
  it("refunds exactly what was paid on a full return, shipping included when owed", () => {
    const q = quoteRefund(
      base({
        lines: [
          { id: "a", quantity: 3, unitPrice: 3333, discount: 0, paidAmount: 9000, isGift: false, giftPrice: 0 },
          { id: "b", quantity: 1, unitPrice: 999, discount: 0, paidAmount: 900, isGift: false, giftPrice: 0 },
        ],
        shippingFee: 800,
        refundShipping: true,
        caseLines: [
          { orderLineId: "a", quantity: 3 },
          { orderLineId: "b", quantity: 1 },
        ],
      }),
    );
    expect(q.total).toBe(9000 + 900 + 800);
  });

  it("splits a line into units whose partial returns add up to its paid amount", () => {
    const line = { id: "a", quantity: 3, unitPrice: 3333, discount: 0, paidAmount: 10000, isGift: false, giftPrice: 0 };
    const first = quoteRefund(base({ lines: [line], caseLines: [{ orderLineId: "a", quantity: 1 }] }));
    const second = quoteRefund(base({ lines: [line], returnedBefore: { a: 1 }, caseLines: [{ orderLineId: "a", quantity: 2 }] }));
    expect(first.total + second.total).toBe(10000);
  });

  it("takes back a threshold discount when the kept goods fall below the threshold (满减)", () => {
    // 满200减30: two items of ¥120 (24000) with 3000 off; return one, keep ¥120 < ¥200.
    const q = quoteRefund(
      base({
        lines: [
          { id: "a", quantity: 1, unitPrice: 12000, discount: 0, paidAmount: 10500, isGift: false, giftPrice: 0 },
          { id: "b", quantity: 1, unitPrice: 12000, discount: 0, paidAmount: 10500, isGift: false, giftPrice: 0 },
        ],
        discounts: [{ kind: "threshold", amount: 3000, threshold: 20000, code: null }],
        caseLines: [{ orderLineId: "a", quantity: 1 }],
      }),
    );
    // Paid 21000 in all; the kept item costs 12000 at its purchase price, so 9000 comes back.
    expect(q.thresholdResettlement).toBe(1500);
    expect(q.total).toBe(9000);
  });

  it("deducts an unreturned gift at its shown price and inspection deductions", () => {
    const q = quoteRefund(
      base({
        lines: [
          { id: "a", quantity: 1, unitPrice: 9900, discount: 0, paidAmount: 9900, isGift: false, giftPrice: 0 },
          { id: "g", quantity: 1, unitPrice: 0, discount: 0, paidAmount: 0, isGift: true, giftPrice: 1500 },
        ],
        caseLines: [{ orderLineId: "a", quantity: 1 }],
        deductions: [{ amount: 500, reason: "scratched by use" }],
      }),
    );
    expect(q.giftDeduction).toBe(1500);
    expect(q.total).toBe(9900 - 1500 - 500);
  });

  it("re-issues the coupon share as a coupon and splits cash over a mixed payment", () => {
    const q = quoteRefund(
      base({
        lines: [{ id: "a", quantity: 2, unitPrice: 5000, discount: 0, paidAmount: 9000, isGift: false, giftPrice: 0 }],
        discounts: [{ kind: "coupon", amount: 1000, threshold: null, code: "C10" }],
        payments: [
          { method: "alipay", amount: 6000 },
          { method: "balance", amount: 3000 },
        ],
        caseLines: [{ orderLineId: "a", quantity: 1 }],
      }),
    );
    expect(q.total).toBe(4500);
    expect(q.couponsReissued).toEqual([{ kind: "coupon", code: "C10", amount: 500 }]);
    expect(q.byMethod).toEqual([
      { method: "alipay", amount: 3000 },
      { method: "balance", amount: 1500 },
    ]);
  });

  it("never exceeds what remains refundable", () => {
    const q = quoteRefund(
      base({
        lines: [{ id: "a", quantity: 1, unitPrice: 100, discount: 0, paidAmount: 100, isGift: false, giftPrice: 0 }],
        caseLines: [{ orderLineId: "a", quantity: 1 }],
        remaining: 40,
      }),
    );
    expect(q.total).toBe(40);
    expect(q.capped).toBe(true);
  });

  it("property: refunds never exceed what was paid, and a full return in any order of partial cases refunds it exactly", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ quantity: fc.integer({ min: 1, max: 5 }), unitPrice: fc.integer({ min: 1, max: 50000 }) }), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 2000 }),
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 8 }),
        (specs, discountPct, shippingFee, splits) => {
          const nets = specs.map((s) => s.quantity * s.unitPrice);
          const goods = nets.reduce((a, b) => a + b, 0);
          const orderDiscount = Math.floor((goods * discountPct) / 200);
          // Allocate the order discount as the order service does.
          const shares = allocate(orderDiscount, nets);
          const lines = specs.map((s, i) => ({
            id: `l${i}`,
            quantity: s.quantity,
            unitPrice: s.unitPrice,
            discount: 0,
            paidAmount: nets[i] - shares[i],
            isGift: false,
            giftPrice: 0,
          }));
          const paid = lines.reduce((s, l) => s + l.paidAmount, 0) + shippingFee;
          const returned: Record<string, number> = {};
          let refunded = 0;
          let k = 0;
          // Return units in chunks until everything is back.
          while (lines.some((l) => (returned[l.id] ?? 0) < l.quantity)) {
            const l = lines.find((x) => (returned[x.id] ?? 0) < x.quantity)!;
            const n = Math.max(1, Math.min(l.quantity - (returned[l.id] ?? 0), splits[k++ % splits.length]));
            const full = lines.every((x) => (returned[x.id] ?? 0) + (x.id === l.id ? n : 0) >= x.quantity);
            const q = quoteRefund(
              base({
                lines,
                shippingFee,
                refundShipping: full,
                returnedBefore: { ...returned },
                caseLines: [{ orderLineId: l.id, quantity: n }],
                remaining: paid - refunded,
                payments: [{ method: "alipay", amount: paid }],
              }),
            );
            refunded += q.total;
            expect(refunded).toBeLessThanOrEqual(paid);
            returned[l.id] = (returned[l.id] ?? 0) + n;
          }
          expect(refunded).toBe(paid);
        },
      ),
      { numRuns: 300 },
    );
  });
  it("property: after returns that break a 满减, paid − refunded is exactly the kept goods at the re-settled terms plus the shipping still paid", () => {
    // A line's units share its total as allocate does: the first (total mod quantity) units carry
    // one fen more, and returns take units from the front.
    const unitsFrom = (total: number, quantity: number, from: number) => {
      let s = 0;
      for (let j = from; j < quantity; j++) s += Math.floor(total / quantity) + (j < total % quantity ? 1 : 0);
      return s;
    };
    // Steps checked for equality while a threshold stood broken, so the property cannot pass vacuously.
    let resettled = 0;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            quantity: fc.integer({ min: 1, max: 5 }),
            unitPrice: fc.integer({ min: 1, max: 30000 }),
            lineDiscountPct: fc.integer({ min: 0, max: 20 }),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        fc.array(fc.record({ thresholdPct: fc.integer({ min: 10, max: 100 }), discountPct: fc.integer({ min: 1, max: 40 }) }), {
          minLength: 1,
          maxLength: 2,
        }),
        fc.constantFrom<"none" | "coupon" | "points">("none", "coupon", "points"),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 0, max: 1500 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 12 }),
        (specs, tiers, extraKind, extraPct, shippingFee, picks) => {
          const nets = specs.map((s) => s.quantity * s.unitPrice - Math.floor((s.quantity * s.unitPrice * s.lineDiscountPct) / 100));
          const netGoods = nets.reduce((a, b) => a + b, 0);
          const discounts: QuoteInput["discounts"] = tiers.map((x) => {
            const threshold = Math.floor((netGoods * x.thresholdPct) / 100);
            return { kind: "threshold", amount: Math.floor((threshold * x.discountPct) / 100), threshold, code: null };
          });
          if (extraKind !== "none")
            discounts.push({ kind: extraKind, amount: Math.floor((netGoods * extraPct) / 100), threshold: null, code: "X" });
          // The order spreads all its discounts over the lines by net amount, as the order service does.
          const allocs = allocate(
            discounts.reduce((s, d) => s + d.amount, 0),
            nets,
          );
          const lines = specs.map((s, i) => ({
            id: `l${i}`,
            quantity: s.quantity,
            unitPrice: s.unitPrice,
            discount: s.quantity * s.unitPrice - nets[i],
            paidAmount: nets[i] - allocs[i],
            isGift: false,
            giftPrice: 0,
          }));
          const paid = lines.reduce((s, l) => s + l.paidAmount, 0) + shippingFee;
          /** The kept goods at the re-settled terms: net less their share of the discounts that still apply. */
          const keptCost = (returned: Record<string, number>) => {
            const keptNet = lines.reduce((s, l, i) => s + unitsFrom(nets[i], l.quantity, returned[l.id] ?? 0), 0);
            const still = discounts
              .filter((d) => d.kind !== "threshold" || keptNet >= (d.threshold ?? 0))
              .reduce((s, d) => s + d.amount, 0);
            const shares = allocate(still, nets);
            return lines.reduce((s, l, i) => s + unitsFrom(nets[i] - shares[i], l.quantity, returned[l.id] ?? 0), 0);
          };
          const returned: Record<string, number> = {};
          let refunded = 0;
          let shippingRefunded = false;
          // A return whose goods are worth less than the discount it withholds refunds 0, not a
          // charge: from then on the customer keeps the difference and only ≤ holds.
          let undercharged = false;
          let k = 0;
          while (lines.some((l) => (returned[l.id] ?? 0) < l.quantity)) {
            const open = lines.filter((x) => (returned[x.id] ?? 0) < x.quantity);
            const l = open[picks[k % picks.length] % open.length];
            const n = 1 + (picks[(k + 1) % picks.length] % (l.quantity - (returned[l.id] ?? 0)));
            k += 1;
            const full = lines.every((x) => (returned[x.id] ?? 0) + (x.id === l.id ? n : 0) >= x.quantity);
            const q = quoteRefund(
              base({
                lines,
                discounts,
                shippingFee,
                refundShipping: full,
                returnedBefore: { ...returned },
                caseLines: [{ orderLineId: l.id, quantity: n }],
                remaining: paid - refunded,
                payments: [{ method: "alipay", amount: paid }],
              }),
            );
            if (q.goods + q.shipping - q.thresholdResettlement < 0) undercharged = true;
            refunded += q.total;
            shippingRefunded ||= q.shipping > 0;
            returned[l.id] = (returned[l.id] ?? 0) + n;
            expect(refunded).toBeLessThanOrEqual(paid);
            const held = keptCost(returned) + (shippingRefunded ? 0 : shippingFee);
            if (undercharged) expect(paid - refunded).toBeLessThanOrEqual(held);
            else {
              expect(paid - refunded).toBe(held);
              if (q.thresholdResettlement !== 0) resettled += 1;
            }
          }
          expect(refunded).toBe(paid);
        },
      ),
      { numRuns: 1000 },
    );
    expect(resettled).toBeGreaterThan(100);
  });
  it("property: with a 满减 threshold, partial returns in any order never exceed what was paid and a full return adds up exactly", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ quantity: fc.integer({ min: 1, max: 4 }), unitPrice: fc.integer({ min: 100, max: 30000 }) }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.integer({ min: 10, max: 100 }),
        fc.integer({ min: 1, max: 30 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 12 }),
        (specs, thresholdPct, discountPct, picks) => {
          const nets = specs.map((s) => s.quantity * s.unitPrice);
          const goods = nets.reduce((a, b) => a + b, 0);
          const threshold = Math.floor((goods * thresholdPct) / 100);
          const amount = Math.floor((threshold * discountPct) / 100);
          const shares = allocate(amount, nets);
          const lines = specs.map((s, i) => ({
            id: `l${i}`,
            quantity: s.quantity,
            unitPrice: s.unitPrice,
            discount: 0,
            paidAmount: nets[i] - shares[i],
            isGift: false,
            giftPrice: 0,
          }));
          const paid = goods - amount;
          const returned: Record<string, number> = {};
          let refunded = 0;
          let k = 0;
          while (lines.some((l) => (returned[l.id] ?? 0) < l.quantity)) {
            const open = lines.filter((x) => (returned[x.id] ?? 0) < x.quantity);
            const l = open[picks[k % picks.length] % open.length];
            const n = 1 + (picks[(k + 1) % picks.length] % (l.quantity - (returned[l.id] ?? 0)));
            k += 1;
            const q = quoteRefund(
              base({
                lines,
                discounts: [{ kind: "threshold", amount, threshold, code: null }],
                returnedBefore: { ...returned },
                caseLines: [{ orderLineId: l.id, quantity: n }],
                remaining: paid - refunded,
                payments: [{ method: "alipay", amount: paid }],
              }),
            );
            expect(q.total).toBeGreaterThanOrEqual(0);
            refunded += q.total;
            expect(refunded).toBeLessThanOrEqual(paid);
            returned[l.id] = (returned[l.id] ?? 0) + n;
          }
          expect(refunded).toBe(paid);
        },
      ),
      { numRuns: 300 },
    );
  });
});
