import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decideSubmission,
  type EligibilityInput,
  evaluateEligibility,
  refundsShipping,
  returnFreightPayer,
  suggestResponsibility,
} from "./engine.js";
import { type CaseType, CN_DEFAULT, EU_WITHDRAWAL, type PolicyRules, type Reason } from "./rules.js";
import { resolutionOptions } from "./supplier.js";
import { windowEnd } from "./time.js";

const SH = "Asia/Shanghai";
interface Row {
  name: string;
  delivered: string | null;
  at: string;
  reason: Reason;
  type: CaseType;
  allowed: boolean;
  code?: string;
  deadline?: string;
  tz?: string;
  rules?: PolicyRules;
  shipped?: boolean;
  line?: Partial<EligibilityInput["line"]>;
  cancelled?: boolean;
}

function run(r: Row) {
  const options = evaluateEligibility({
    rules: r.rules ?? CN_DEFAULT,
    timezone: r.tz ?? SH,
    reason: r.reason,
    at: new Date(r.at),
    order: {
      deliveredAt: r.delivered ? new Date(r.delivered) : null,
      shippedAt: r.shipped || r.delivered ? new Date("2026-02-27T02:00:00Z") : null,
      cancelled: r.cancelled,
    },
    line: { category: "home", isGift: false, noReasonReturnWaived: false, quantity: 2, alreadyClaimed: 0, ...r.line },
  });
  return options.find((o) => o.type === r.type)!;
}

// Delivered 2026-03-01 10:00 Shanghai time unless the row says otherwise.
const D = "2026-03-01T10:00:00+08:00";
const table: Row[] = [
  {
    name: "no-reason return on day 1",
    delivered: D,
    at: "2026-03-02T09:00:00+08:00",
    reason: "changed_mind",
    type: "return_refund",
    allowed: true,
    code: "window_open",
    deadline: "2026-03-08T15:59:59.999Z",
  },
  {
    name: "no-reason return on the last day, 23:59 local",
    delivered: D,
    at: "2026-03-08T23:59:00+08:00",
    reason: "changed_mind",
    type: "return_refund",
    allowed: true,
  },
  {
    name: "no-reason return the day after the last day, 00:00 local",
    delivered: D,
    at: "2026-03-09T00:00:00+08:00",
    reason: "changed_mind",
    type: "return_refund",
    allowed: false,
    code: "window_closed",
  },
  {
    name: "delivery at 23:59 local counts that day as day 0",
    delivered: "2026-03-01T23:59:00+08:00",
    at: "2026-03-08T23:00:00+08:00",
    reason: "changed_mind",
    type: "return_refund",
    allowed: true,
    deadline: "2026-03-08T15:59:59.999Z",
  },
  {
    name: "delivery at 00:01 local is that day too",
    delivered: "2026-03-02T00:01:00+08:00",
    at: "2026-03-09T12:00:00+08:00",
    reason: "changed_mind",
    type: "return_refund",
    allowed: true,
    deadline: "2026-03-09T15:59:59.999Z",
  },
  {
    name: "00:01 local delivery is still the previous UTC day",
    delivered: "2026-03-02T00:01:00+08:00",
    at: "2026-03-10T00:00:00+08:00",
    reason: "changed_mind",
    type: "return_refund",
    allowed: false,
    code: "window_closed",
  },
  {
    name: "Los Angeles shop counts in its own zone, across its DST change",
    tz: "America/Los_Angeles",
    delivered: "2026-03-01T23:30:00-08:00",
    at: "2026-03-08T23:30:00-07:00",
    reason: "size_fit",
    type: "return_refund",
    allowed: true,
    deadline: "2026-03-09T06:59:59.999Z",
  },
  {
    name: "Los Angeles window closes at its local midnight",
    tz: "America/Los_Angeles",
    delivered: "2026-03-01T23:30:00-08:00",
    at: "2026-03-09T00:00:01-07:00",
    reason: "size_fit",
    type: "return_refund",
    allowed: false,
  },
  {
    name: "Berlin shop across the DST change",
    tz: "Europe/Berlin",
    rules: EU_WITHDRAWAL,
    delivered: "2026-03-20T12:00:00+01:00",
    at: "2026-04-03T23:59:00+02:00",
    reason: "changed_mind",
    type: "return_refund",
    allowed: true,
    deadline: "2026-04-03T21:59:59.999Z",
  },
  {
    name: "EU 14 days ends after day 14",
    tz: "Europe/Berlin",
    rules: EU_WITHDRAWAL,
    delivered: "2026-03-20T12:00:00+01:00",
    at: "2026-04-04T00:00:01+02:00",
    reason: "changed_mind",
    type: "return_refund",
    allowed: false,
  },
  {
    name: "custom-made goods are never returnable without reason",
    delivered: D,
    at: "2026-03-02T09:00:00+08:00",
    reason: "changed_mind",
    type: "return_refund",
    allowed: false,
    code: "category_excluded",
    line: { category: "custom_made" },
  },
  {
    name: "perishable goods are excluded",
    delivered: D,
    at: "2026-03-02T09:00:00+08:00",
    reason: "changed_mind",
    type: "return_refund",
    allowed: false,
    code: "category_excluded",
    line: { category: "perishable" },
  },
  {
    name: "digital goods are excluded",
    delivered: D,
    at: "2026-03-02T09:00:00+08:00",
    reason: "changed_mind",
    type: "return_refund",
    allowed: false,
    code: "category_excluded",
    line: { category: "digital" },
  },
  {
    name: "periodicals are excluded",
    delivered: D,
    at: "2026-03-02T09:00:00+08:00",
    reason: "changed_mind",
    type: "return_refund",
    allowed: false,
    code: "category_excluded",
    line: { category: "periodical" },
  },
  {
    name: "hygiene-sealed goods without the purchase confirmation are returnable",
    delivered: D,
    at: "2026-03-02T09:00:00+08:00",
    reason: "changed_mind",
    type: "return_refund",
    allowed: true,
    line: { category: "hygiene_sealed" },
  },
  {
    name: "hygiene-sealed goods confirmed at purchase are not",
    delivered: D,
    at: "2026-03-02T09:00:00+08:00",
    reason: "changed_mind",
    type: "return_refund",
    allowed: false,
    code: "waived_at_purchase",
    line: { category: "hygiene_sealed", noReasonReturnWaived: true },
  },
  {
    name: "activation goods confirmed at purchase are not",
    delivered: D,
    at: "2026-03-02T09:00:00+08:00",
    reason: "changed_mind",
    type: "return_refund",
    allowed: false,
    code: "waived_at_purchase",
    line: { category: "activation", noReasonReturnWaived: true },
  },
  {
    name: "clearance goods confirmed at purchase are not",
    delivered: D,
    at: "2026-03-02T09:00:00+08:00",
    reason: "changed_mind",
    type: "return_refund",
    allowed: false,
    code: "waived_at_purchase",
    line: { category: "clearance", noReasonReturnWaived: true },
  },
  {
    name: "the waiver flag means nothing on ordinary goods",
    delivered: D,
    at: "2026-03-02T09:00:00+08:00",
    reason: "changed_mind",
    type: "return_refund",
    allowed: true,
    line: { category: "home", noReasonReturnWaived: true },
  },
  {
    name: "a quality problem on excluded goods is still returnable",
    delivered: D,
    at: "2026-03-02T09:00:00+08:00",
    reason: "quality",
    type: "return_refund",
    allowed: true,
    line: { category: "perishable" },
  },
  {
    name: "quality return within 7 days",
    delivered: D,
    at: "2026-03-08T20:00:00+08:00",
    reason: "quality",
    type: "return_refund",
    allowed: true,
    code: "window_open",
  },
  {
    name: "quality return after 7 days is refused with exchange/repair offered",
    delivered: D,
    at: "2026-03-10T09:00:00+08:00",
    reason: "quality",
    type: "return_refund",
    allowed: false,
    code: "exchange_or_repair_only",
  },
  {
    name: "quality exchange within 15 days",
    delivered: D,
    at: "2026-03-16T09:00:00+08:00",
    reason: "quality",
    type: "exchange",
    allowed: true,
    deadline: "2026-03-16T15:59:59.999Z",
  },
  {
    name: "quality exchange after 15 days is refused",
    delivered: D,
    at: "2026-03-17T09:00:00+08:00",
    reason: "quality",
    type: "exchange",
    allowed: false,
    code: "window_closed",
  },
  {
    name: "warranty repair after a month",
    delivered: D,
    at: "2026-04-15T09:00:00+08:00",
    reason: "quality",
    type: "repair",
    allowed: true,
  },
  {
    name: "warranty repair after a year and a day is refused",
    delivered: D,
    at: "2027-03-03T09:00:00+08:00",
    reason: "quality",
    type: "repair",
    allowed: false,
  },
  {
    name: "changed mind cannot be refund-only",
    delivered: D,
    at: "2026-03-02T09:00:00+08:00",
    reason: "changed_mind",
    type: "refund_only",
    allowed: false,
    code: "return_required",
  },
  {
    name: "size exchange within the no-reason window, customer pays both legs",
    delivered: D,
    at: "2026-03-03T09:00:00+08:00",
    reason: "size_fit",
    type: "exchange",
    allowed: true,
    code: "freight_customer",
  },
  {
    name: "changed mind is no reason for a repair",
    delivered: D,
    at: "2026-03-03T09:00:00+08:00",
    reason: "changed_mind",
    type: "repair",
    allowed: false,
    code: "reason_not_for_type",
  },
  {
    name: "refund-only before shipping is allowed",
    delivered: null,
    at: "2026-03-01T09:00:00+08:00",
    reason: "changed_mind",
    type: "refund_only",
    allowed: true,
    code: "not_shipped",
  },
  {
    name: "refund-only in transit starts an interception",
    delivered: null,
    shipped: true,
    at: "2026-03-01T09:00:00+08:00",
    reason: "changed_mind",
    type: "refund_only",
    allowed: true,
    code: "in_transit_intercept",
  },
  {
    name: "no return before delivery",
    delivered: null,
    shipped: true,
    at: "2026-03-01T09:00:00+08:00",
    reason: "quality",
    type: "return_refund",
    allowed: false,
    code: "not_delivered",
  },
  {
    name: "late delivery compensation before delivery",
    delivered: null,
    shipped: true,
    at: "2026-03-01T09:00:00+08:00",
    reason: "late_delivery",
    type: "compensation",
    allowed: true,
  },
  {
    name: "missing item can be reshipped",
    delivered: D,
    at: "2026-03-05T09:00:00+08:00",
    reason: "missing_item",
    type: "reship",
    allowed: true,
  },
  {
    name: "a quality problem is not reshipped",
    delivered: D,
    at: "2026-03-05T09:00:00+08:00",
    reason: "quality",
    type: "reship",
    allowed: false,
    code: "reason_not_for_type",
  },
  {
    name: "wrong item: return and refund",
    delivered: D,
    at: "2026-03-05T09:00:00+08:00",
    reason: "wrong_item",
    type: "return_refund",
    allowed: true,
    code: "freight_merchant",
  },
  {
    name: "not received though delivered: refund-only goes to review",
    delivered: D,
    at: "2026-03-05T09:00:00+08:00",
    reason: "not_received",
    type: "refund_only",
    allowed: true,
    code: "tracking_delivered_review",
  },
  {
    name: "not received is no reason to return",
    delivered: D,
    at: "2026-03-05T09:00:00+08:00",
    reason: "not_received",
    type: "return_refund",
    allowed: false,
  },
  {
    name: "partial quantity left after another case",
    delivered: D,
    at: "2026-03-02T09:00:00+08:00",
    reason: "changed_mind",
    type: "return_refund",
    allowed: true,
    line: { quantity: 3, alreadyClaimed: 2 },
  },
  {
    name: "a second case on a fully claimed line is refused",
    delivered: D,
    at: "2026-03-02T09:00:00+08:00",
    reason: "quality",
    type: "return_refund",
    allowed: false,
    code: "quantity_exhausted",
    line: { quantity: 2, alreadyClaimed: 2 },
  },
  {
    name: "a cancelled order has no after-sales",
    delivered: null,
    at: "2026-03-01T09:00:00+08:00",
    reason: "changed_mind",
    type: "refund_only",
    allowed: false,
    code: "order_cancelled",
    cancelled: true,
  },
  {
    name: "a more generous shop: 15-day no-reason",
    rules: { ...CN_DEFAULT, windows: { ...CN_DEFAULT.windows, noReasonReturnDays: 15 } },
    delivered: D,
    at: "2026-03-16T09:00:00+08:00",
    reason: "changed_mind",
    type: "return_refund",
    allowed: true,
  },
  {
    name: "compensation for a quality problem within 15 days",
    delivered: D,
    at: "2026-03-10T09:00:00+08:00",
    reason: "quality",
    type: "compensation",
    allowed: true,
  },
  {
    name: "no compensation for a change of mind",
    delivered: D,
    at: "2026-03-03T09:00:00+08:00",
    reason: "changed_mind",
    type: "compensation",
    allowed: false,
  },
];

describe("policy eligibility table", () => {
  it("has at least 40 cases", () => expect(table.length).toBeGreaterThanOrEqual(40));
  for (const r of table) {
    it(r.name, () => {
      const o = run(r);
      expect(o.allowed).toBe(r.allowed);
      if (r.code) expect(o.reasons.map((x) => x.code)).toContain(r.code);
      if (r.deadline) expect(o.deadline).toBe(r.deadline);
      for (const reason of o.reasons) {
        expect(reason.message.length).toBeGreaterThan(0);
        expect(reason.messageEn.length).toBeGreaterThan(0);
      }
    });
  }

  it("explains a closed window with the dates, in Chinese and English", () => {
    const o = run({
      name: "",
      delivered: D,
      at: "2026-03-10T09:00:00+08:00",
      reason: "changed_mind",
      type: "return_refund",
      allowed: false,
    });
    expect(o.reasons[0].message).toBe("申请期已于 2026-03-08 结束（签收 2026-03-01，七天无理由）");
    expect(o.reasons[0].messageEn).toBe("The window ended on 2026-03-08 (delivered 2026-03-01, 7-day no-reason return)");
  });
});

describe("freight and shipping", () => {
  it("the customer pays the return of a no-reason return, the supplier when it is at fault", () => {
    expect(returnFreightPayer(CN_DEFAULT, "changed_mind", "customer")).toBe("customer");
    expect(returnFreightPayer(CN_DEFAULT, "quality", "supplier")).toBe("supplier");
    expect(returnFreightPayer(CN_DEFAULT, "damaged_in_transit", "carrier")).toBe("merchant");
    expect(returnFreightPayer(CN_DEFAULT, "quality", "undetermined")).toBe("merchant");
  });
  it("a free-shipping order stays free; a paid-shipping no-reason return keeps the shipping", () => {
    expect(
      refundsShipping({ rules: CN_DEFAULT, reason: "changed_mind", responsibility: "customer", fullReturn: true, shippingFee: 0 }).refund,
    ).toBe(false);
    expect(
      refundsShipping({ rules: CN_DEFAULT, reason: "changed_mind", responsibility: "customer", fullReturn: true, shippingFee: 800 }).refund,
    ).toBe(false);
    expect(
      refundsShipping({ rules: CN_DEFAULT, reason: "quality", responsibility: "supplier", fullReturn: true, shippingFee: 800 }).refund,
    ).toBe(true);
    expect(
      refundsShipping({ rules: CN_DEFAULT, reason: "quality", responsibility: "supplier", fullReturn: false, shippingFee: 800 }).refund,
    ).toBe(false);
    expect(
      refundsShipping({ rules: EU_WITHDRAWAL, reason: "changed_mind", responsibility: "customer", fullReturn: true, shippingFee: 800 })
        .refund,
    ).toBe(true);
  });
});

describe("decisions", () => {
  const opts = (allowed: boolean) => [
    {
      type: "return_refund" as const,
      allowed,
      deadline: null,
      reasons: [{ code: allowed ? "window_open" : "window_closed", message: "m", messageEn: "e" }],
    },
  ];
  it("approves refund-only before shipping", () => {
    expect(
      decideSubmission({
        rules: CN_DEFAULT,
        type: "refund_only",
        reason: "changed_mind",
        options: [{ type: "refund_only", allowed: true, deadline: null, reasons: [] }],
        amount: 99999,
        orderShipped: false,
        riskFlag: false,
      }).outcome,
    ).toBe("approve");
  });
  it("approves a small no-reason return in the window and leaves a large one to CS", () => {
    expect(
      decideSubmission({
        rules: CN_DEFAULT,
        type: "return_refund",
        reason: "changed_mind",
        options: opts(true),
        amount: 3900,
        orderShipped: true,
        riskFlag: false,
      }).outcome,
    ).toBe("approve");
    expect(
      decideSubmission({
        rules: CN_DEFAULT,
        type: "return_refund",
        reason: "changed_mind",
        options: opts(true),
        amount: 50000,
        orderShipped: true,
        riskFlag: false,
      }).outcome,
    ).toBe("manual");
  });
  it("refuses outside every window and never auto-approves a flagged customer", () => {
    expect(
      decideSubmission({
        rules: CN_DEFAULT,
        type: "return_refund",
        reason: "changed_mind",
        options: opts(false),
        amount: 100,
        orderShipped: true,
        riskFlag: false,
      }).outcome,
    ).toBe("refuse");
    const d = decideSubmission({
      rules: CN_DEFAULT,
      type: "return_refund",
      reason: "changed_mind",
      options: opts(true),
      amount: 100,
      orderShipped: true,
      riskFlag: true,
    });
    expect(d.outcome).toBe("manual");
    expect(d.reasons[0].code).toBe("risk_flag");
  });
  it("suggests who is responsible", () => {
    expect(suggestResponsibility("wrong_item").responsibility).toBe("supplier");
    expect(suggestResponsibility("damaged_in_transit").responsibility).toBe("carrier");
    expect(suggestResponsibility("changed_mind").responsibility).toBe("customer");
    expect(suggestResponsibility("not_received", { trackingDelivered: true }).responsibility).toBe("undetermined");
    expect(suggestResponsibility("quality", { inspection: { matchesOrder: false } }).responsibility).toBe("customer");
  });
});

describe("resolution economics", () => {
  it("recommends keeping a cheap item over paying to ship it back", () => {
    const r = resolutionOptions({
      itemPaid: 1500,
      itemCost: 600,
      returnFreight: 1200,
      forwardFreight: 800,
      merchantPaysReturn: true,
      supplierCovers: { goods: false, returnFreight: false },
      allowed: { full_return: true, refund_keep_item: true, exchange: true },
    });
    expect(r.recommended).toBe("refund_keep_item");
    expect(r.options.find((o) => o.type === "full_return")?.netCost).toBe(2700);
  });
  it("recommends a reship when the supplier pays for it", () => {
    const r = resolutionOptions({
      itemPaid: 9900,
      itemCost: 4000,
      returnFreight: 1200,
      forwardFreight: 800,
      merchantPaysReturn: true,
      supplierCovers: { goods: true, returnFreight: true },
      allowed: { full_return: true, refund_keep_item: true, reship: true },
    });
    expect(r.recommended).toBe("reship");
    expect(r.options.find((o) => o.type === "reship")?.netCost).toBe(800);
  });
});

describe("window properties", () => {
  const zones = ["Asia/Shanghai", "America/Los_Angeles", "Europe/Berlin", "Pacific/Auckland", "UTC"];
  it("a deadline never precedes the delivery day and the window is monotone in time", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2028, 0, 1) }),
        fc.integer({ min: 0, max: 60 }),
        fc.constantFrom(...zones),
        fc.integer({ min: 0, max: 90 * 86400_000 }),
        (t, days, tz, dt) => {
          const delivered = new Date(t);
          const w = windowEnd(delivered, days, tz);
          expect(w.end.getTime()).toBeGreaterThan(delivered.getTime());
          // The window is at least `days` whole days long and at most days + 1 (plus a DST hour).
          expect(w.end.getTime() - delivered.getTime()).toBeGreaterThanOrEqual(days * 86400_000 - 3600_000);
          expect(w.end.getTime() - delivered.getTime()).toBeLessThanOrEqual((days + 1) * 86400_000 + 3600_000);
          const input = (at: Date) => ({
            rules: CN_DEFAULT,
            timezone: tz,
            reason: "changed_mind" as const,
            at,
            order: { deliveredAt: delivered, shippedAt: delivered },
            line: { category: "home", isGift: false, noReasonReturnWaived: false, quantity: 1, alreadyClaimed: 0 },
          });
          const earlier = evaluateEligibility(input(new Date(t + dt))).find((o) => o.type === "return_refund")!;
          const later = evaluateEligibility(input(new Date(t + dt + 86400_000))).find((o) => o.type === "return_refund")!;
          if (!earlier.allowed) expect(later.allowed).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});
