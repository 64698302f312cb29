import type { Selectable } from "kysely";
import { z } from "zod";
import type { Offers, Suppliers } from "../db/schema.js";
import { AddressSchema } from "../shops/shop.schemas.js";

/** A supplier's after-sales terms toward the merchant (overridable per offer). */
export const SupplierTermsSchema = z.strictObject({
  acceptsReturns: z.boolean().default(true),
  returnWindowDays: z.number().int().min(0).max(3650).default(7),
  returnsTo: z.enum(["supplier", "warehouse"]).default("supplier"),
  returnFreightPaidBy: z.enum(["supplier", "merchant", "by_responsibility"]).default("by_responsibility"),
  claimSettlement: z.enum(["refund", "statement_credit"]).default("statement_credit"),
  claimDeadlineDays: z.number().int().min(0).max(365).default(15),
  evidenceRequired: z
    .array(z.enum(["photo", "video", "unboxing_video", "tracking"]))
    .max(5)
    .default(["photo"]),
  coversCompensation: z.boolean().default(false),
});
export type SupplierTerms = z.infer<typeof SupplierTermsSchema>;
export const DEFAULT_TERMS: SupplierTerms = SupplierTermsSchema.parse({});

const supplierFields = {
  name: z.string().min(1).max(200),
  contactName: z.string().max(100).optional(),
  phone: z.string().max(40).optional(),
  email: z.string().email().max(200).optional(),
  returnAddress: AddressSchema.optional(),
  notes: z.string().max(2000).optional(),
  terms: SupplierTermsSchema.partial().optional(),
};
export const SupplierBody = z.strictObject({ ...supplierFields, active: z.boolean().default(true) });
/** PATCH bodies carry no defaults: a field left out stays as it is. */
export const SupplierPatch = z.strictObject({ ...supplierFields, name: supplierFields.name.optional(), active: z.boolean().optional() });

export const SkuBody = z.strictObject({
  skuCode: z.string().min(1).max(80),
  title: z.string().max(200).default(""),
  price: z.number().int().min(0).max(1e11),
  returnTo: z.enum(["supplier", "warehouse"]).optional(),
});
export const ProductBody = z.strictObject({
  title: z.string().min(1).max(300),
  category: z.string().min(1).max(60).default("general"),
  skus: z.array(SkuBody).min(1).max(200),
});

const offerFields = {
  supplierSku: z.string().max(100).optional(),
  cost: z.number().int().min(0).max(1e11),
  stock: z.number().int().min(0).max(1e9),
  leadTimeDays: z.number().int().min(0).max(365),
  priority: z.number().int().min(-1000).max(1000),
  active: z.boolean(),
  terms: SupplierTermsSchema.partial().optional(),
};
export const OfferBody = z.strictObject({
  ...offerFields,
  supplierId: z.string().uuid(),
  skuId: z.string().uuid(),
  leadTimeDays: offerFields.leadTimeDays.default(2),
  priority: offerFields.priority.default(0),
  active: offerFields.active.default(true),
});
export const OfferPatch = z.strictObject(offerFields).partial();

export const supplierOut = (s: Selectable<Suppliers>) => ({
  id: s.id,
  name: s.name,
  contactName: s.contact_name,
  phone: s.phone,
  email: s.email,
  returnAddress: s.return_address,
  notes: s.notes,
  active: s.active,
  terms: { ...DEFAULT_TERMS, ...(s.terms ?? {}) },
  /** The 90-day analytics score (0..1) and when the analytics job computed it; null before its first run. */
  score: s.score === null || s.score === undefined ? null : Number(s.score),
  scoredAt: s.score_at ?? null,
  createdAt: s.created_at,
  updatedAt: s.updated_at,
});

export const offerOut = (o: Selectable<Offers> & { sku_code?: string }) => ({
  id: o.id,
  supplierId: o.supplier_id,
  skuId: o.sku_id,
  skuCode: o.sku_code,
  supplierSku: o.supplier_sku,
  cost: Number(o.cost),
  stock: o.stock,
  leadTimeDays: o.lead_time_days,
  priority: o.priority,
  active: o.active,
  terms: o.terms ?? null,
  updatedAt: o.updated_at,
});
