import { z } from "zod";
import {
  CASE_TYPES,
  type CaseType,
  CONDITION_FLAGS,
  type ConditionFlag,
  REASONS,
  RESPONSIBILITIES,
  type Reason,
  type Responsibility,
} from "../domain/vocabulary.js";

/** What a customer or an inspector can report about returned goods (the vocabulary's list). */
export { CONDITION_FLAGS, type ConditionFlag };

const WindowsSchema = z.strictObject({
  noReasonReturnDays: z.number().int().min(0).max(365),
  qualityReturnDays: z.number().int().min(0).max(365),
  qualityExchangeDays: z.number().int().min(0).max(3650),
  repairDays: z.number().int().min(0).max(3650),
});

/** A shop's after-sales policy. Every rule is a setting; the presets follow the law. */
export const PolicyRulesSchema = z.strictObject({
  preset: z.enum(["cn_default", "eu_withdrawal", "custom"]).default("custom"),
  windows: WindowsSchema,
  /** Per product category: windows that differ from the shop's (e.g. electronics repair 730 days). */
  categoryWindows: z.record(z.string().max(60), WindowsSchema.partial()).default({}),
  /** Never returnable without a reason. */
  excludedCategories: z.array(z.string().max(60)).max(50),
  /** Not returnable without a reason only when the customer confirmed it at purchase. */
  waivableCategories: z.array(z.string().max(60)).max(50),
  freight: z.strictObject({
    /** Who pays the return leg of a no-reason return. */
    noReasonReturn: z.enum(["customer", "merchant"]),
    /** A no-reason exchange: the customer pays both legs, or the merchant pays the resend. */
    noReasonExchange: z.enum(["customer_both", "customer_return_only", "merchant"]),
    /** Refund the outbound shipping on a full no-reason return (EU: standard delivery is refunded). */
    refundShippingOnNoReasonFullReturn: z.boolean(),
    /** A partial no-reason return that drops the order below its free-shipping threshold pays the shipping. */
    partialReturnLosesFreeShipping: z.boolean().default(true),
    /** The standard outbound shipping charged back in that case (minor units). */
    standardShippingFee: z.number().int().min(0).max(100000).default(1000),
  }),
  conditions: z
    .strictObject({
      /** Any of these on the returned goods refuses a no-reason return (inspection can find them too). */
      refuseNoReasonWhen: z.array(z.enum(CONDITION_FLAGS)).max(CONDITION_FLAGS.length),
      /** Any of these refuses a fault return as well (the damage was the customer's). */
      refuseAnyWhen: z.array(z.enum(CONDITION_FLAGS)).max(CONDITION_FLAGS.length),
    })
    .default({
      refuseNoReasonWhen: ["seal_broken", "tags_removed", "activated", "used", "parts_missing", "damaged_by_customer"],
      refuseAnyWhen: ["damaged_by_customer"],
    }),
  auto: z.strictObject({
    approveRefundOnlyBeforeShipping: z.boolean(),
    /** Changed-mind returns within the window up to this amount (minor units) are approved at once; null: never. */
    approveNoReasonReturnUpTo: z.number().int().min(0).nullable(),
    refuseOutsideWindows: z.boolean(),
    /** Refund without return ("keep the item") when the returned goods' paid amount is at most this. */
    keepItemUpTo: z.number().int().min(0).nullable(),
    /** Also keep the item when the return leg would cost the merchant more than the item is worth. */
    keepItemWhenReturnCostsMore: z.boolean().default(true),
  }),
  sla: z.strictObject({
    merchantResponseHours: z.number().int().min(1).max(720),
    onResponseExpiry: z.enum(["approve", "escalate"]),
    customerReturnShipDays: z.number().int().min(1).max(60),
    refundDueDays: z.number().int().min(1).max(60),
    autoRefundWhenDue: z.boolean(),
    supplierClaimAnswerDays: z.number().int().min(1).max(60),
    /** A customer's message waits at most this long for a staff reply (src/conversations). */
    customerMessageResponseHours: z.number().int().min(1).max(720).default(24),
    /** After a case closes, its customer and supplier threads take messages for this many days. */
    messageReopenDays: z.number().int().min(0).max(365).default(15),
  }),
  returnDestination: z.enum(["supplier", "warehouse"]),
  /** Default return freight the customer pays, when no amount is given with the return. */
  defaultReturnFreight: z.number().int().min(0).max(100000),
});
export type PolicyRules = z.infer<typeof PolicyRulesSchema>;

/** Mainland China: 七日无理由 (Consumer Rights Protection Law art. 25), 三包-style quality windows. */
export const CN_DEFAULT: PolicyRules = {
  preset: "cn_default",
  windows: { noReasonReturnDays: 7, qualityReturnDays: 7, qualityExchangeDays: 15, repairDays: 365 },
  categoryWindows: {},
  excludedCategories: ["custom_made", "perishable", "digital", "periodical"],
  waivableCategories: ["hygiene_sealed", "activation", "clearance"],
  freight: {
    noReasonReturn: "customer",
    noReasonExchange: "customer_both",
    refundShippingOnNoReasonFullReturn: false,
    partialReturnLosesFreeShipping: true,
    standardShippingFee: 1000,
  },
  conditions: {
    refuseNoReasonWhen: ["seal_broken", "tags_removed", "activated", "used", "parts_missing", "damaged_by_customer"],
    refuseAnyWhen: ["damaged_by_customer"],
  },
  auto: {
    approveRefundOnlyBeforeShipping: true,
    approveNoReasonReturnUpTo: 20000,
    refuseOutsideWindows: true,
    keepItemUpTo: 1500,
    keepItemWhenReturnCostsMore: true,
  },
  sla: {
    merchantResponseHours: 48,
    onResponseExpiry: "approve",
    customerReturnShipDays: 7,
    refundDueDays: 7,
    autoRefundWhenDue: false,
    supplierClaimAnswerDays: 7,
    customerMessageResponseHours: 24,
    messageReopenDays: 15,
  },
  returnDestination: "supplier",
  defaultReturnFreight: 1000,
};

/** EU: 14-day withdrawal from possession, standard delivery refunded, the consumer pays the return. */
export const EU_WITHDRAWAL: PolicyRules = {
  ...CN_DEFAULT,
  preset: "eu_withdrawal",
  windows: { noReasonReturnDays: 14, qualityReturnDays: 14, qualityExchangeDays: 30, repairDays: 730 },
  excludedCategories: ["custom_made", "perishable", "digital", "periodical"],
  waivableCategories: ["hygiene_sealed"],
  freight: {
    noReasonReturn: "customer",
    noReasonExchange: "customer_return_only",
    refundShippingOnNoReasonFullReturn: true,
    partialReturnLosesFreeShipping: false,
    standardShippingFee: 0,
  },
  sla: { ...CN_DEFAULT.sla, refundDueDays: 14 },
};

export const PRESETS = { cn_default: CN_DEFAULT, eu_withdrawal: EU_WITHDRAWAL } as const;

// The lists themselves are the domain vocabulary's, shared with the web app.
export { CASE_TYPES, type CaseType, REASONS, RESPONSIBILITIES, type Reason, type Responsibility };

/** Reasons where the goods or the delivery were at fault (art. 24), not the customer's choice. */
export const FAULT_REASONS: Reason[] = ["quality", "damaged_in_transit", "wrong_item", "missing_item", "not_as_described"];
export const NO_REASON_REASONS: Reason[] = ["changed_mind", "size_fit"];
export const isFault = (r: Reason) => FAULT_REASONS.includes(r);

/** The windows that apply to a product category: the shop's, with that category's overrides. */
export function windowsFor(rules: PolicyRules, category: string): PolicyRules["windows"] {
  return { ...rules.windows, ...(rules.categoryWindows?.[category] ?? {}) };
}

/** Categories the law lets a shop refuse without a reason outright (the rest need the buyer's confirmation). */
export const LEGAL_EXCLUSIONS = ["custom_made", "perishable", "digital", "periodical", "sealed_media"];

/**
 * Where a policy would give customers less than the law: a shop may be more generous, never less.
 * Mainland China: 7-day no-reason return, 7-day quality return, 15-day quality exchange, and only the
 * legal categories refused outright. EU preset: a 14-day withdrawal.
 */
export function policyFloorViolations(rules: PolicyRules): { field: string; message: string; zh?: string }[] {
  const out: { field: string; message: string; zh?: string }[] = [];
  const eu = rules.preset === "eu_withdrawal";
  const floor: Partial<Record<keyof PolicyRules["windows"], number>> = eu
    ? { noReasonReturnDays: 14 }
    : { noReasonReturnDays: 7, qualityReturnDays: 7, qualityExchangeDays: 15 };
  const check = (prefix: string, w: Partial<PolicyRules["windows"]>) => {
    for (const [key, min] of Object.entries(floor) as [keyof PolicyRules["windows"], number][]) {
      const v = w[key];
      if (v !== undefined && v < min)
        out.push({ field: `${prefix}.${key}`, message: `the law requires at least ${min} days`, zh: `法律规定至少 ${min} 天` });
    }
  };
  check("rules.windows", rules.windows);
  for (const [cat, w] of Object.entries(rules.categoryWindows ?? {})) check(`rules.categoryWindows.${cat}`, w);
  rules.excludedCategories.forEach((c, i) => {
    if (!LEGAL_EXCLUSIONS.includes(c))
      out.push({
        field: `rules.excludedCategories.${i}`,
        message: `${c} may only be excluded when the customer confirms it at purchase (waivableCategories)`,
      });
  });
  return out;
}
