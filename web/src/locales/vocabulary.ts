import { type Locale, VOCABULARY, type VocabularyList } from "../../../src/domain/vocabulary.js";

/**
 * The dictionary key under which each list of the domain vocabulary has its names: a case status
 * is t(`status.${status}`), a reason t(`reason.${reason}`). The names themselves come from the
 * vocabulary (src/domain/vocabulary.ts), never from the locale files.
 */
export const VOCABULARY_KEYS = {
  caseStatus: "status",
  caseType: "type",
  reason: "reason",
  responsibility: "party",
  inspectionGrade: "grade",
  disposition: "disposition",
  offerKind: "offerKind",
  conditionFlag: "pf.flag",
  complaintStatus: "cp.status",
  severity: "cp.sev",
  blocklistKind: "cp.kind",
  orderStatus: "orderStatus",
  supplierOrderStatus: "soStatus",
  carrier: "carrier",
  refundStatus: "refundStatus",
  refundKind: "refundKind",
  refundMethod: "refundMethod",
  claimStatus: "claimStatus",
  ledgerAccount: "account",
  role: "role",
} as const satisfies Record<VocabularyList, string>;

/** Every name of the vocabulary in one locale, as dictionary entries (`status.submitted` → 待审核). */
export function vocabularyTexts(locale: Locale): Record<string, string> {
  const out: Record<string, string> = {};
  for (const list of Object.keys(VOCABULARY_KEYS) as VocabularyList[]) {
    for (const [value, names] of Object.entries(VOCABULARY[list])) out[`${VOCABULARY_KEYS[list]}.${value}`] = names[locale];
  }
  return out;
}
