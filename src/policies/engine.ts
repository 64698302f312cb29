import {
  CASE_TYPES,
  type CaseType,
  type ConditionFlag,
  FAULT_REASONS,
  isFault,
  NO_REASON_REASONS,
  type PolicyRules,
  type Reason,
  type Responsibility,
  windowsFor,
} from "./rules.js";
import { windowEnd } from "./time.js";

/** One reason a decision was taken, in words a CS agent can read to the customer. */
export interface PolicyReason {
  code: string;
  message: string;
  messageEn: string;
}
export interface TypeOption {
  type: CaseType;
  allowed: boolean;
  deadline: string | null;
  reasons: PolicyReason[];
}

export interface EligibilityInput {
  rules: PolicyRules;
  timezone: string;
  reason: Reason;
  at: Date;
  order: { shippedAt: Date | null; deliveredAt: Date | null; cancelled?: boolean; freeShipping?: boolean };
  line: {
    category: string;
    isGift: boolean;
    noReasonReturnWaived: boolean;
    quantity: number;
    alreadyClaimed: number;
    /** What the customer reports about the goods (seal broken, tags removed ...), when known. */
    condition?: ConditionFlag[];
  };
}

const WINDOW_NAMES = {
  noReasonReturnDays: ["七天无理由", "no-reason return"],
  qualityReturnDays: ["质量问题退货", "quality return"],
  qualityExchangeDays: ["质量问题换货", "quality exchange"],
  repairDays: ["保修", "warranty repair"],
} as const;
type WindowKey = keyof typeof WINDOW_NAMES;

function windowCheck(i: EligibilityInput, key: WindowKey): { open: boolean; deadline: string; reason: PolicyReason } {
  const days = windowsFor(i.rules, i.line.category)[key];
  const delivered = i.order.deliveredAt as Date;
  const w = windowEnd(delivered, days, i.timezone);
  const [zh, en] = WINDOW_NAMES[key];
  const label = key === "noReasonReturnDays" ? zh : `${zh}${days}天`;
  const labelEn = key === "noReasonReturnDays" ? `${days}-day ${en}` : `${en}, ${days} days`;
  const open = i.at.getTime() <= w.end.getTime();
  return {
    open,
    deadline: w.end.toISOString(),
    reason: open
      ? {
          code: "window_open",
          message: `可在 ${w.lastDay} 前申请（签收 ${w.deliveredDay}，${label}）`,
          messageEn: `Open until ${w.lastDay} (delivered ${w.deliveredDay}, ${labelEn})`,
        }
      : {
          code: "window_closed",
          message: `申请期已于 ${w.lastDay} 结束（签收 ${w.deliveredDay}，${label}）`,
          messageEn: `The window ended on ${w.lastDay} (delivered ${w.deliveredDay}, ${labelEn})`,
        },
  };
}

const R = (code: string, message: string, messageEn: string): PolicyReason => ({ code, message, messageEn });

/**
 * What the customer may ask for on one line, per case type, with the deadline and the reasons.
 * Pure: the caller supplies the rules, the shop's time zone, the facts and the moment `at`.
 */
export function evaluateEligibility(input: EligibilityInput): TypeOption[] {
  // As of `at`: a parcel delivered (or shipped) later than that was not delivered (shipped) yet.
  const t = input.at.getTime();
  const i: EligibilityInput = {
    ...input,
    order: {
      ...input.order,
      deliveredAt: input.order.deliveredAt && input.order.deliveredAt.getTime() <= t ? input.order.deliveredAt : null,
      shippedAt: input.order.shippedAt && input.order.shippedAt.getTime() <= t ? input.order.shippedAt : null,
    },
  };
  return CASE_TYPES.map((type) => {
    const o = evaluateType(i, type);
    if (!i.line.isGift || !o.allowed || !i.order.deliveredAt) return o;
    // A gift was not paid for: no money of its own, and it goes back with the goods it came with.
    if (type === "compensation")
      return {
        type,
        allowed: false,
        deadline: null,
        reasons: [R("gift_no_compensation", "赠品不单独补偿", "A free gift is not compensated on its own")],
      };
    return {
      ...o,
      reasons: [
        ...o.reasons,
        R(
          "gift_line",
          "赠品：随主商品一并退回，未退回的赠品可能按标示价格扣款",
          "A free gift: it goes back with the goods it came with, or its shown price may be deducted",
        ),
      ],
    };
  });
}

function evaluateType(i: EligibilityInput, type: CaseType): TypeOption {
  const deny = (...reasons: PolicyReason[]): TypeOption => ({ type, allowed: false, deadline: null, reasons });
  if (i.order.cancelled) return deny(R("order_cancelled", "订单已取消", "The order is cancelled"));
  if (i.line.alreadyClaimed >= i.line.quantity) {
    return deny(
      R(
        "quantity_exhausted",
        `该商品 ${i.line.quantity} 件均已在其他售后单中`,
        `All ${i.line.quantity} of this item are already in other after-sales cases`,
      ),
    );
  }
  const fault = isFault(i.reason);
  const noReason = NO_REASON_REASONS.includes(i.reason);
  if (!i.order.deliveredAt) {
    // Before delivery: money back (cancel or intercept) or a gesture for lateness; nothing to return yet.
    if (type === "refund_only") {
      return i.order.shippedAt
        ? {
            type,
            allowed: true,
            deadline: null,
            reasons: [
              R(
                "in_transit_intercept",
                "包裹运输中：将申请拦截，拦截成功或拒收后退款",
                "In transit: the parcel will be intercepted and the refund follows its return",
              ),
            ],
          }
        : {
            type,
            allowed: true,
            deadline: null,
            reasons: [R("not_shipped", "商家尚未发货，可直接退款", "Not shipped yet: the order can be refunded at once")],
          };
    }
    if (type === "compensation" && (i.reason === "late_delivery" || i.reason === "not_received")) {
      return {
        type,
        allowed: true,
        deadline: null,
        reasons: [R("late_delivery_compensation", "物流延误可申请补偿", "A late delivery may be compensated")],
      };
    }
    return deny(
      R("not_delivered", "订单尚未签收，签收后才能申请退换货", "The order is not delivered yet; returns and exchanges open on delivery"),
    );
  }

  if (i.reason === "not_received" || i.reason === "late_delivery") {
    if (type === "reship" || type === "refund_only" || type === "compensation") {
      const w = windowCheck(i, "qualityExchangeDays");
      if (!w.open) return deny(w.reason);
      return {
        type,
        allowed: true,
        deadline: w.deadline,
        reasons: [
          R("tracking_delivered_review", "物流显示已签收，需核实后处理", "Tracking shows the parcel delivered; this will be checked"),
          w.reason,
        ],
      };
    }
    return deny(R("reason_not_for_type", "未收到货物不适用退换货", "A parcel not received cannot be returned or exchanged"));
  }

  if (noReason) {
    if (type === "repair" || type === "reship" || type === "compensation") {
      return deny(R("reason_not_for_type", "无理由退换不适用此方式", "This remedy is not available for a change of mind"));
    }
    if (type === "refund_only")
      return deny(R("return_required", "无理由退货需寄回商品", "A no-reason refund requires returning the goods"));
    if (i.rules.excludedCategories.includes(i.line.category)) {
      return deny(
        R(
          "category_excluded",
          `该类商品（${categoryZh(i.line.category)}）不支持七天无理由退货`,
          `Goods of this kind (${i.line.category.replaceAll("_", " ")}) cannot be returned without a reason`,
        ),
      );
    }
    if (i.rules.waivableCategories.includes(i.line.category) && i.line.noReasonReturnWaived) {
      return deny(
        R(
          "waived_at_purchase",
          "购买时已确认该商品不适用七天无理由退货",
          "At purchase the customer confirmed this item is not returnable without a reason",
        ),
      );
    }
    const w = windowCheck(i, "noReasonReturnDays");
    if (!w.open) return deny(w.reason);
    const cond = checkCondition(i.rules, i.reason, i.line.condition ?? []);
    if (!cond.ok) return deny(...cond.reasons);
    const reasons = [
      w.reason,
      R(
        "condition_required",
        "商品需完好：可拆封检查，吊牌、封条、配件齐全",
        "Goods must be intact: opening to inspect is fine; tags, seals and parts complete",
      ),
    ];
    if (type === "exchange") {
      const payer =
        i.rules.freight.noReasonExchange === "merchant"
          ? ["商家承担换货运费", "The merchant pays the exchange shipping"]
          : ["买家承担往返运费", "The customer pays the shipping both ways"];
      reasons.push(R("freight_customer", payer[0], payer[1]));
    } else reasons.push(R("freight_customer", "退货运费由买家承担", "The customer pays the return shipping"));
    return { type, allowed: true, deadline: w.deadline, reasons };
  }

  // Quality and delivery faults (art. 24), and "other" which CS reviews under the same windows.
  const key: WindowKey =
    type === "exchange" || type === "reship" ? "qualityExchangeDays" : type === "repair" ? "repairDays" : "qualityReturnDays";
  if (type === "compensation") {
    const w = windowCheck(i, "qualityExchangeDays");
    return w.open ? { type, allowed: true, deadline: w.deadline, reasons: [w.reason] } : deny(w.reason);
  }
  if (type === "reship" && !["missing_item", "wrong_item", "damaged_in_transit"].includes(i.reason)) {
    return deny(R("reason_not_for_type", "补发仅适用于漏发、错发或运输损坏", "A reship is for missing, wrong or damaged items"));
  }
  const w = windowCheck(i, key);
  const cond = checkCondition(i.rules, i.reason, i.line.condition ?? []);
  if (!cond.ok && type !== "repair") return deny(...cond.reasons);
  if (!w.open) {
    const later = type === "return_refund" || type === "refund_only" ? windowCheck(i, "qualityExchangeDays") : null;
    if (later?.open) {
      return deny(
        w.reason,
        R(
          "exchange_or_repair_only",
          "已过质量问题退货期，可申请换货或维修",
          "Past the quality return window: an exchange or repair is still possible",
        ),
      );
    }
    return deny(w.reason);
  }
  const reasons = [w.reason];
  if (fault) reasons.push(R("freight_merchant", "质量问题由商家承担来回运费", "For a fault the merchant pays the shipping both ways"));
  else reasons.push(R("manual_review", "需客服审核", "A CS agent will review this request"));
  return { type, allowed: true, deadline: w.deadline, reasons };
}

const CONDITION_WORDS: Record<ConditionFlag, [string, string]> = {
  seal_broken: ["封条/密封包装已拆", "the seal is broken"],
  tags_removed: ["吊牌已剪", "the tags are removed"],
  activated: ["已激活", "it has been activated"],
  used: ["已使用", "it has been used"],
  parts_missing: ["配件/赠品不全", "parts or accessories are missing"],
  damaged_by_customer: ["人为损坏", "it was damaged after delivery"],
};

/**
 * Whether goods in this condition may still go back for this reason. The same rule is used on
 * what the customer reports at submission and on what the warehouse finds at inspection.
 */
export function checkCondition(
  rules: PolicyRules,
  reason: Reason,
  flags: ConditionFlag[],
): { ok: boolean; failed: ConditionFlag[]; reasons: PolicyReason[] } {
  const refuse = NO_REASON_REASONS.includes(reason) ? rules.conditions.refuseNoReasonWhen : rules.conditions.refuseAnyWhen;
  const failed = flags.filter((f) => refuse.includes(f));
  if (failed.length === 0)
    return {
      ok: true,
      failed,
      reasons: [R("condition_ok", "商品状态符合退货要求", "The goods are in a returnable condition")],
    };
  const zh = failed.map((f) => CONDITION_WORDS[f][0]).join("、");
  const en = failed.map((f) => CONDITION_WORDS[f][1]).join(", ");
  return {
    ok: false,
    failed,
    reasons: [
      NO_REASON_REASONS.includes(reason)
        ? R("condition_failed", `商品${zh}，不支持七天无理由退货`, `The goods cannot be returned without a reason: ${en}`)
        : R("condition_failed", `商品${zh}，不属于质量问题`, `This is not a fault of the goods: ${en}`),
    ],
  };
}

function categoryZh(c: string): string {
  return (
    (
      {
        custom_made: "定制商品",
        perishable: "鲜活易腐",
        digital: "在线下载数字商品",
        periodical: "报纸期刊",
        hygiene_sealed: "拆封影响卫生",
        activation: "激活后价值贬损",
        clearance: "临期/瑕疵特价",
      } as Record<string, string>
    )[c] ?? c
  );
}

export interface Decision {
  outcome: "approve" | "refuse" | "manual";
  reasons: PolicyReason[];
}

/** What the policy does with a new request by itself: approve, refuse, or leave it to CS. */
export function decideSubmission(p: {
  rules: PolicyRules;
  type: CaseType;
  reason: Reason;
  options: TypeOption[];
  amount: number;
  orderShipped: boolean;
  riskFlag: boolean;
  riskReasons?: PolicyReason[];
  blocked?: boolean;
}): Decision {
  const refused = p.options.filter((o) => !o.allowed);
  if (refused.length > 0 && p.rules.auto.refuseOutsideWindows) {
    return { outcome: "refuse", reasons: refused.flatMap((o) => o.reasons) };
  }
  if (refused.length > 0) {
    // The shop leaves refusals to people: never approve by itself what the policy does not allow.
    return {
      outcome: "manual",
      reasons: [R("manual_review", "需客服审核", "A CS agent will review this request"), ...refused.flatMap((o) => o.reasons)],
    };
  }
  if (p.blocked)
    return {
      outcome: "manual",
      reasons: [R("blocklisted", "该买家在黑名单中，需人工审核", "The customer is on the blocklist; a person must review")],
    };
  if (p.riskFlag) {
    return {
      outcome: "manual",
      reasons: [
        R(
          "risk_flag",
          "该买家售后风险较高，暂停自动审批",
          "Automatic approval is suspended: this customer's after-sales record is flagged",
        ),
        ...(p.riskReasons ?? []),
      ],
    };
  }
  if (p.type === "refund_only" && !p.orderShipped && p.rules.auto.approveRefundOnlyBeforeShipping) {
    return {
      outcome: "approve",
      reasons: [R("auto_refund_before_shipping", "未发货仅退款，自动同意", "Refund before shipping: approved automatically")],
    };
  }
  const limit = p.rules.auto.approveNoReasonReturnUpTo;
  if (p.type === "return_refund" && NO_REASON_REASONS.includes(p.reason) && limit !== null && p.amount <= limit) {
    return {
      outcome: "approve",
      reasons: [
        ...p.options.flatMap((o) => o.reasons.filter((r) => r.code === "window_open")),
        R("auto_no_reason", "七天无理由退货，自动同意", "No-reason return within the window: approved automatically"),
      ],
    };
  }
  return {
    outcome: "manual",
    reasons: [R("manual_review", "需客服审核", "A CS agent will review this request"), ...p.options.flatMap((o) => o.reasons)],
  };
}

/**
 * Who most likely caused the problem, from the reason and what tracking and inspection showed.
 * `riskSignal` names what counts against the customer's record (abuse control).
 */
export function suggestResponsibility(
  reason: Reason,
  facts: { trackingDelivered?: boolean; inspection?: { matchesOrder?: boolean; grade?: string } } = {},
): { responsibility: Responsibility; note: string; riskSignal?: "not_received_but_delivered" | "return_mismatch" } {
  if (facts.inspection && facts.inspection.matchesOrder === false)
    return { responsibility: "customer", note: "the returned goods are not what was sent", riskSignal: "return_mismatch" };
  switch (reason) {
    case "wrong_item":
    case "missing_item":
    case "quality":
    case "not_as_described":
      return { responsibility: "supplier", note: `${reason.replaceAll("_", " ")} comes from the supplier's goods or packing` };
    case "damaged_in_transit":
      return { responsibility: "carrier", note: "damaged on the way" };
    case "changed_mind":
    case "size_fit":
      return { responsibility: "customer", note: "the customer's choice" };
    case "late_delivery":
      return { responsibility: "carrier", note: "late on the way" };
    case "not_received":
      return facts.trackingDelivered
        ? { responsibility: "undetermined", note: "tracking says delivered", riskSignal: "not_received_but_delivered" }
        : { responsibility: "carrier", note: "lost on the way" };
    default:
      return { responsibility: "undetermined", note: "to be determined by CS" };
  }
}

/** Who pays the return leg. */
export function returnFreightPayer(
  rules: PolicyRules,
  reason: Reason,
  responsibility: Responsibility,
): "customer" | "merchant" | "supplier" {
  if (responsibility === "supplier") return "supplier";
  if (responsibility === "merchant" || responsibility === "carrier") return "merchant";
  if (responsibility === "customer") return rules.freight.noReasonReturn === "merchant" ? "merchant" : "customer";
  return FAULT_REASONS.includes(reason) ? "merchant" : rules.freight.noReasonReturn;
}

/**
 * Whether the refund includes the order's outbound shipping: when the merchant side is responsible
 * and everything goes back, or when the policy refunds standard delivery on a full withdrawal.
 * A free-shipping order stays free (nothing to refund), and a partial return never refunds it; a
 * partial no-reason return that drops a free-shipping order below its threshold gives back the
 * shipping it no longer earns (`deductShipping`, taken off the refund).
 */
export function refundsShipping(p: {
  rules: PolicyRules;
  reason: Reason;
  responsibility: Responsibility;
  fullReturn: boolean;
  /** The shipping the customer paid on the order (minor units); 0 or absent on a free-shipping order. */
  shippingFee?: number;
  freeShipping?: boolean;
  /** Whether what the customer keeps still meets the free-shipping threshold (free-shipping orders). */
  thresholdStillMet?: boolean;
}): { refund: boolean; deductShipping: number; reason: PolicyReason } {
  const fee = p.shippingFee ?? 0;
  const merchantSide =
    ["supplier", "merchant", "carrier"].includes(p.responsibility) || (p.responsibility === "undetermined" && isFault(p.reason));
  if (p.freeShipping || fee === 0) {
    if (
      !p.fullReturn &&
      !merchantSide &&
      p.thresholdStillMet === false &&
      p.rules.freight.partialReturnLosesFreeShipping &&
      p.rules.freight.standardShippingFee > 0
    ) {
      const yuan = (p.rules.freight.standardShippingFee / 100).toFixed(2);
      return {
        refund: false,
        deductShipping: p.rules.freight.standardShippingFee,
        reason: R(
          "free_shipping_lost",
          `部分退货后未达包邮门槛，退款扣除运费 ¥${yuan}`,
          `After this partial return the order no longer qualifies for free shipping: ¥${yuan} shipping is deducted`,
        ),
      };
    }
    return {
      refund: false,
      deductShipping: 0,
      reason: R("free_shipping", "订单包邮，无运费可退", "The order shipped free; there is no shipping to refund"),
    };
  }
  if (!p.fullReturn)
    return {
      refund: false,
      deductShipping: 0,
      reason: R("partial_return_shipping", "部分退货不退运费", "Shipping is not refunded on a partial return"),
    };
  if (merchantSide) {
    return {
      refund: true,
      deductShipping: 0,
      reason: R(
        "shipping_refunded_fault",
        "商家责任，全额退货退还运费",
        "The merchant side is responsible: the shipping is refunded with a full return",
      ),
    };
  }
  if (p.rules.freight.refundShippingOnNoReasonFullReturn) {
    return {
      refund: true,
      deductShipping: 0,
      reason: R("shipping_refunded_withdrawal", "全部退货，退还标准运费", "Full withdrawal: the standard delivery cost is refunded"),
    };
  }
  return {
    refund: false,
    deductShipping: 0,
    reason: R("shipping_not_refunded", "无理由退货不退运费", "Shipping is not refunded on a no-reason return"),
  };
}

export type FreightPayer = "customer" | "merchant" | "supplier";

/**
 * Who pays each freight leg of a case: the return leg (customer → supplier or warehouse) and, for
 * an exchange, repair or reship, the leg back to the customer; and whether the customer, having
 * paid the return up front, gets that freight refunded.
 */
export function freightPlan(
  rules: PolicyRules,
  reason: Reason,
  responsibility: Responsibility,
  type: CaseType,
): { returnLeg: FreightPayer | null; resendLeg: FreightPayer | null; refundCustomerReturnFreight: boolean; reasons: PolicyReason[] } {
  const needsReturn = type === "return_refund" || type === "exchange" || type === "repair";
  const resends = type === "exchange" || type === "repair" || type === "reship";
  const customerSide = responsibility === "customer" || (responsibility === "undetermined" && !isFault(reason));
  if (!customerSide) {
    const payer: FreightPayer = responsibility === "supplier" ? "supplier" : "merchant";
    return {
      returnLeg: needsReturn ? payer : null,
      resendLeg: resends ? payer : null,
      refundCustomerReturnFreight: needsReturn,
      reasons: [
        R(
          "freight_merchant",
          "商家（或供应商）责任：来回运费由商家承担，买家垫付的退货运费将退还",
          "The merchant side is responsible: it pays both ways and refunds the return freight the customer paid",
        ),
      ],
    };
  }
  if (type === "exchange") {
    const mode = rules.freight.noReasonExchange;
    const returnLeg: FreightPayer = mode === "merchant" ? "merchant" : "customer";
    const resendLeg: FreightPayer = mode === "customer_both" ? "customer" : "merchant";
    return {
      returnLeg,
      resendLeg,
      refundCustomerReturnFreight: false,
      reasons: [
        mode === "customer_both"
          ? R("freight_customer", "无理由换货：买家承担往返运费", "No-reason exchange: the customer pays the shipping both ways")
          : mode === "customer_return_only"
            ? R(
                "freight_customer",
                "无理由换货：买家承担寄回运费，商家承担重发运费",
                "No-reason exchange: the customer pays the return, the merchant the resend",
              )
            : R("freight_merchant", "换货运费由商家承担", "The merchant pays the exchange shipping"),
      ],
    };
  }
  const returnLeg: FreightPayer = rules.freight.noReasonReturn === "merchant" ? "merchant" : "customer";
  return {
    returnLeg: needsReturn ? returnLeg : null,
    resendLeg: resends ? "customer" : null,
    refundCustomerReturnFreight: false,
    reasons: [
      returnLeg === "customer"
        ? R("freight_customer", "退货运费由买家承担", "The customer pays the return shipping")
        : R("freight_merchant", "退货运费由商家承担", "The merchant pays the return shipping"),
    ],
  };
}

/**
 * Refund without return ("keep the item"): when the goods are worth at most the policy's amount,
 * or when shipping them back would cost the merchant more than they are worth.
 */
export function keepItemDecision(p: { rules: PolicyRules; itemPaid: number; returnFreight: number; merchantPaysReturn: boolean }): {
  keep: boolean;
  reason: PolicyReason | null;
} {
  const limit = p.rules.auto.keepItemUpTo;
  if (limit !== null && p.itemPaid <= limit) {
    const yuan = (limit / 100).toFixed(2);
    return {
      keep: true,
      reason: R("keep_item_low_value", `商品金额不超过 ¥${yuan}，无需退回，直接退款`, `Worth ¥${yuan} or less: refunded without return`),
    };
  }
  if (p.rules.auto.keepItemWhenReturnCostsMore && p.merchantPaysReturn && p.returnFreight > p.itemPaid) {
    return {
      keep: true,
      reason: R(
        "keep_item_freight",
        "退回运费高于商品价值，无需退回，直接退款",
        "Shipping it back would cost more than the item: refunded without return",
      ),
    };
  }
  return { keep: false, reason: null };
}
