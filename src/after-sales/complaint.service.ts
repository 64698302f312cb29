import type { Selectable } from "kysely";
import type { Complaints } from "../db/schema.js";
import type { COMPLAINT_STATUSES, SEVERITIES } from "../domain/vocabulary.js";
import { audit } from "../platform/audit.js";
import type { Actor, Deps } from "../platform/context.js";
import { invalidTransition, notFound, validation } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import { keysetPage } from "../platform/list.js";
import { COMPLAINT_MACHINE, type ComplaintAction } from "./complaint.states.js";

// Complaints (投诉): logged about an order or a case, answered within the severity's hours, taken,
// resolved and closed along COMPLAINT_MACHINE.

/** How many hours each severity gives to answer a complaint. */
export const COMPLAINT_SLA_HOURS = { low: 72, medium: 24, high: 8, critical: 2 } as const;

export const complaintOut = (c: Selectable<Complaints>) => ({
  id: c.id,
  orderId: c.order_id,
  caseId: c.case_id,
  severity: c.severity,
  status: c.status,
  ownerId: c.owner_id,
  subject: c.subject,
  description: c.description,
  resolution: c.resolution,
  dueAt: c.due_at,
  createdAt: c.created_at,
  allowedActions: COMPLAINT_MACHINE.allowed(c.status),
});

export async function listComplaints(
  deps: Deps,
  actor: Actor,
  q: { status?: (typeof COMPLAINT_STATUSES)[number]; cursor?: string; limit: number },
) {
  let sel = deps.db.selectFrom("complaints").selectAll().where("tenant_id", "=", actor.tenantId);
  if (q.status) sel = sel.where("status", "=", q.status);
  const page = await keysetPage(sel, "id", q.cursor, q.limit);
  return { ...page, items: page.items.map(complaintOut) };
}

export interface ComplaintInput {
  orderId?: string;
  caseId?: string;
  severity: (typeof SEVERITIES)[number];
  subject: string;
  description: string;
  ownerId?: string;
}

export async function createComplaint(deps: Deps, actor: Actor, b: ComplaintInput) {
  if (!b.orderId && !b.caseId) throw validation("orderId", "a complaint is about an order or a case");
  const db = deps.db;
  if (
    b.orderId &&
    !(await db.selectFrom("orders").select("id").where("tenant_id", "=", actor.tenantId).where("id", "=", b.orderId).executeTakeFirst())
  )
    throw notFound("order");
  if (
    b.caseId &&
    !(await db.selectFrom("cases").select("id").where("tenant_id", "=", actor.tenantId).where("id", "=", b.caseId).executeTakeFirst())
  )
    throw notFound("case");
  const row = await db
    .insertInto("complaints")
    .values({
      id: newId(),
      tenant_id: actor.tenantId,
      order_id: b.orderId ?? null,
      case_id: b.caseId ?? null,
      severity: b.severity,
      status: b.ownerId ? "assigned" : "open",
      owner_id: b.ownerId ?? null,
      subject: b.subject,
      description: b.description,
      due_at: new Date(deps.clock.now().getTime() + COMPLAINT_SLA_HOURS[b.severity] * 3600_000),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await audit(db, actor, "complaint.create", "complaint", row.id, undefined, complaintOut(row));
  return complaintOut(row);
}

export async function runComplaintAction(
  deps: Deps,
  actor: Actor,
  id: string,
  name: ComplaintAction,
  b: { ownerId?: string; resolution?: string },
) {
  return deps.db.transaction().execute(async (tx) => {
    const c = await tx
      .selectFrom("complaints")
      .selectAll()
      .where("tenant_id", "=", actor.tenantId)
      .where("id", "=", id)
      .forUpdate()
      .executeTakeFirst();
    if (!c) throw notFound("complaint");
    const to = COMPLAINT_MACHINE.next(c.status, name);
    if (!to) throw invalidTransition("complaint", name, c.status, COMPLAINT_MACHINE.allowed(c.status));
    const now = deps.clock.now();
    const after = await tx
      .updateTable("complaints")
      .set({
        status: to,
        ...(name === "assign" && { owner_id: b.ownerId }),
        ...(name === "resolve" && { resolution: b.resolution, resolved_at: now }),
        ...(name === "close" && { closed_at: now }),
      })
      .where("id", "=", c.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(tx, actor, `complaint.${name}`, "complaint", c.id, { status: c.status }, { status: to, ...b });
    return complaintOut(after);
  });
}
