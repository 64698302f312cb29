import { z } from "zod";
import { REFUND_KINDS, REFUND_METHODS, REFUND_STATUSES } from "../domain/vocabulary.js";
import { pageQuery } from "../platform/list.js";

export const RefundListQuery = z.strictObject({
  ...pageQuery,
  status: z.enum(REFUND_STATUSES).optional(),
  orderId: z.string().uuid().optional(),
  caseId: z.string().uuid().optional(),
  kind: z.enum(REFUND_KINDS).optional(),
});

export const GoodwillBody = z.strictObject({
  amount: z.number().int().min(1).max(1e11),
  reason: z.string().min(1).max(500),
  method: z.enum(REFUND_METHODS).optional(),
});

export const PostingListQuery = z.strictObject({
  ...pageQuery,
  code: z.string().max(60).optional(),
  orderId: z.string().uuid().optional(),
  caseId: z.string().uuid().optional(),
  /** Postings at or after this moment (ISO date or date-time). */
  from: z.iso
    .date()
    .or(z.iso.datetime({ offset: true }))
    .optional(),
  /** Postings before this moment (ISO date or date-time). */
  to: z.iso
    .date()
    .or(z.iso.datetime({ offset: true }))
    .optional(),
});
