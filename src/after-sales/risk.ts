import { sql } from "kysely";
import type { Executor } from "../platform/db.js";
import { precompiled } from "../platform/precompiled.js";
import type { PolicyReason } from "../policies/engine.js";

const DAY = 86400_000;

/** One customer's refund-only, "not received but delivered" and mismatched-return cases since a day. */
const riskCounts = precompiled((db, p: { tenantId: string; customerId: string; since: Date }) =>
  db
    .selectFrom("cases as c")
    .leftJoin("orders as o", "o.id", "c.order_id")
    .select([
      (eb) => eb.fn.count<number>("c.id").filterWhere("c.type", "=", "refund_only").as("refund_only"),
      (eb) =>
        eb.fn
          .count<number>("c.id")
          .filterWhere("c.reason", "=", "not_received")
          .filterWhere("o.delivered_at", "is not", null)
          .as("not_received_delivered"),
      (eb) =>
        eb.fn
          .count<number>("c.id")
          .filterWhere(sql<string>`${sql.ref("c.inspection")}->>'matchesOrder'`, "=", "false")
          .as("mismatched"),
    ])
    .where("c.tenant_id", "=", p.tenantId)
    .where("c.customer_id", "=", p.customerId)
    .where("c.created_at", ">=", p.since)
    .where("c.status", "not in", ["cancelled"]),
);

/**
 * Refund-only abuse signals for one customer over the last 90 days: many refund-only cases or a
 * large refund-only amount, "not received" on parcels tracked as delivered, returns that were not
 * what was sent. Any signal flags the customer and suspends automatic approval.
 */
export async function customerRisk(
  ex: Executor,
  tenantId: string,
  customerId: string | null,
  now: Date,
): Promise<{ flag: boolean; reasons: PolicyReason[] }> {
  if (!customerId) return { flag: false, reasons: [] };
  const since = new Date(now.getTime() - 90 * DAY);
  const [rows] = await riskCounts(ex, { tenantId, customerId, since });
  const refundOnly = Number(rows?.refund_only ?? 0);
  const notReceived = Number(rows?.not_received_delivered ?? 0);
  const mismatched = Number(rows?.mismatched ?? 0);
  const reasons: PolicyReason[] = [];
  if (refundOnly >= 3)
    reasons.push({
      code: "risk_refund_only_count",
      message: `近90天仅退款 ${refundOnly} 次`,
      messageEn: `${refundOnly} refund-only requests in 90 days`,
    });
  if (notReceived >= 2)
    reasons.push({
      code: "risk_not_received_delivered",
      message: `物流已签收却称未收到 ${notReceived} 次`,
      messageEn: `${notReceived} "not received" claims on parcels tracked as delivered`,
    });
  if (mismatched >= 1)
    reasons.push({
      code: "risk_return_mismatch",
      message: "曾退回与订单不符的商品",
      messageEn: "Returned goods that did not match the order before",
    });
  return { flag: reasons.length > 0, reasons };
}
