import type { ConnectorRow } from "../connectors/kind.js";
import { carrierCode } from "../domain/vocabulary.js";
import { supplierOrderActionTx } from "../fulfilment/supplier-order.service.js";
import { audit } from "../platform/audit.js";
import { type Actor, type Deps, emit } from "../platform/context.js";
import type { Tx } from "../platform/db.js";
import { newId } from "../platform/ids.js";
import { beijingTime, md5Upper, type PushEntry, type PushParam, stateWord, statusOfState, type TrackingStatus } from "./kuaidi100.js";
import { collectPickupTx } from "./pickups.js";

/** A supplier-order action's input (`intercept-result` reads `outcome` from it). */
type SoActionInput = Parameters<typeof supplierOrderActionTx>[5];

/**
 * A push (推送) becomes tracking events. 快递100 sends the whole history every time, newest
 * first; each entry is kept once (its key: number, time, text), so repeated and out-of-order pushes
 * add only what is new, and only a new entry has an effect: 签收 delivers the supplier order (its
 * time, Beijing time in the push, is the order's 签收时间 that starts every after-sales window),
 * 拒签/退签/退回 mark the parcel coming back (the refused-parcel flow refunds what waits on it),
 * 疑难 raises `tracking.exception`, and a return's pickup number being collected ships the return.
 */

export const carrierActor = (row: Pick<ConnectorRow, "id" | "tenant_id">, name = "快递100"): Actor => ({
  kind: "system",
  id: row.id,
  tenantId: row.tenant_id,
  role: "system",
  name,
  locale: "zh-CN",
});

export interface Entry {
  at: Date;
  status: TrackingStatus;
  context: string;
  key: string;
}

/** The push's entries, oldest first, with our status each (the entry's own, else the parcel's for the newest). */
export function pushEntries(nu: string, data: PushEntry[], state: string | undefined): Entry[] {
  const out: Entry[] = [];
  data.forEach((e, i) => {
    const at = beijingTime(e.ftime ?? e.time);
    if (!at) return;
    const own = statusOfState(e.statusCode) ?? statusOfState(e.status);
    const status = own ?? (i === 0 ? statusOfState(state) : null) ?? "in_transit";
    const context = String(e.context ?? "").slice(0, 1000);
    out.push({ at, status, context, key: `kuaidi100:${nu}:${at.toISOString()}:${md5Upper(context).slice(0, 16)}` });
  });
  return out.sort((a, b) => a.at.getTime() - b.at.getTime());
}

const sameCarrier = (typed: string | null, codes: (string | undefined)[]) => {
  const code = carrierCode(typed);
  return !code || codes.some((c) => c && c === code);
};

export interface PushOutcome {
  trackingNo: string;
  added: number;
  effects: string[];
}

/** Tracking entries from any tracking service (快递100, 17TRACK) for one number, in any order. */
export interface TrackingUpdate {
  /** The service's name, for notes and the audit (快递100, 17TRACK). */
  source: string;
  trackingNo: string;
  /** The carrier as the service names it, kept on each event. */
  carrier: string;
  /** Carrier-list codes the service reports; null when it reports none we know (matched by number only). */
  carrierCodes: (string | undefined)[] | null;
  entries: Entry[];
  /** The service's state word for the audit (签收, Delivered, …). */
  stateName?: string;
}

/** The parcels a number belongs to: supplier orders and returns (by carrier too where known), and booked pickups. */
async function parcelsOf(tx: Tx, tenantId: string, nu: string, codes: (string | undefined)[] | null) {
  const matches = (typed: string | null) => codes === null || sameCarrier(typed, codes);
  const sos = (
    await tx
      .selectFrom("supplier_orders")
      .select(["id", "carrier", "order_id"])
      .where("tenant_id", "=", tenantId)
      .where("tracking_no", "=", nu)
      .orderBy("created_at", "desc")
      .execute()
  ).filter((s) => matches(s.carrier));
  const cases = (
    await tx
      .selectFrom("cases")
      .select(["id", "return_carrier"])
      .where("tenant_id", "=", tenantId)
      .where("return_tracking_no", "=", nu)
      .execute()
  ).filter((c) => matches(c.return_carrier));
  const pickups = await tx
    .selectFrom("carrier_pickups")
    .select(["id"])
    .where("tenant_id", "=", tenantId)
    .where("tracking_no", "=", nu)
    .where("status", "=", "booked")
    .execute();
  return { sos, cases, pickups };
}

type Parcels = Awaited<ReturnType<typeof parcelsOf>>;

/** Keeps each entry once (its key); returns the entries that are new, oldest first. */
async function keepNew(tx: Tx, tenantId: string, u: TrackingUpdate, p: Parcels): Promise<Entry[]> {
  const fresh: Entry[] = [];
  for (const e of [...u.entries].sort((a, b) => a.at.getTime() - b.at.getTime())) {
    const inserted = await tx
      .insertInto("tracking_events")
      .values({
        id: newId(),
        tenant_id: tenantId,
        carrier: u.carrier,
        tracking_no: u.trackingNo,
        status: e.status,
        occurred_at: e.at,
        description: e.context || null,
        supplier_order_id: p.sos[0]?.id ?? null,
        case_id: p.cases[0]?.id ?? null,
        source_key: e.key,
      })
      .onConflict((oc) => oc.columns(["tenant_id", "source_key"]).where("source_key", "is not", null).doNothing())
      .returning("id")
      .executeTakeFirst();
    if (inserted) fresh.push(e);
  }
  return fresh;
}

/** What a new entry does to a supplier order: 签收 delivers it, 拒签/退签/退回 bring it back (never backwards). */
async function actOnSupplierOrder(deps: Deps, tx: Tx, actor: Actor, soId: string, e: Entry, source: string): Promise<string | null> {
  const now = await tx.selectFrom("supplier_orders").select("status").where("id", "=", soId).executeTakeFirstOrThrow();
  const note = `${source}：${e.context}`.slice(0, 1000);
  if (e.status === "delivered" && ["shipped", "intercept_requested"].includes(now.status)) {
    await supplierOrderActionTx(tx, deps, actor, soId, "deliver", { deliveredAt: e.at.toISOString(), note });
    return `delivered:${soId}`;
  }
  if ((e.status === "refused" || e.status === "returned") && ["shipped", "intercept_requested", "intercepted"].includes(now.status)) {
    // Refused while an interception was asked: it comes back without one; the request ends first.
    if (now.status === "intercept_requested")
      await supplierOrderActionTx(tx, deps, actor, soId, "intercept-result", {
        outcome: "failed",
        note: `${source}：${e.context}（拒签/退回，未经拦截）`.slice(0, 1000),
      } as SoActionInput);
    await supplierOrderActionTx(tx, deps, actor, soId, "mark-returned", { note });
    return `returned:${soId}`;
  }
  return null;
}

/**
 * The one mapping of tracking entries into Dropdesk, whichever service reported them: each entry
 * kept once, and only a new one acts — 签收 delivers, 拒签/退回 run the refused-parcel flow, 疑难
 * raises `tracking.exception`, and a pickup's number collected ships the return. A status never
 * moves back: a late, older entry finds the parcel past the step it would take.
 */
export async function applyTrackingUpdate(deps: Deps, tx: Tx, row: ConnectorRow, u: TrackingUpdate): Promise<PushOutcome> {
  const nu = u.trackingNo;
  const outcome: PushOutcome = { trackingNo: nu, added: 0, effects: [] };
  if (!nu) return outcome;
  const tenantId = row.tenant_id;
  const p = await parcelsOf(tx, tenantId, nu, u.carrierCodes);
  if (!p.sos.length && !p.cases.length && !p.pickups.length) return outcome;
  const actor = carrierActor(row, u.source);
  const fresh = await keepNew(tx, tenantId, u, p);
  outcome.added = fresh.length;
  for (const e of fresh) {
    for (const so of p.sos) {
      const effect = await actOnSupplierOrder(deps, tx, actor, so.id, e, u.source);
      if (effect) outcome.effects.push(effect);
    }
    if (e.status === "exception") {
      await emit(deps, tx, {
        type: "tracking.exception",
        tenantId,
        entityId: p.sos[0]?.id ?? p.cases[0]?.id ?? nu,
        data: {
          trackingNo: nu,
          carrier: u.carrier,
          source: u.source,
          supplierOrderId: p.sos[0]?.id ?? null,
          orderId: p.sos[0]?.order_id ?? null,
          caseId: p.cases[0]?.id ?? null,
          description: e.context,
          occurredAt: e.at.toISOString(),
        },
        key: `tracking.exception:${e.key}`,
      });
      outcome.effects.push(`exception:${nu}`);
    }
    if (e.status !== "info") {
      for (const pk of p.pickups) if (await collectPickupTx(deps, tx, pk.id, "tracking")) outcome.effects.push(`collected:${pk.id}`);
    }
  }
  if (fresh.length)
    await audit(tx, actor, "tracking.push", "tracking", nu, undefined, {
      source: u.source,
      carrier: u.carrier,
      stateName: u.stateName,
      added: fresh.length,
      effects: outcome.effects,
    });
  return outcome;
}

/** A 快递100 push: its entries through the shared mapping, then the subscription's state. */
export async function applyPush(deps: Deps, tx: Tx, row: ConnectorRow, p: PushParam): Promise<PushOutcome> {
  const r = p.lastResult ?? {};
  const nu = String(r.nu ?? "").trim();
  const outcome = await applyTrackingUpdate(deps, tx, row, {
    source: "快递100",
    trackingNo: nu,
    carrier: String(p.comNew || r.com || ""),
    carrierCodes: [p.comNew, r.com, p.comOld],
    entries: nu ? pushEntries(nu, r.data ?? [], r.state) : [],
    stateName: stateWord(r.state),
  });
  if (!nu) return outcome;
  await tx
    .updateTable("carrier_subscriptions")
    .set({
      last_state: r.state ?? null,
      last_push_at: deps.clock.now(),
      updated_at: deps.clock.now(),
      ...(p.status === "shutdown" ? { status: "ended" as const } : {}),
      ...(p.status === "abort" ? { last_error: `快递100 stopped tracking: ${String(p.message ?? "")}`.slice(0, 500) } : {}),
    })
    .where("connector_id", "=", row.id)
    .where("tracking_no", "=", nu)
    .execute();
  return outcome;
}
