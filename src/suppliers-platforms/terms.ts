import { caseEvent } from "../after-sales/case.repo.js";
import { DEFAULT_TERMS, type SupplierTerms } from "../catalog/catalog.schemas.js";
import type { Deps, DomainEvent } from "../platform/context.js";
import type { Executor, Tx } from "../platform/db.js";
import type { Reason } from "../policies/rules.js";
import { checkSupplierTerms } from "../policies/supplier.js";
import { platformFor } from "./channel.repo.js";
import { cdb } from "./platform.js";

/**
 * A supplier reached through a platform answers claims under the platform's own after-sales terms
 * (1688: returns within 7 days of receipt, refunds within 15, vouchers for quality and damage;
 * CJ: disputes within 30 days of delivery, photos, no returns taken back), not only the terms
 * agreed with the supplier. When a case opens, those terms are checked like the supplier's, and
 * what the platform will not reimburse goes on the case's timeline (`platform_terms`) in both
 * languages, so the merchant knows before promising the customer more.
 */
const NAMES: Record<string, { zh: string; en: string }> = {
  alibaba1688: { zh: "1688", en: "1688" },
  cj: { zh: "CJ", en: "CJdropshipping" },
};

export async function platformTermsOf(ex: Executor, tenantId: string, caseId: string) {
  // One statement, which finds nothing for the usual case (a supplier reached without a platform).
  const c = await cdb(ex)
    .selectFrom("cases as c")
    .innerJoin("orders as o", "o.id", "c.order_id")
    .innerJoin("shops as sh", "sh.id", "c.shop_id")
    .innerJoin("supplier_channels as ch", (j) => j.onRef("ch.supplier_id", "=", "c.supplier_id").onRef("ch.tenant_id", "=", "c.tenant_id"))
    .innerJoin("connectors as k", "k.id", "ch.connector_id")
    .select(["c.reason", "c.type", "c.created_at", "o.delivered_at", "sh.timezone", "ch.kind", "k.config"])
    .select((eb) =>
      eb.selectFrom("evidence as v").select(eb.fn.countAll<string>().as("n")).whereRef("v.case_id", "=", "c.id").as("evidence_count"),
    )
    .where("c.tenant_id", "=", tenantId)
    .where("c.id", "=", caseId)
    .executeTakeFirst();
  const platform = c && platformFor(c.kind);
  if (!c || !platform?.terms) return null;
  const settings: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries((c.config ?? {}) as Record<string, unknown>)) settings[k] = v == null ? undefined : String(v);
  const terms: SupplierTerms = { ...DEFAULT_TERMS, ...platform.terms(settings) };
  const check = checkSupplierTerms(terms, {
    reason: c.reason as Reason,
    type: c.type,
    deliveredAt: c.delivered_at ? new Date(c.delivered_at) : null,
    at: new Date(c.created_at),
    timezone: c.timezone,
    evidenceCount: Number(c.evidence_count ?? 0),
  });
  const name = NAMES[c.kind] ?? { zh: c.kind, en: c.kind };
  return {
    platform: c.kind,
    terms,
    covers: check.covers,
    warnings: check.warnings.map((w) => ({
      code: w.code,
      message: `${name.zh} 平台条款：${w.message}`,
      messageEn: `${name.en} terms: ${w.messageEn}`,
    })),
  };
}

export async function platformTermsSink(deps: Deps, tx: Tx, e: DomainEvent) {
  if (e.type !== "case.submitted") return;
  const t = await platformTermsOf(tx, e.tenantId, e.entityId);
  if (!t) return;
  const note = t.warnings.length
    ? t.warnings.map((w) => `${w.message} / ${w.messageEn}`).join("\n")
    : `${NAMES[t.platform]?.zh ?? t.platform} 平台条款可覆盖此售后 / ${NAMES[t.platform]?.en ?? t.platform} terms cover this case`;
  await caseEvent(tx, {
    tenantId: e.tenantId,
    caseId: e.entityId,
    action: "platform_terms",
    actorType: "system",
    actorId: "supplier-platform",
    note: note.slice(0, 4000),
    data: { platform: t.platform, covers: t.covers, warnings: t.warnings, terms: t.terms },
    at: deps.clock.now(),
  });
}
