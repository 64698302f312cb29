import type { z } from "zod";
import { orderView } from "../orders/order.view.js";
import { signPortalToken } from "../platform/auth.js";
import type { Actor, Deps } from "../platform/context.js";
import { AppError } from "../platform/errors.js";
import { type Backoff, checkBackoff, clearFailures, rateLimit, recordFailure } from "../platform/rate-limit.js";
import type { LookupBody } from "./portal.routes.js";

// The customer portal's own reads: finding the order a customer owns, and that order as they see it.

const LOOKUP_BACKOFF: Backoff = { free: 5, firstDelaySeconds: 1, maxDelaySeconds: 30, forgetAfterSeconds: 900 };

/** The order matching its number and the phone's last four digits (or the email), and a token that reaches only it. */
export async function lookupOrder(deps: Deps, ip: string, b: z.infer<typeof LookupBody>) {
  if (!b.phoneLast4 && !b.email)
    throw new AppError(
      "validation_failed",
      { en: "phoneLast4: give the last 4 digits of the phone, or the email", "zh-CN": "请填写手机号后 4 位或邮箱" },
      { fields: [{ field: "phoneLast4", message: "phoneLast4 or email required", zh: "请填写手机号后 4 位或邮箱" }] },
    );
  // Per address a fixed window; per order number an escalating wait after wrong answers
  // (at most 30 s), so guessing the last four digits is slow and the customer is never locked out.
  await rateLimit(deps, `portal:${ip}`, 20, 300);
  const orderKey = `portal-order:${b.platformOrderNo}`;
  await checkBackoff(deps, orderKey, LOOKUP_BACKOFF);
  const orders = await deps.db
    .selectFrom("orders as o")
    .innerJoin("tenants as t", "t.id", "o.tenant_id")
    .select(["o.id", "o.tenant_id", "o.customer", "t.portal_secret"])
    .where("o.platform_order_no", "=", b.platformOrderNo)
    .limit(20)
    .execute();
  const match = orders.find((o) => {
    const customer = o.customer as { phone?: string; email?: string } | null;
    const phone = String(customer?.phone ?? "").replace(/\D/g, "");
    if (b.phoneLast4) return phone.length >= 4 && phone.endsWith(b.phoneLast4);
    return String(customer?.email ?? "").toLowerCase() === b.email?.toLowerCase();
  });
  // The same answer for a wrong number and a wrong phone, so order numbers cannot be probed.
  if (!match) {
    await recordFailure(deps, orderKey, LOOKUP_BACKOFF);
    throw new AppError("not_found", {
      en: "no order matches this number and phone or email",
      "zh-CN": "没有找到与订单号和手机号（或邮箱）匹配的订单",
    });
  }
  await clearFailures(deps, orderKey);
  return { token: signPortalToken(match.portal_secret, match.tenant_id, match.id), orderId: match.id, expiresInSeconds: 7200 };
}

/** The customer's order: its lines, shipments and cases. */
export async function portalOrder(deps: Deps, a: Actor) {
  const orderId = a.orderId as string;
  const o = await orderView(deps.db, a, orderId);
  const cases = await deps.db
    .selectFrom("cases")
    .select(["id", "case_no", "type", "reason", "status", "created_at"])
    .where("order_id", "=", orderId)
    .orderBy("created_at")
    .execute();
  return {
    id: o.id,
    platformOrderNo: o.platformOrderNo,
    status: o.status,
    currency: o.currency,
    paidTotal: o.paidTotal,
    deliveredAt: o.deliveredAt,
    lines: o.lines.map((l) => ({
      id: l.id,
      skuCode: l.skuCode,
      title: l.title,
      quantity: l.quantity,
      paidAmount: l.paidAmount,
      isGift: l.isGift,
    })),
    shipments: o.supplierOrders.map((s) => ({
      carrier: s.carrier,
      trackingNo: s.trackingNo,
      status: s.status,
      shippedAt: s.shippedAt,
      deliveredAt: s.deliveredAt,
    })),
    cases: cases.map((c) => ({ id: c.id, caseNo: c.case_no, type: c.type, reason: c.reason, status: c.status, createdAt: c.created_at })),
  };
}
