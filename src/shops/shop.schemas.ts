import { z } from "zod";

export const AddressSchema = z.strictObject({
  name: z.string().max(100).optional(),
  phone: z.string().max(40).optional(),
  country: z.string().max(60).optional(),
  province: z.string().max(60).optional(),
  city: z.string().max(60).optional(),
  district: z.string().max(60).optional(),
  line1: z.string().max(300).optional(),
  line2: z.string().max(300).optional(),
  postalCode: z.string().max(20).optional(),
});

const shopFields = {
  name: z.string().min(1).max(100),
  platform: z.string().min(1).max(40),
  timezone: z.string().max(60),
  currency: z.string().regex(/^[A-Z]{3}$/, "a three-letter ISO code such as CNY"),
  warehouseAddress: AddressSchema.optional(),
  /** Among offers of equal priority, forward to the supplier with the better analytics score first. */
  routeBySupplierScore: z.boolean().optional(),
};
export const ShopBody = z.strictObject({
  ...shopFields,
  timezone: shopFields.timezone.default("Asia/Shanghai"),
  currency: shopFields.currency.default("CNY"),
});
// PATCH carries no defaults: a field left out stays as it is.
export const ShopPatch = z.strictObject(shopFields).partial();
