import { z } from "zod";
import { AddressSchema } from "../shops/shop.schemas.js";

const money = z.number().int().min(0).max(1e11);
export const PaymentSchema = z.strictObject({
  amount: money,
  method: z.string().min(1).max(40),
  reference: z.string().max(200).optional(),
  paidAt: z.string().datetime({ offset: true }).optional(),
});

export const OrderBody = z.strictObject({
  shopId: z.string().uuid(),
  platformOrderNo: z.string().min(1).max(100),
  customer: z.strictObject({
    name: z.string().max(100).optional(),
    phone: z.string().max(40).optional(),
    email: z.string().email().max(200).optional(),
  }),
  address: AddressSchema,
  lines: z
    .array(
      z.strictObject({
        skuCode: z.string().min(1).max(80),
        title: z.string().max(300).optional(),
        quantity: z.number().int().min(1).max(100000),
        unitPrice: money,
        discount: money.default(0),
        isGift: z.boolean().default(false),
        giftPrice: money.default(0),
        noReasonReturnWaived: z.boolean().default(false),
      }),
    )
    .min(1)
    .max(500),
  discounts: z
    .array(
      z.strictObject({
        kind: z.enum(["threshold", "coupon", "platform", "points"]),
        amount: z.number().int().min(1).max(1e11),
        threshold: money.optional(),
        code: z.string().max(100).optional(),
      }),
    )
    .max(20)
    .default([]),
  shippingFee: money.default(0),
  paid: PaymentSchema.optional(),
  payments: z.array(PaymentSchema).min(1).max(10).optional(),
  placedAt: z.string().datetime({ offset: true }).optional(),
});
export type OrderInput = z.infer<typeof OrderBody>;
/** The body of an order or supplier-order action as the routes validate it; each action reads its own fields. */
export type OrderActionInput = {
  reason?: string;
  address?: unknown;
  carrier?: string;
  trackingNo?: string;
  shippedAt?: string;
  deliveredAt?: string;
  note?: string;
};
