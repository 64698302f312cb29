import type { z } from "zod";
import type { Actor, Deps } from "../platform/context.js";
import { keysetPage } from "../platform/list.js";
import type { RefundListQuery } from "./money.schemas.js";
import { refundOut } from "./refunds.js";

// Lists of refunds and of the coupons given as compensation.

export async function listRefunds(
  deps: Deps,
  a: Actor,
  f: Omit<z.infer<typeof RefundListQuery>, "cursor" | "limit">,
  cursor: string | undefined,
  limit: number,
) {
  let q = deps.db.selectFrom("refunds").selectAll().where("tenant_id", "=", a.tenantId);
  if (f.status) q = q.where("status", "=", f.status);
  if (f.orderId) q = q.where("order_id", "=", f.orderId);
  if (f.caseId) q = q.where("case_id", "=", f.caseId);
  if (f.kind) q = q.where("kind", "=", f.kind);
  const page = await keysetPage(q, "id", cursor, limit);
  return { ...page, items: page.items.map(refundOut) };
}

export async function listCoupons(deps: Deps, a: Actor, cursor: string | undefined, limit: number) {
  const q = deps.db.selectFrom("coupons").selectAll().where("tenant_id", "=", a.tenantId);
  const page = await keysetPage(q, "id", cursor, limit);
  return {
    ...page,
    items: page.items.map((x) => ({
      id: x.id,
      code: x.code,
      amount: Number(x.amount),
      caseId: x.case_id,
      customerId: x.customer_id,
      expiresAt: x.expires_at,
      usedAt: x.used_at,
    })),
  };
}
