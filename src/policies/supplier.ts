import type { SupplierTerms } from "../catalog/catalog.schemas.js";
import { keepItemDecision, type PolicyReason, suggestResponsibility } from "./engine.js";
import { type CaseType, isFault, type PolicyRules, type Reason, type Responsibility } from "./rules.js";
import { windowEnd } from "./time.js";

/**
 * What the supplier will cover for a case under its after-sales terms, and warnings when the
 * merchant is about to promise the customer more than that.
 */
export function checkSupplierTerms(
  terms: SupplierTerms,
  c: {
    reason: Reason;
    type: CaseType;
    /** Defaults to the responsibility suggested by the reason. */
    responsibility?: Responsibility;
    deliveredAt: Date | null;
    at: Date;
    timezone: string;
    /** Photos and videos on the case; unknown counts as none. */
    evidenceCount?: number;
  },
): { covers: { goods: boolean; returnFreight: boolean; compensation: boolean }; warnings: PolicyReason[] } {
  const warnings: PolicyReason[] = [];
  const responsibility = c.responsibility ?? suggestResponsibility(c.reason).responsibility;
  const supplierFault =
    responsibility === "supplier" || (responsibility === "undetermined" && isFault(c.reason) && c.reason !== "damaged_in_transit");
  const needsReturn = ["return_refund", "exchange", "repair"].includes(c.type);
  let goods = supplierFault;
  if (needsReturn && !terms.acceptsReturns) {
    goods = false;
    warnings.push({
      code: "supplier_no_returns",
      message: "供应商不接受退货：退回的商品需商家自行处理",
      messageEn: "The supplier accepts no returns: the merchant keeps what comes back",
    });
  }
  if (needsReturn && terms.acceptsReturns && c.deliveredAt) {
    const w = windowEnd(c.deliveredAt, terms.returnWindowDays, c.timezone);
    if (c.at > w.end) {
      warnings.push({
        code: "supplier_return_window_closed",
        message: `供应商退货期已于 ${w.lastDay} 结束：退回的商品可能需商家自行处理`,
        messageEn: `The supplier's return window ended on ${w.lastDay}: the merchant may have to keep what comes back`,
      });
    }
  }
  if (c.deliveredAt && supplierFault) {
    const w = windowEnd(c.deliveredAt, terms.claimDeadlineDays, c.timezone);
    if (c.at > w.end) {
      goods = false;
      warnings.push({
        code: "supplier_claim_window_closed",
        message: `供应商索赔期已于 ${w.lastDay} 结束`,
        messageEn: `The supplier's claim window ended on ${w.lastDay}`,
      });
    }
  }
  if (
    supplierFault &&
    terms.evidenceRequired.some((e) => e === "photo" || e === "video" || e === "unboxing_video") &&
    (c.evidenceCount ?? 0) === 0
  ) {
    warnings.push({
      code: "supplier_evidence_missing",
      message: `供应商索赔需要凭证：${terms.evidenceRequired.join("、")}`,
      messageEn: `The supplier needs evidence for a claim: ${terms.evidenceRequired.join(", ")}`,
    });
  }
  if (!supplierFault && c.type !== "compensation") {
    warnings.push({
      code: "merchant_bears_cost",
      message: "非供应商责任，费用由商家承担",
      messageEn: "Not the supplier's fault: the merchant bears the cost",
    });
  }
  const returnFreight = supplierFault && (terms.returnFreightPaidBy === "supplier" || terms.returnFreightPaidBy === "by_responsibility");
  return { covers: { goods, returnFreight: returnFreight && goods, compensation: supplierFault && terms.coversCompensation }, warnings };
}

export interface ResolutionOption {
  type: "full_return" | "refund_keep_item" | "partial_refund" | "exchange" | "reship";
  allowed: boolean;
  /** Net cost to the merchant in minor units, after what the supplier reimburses. */
  netCost: number;
  breakdown: { refund: number; freight: number; goods: number; recovered: number };
}

/** Which settlements each case type the policy allows makes possible. */
function allowedFromTypes(types: CaseType[]): Partial<Record<ResolutionOption["type"], boolean>> {
  return {
    full_return: types.includes("return_refund"),
    refund_keep_item: types.includes("refund_only") || types.includes("return_refund"),
    partial_refund: types.includes("compensation") || types.includes("refund_only"),
    exchange: types.includes("exchange"),
    reship: types.includes("reship"),
  };
}

/**
 * The cost to the merchant of each way to settle a case, after supplier reimbursement and freight,
 * and the cheapest one the policy allows. With `rules`, `autoKeepItem` tells whether the policy
 * settles it by refunding without return on its own (cheap goods, or a return dearer than the goods).
 */
export function resolutionOptions(p: {
  itemPaid: number;
  itemCost: number;
  returnFreight: number;
  forwardFreight: number;
  merchantPaysReturn?: boolean;
  supplierCovers: { goods: boolean; returnFreight: boolean };
  /** Settlements allowed, by name; or derive them from the case types the policy allows. */
  allowed?: Partial<Record<ResolutionOption["type"], boolean>>;
  allowedTypes?: CaseType[];
  rules?: PolicyRules;
  partialRefundShare?: number;
}): {
  options: ResolutionOption[];
  recommended: ResolutionOption["type"] | null;
  autoKeepItem: boolean;
  reasons: PolicyReason[];
} {
  const merchantPaysReturn = p.merchantPaysReturn ?? true;
  const allowedMap = p.allowed ?? allowedFromTypes(p.allowedTypes ?? []);
  const retFreight = merchantPaysReturn ? p.returnFreight : 0;
  const recoveredGoods = p.supplierCovers.goods ? p.itemCost : 0;
  const recoveredFreight = p.supplierCovers.returnFreight ? retFreight : 0;
  const share = p.partialRefundShare ?? 0.3;
  const mk = (type: ResolutionOption["type"], refund: number, freight: number, goods: number, recovered: number): ResolutionOption => ({
    type,
    allowed: allowedMap[type] ?? false,
    netCost: refund + freight + goods - recovered,
    breakdown: { refund, freight, goods, recovered },
  });
  const options = [
    mk("full_return", p.itemPaid, retFreight, 0, recoveredGoods + recoveredFreight),
    mk("refund_keep_item", p.itemPaid, 0, 0, recoveredGoods),
    mk("partial_refund", Math.round(p.itemPaid * share), 0, 0, p.supplierCovers.goods ? Math.round(p.itemCost * share) : 0),
    mk("exchange", 0, retFreight + p.forwardFreight, p.itemCost, recoveredGoods + recoveredFreight),
    mk("reship", 0, p.forwardFreight, p.itemCost, recoveredGoods),
  ];
  const keep = p.rules
    ? keepItemDecision({ rules: p.rules, itemPaid: p.itemPaid, returnFreight: p.returnFreight, merchantPaysReturn })
    : { keep: false, reason: null };
  const allowed = options.filter((o) => o.allowed).sort((a, b) => a.netCost - b.netCost);
  const autoKeepItem = keep.keep && (allowedMap.refund_keep_item ?? false);
  return {
    options,
    recommended: autoKeepItem ? "refund_keep_item" : (allowed[0]?.type ?? null),
    autoKeepItem,
    reasons: keep.reason ? [keep.reason] : [],
  };
}
