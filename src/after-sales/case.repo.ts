import type { Selectable } from "kysely";
import type { Blocklist } from "../db/schema.js";
import type { Actor } from "../platform/context.js";
import { type Executor, sendWithNext, type Tx } from "../platform/db.js";
import { notFound } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import { lockWithOrder } from "../platform/locks.js";
import { precompiled } from "../platform/precompiled.js";
import type { CaseRole } from "./case.states.js";

// The case's own SQL that more than one file needs: its timeline, its lock, the blocklist check.

export const roleOf = (a: Actor): CaseRole => (a.kind === "system" ? "system" : (a.role as CaseRole));

/** Whether the order's customer (by phone, e-mail or customer id) is on the shop's or the tenant's blocklist. */
export async function isBlocked(ex: Executor, tenantId: string, shopId: string, orderCustomer: unknown, customerId: string | null) {
  const customer = orderCustomer as { phone?: unknown; email?: unknown } | null;
  const values: [Selectable<Blocklist>["kind"], string][] = [];
  if (customer?.phone) values.push(["phone", String(customer.phone)]);
  if (customer?.email) values.push(["email", String(customer.email).toLowerCase()]);
  if (customerId) values.push(["customer", customerId]);
  if (!values.length) return false;
  const hit = await ex
    .selectFrom("blocklist")
    .select("id")
    .where("tenant_id", "=", tenantId)
    .where((eb) => eb.or([eb("shop_id", "is", null), eb("shop_id", "=", shopId)]))
    .where((eb) => eb.or(values.map(([k, v]) => eb.and([eb("kind", "=", k), eb("value", "=", v)]))))
    .executeTakeFirst();
  return Boolean(hit);
}

const insertCaseEvent = precompiled(
  (
    db,
    p: {
      id: string;
      tenant_id: string;
      case_id: string;
      action: string;
      actor_type: string;
      actor_id: string;
      from_status: string | null;
      to_status: string | null;
      note: string | null;
      data: string | null;
      at: Date;
    },
  ) =>
    sendWithNext(
      db.insertInto("case_events").values({
        id: p.id,
        tenant_id: p.tenant_id,
        case_id: p.case_id,
        action: p.action,
        actor_type: p.actor_type,
        actor_id: p.actor_id,
        from_status: p.from_status,
        to_status: p.to_status,
        note: p.note,
        data: p.data,
        at: p.at,
      }),
    ),
);

/** One entry on a case's timeline. Every writer of case_events goes through here; nothing waits for it (see WITH_NEXT). */
export async function caseEvent(
  ex: Executor,
  e: {
    tenantId: string;
    caseId: string;
    action: string;
    /** A staff role, `customer`, `supplier` or `system`. */
    actorType: string;
    actorId: string;
    note?: string | null;
    data?: unknown;
    from?: string | null;
    to?: string | null;
    at: Date;
  },
) {
  await insertCaseEvent(ex, {
    id: newId(),
    tenant_id: e.tenantId,
    case_id: e.caseId,
    action: e.action,
    actor_type: e.actorType,
    actor_id: e.actorId,
    from_status: e.from ?? null,
    to_status: e.to ?? null,
    note: e.note ?? null,
    data: e.data === undefined ? null : JSON.stringify(e.data),
    at: e.at,
  });
}

/** Who the actor is on a timeline: its staff role, or its kind (customer, supplier, system). */
export const actorType = (actor: Actor) => (actor.kind === "user" || actor.kind === "token" ? String(actor.role) : actor.kind);

/** One entry on the case's timeline by this actor. */
export async function writeEvent(
  tx: Tx,
  actor: Actor,
  caseId: string,
  action: string,
  from: string | null,
  to: string | null,
  note: string | null,
  data: unknown,
  at: Date,
) {
  await caseEvent(tx, {
    tenantId: actor.tenantId,
    caseId,
    action,
    actorType: actorType(actor),
    actorId: actor.id,
    note,
    data,
    from,
    to,
    at,
  });
}

/** Locks the case's order and then the case (the lock order of src/platform/locks.ts) and reads it. */
export async function lockCase(tx: Tx, actor: Actor, caseId: string) {
  const scope = actor.role === "customer" ? { tenantId: actor.tenantId, orderId: actor.orderId ?? "" } : { tenantId: actor.tenantId };
  const row = await lockWithOrder(tx, "cases", caseId, scope);
  if (!row) throw notFound("case");
  return row;
}
