import type { TFunction } from "i18next";
import { carrierCode } from "../../src/domain/vocabulary";

/**
 * Names for the codes the API speaks that are not lists of the domain vocabulary: audit actions
 * (`case.approve`), ledger posting codes, timeline entries. A code nobody named yet shows as a
 * generic word, never as the code itself (the code stays in the element's title).
 */

/** Where each audited entity's verbs are named: a case's verbs are its actions' button labels. */
const VERB_KEYS: Record<string, string> = {
  case: "action",
  order: "orderAction",
  supplier_order: "soAction",
  claim: "claimAction",
  refund: "refundAction",
  complaint: "cp",
};

export function auditEntityName(t: TFunction, entity: string): string {
  return t(`audit.entity.${entity}`, { defaultValue: t("audit.entity.other") });
}

/** `case.approve` → 售后单 · 同意; `shop.update` → 店铺 · 修改. */
export function auditActionName(t: TFunction, code: string): string {
  const dot = code.indexOf(".");
  const entity = dot < 0 ? code : code.slice(0, dot);
  const verb = dot < 0 ? "" : code.slice(dot + 1);
  const generic = t(`audit.verb.${verb}`, { defaultValue: t("audit.verb.other") });
  const own = VERB_KEYS[entity];
  const verbName = own ? t(`${own}.${verb}`, { defaultValue: generic }) : generic;
  return `${auditEntityName(t, entity)} · ${verbName}`;
}

/** A ledger posting's code (`payment`, `claim_opened`, …). */
export const postingName = (t: TFunction, code: string) => t(`posting.${code}`, { defaultValue: t("posting.other") });

/** A timeline entry: a case action (`approve`) or an event (`refund_settled`, `evidence`). */
export const timelineName = (t: TFunction, action: string) => t(`action.${action}`, { defaultValue: t("action.other") });

/** A payment route (`alipay`, `balance`, …): payments come from platforms as free text, kept when unknown. */
export const payMethodName = (t: TFunction, method: string) =>
  t(`payMethod.${method}`, { defaultValue: t(`refundMethod.${method}`, { defaultValue: method }) });

/** A carrier by its name when it is one of the list (by code, name or alias); what was typed otherwise. */
export function carrierName(t: TFunction, carrier: string | null | undefined): string {
  const code = carrierCode(carrier);
  return code ? t(`carrier.${code}`) : (carrier ?? "—");
}
