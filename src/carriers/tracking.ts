import type { ConnectorRow } from "../connectors/kind.js";
import { carrierCode } from "../domain/vocabulary.js";
import { supplierOrderActionTx } from "../orders/order.service.js";
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

export const carrierActor = (row: Pick<ConnectorRow, "id" | "tenant_id">): Actor => ({
  kind: "system",
  id: row.id,
  tenantId: row.tenant_id,
  role: "system",
  name: "快递100",
  locale: "zh-CN",
});

interface Entry {
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

export async function applyPush(deps: Deps, tx: Tx, row: ConnectorRow, p: PushParam): Promise<PushOutcome> {
  const r = p.lastResult ?? {};
  const nu = String(r.nu ?? "").trim();
  const outcome: PushOutcome = { trackingNo: nu, added: 0, effects: [] };
  if (!nu) return outcome;
  const tenantId = row.tenant_id;
  const codes = [p.comNew, r.com, p.comOld];
  const sos = (
    await tx
      .selectFrom("supplier_orders")
      .select(["id", "carrier", "order_id"])
      .where("tenant_id", "=", tenantId)
      .where("tracking_no", "=", nu)
      .orderBy("created_at", "desc")
      .execute()
  ).filter((s) => sameCarrier(s.carrier, codes));
  const cases = (
    await tx
      .selectFrom("cases")
      .select(["id", "return_carrier"])
      .where("tenant_id", "=", tenantId)
      .where("return_tracking_no", "=", nu)
      .execute()
  ).filter((c) => sameCarrier(c.return_carrier, codes));
  const pickups = await tx
    .selectFrom("carrier_pickups")
    .select(["id"])
    .where("tenant_id", "=", tenantId)
    .where("tracking_no", "=", nu)
    .where("status", "=", "booked")
    .execute();
  if (!sos.length && !cases.length && !pickups.length) return outcome;

  const carrier = String(p.comNew || r.com || "");
  const actor = carrierActor(row);
  const fresh: Entry[] = [];
  for (const e of pushEntries(nu, r.data ?? [], r.state)) {
    const inserted = await tx
      .insertInto("tracking_events")
      .values({
        id: newId(),
        tenant_id: tenantId,
        carrier,
        tracking_no: nu,
        status: e.status,
        occurred_at: e.at,
        description: e.context || null,
        supplier_order_id: sos[0]?.id ?? null,
        case_id: cases[0]?.id ?? null,
        source_key: e.key,
      })
      .onConflict((oc) => oc.columns(["tenant_id", "source_key"]).where("source_key", "is not", null).doNothing())
      .returning("id")
      .executeTakeFirst();
    if (inserted) fresh.push(e);
  }
  outcome.added = fresh.length;

  for (const e of fresh) {
    for (const so of sos) {
      const now = await tx.selectFrom("supplier_orders").select("status").where("id", "=", so.id).executeTakeFirstOrThrow();
      if (e.status === "delivered" && ["shipped", "intercept_requested"].includes(now.status)) {
        await supplierOrderActionTx(tx, deps, actor, so.id, "deliver", {
          deliveredAt: e.at.toISOString(),
          note: `快递100：${e.context}`.slice(0, 1000),
        });
        outcome.effects.push(`delivered:${so.id}`);
      }
      if ((e.status === "refused" || e.status === "returned") && ["shipped", "intercept_requested", "intercepted"].includes(now.status)) {
        // Refused while an interception was asked: it comes back without one; the request ends first.
        if (now.status === "intercept_requested")
          await supplierOrderActionTx(tx, deps, actor, so.id, "intercept-result", {
            outcome: "failed",
            note: `快递100：${e.context}（拒签/退回，未经拦截）`.slice(0, 1000),
          } as SoActionInput);
        await supplierOrderActionTx(tx, deps, actor, so.id, "mark-returned", { note: `快递100：${e.context}`.slice(0, 1000) });
        outcome.effects.push(`returned:${so.id}`);
      }
    }
    if (e.status === "exception") {
      await emit(deps, tx, {
        type: "tracking.exception",
        tenantId,
        entityId: sos[0]?.id ?? cases[0]?.id ?? nu,
        data: {
          trackingNo: nu,
          carrier,
          supplierOrderId: sos[0]?.id ?? null,
          orderId: sos[0]?.order_id ?? null,
          caseId: cases[0]?.id ?? null,
          description: e.context,
          occurredAt: e.at.toISOString(),
        },
        key: `tracking.exception:${e.key}`,
      });
      outcome.effects.push(`exception:${nu}`);
    }
    if (e.status !== "info") {
      for (const pk of pickups) if (await collectPickupTx(deps, tx, pk.id, "tracking")) outcome.effects.push(`collected:${pk.id}`);
    }
  }

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
  if (fresh.length)
    await audit(tx, actor, "tracking.push", "tracking", nu, undefined, {
      carrier,
      state: r.state,
      stateName: stateWord(r.state),
      added: fresh.length,
      effects: outcome.effects,
    });
  return outcome;
}
