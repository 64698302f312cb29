import { z } from "zod";
import { CONDITION_FLAGS, PolicyRulesSchema, REASONS } from "./rules.js";

const preset = z.enum(["cn_default", "eu_withdrawal"]);

export const PolicyBody = z.strictObject({ preset: preset.optional(), rules: PolicyRulesSchema.optional() });

/** `condition=seal_broken,tags_removed`: what the customer reports about the goods. */
const conditionQuery = z
  .string()
  .max(200)
  .regex(new RegExp(`^((${CONDITION_FLAGS.join("|")})(,|$))*$`), `comma-separated, among ${CONDITION_FLAGS.join(", ")}`)
  .optional();

export const EligibilityQuery = z.strictObject({
  reason: z.enum(REASONS).default("changed_mind"),
  at: z.string().datetime({ offset: true }).optional(),
  condition: conditionQuery,
});

export const PolicyPreviewBody = z.strictObject({
  preset: preset.optional(),
  rules: PolicyRulesSchema.optional(),
  orderId: z.string().uuid(),
  reason: z.enum(REASONS).default("changed_mind"),
  at: z.string().datetime({ offset: true }).optional(),
  condition: z.array(z.enum(CONDITION_FLAGS)).max(CONDITION_FLAGS.length).optional(),
});
