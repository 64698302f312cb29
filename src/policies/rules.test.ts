import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_TERMS } from "../catalog/catalog.schemas.js";
import {
  checkCondition,
  decideSubmission,
  type EligibilityInput,
  evaluateEligibility,
  freightPlan,
  keepItemDecision,
  refundsShipping,
  suggestResponsibility,
} from "./engine.js";
import {
  CASE_TYPES,
  CN_DEFAULT,
  type ConditionFlag,
  EU_WITHDRAWAL,
  type PolicyRules,
  PolicyRulesSchema,
  policyFloorViolations,
  REASONS,
  type Reason,
  windowsFor,
} from "./rules.js";
import { checkSupplierTerms, resolutionOptions } from "./supplier.js";
import { addDays, localDate, startOfLocalDay, windowEnd } from "./time.js";

const SH = "Asia/Shanghai";
const D = new Date("2026-03-01T10:00:00+08:00");

function option(
  type: string,
  p: { reason: Reason; at: string; rules?: PolicyRules; line?: Partial<EligibilityInput["line"]>; delivered?: Date; tz?: string },
) {
  const opts = evaluateEligibility({
    rules: p.rules ?? CN_DEFAULT,
    timezone: p.tz ?? SH,
    reason: p.reason,
    at: new Date(p.at),
    order: { shippedAt: new Date("2026-02-27T02:00:00Z"), deliveredAt: p.delivered ?? D },
    line: { category: "home", isGift: false, noReasonReturnWaived: false, quantity: 1, alreadyClaimed: 0, ...p.line },
  });
  const o = opts.find((x) => x.type === type);
  if (!o) throw new Error(type);
  return o;
}

describe("presets and the rules schema", () => {
  it("both presets are valid rules", () => {
    expect(PolicyRulesSchema.parse(CN_DEFAULT)).toEqual(CN_DEFAULT);
    expect(PolicyRulesSchema.parse(EU_WITHDRAWAL)).toEqual(EU_WITHDRAWAL);
  });

  it("rules stored before conditions and category windows existed still load, with the defaults", () => {
    const { conditions: _c, categoryWindows: _w, ...old } = CN_DEFAULT;
    const legacy = {
      ...old,
      freight: { noReasonReturn: "customer", noReasonExchange: "customer_both", refundShippingOnNoReasonFullReturn: false },
      auto: { approveRefundOnlyBeforeShipping: true, approveNoReasonReturnUpTo: 20000, refuseOutsideWindows: true, keepItemUpTo: 1500 },
    };
    const parsed = PolicyRulesSchema.parse(legacy);
    expect(parsed.conditions.refuseNoReasonWhen).toContain("tags_removed");
    expect(parsed.categoryWindows).toEqual({});
    expect(parsed.auto.keepItemWhenReturnCostsMore).toBe(true);
    expect(parsed.freight.standardShippingFee).toBe(1000);
  });

  it("refuses unknown fields and out-of-range windows", () => {
    expect(PolicyRulesSchema.safeParse({ ...CN_DEFAULT, surprise: 1 }).success).toBe(false);
    expect(PolicyRulesSchema.safeParse({ ...CN_DEFAULT, windows: { ...CN_DEFAULT.windows, noReasonReturnDays: -1 } }).success).toBe(false);
    expect(PolicyRulesSchema.safeParse({ ...CN_DEFAULT, conditions: { refuseNoReasonWhen: ["sneezed"], refuseAnyWhen: [] } }).success).toBe(
      false,
    );
  });

  it("never lets a shop give less than the law", () => {
    expect(policyFloorViolations(CN_DEFAULT)).toEqual([]);
    expect(policyFloorViolations(EU_WITHDRAWAL)).toEqual([]);
    const stingy: PolicyRules = {
      ...CN_DEFAULT,
      windows: { ...CN_DEFAULT.windows, qualityExchangeDays: 10 },
      categoryWindows: { apparel: { noReasonReturnDays: 3 } },
      excludedCategories: [...CN_DEFAULT.excludedCategories, "underwear"],
    };
    expect(policyFloorViolations(stingy).map((v) => v.field)).toEqual([
      "rules.windows.qualityExchangeDays",
      "rules.categoryWindows.apparel.noReasonReturnDays",
      "rules.excludedCategories.4",
    ]);
    // More generous is always fine; the EU preset needs its 14 days.
    expect(policyFloorViolations({ ...CN_DEFAULT, windows: { ...CN_DEFAULT.windows, noReasonReturnDays: 30 } })).toEqual([]);
    expect(policyFloorViolations({ ...EU_WITHDRAWAL, windows: { ...EU_WITHDRAWAL.windows, noReasonReturnDays: 7 } })).toHaveLength(1);
  });

  it("category windows override the shop's", () => {
    const rules: PolicyRules = { ...CN_DEFAULT, categoryWindows: { electronics: { repairDays: 730, qualityExchangeDays: 30 } } };
    expect(windowsFor(rules, "electronics")).toEqual({
      noReasonReturnDays: 7,
      qualityReturnDays: 7,
      qualityExchangeDays: 30,
      repairDays: 730,
    });
    expect(windowsFor(rules, "home")).toEqual(CN_DEFAULT.windows);
    // A quality exchange on day 20: refused for a mug, allowed for electronics.
    const at = "2026-03-21T12:00:00+08:00";
    expect(option("exchange", { reason: "quality", at, rules }).allowed).toBe(false);
    const e = option("exchange", { reason: "quality", at, rules, line: { category: "electronics" } });
    expect(e.allowed).toBe(true);
    expect(e.deadline).toBe("2026-03-31T15:59:59.999Z");
    expect(option("repair", { reason: "quality", at: "2027-06-01T12:00:00+08:00", rules, line: { category: "electronics" } }).allowed).toBe(
      true,
    );
  });
});

describe("condition rules", () => {
  const at = "2026-03-03T12:00:00+08:00";
  const cases: { flags: ConditionFlag[]; reason: Reason; ok: boolean }[] = [
    { flags: [], reason: "changed_mind", ok: true },
    { flags: ["seal_broken"], reason: "changed_mind", ok: false },
    { flags: ["tags_removed"], reason: "size_fit", ok: false },
    { flags: ["activated"], reason: "changed_mind", ok: false },
    { flags: ["used", "parts_missing"], reason: "changed_mind", ok: false },
    { flags: ["seal_broken"], reason: "quality", ok: true },
    { flags: ["damaged_by_customer"], reason: "quality", ok: false },
  ];
  for (const c of cases) {
    it(`${c.reason} with [${c.flags.join(", ")}] → ${c.ok ? "returnable" : "refused"}`, () => {
      const o = option("return_refund", { reason: c.reason, at, line: { condition: c.flags } });
      expect(o.allowed).toBe(c.ok);
      if (!c.ok) expect(o.reasons[0].code).toBe("condition_failed");
    });
  }

  it("explains the failed condition in both languages", () => {
    const r = checkCondition(CN_DEFAULT, "changed_mind", ["tags_removed", "activated"]);
    expect(r.ok).toBe(false);
    expect(r.failed).toEqual(["tags_removed", "activated"]);
    expect(r.reasons[0].message).toBe("商品吊牌已剪、已激活，不支持七天无理由退货");
    expect(r.reasons[0].messageEn).toBe("The goods cannot be returned without a reason: the tags are removed, it has been activated");
  });

  it("inspection uses the same rule; a shop can loosen it", () => {
    expect(checkCondition(CN_DEFAULT, "changed_mind", ["seal_broken"]).ok).toBe(false);
    const loose: PolicyRules = { ...CN_DEFAULT, conditions: { refuseNoReasonWhen: ["used"], refuseAnyWhen: [] } };
    expect(checkCondition(loose, "changed_mind", ["seal_broken"]).ok).toBe(true);
    expect(checkCondition(loose, "quality", ["damaged_by_customer"]).ok).toBe(true);
  });

  it("a repair is still possible on goods the customer damaged", () => {
    expect(option("repair", { reason: "quality", at, line: { condition: ["damaged_by_customer"] } }).allowed).toBe(true);
  });
});

describe("freight plans", () => {
  it("no-reason return: the customer pays the return, nothing is refunded", () => {
    expect(freightPlan(CN_DEFAULT, "changed_mind", "customer", "return_refund")).toMatchObject({
      returnLeg: "customer",
      resendLeg: null,
      refundCustomerReturnFreight: false,
    });
  });
  it("no-reason exchange in China: the customer pays both legs", () => {
    expect(freightPlan(CN_DEFAULT, "size_fit", "customer", "exchange")).toMatchObject({ returnLeg: "customer", resendLeg: "customer" });
  });
  it("no-reason exchange under the EU preset: the customer pays the return, the merchant the resend", () => {
    expect(freightPlan(EU_WITHDRAWAL, "size_fit", "customer", "exchange")).toMatchObject({
      returnLeg: "customer",
      resendLeg: "merchant",
    });
  });
  it("supplier at fault: it pays both legs and the customer's return freight is refunded", () => {
    const p = freightPlan(CN_DEFAULT, "wrong_item", "supplier", "exchange");
    expect(p).toMatchObject({ returnLeg: "supplier", resendLeg: "supplier", refundCustomerReturnFreight: true });
    expect(p.reasons[0].code).toBe("freight_merchant");
  });
  it("merchant or carrier at fault: the merchant pays", () => {
    expect(freightPlan(CN_DEFAULT, "damaged_in_transit", "carrier", "return_refund")).toMatchObject({
      returnLeg: "merchant",
      refundCustomerReturnFreight: true,
    });
    expect(freightPlan(CN_DEFAULT, "quality", "undetermined", "repair")).toMatchObject({ returnLeg: "merchant", resendLeg: "merchant" });
  });
  it("a reship has no return leg", () => {
    expect(freightPlan(CN_DEFAULT, "missing_item", "supplier", "reship")).toMatchObject({ returnLeg: null, resendLeg: "supplier" });
  });
});

describe("outbound shipping on refunds", () => {
  const base = { rules: CN_DEFAULT, reason: "changed_mind" as Reason, responsibility: "customer" as const };
  it("a partial return that keeps the order above the free-shipping threshold stays free", () => {
    const r = refundsShipping({ ...base, fullReturn: false, freeShipping: true, thresholdStillMet: true });
    expect(r).toMatchObject({ refund: false, deductShipping: 0 });
    expect(r.reason.code).toBe("free_shipping");
  });
  it("a partial return that breaks the free-shipping threshold pays the standard shipping", () => {
    const r = refundsShipping({ ...base, fullReturn: false, freeShipping: true, thresholdStillMet: false });
    expect(r).toMatchObject({ refund: false, deductShipping: 1000 });
    expect(r.reason.code).toBe("free_shipping_lost");
    expect(r.reason.message).toContain("¥10.00");
  });
  it("never when the merchant side is at fault", () => {
    const r = refundsShipping({
      ...base,
      reason: "quality",
      responsibility: "supplier",
      fullReturn: false,
      freeShipping: true,
      thresholdStillMet: false,
    });
    expect(r.deductShipping).toBe(0);
  });
  it("the EU preset never charges back free shipping and refunds standard delivery on a full withdrawal", () => {
    expect(
      refundsShipping({ ...base, rules: EU_WITHDRAWAL, fullReturn: false, freeShipping: true, thresholdStillMet: false }).deductShipping,
    ).toBe(0);
    expect(refundsShipping({ ...base, rules: EU_WITHDRAWAL, fullReturn: true, shippingFee: 800 }).refund).toBe(true);
    expect(refundsShipping({ ...base, fullReturn: true, shippingFee: 800 }).refund).toBe(false);
  });
  it("a full return for a fault refunds the paid shipping", () => {
    expect(refundsShipping({ ...base, reason: "quality", responsibility: "undetermined", fullReturn: true, shippingFee: 800 }).refund).toBe(
      true,
    );
  });
});

describe("keep the item", () => {
  it("cheap goods are refunded without return", () => {
    expect(keepItemDecision({ rules: CN_DEFAULT, itemPaid: 1500, returnFreight: 1000, merchantPaysReturn: false })).toMatchObject({
      keep: true,
      reason: { code: "keep_item_low_value" },
    });
  });
  it("goods cheaper than the return the merchant would pay stay with the customer", () => {
    expect(keepItemDecision({ rules: CN_DEFAULT, itemPaid: 1900, returnFreight: 2500, merchantPaysReturn: true }).reason?.code).toBe(
      "keep_item_freight",
    );
    expect(keepItemDecision({ rules: CN_DEFAULT, itemPaid: 1900, returnFreight: 2500, merchantPaysReturn: false }).keep).toBe(false);
  });
  it("turned off, nothing is kept", () => {
    const rules: PolicyRules = { ...CN_DEFAULT, auto: { ...CN_DEFAULT.auto, keepItemUpTo: null, keepItemWhenReturnCostsMore: false } };
    expect(keepItemDecision({ rules, itemPaid: 100, returnFreight: 2500, merchantPaysReturn: true }).keep).toBe(false);
  });
  it("resolution options follow the policy's keep-item rule and the allowed case types", () => {
    const r = resolutionOptions({
      itemPaid: 1900,
      itemCost: 800,
      returnFreight: 2500,
      forwardFreight: 1000,
      supplierCovers: { goods: false, returnFreight: false },
      allowedTypes: ["return_refund", "exchange"],
      rules: CN_DEFAULT,
    });
    expect(r.autoKeepItem).toBe(true);
    expect(r.recommended).toBe("refund_keep_item");
    expect(r.options.find((o) => o.type === "reship")?.allowed).toBe(false);
    expect(r.reasons[0].code).toBe("keep_item_freight");
  });
  it("without the rule the cheapest allowed settlement is recommended", () => {
    const r = resolutionOptions({
      itemPaid: 9900,
      itemCost: 4000,
      returnFreight: 1200,
      forwardFreight: 1000,
      supplierCovers: { goods: true, returnFreight: true },
      allowedTypes: ["return_refund", "exchange", "reship"],
      rules: CN_DEFAULT,
    });
    expect(r.autoKeepItem).toBe(false);
    const allowed = r.options.filter((o) => o.allowed);
    expect(r.recommended).toBe(allowed.sort((a, b) => a.netCost - b.netCost)[0].type);
  });
});

describe("supplier terms", () => {
  const base = {
    reason: "quality" as Reason,
    type: "return_refund" as const,
    responsibility: "supplier" as const,
    deliveredAt: D,
    timezone: SH,
    evidenceCount: 1,
  };
  it("covers the goods of a supplier fault within its windows", () => {
    const r = checkSupplierTerms(DEFAULT_TERMS, { ...base, at: new Date("2026-03-04T12:00:00+08:00") });
    expect(r.covers).toEqual({ goods: true, returnFreight: true, compensation: false });
    expect(r.warnings).toEqual([]);
  });
  it("warns when the supplier takes no returns", () => {
    const r = checkSupplierTerms({ ...DEFAULT_TERMS, acceptsReturns: false }, { ...base, at: new Date("2026-03-04T12:00:00+08:00") });
    expect(r.covers.goods).toBe(false);
    expect(r.warnings.map((w) => w.code)).toContain("supplier_no_returns");
  });
  it("warns when the supplier's windows closed and evidence is missing", () => {
    const r = checkSupplierTerms(DEFAULT_TERMS, { ...base, evidenceCount: 0, at: new Date("2026-03-20T12:00:00+08:00") });
    expect(r.covers.goods).toBe(false);
    expect(r.warnings.map((w) => w.code)).toEqual(
      expect.arrayContaining(["supplier_claim_window_closed", "supplier_return_window_closed", "supplier_evidence_missing"]),
    );
    expect(r.warnings.find((w) => w.code === "supplier_claim_window_closed")?.message).toBe("供应商索赔期已于 2026-03-16 结束");
  });
  it("suggests the responsibility when none is given", () => {
    const r = checkSupplierTerms(DEFAULT_TERMS, {
      reason: "wrong_item",
      type: "return_refund",
      deliveredAt: D,
      at: new Date("2026-03-04T12:00:00+08:00"),
      timezone: SH,
    });
    expect(r.covers.goods).toBe(true);
    expect(r.warnings.map((w) => w.code)).toEqual(["supplier_evidence_missing"]);
  });
  it("a change of mind is the merchant's cost", () => {
    const r = checkSupplierTerms(DEFAULT_TERMS, {
      ...base,
      reason: "changed_mind",
      responsibility: "customer",
      at: new Date("2026-03-04T12:00:00+08:00"),
    });
    expect(r.covers.goods).toBe(false);
    expect(r.warnings.map((w) => w.code)).toContain("merchant_bears_cost");
  });
});

describe("decisions", () => {
  it("a blocklisted customer is never approved automatically", () => {
    const options = [option("refund_only", { reason: "quality", at: "2026-03-02T12:00:00+08:00" })];
    const d = decideSubmission({
      rules: CN_DEFAULT,
      type: "refund_only",
      reason: "quality",
      options,
      amount: 100,
      orderShipped: false,
      riskFlag: false,
      blocked: true,
    });
    expect(d.outcome).toBe("manual");
    expect(d.reasons[0].code).toBe("blocklisted");
  });
  it("a shop that does not refuse by itself leaves closed windows to CS", () => {
    const rules: PolicyRules = { ...CN_DEFAULT, auto: { ...CN_DEFAULT.auto, refuseOutsideWindows: false } };
    const options = [option("return_refund", { reason: "changed_mind", at: "2026-04-01T12:00:00+08:00", rules })];
    expect(options[0].allowed).toBe(false);
    const d = decideSubmission({
      rules,
      type: "return_refund",
      reason: "changed_mind",
      options,
      amount: 100,
      orderShipped: true,
      riskFlag: false,
    });
    expect(d.outcome).toBe("manual");
    expect(d.reasons.map((r) => r.code)).toContain("window_closed");
  });
});

describe("risk signals", () => {
  it("flags 'not received' on a delivered parcel and returns that do not match", () => {
    expect(suggestResponsibility("not_received", { trackingDelivered: true })).toMatchObject({
      responsibility: "undetermined",
      riskSignal: "not_received_but_delivered",
    });
    expect(suggestResponsibility("not_received", { trackingDelivered: false }).riskSignal).toBeUndefined();
    expect(suggestResponsibility("quality", { inspection: { matchesOrder: false } }).riskSignal).toBe("return_mismatch");
    expect(suggestResponsibility("quality", { inspection: { matchesOrder: true } })).toEqual({
      responsibility: "supplier",
      note: "quality comes from the supplier's goods or packing",
    });
  });
});

describe("as of a moment", () => {
  it("an order delivered after `at` is judged as not delivered yet then", () => {
    const before = option("return_refund", { reason: "quality", at: "2026-03-01T09:00:00+08:00" });
    expect(before.reasons[0].code).toBe("not_delivered");
    const refund = option("refund_only", { reason: "changed_mind", at: "2026-03-01T09:00:00+08:00" });
    expect(refund.reasons[0].code).toBe("in_transit_intercept");
    expect(option("return_refund", { reason: "quality", at: "2026-03-01T10:00:00+08:00" }).allowed).toBe(true);
  });
});

describe("gifts", () => {
  it("a gift goes back with its goods and is never compensated on its own", () => {
    const at = "2026-03-03T12:00:00+08:00";
    const ret = option("return_refund", { reason: "changed_mind", at, line: { isGift: true } });
    expect(ret.allowed).toBe(true);
    expect(ret.reasons.map((r) => r.code)).toContain("gift_line");
    expect(option("compensation", { reason: "quality", at, line: { isGift: true } })).toMatchObject({
      allowed: false,
      reasons: [{ code: "gift_no_compensation" }],
    });
    expect(option("compensation", { reason: "quality", at }).allowed).toBe(true);
  });
});

describe("local days", () => {
  it("finds local midnight on daylight-saving days", () => {
    expect(startOfLocalDay("2026-03-08", "America/Los_Angeles").toISOString()).toBe("2026-03-08T08:00:00.000Z");
    expect(startOfLocalDay("2026-03-09", "America/Los_Angeles").toISOString()).toBe("2026-03-09T07:00:00.000Z");
    expect(startOfLocalDay("2026-10-25", "Europe/Berlin").toISOString()).toBe("2026-10-24T22:00:00.000Z");
    expect(startOfLocalDay("2026-10-26", "Europe/Berlin").toISOString()).toBe("2026-10-25T23:00:00.000Z");
  });
  it("answers a day asked again the same, whatever the caller did with the first answer", () => {
    const first = startOfLocalDay("2026-03-08", "America/Los_Angeles");
    first.setTime(0);
    expect(startOfLocalDay("2026-03-08", "America/Los_Angeles").toISOString()).toBe("2026-03-08T08:00:00.000Z");
    // The same date in another zone is another day.
    expect(startOfLocalDay("2026-03-08", "Asia/Shanghai").toISOString()).toBe("2026-03-07T16:00:00.000Z");
  });
  it("starts a day at its first instant where clocks jump over midnight", () => {
    // Santiago moves from 00:00 straight to 01:00 on 2026-09-06.
    expect(startOfLocalDay("2026-09-06", "America/Santiago").toISOString()).toBe("2026-09-06T04:00:00.000Z");
    const w = windowEnd(new Date("2026-08-30T15:00:00-04:00"), 7, "America/Santiago");
    expect(w).toMatchObject({ deliveredDay: "2026-08-30", lastDay: "2026-09-06" });
    expect(w.end.toISOString()).toBe("2026-09-07T02:59:59.999Z");
  });

  it("every local day starts where the previous one ends, in every zone", () => {
    const zones = ["Asia/Shanghai", "America/Santiago", "America/Havana", "Asia/Beirut", "Australia/Lord_Howe", "Asia/Kathmandu"];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3650 }), fc.constantFrom(...zones), (n, tz) => {
        const day = addDays("2020-01-01", n);
        const start = startOfLocalDay(day, tz);
        expect(localDate(start, tz)).toBe(day);
        expect(localDate(new Date(start.getTime() - 1), tz)).toBe(addDays(day, -1));
      }),
      { numRuns: 400 },
    );
  });

  it("the EU window counts from the delivery of the last item", () => {
    const w = windowEnd(new Date("2026-05-02T09:00:00+02:00"), 14, "Europe/Berlin");
    expect(w).toMatchObject({ deliveredDay: "2026-05-02", lastDay: "2026-05-16" });
    expect(w.end.toISOString()).toBe("2026-05-16T21:59:59.999Z");
  });
});

describe("eligibility properties", () => {
  const zones = ["Asia/Shanghai", "America/Los_Angeles", "Europe/Berlin", "Australia/Sydney", "UTC"];
  const categories = ["home", "apparel", "custom_made", "perishable", "hygiene_sealed", "activation", "electronics"];
  const arb = fc.record({
    delivered: fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2028, 0, 1) }),
    tz: fc.constantFrom(...zones),
    reason: fc.constantFrom(...REASONS),
    category: fc.constantFrom(...categories),
    waived: fc.boolean(),
    eu: fc.boolean(),
    claimed: fc.integer({ min: 0, max: 3 }),
    a: fc.integer({ min: 0, max: 800 * 86400_000 }),
    b: fc.integer({ min: 0, max: 800 * 86400_000 }),
  });
  type Sample = typeof arb extends fc.Arbitrary<infer T> ? T : never;
  const evalAt = (x: Sample, at: number) =>
    evaluateEligibility({
      rules: x.eu ? EU_WITHDRAWAL : { ...CN_DEFAULT, categoryWindows: { electronics: { repairDays: 730 } } },
      timezone: x.tz,
      reason: x.reason,
      at: new Date(at),
      order: { shippedAt: new Date(x.delivered - 86400_000), deliveredAt: new Date(x.delivered) },
      line: { category: x.category, isGift: false, noReasonReturnWaived: x.waived, quantity: 3, alreadyClaimed: x.claimed },
    });

  it("once a type is closed it stays closed, for every type, reason and category", () => {
    fc.assert(
      fc.property(arb, (x) => {
        const [early, late] = x.a <= x.b ? [x.a, x.b] : [x.b, x.a];
        const before = evalAt(x, x.delivered + early);
        const after = evalAt(x, x.delivered + late);
        for (const type of CASE_TYPES) {
          const b = before.find((o) => o.type === type)!;
          const l = after.find((o) => o.type === type)!;
          if (!b.allowed) expect(l.allowed).toBe(false);
          expect(b.reasons.length).toBeGreaterThan(0);
          for (const r of b.reasons) {
            expect(r.code).toMatch(/^[a-z_]+$/);
            expect(r.message.length).toBeGreaterThan(0);
            expect(r.messageEn.length).toBeGreaterThan(0);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("a deadline is the last instant of a local day after the delivery day, and the option is open until then", () => {
    fc.assert(
      fc.property(arb, (x) => {
        const now = evalAt(x, x.delivered);
        for (const o of now) {
          if (!o.allowed || !o.deadline) continue;
          const end = new Date(o.deadline).getTime();
          expect(localDate(new Date(end), x.tz) > localDate(new Date(x.delivered), x.tz)).toBe(true);
          expect(localDate(new Date(end + 1), x.tz)).not.toBe(localDate(new Date(end), x.tz));
          expect(evalAt(x, end).find((y) => y.type === o.type)!.allowed).toBe(true);
          expect(evalAt(x, end + 1).find((y) => y.type === o.type)!.allowed).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });
});
