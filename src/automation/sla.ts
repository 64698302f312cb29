import { sql } from "kysely";
import { runCaseAction } from "../after-sales/case.service.js";
import { sweepUnansweredMessages } from "../conversations/messages.service.js";
import { runClaimAction } from "../money/claim.service.js";
import { type Actor, type Deps, emit } from "../platform/context.js";
import { loadPolicyById } from "../policies/policy.repo.js";

const system = (tenantId: string): Actor => ({ kind: "system", id: "sla", tenantId, role: "system", locale: "zh-CN" });

/**
 * Fires every deadline that has passed by `deps.clock`: each once, because every action re-checks
 * the state it acts on (a case approved by hand is no longer "submitted") and alerts carry a marker
 * claimed atomically. Timers are rows, so they survive restarts; a state change moves or ends them.
 */
export async function runSlaSweep(deps: Deps): Promise<{ fired: string[] }> {
  const now = deps.clock.now();
  const fired: string[] = [];
  const db = deps.db;

  // The merchant did not answer in time: approve or escalate, as the shop's policy says.
  const late = await db
    .selectFrom("cases")
    .select(["id", "tenant_id", "policy_id", "status", "escalated"])
    .where("status", "in", ["submitted", "info_requested"])
    .where("response_due_at", "<", now)
    .limit(500)
    .execute();
  for (const c of late) {
    const rules = c.policy_id ? (await loadPolicyById(db, c.tenant_id, c.policy_id)).rules : null;
    const onExpiry = rules?.sla.onResponseExpiry ?? "approve";
    try {
      if (onExpiry === "approve" && c.status === "submitted") {
        await runCaseAction(deps, system(c.tenant_id), c.id, "approve", {
          note: "商家未在时限内处理，系统自动同意 / approved automatically: no answer in time",
        });
        fired.push(`approve:${c.id}`);
      } else if (!c.escalated) {
        await runCaseAction(deps, system(c.tenant_id), c.id, "escalate", { note: "处理超时 / response overdue" });
        fired.push(`escalate:${c.id}`);
      }
    } catch {
      // Changed meanwhile by a person: the state check refused it, which is what we want.
    }
  }

  // The customer did not ship the return in time: the case closes.
  const noReturn = await db
    .selectFrom("cases")
    .select(["id", "tenant_id"])
    .where("status", "=", "awaiting_return")
    .where("return_ship_due_at", "<", now)
    .limit(500)
    .execute();
  for (const c of noReturn) {
    try {
      await runCaseAction(deps, system(c.tenant_id), c.id, "close", {
        note: "买家未在时限内寄回，售后关闭 / closed: the return was not shipped in time",
      });
      fired.push(`close:${c.id}`);
    } catch {}
  }

  // The refund is due after receiving the return: alert once, and refund where the policy allows.
  const due = await db
    .selectFrom("cases")
    .select(["id", "tenant_id", "policy_id", "status", "case_no", "order_id"])
    .where("status", "in", ["received", "inspected"])
    .where("refund_due_at", "<", now)
    .where(sql<boolean>`NOT (sla_fired ? 'refund_due')`)
    .limit(500)
    .execute();
  for (const c of due) {
    // The marker and the alert commit together: a failed alert leaves the timer to fire again.
    const claimed = await db.transaction().execute(async (tx) => {
      const r = await tx
        .updateTable("cases")
        .set({ sla_fired: sql`sla_fired || '{"refund_due":"fired"}'::jsonb` })
        .where("id", "=", c.id)
        .where(sql<boolean>`NOT (sla_fired ? 'refund_due')`)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      await emit(deps, tx, {
        type: "case.refund_overdue",
        tenantId: c.tenant_id,
        entityId: c.id,
        data: { caseNo: c.case_no, orderId: c.order_id },
        key: `case.refund_overdue:${c.id}`,
      });
      return true;
    });
    if (!claimed) continue;
    fired.push(`refund_due:${c.id}`);
    const rules = c.policy_id ? (await loadPolicyById(db, c.tenant_id, c.policy_id)).rules : null;
    if (rules?.sla.autoRefundWhenDue && c.status === "inspected") {
      try {
        await runCaseAction(deps, system(c.tenant_id), c.id, "refund", {});
        fired.push(`refund:${c.id}`);
      } catch {}
    }
  }

  // A supplier that has not shipped by its lead time: alert once.
  const lateShips = await db.transaction().execute(async (tx) => {
    const rows = await tx
      .updateTable("supplier_orders")
      .set({ late_alerted_at: now })
      .where("status", "in", ["pending", "accepted"])
      .where("ship_by", "<", now)
      .where("late_alerted_at", "is", null)
      .returning(["id", "tenant_id", "order_id", "supplier_id"])
      .execute();
    for (const so of rows)
      await emit(deps, tx, {
        type: "supplier_order.late",
        tenantId: so.tenant_id,
        entityId: so.id,
        data: { orderId: so.order_id, supplierId: so.supplier_id },
        key: `supplier_order.late:${so.id}`,
      });
    return rows;
  });
  for (const so of lateShips) fired.push(`late_ship:${so.id}`);

  // A complaint still open past the deadline its severity set: alert once (the owner, or the
  // team when nobody took it, hears through the event's webhooks and the console's red deadline).
  const overdueComplaints = await db.transaction().execute(async (tx) => {
    const rows = await tx
      .updateTable("complaints")
      .set({ overdue_alerted_at: now })
      .where("status", "in", ["open", "assigned"])
      .where("due_at", "<", now)
      .where("overdue_alerted_at", "is", null)
      .returning(["id", "tenant_id", "severity", "owner_id", "order_id", "case_id"])
      .execute();
    for (const c of rows)
      await emit(deps, tx, {
        type: "complaint.overdue",
        tenantId: c.tenant_id,
        entityId: c.id,
        data: { severity: c.severity, ownerId: c.owner_id, orderId: c.order_id, caseId: c.case_id },
        key: `complaint.overdue:${c.id}`,
      });
    return rows;
  });
  for (const c of overdueComplaints) fired.push(`complaint_overdue:${c.id}`);

  // A customer's message unanswered past the policy's first-response SLA: alert once.
  fired.push(...(await sweepUnansweredMessages(deps)));

  // A claim the supplier did not answer in time is accepted.
  const claims = await db
    .selectFrom("supplier_claims")
    .select(["id", "tenant_id"])
    .where("status", "=", "open")
    .where("due_at", "<", now)
    .limit(500)
    .execute();
  for (const cl of claims) {
    try {
      await runClaimAction(deps, system(cl.tenant_id), cl.id, "accept", {
        note: "供应商未在时限内答复，视为接受 / accepted: no answer in time",
      });
      fired.push(`claim_accept:${cl.id}`);
    } catch {}
  }
  return { fired };
}
