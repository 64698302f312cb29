import { audit } from "../platform/audit.js";
import type { Actor, Deps } from "../platform/context.js";
import type { Tx } from "../platform/db.js";
import { notFound, validation } from "../platform/errors.js";
import { newId, randomToken } from "../platform/ids.js";
import { post } from "./ledger.js";
import { createOrderRefund } from "./refunds.js";

const DAY = 86_400_000;
/** How long a compensation coupon stays valid. */
export const COUPON_VALID_DAYS = 90;

export type CompensationResult =
  | { kind: "coupon"; couponId: string; code: string; amount: number; expiresAt: Date }
  | { kind: "partial_refund"; refundId: string; amount: number }
  | { kind: "gift"; amount: number };

/**
 * Gives a customer compensation for a case inside the caller's transaction:
 * - `coupon`: a single-use coupon (posting `coupon_issued`: compensation_expense / coupons_outstanding);
 * - `partial_refund`: a compensation refund within what remains refundable; the caller sends it
 *   to the gateway after commit with `executeRefund(deps, refundId)`;
 * - `gift`: goods shipped with a reship; no money moves here (the gift's cost arrives with the
 *   supplier order that carries it).
 */
export async function issueCompensation(
  deps: Deps,
  tx: Tx,
  actor: Actor,
  caseId: string,
  input: { kind: "coupon" | "partial_refund" | "gift"; amount: number },
): Promise<CompensationResult> {
  if (!Number.isSafeInteger(input.amount) || input.amount < 0) throw validation("amount", "must be a whole number of fen, not negative");
  const c = await tx
    .selectFrom("cases")
    .select(["id", "order_id", "case_no"])
    .where("tenant_id", "=", actor.tenantId)
    .where("id", "=", caseId)
    .executeTakeFirst();
  if (!c) throw notFound("case");
  const order = await tx
    .selectFrom("orders")
    .select(["currency", "customer_id", "shop_id"])
    .where("id", "=", c.order_id)
    .executeTakeFirstOrThrow();
  const now = deps.clock.now();
  if (input.kind === "gift") {
    await audit(tx, actor, "compensation.gift", "case", caseId, undefined, input);
    return { kind: "gift", amount: input.amount };
  }
  if (input.amount <= 0) throw validation("amount", "compensation needs an amount of at least 1");
  if (input.kind === "partial_refund") {
    const r = await createOrderRefund(tx, deps, actor, {
      orderId: c.order_id,
      caseId,
      amount: input.amount,
      kind: "compensation",
      reason: `compensation for ${c.case_no}`,
    });
    await audit(tx, actor, "compensation.partial_refund", "case", caseId, undefined, { refundId: r.id, amount: r.amount });
    return { kind: "partial_refund", refundId: r.id, amount: r.amount };
  }
  const couponId = newId();
  const code = `DD${randomToken(6)
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, "7")}`;
  const expiresAt = new Date(now.getTime() + COUPON_VALID_DAYS * DAY);
  await tx
    .insertInto("coupons")
    .values({
      id: couponId,
      tenant_id: actor.tenantId,
      shop_id: order.shop_id,
      customer_id: order.customer_id,
      case_id: caseId,
      code,
      amount: input.amount,
      expires_at: expiresAt,
      created_at: now,
    })
    .execute();
  await post(tx, {
    tenantId: actor.tenantId,
    code: "coupon_issued",
    currency: order.currency,
    orderId: c.order_id,
    caseId,
    sourceKey: `coupon:${couponId}`,
    memo: `compensation coupon for ${c.case_no}`,
    at: now,
    entries: [
      { account: "compensation_expense", amount: input.amount },
      { account: "coupons_outstanding", amount: -input.amount },
    ],
  });
  await audit(tx, actor, "compensation.coupon", "case", caseId, undefined, { couponId, amount: input.amount });
  return { kind: "coupon", couponId, code, amount: input.amount, expiresAt };
}
