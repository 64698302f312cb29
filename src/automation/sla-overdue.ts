import { sql } from "kysely";
import type { Deps } from "../platform/context.js";

/** What is past its deadline now, by kind: the body of `GET /api/v1/sla/overdue`. */
export interface SlaOverdueCounts {
  merchantResponse: number;
  customerReturnShipment: number;
  refundDue: number;
  supplierShipping: number;
  supplierClaimAnswer: number;
  /** Cases with a customer message past the policy's first-response SLA and no staff reply (as `cases?overdue=true`). */
  customerMessageResponse: number;
  /** Orders whose own thread (no case) holds such a message. */
  orderMessageResponse: number;
}

/**
 * Counts the tenant's overdue timers in one statement: the same conditions as the SLA sweep and
 * the inbox's `overdue=true` filter, so the dashboard's number and the list agree.
 */
export async function slaOverdueCounts(deps: Deps, tenantId: string): Promise<SlaOverdueCounts> {
  const now = deps.clock.now();
  const r = (
    await sql<Record<keyof SlaOverdueCounts, string | number>>`SELECT
      (SELECT count(*) FROM cases WHERE tenant_id = ${tenantId} AND status IN ('submitted', 'info_requested')
        AND response_due_at < ${now}) AS "merchantResponse",
      (SELECT count(*) FROM cases WHERE tenant_id = ${tenantId} AND status = 'awaiting_return'
        AND return_ship_due_at < ${now}) AS "customerReturnShipment",
      (SELECT count(*) FROM cases WHERE tenant_id = ${tenantId} AND status IN ('received', 'inspected', 'refund_pending')
        AND refund_due_at < ${now}) AS "refundDue",
      (SELECT count(*) FROM supplier_orders WHERE tenant_id = ${tenantId} AND status IN ('pending', 'accepted')
        AND ship_by < ${now}) AS "supplierShipping",
      (SELECT count(*) FROM supplier_claims WHERE tenant_id = ${tenantId} AND status = 'open'
        AND due_at < ${now}) AS "supplierClaimAnswer",
      (SELECT count(DISTINCT case_id) FROM messages WHERE tenant_id = ${tenantId} AND case_id IS NOT NULL
        AND answered_at IS NULL AND response_due_at < ${now}) AS "customerMessageResponse",
      (SELECT count(DISTINCT order_id) FROM messages WHERE tenant_id = ${tenantId} AND case_id IS NULL
        AND answered_at IS NULL AND response_due_at < ${now}) AS "orderMessageResponse"`.execute(deps.db)
  ).rows[0];
  return {
    merchantResponse: Number(r.merchantResponse),
    customerReturnShipment: Number(r.customerReturnShipment),
    refundDue: Number(r.refundDue),
    supplierShipping: Number(r.supplierShipping),
    supplierClaimAnswer: Number(r.supplierClaimAnswer),
    customerMessageResponse: Number(r.customerMessageResponse),
    orderMessageResponse: Number(r.orderMessageResponse),
  };
}
