import { z } from "zod";
import { applyAction } from "../after-sales/case.service.js";
import { caseView } from "../after-sales/case.view.js";
import { loadConnector } from "../connectors/context.js";
import { ServiceError } from "../connectors/http.js";
import type { ConnectorRow } from "../connectors/kind.js";
import { CARRIERS, carrierCode } from "../domain/vocabulary.js";
import { audit } from "../platform/audit.js";
import type { Actor, Deps } from "../platform/context.js";
import type { Tx } from "../platform/db.js";
import { AppError, notFound, validation } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import { cancelPickup as cancelOnService, createPickup } from "./client.js";
import { carrierSettings, hookUrl, requireCarrierConnector } from "./connector.js";

/**
 * Return pickup (上门取件): once a return is approved, the customer (in the portal) or CS for them
 * books a courier through 快递100's courier-order API (商家寄件) — address, time slot, carrier —
 * and gets the waybill number. When the courier collects the parcel (the order callback's 已取件,
 * or the first tracking entry of that number) the number becomes the return's tracking: the case
 * is shipped back as if the customer had typed it. A pickup may be cancelled until then.
 */

export const PickupBody = z.strictObject({
  carrier: z.string().min(1).max(60),
  address: z.strictObject({
    name: z.string().min(1).max(100),
    phone: z.string().min(5).max(40),
    province: z.string().max(60).optional(),
    city: z.string().max(60).optional(),
    district: z.string().max(60).optional(),
    line1: z.string().min(1).max(300),
  }),
  /** 快递100's day of the slot: today, tomorrow, the day after. */
  day: z.enum(["今天", "明天", "后天"]),
  startTime: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/),
  endTime: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/),
});
export type PickupInput = z.infer<typeof PickupBody>;

type Address = { name?: string; phone?: string; province?: string; city?: string; district?: string; line1?: string; line2?: string };
const printAddr = (a: Address) => [a.province, a.city, a.district, a.line1, a.line2].filter(Boolean).join("");
const LIVE = ["booked", "picked_up"] as const;

/** A carrier_pickups row. */
interface PickupRow {
  id: string;
  case_id: string;
  carrier: string;
  status: "booked" | "picked_up" | "cancelled" | "failed";
  tracking_no: string | null;
  address: unknown;
  day_type: string;
  start_time: string;
  end_time: string;
  courier_name: string | null;
  courier_mobile: string | null;
  message: string | null;
  created_at: Date;
}

export const pickupOut = (p: PickupRow) => ({
  id: p.id,
  caseId: p.case_id,
  carrier: p.carrier,
  status: p.status,
  trackingNo: p.tracking_no,
  address: p.address,
  day: p.day_type,
  startTime: p.start_time,
  endTime: p.end_time,
  courierName: p.courier_name,
  courierMobile: p.courier_mobile,
  message: p.message,
  createdAt: p.created_at,
  allowedActions: p.status === "booked" ? ["cancel"] : [],
});

async function visibleCase(deps: Deps, actor: Actor, caseId: string) {
  // caseView applies who may see the case (a portal customer: only their order's).
  await caseView(deps.db, actor, caseId);
  return deps.db
    .selectFrom("cases as c")
    .innerJoin("orders as o", "o.id", "c.order_id")
    .select(["c.id", "c.tenant_id", "c.shop_id", "c.case_no", "c.status", "c.return_address", "c.order_id", "o.platform_order_no"])
    .where("c.id", "=", caseId)
    .where("c.tenant_id", "=", actor.tenantId)
    .executeTakeFirstOrThrow();
}

export async function currentPickup(deps: Deps, actor: Actor, caseId: string) {
  await visibleCase(deps, actor, caseId);
  const p = await deps.db
    .selectFrom("carrier_pickups")
    .selectAll()
    .where("case_id", "=", caseId)
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .executeTakeFirst();
  return p ? pickupOut(p as PickupRow) : null;
}

const booker = (actor: Actor) => (actor.role === "customer" ? `customer:${actor.orderId}` : `${actor.kind}:${actor.id}:${actor.role}`);
function bookerActor(bookedBy: string, tenantId: string): Actor {
  const [kind, id, role] = bookedBy.split(":");
  if (kind === "customer") return { kind: "customer", id: `order:${id}`, tenantId, role: "customer", orderId: id, locale: "zh-CN" };
  return { kind: kind as Actor["kind"], id, tenantId, role: role as Actor["role"], locale: "zh-CN" };
}

export async function bookPickup(deps: Deps, actor: Actor, caseId: string, input: PickupInput) {
  const c = await visibleCase(deps, actor, caseId);
  if (c.status !== "awaiting_return")
    throw new AppError("invalid_transition", `a pickup is booked for an approved return waiting to be sent; this case is ${c.status}`, {
      status: c.status,
      allowedActions: [],
    });
  const code = carrierCode(input.carrier);
  if (!code) throw validation("carrier", `choose a carrier from the list (${CARRIERS.slice(0, 10).join(", ")}, …)`);
  if (input.startTime >= input.endTime) throw validation("endTime", "the slot must end after it starts");
  const to = (c.return_address ?? null) as Address | null;
  if (!to?.line1)
    throw new AppError(
      "conflict",
      "this return has no return address yet; CS must set the shop's warehouse or the supplier's return address",
    );
  const row = await requireCarrierConnector(deps.db, actor.tenantId, c.shop_id);
  const lines = await deps.db
    .selectFrom("case_lines as cl")
    .innerJoin("order_lines as ol", "ol.id", "cl.order_line_id")
    .select(["ol.title", "cl.quantity"])
    .where("cl.case_id", "=", caseId)
    .execute();
  // The row first: one live pickup per return, even when two requests race.
  const id = newId();
  try {
    await deps.db
      .insertInto("carrier_pickups")
      .values({
        id,
        tenant_id: actor.tenantId,
        connector_id: row.id,
        case_id: caseId,
        carrier: code,
        status: "booked",
        address: JSON.stringify(input.address),
        day_type: input.day,
        start_time: input.startTime,
        end_time: input.endTime,
        booked_by: booker(actor),
      })
      .execute();
  } catch (e) {
    const live = await deps.db
      .selectFrom("carrier_pickups")
      .select("id")
      .where("case_id", "=", caseId)
      .where("status", "in", LIVE)
      .executeTakeFirst();
    if (live) throw new AppError("conflict", "a pickup is already booked for this return; cancel it first to book another");
    throw e;
  }
  try {
    const s = await carrierSettings(deps, row);
    const r = await createPickup(deps, s, {
      kuaidicom: code,
      sendManName: input.address.name,
      sendManMobile: input.address.phone,
      sendManPrintAddr: printAddr(input.address),
      recManName: to.name ?? "退货仓",
      recManMobile: to.phone ?? "",
      recManPrintAddr: printAddr(to),
      cargo:
        lines
          .map((l) => `${l.title}×${l.quantity}`)
          .join("，")
          .slice(0, 100) || "退货",
      dayType: input.day,
      pickupStartTime: input.startTime,
      pickupEndTime: input.endTime,
      thirdOrderId: id.replaceAll("-", ""),
      callBackUrl: hookUrl(deps, row.id, "/pickup"),
      remark: `售后单 ${c.case_no} / 订单 ${c.platform_order_no}`,
    });
    await deps.db.transaction().execute(async (tx) => {
      await tx
        .updateTable("carrier_pickups")
        .set({ task_id: r.taskId, order_ref: r.orderId, tracking_no: r.kuaidinum, updated_at: deps.clock.now() })
        .where("id", "=", id)
        .execute();
      await audit(tx, actor, "case.pickup_booked", "case", caseId, undefined, {
        pickupId: id,
        carrier: code,
        trackingNo: r.kuaidinum,
        day: input.day,
        slot: `${input.startTime}-${input.endTime}`,
      });
    });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    await deps.db
      .updateTable("carrier_pickups")
      .set({ status: "failed", message: message.slice(0, 500), updated_at: deps.clock.now() })
      .where("id", "=", id)
      .execute();
    if (e instanceof ServiceError)
      throw new AppError(e.kind === "transient" ? "conflict" : "validation_failed", `快递100 did not take the pickup: ${message}`);
    throw e;
  }
  return currentPickup(deps, actor, caseId);
}

export async function cancelBookedPickup(deps: Deps, actor: Actor, caseId: string) {
  await visibleCase(deps, actor, caseId);
  const p = await deps.db
    .selectFrom("carrier_pickups")
    .selectAll()
    .where("case_id", "=", caseId)
    .where("status", "in", LIVE)
    .executeTakeFirst();
  if (!p) throw notFound("pickup");
  if (p.status !== "booked")
    throw new AppError("invalid_transition", "the courier has collected the parcel; it can no longer be cancelled", {
      status: p.status,
      allowedActions: [],
    });
  const row = await loadConnector(deps.db, p.connector_id);
  if (row && p.task_id) {
    const s = await carrierSettings(deps, row);
    try {
      await cancelOnService(deps, s, { taskId: p.task_id, orderId: p.order_ref ?? "", cancelMsg: "买家取消上门取件" });
    } catch (e) {
      if (e instanceof ServiceError) throw new AppError("conflict", `快递100 did not cancel the pickup: ${e.message}`);
      throw e;
    }
  }
  await deps.db.transaction().execute(async (tx) => {
    await tx
      .updateTable("carrier_pickups")
      .set({ status: "cancelled", updated_at: deps.clock.now() })
      .where("id", "=", p.id)
      .where("status", "=", "booked")
      .execute();
    await audit(tx, actor, "case.pickup_cancelled", "case", caseId, { pickupId: p.id }, undefined);
  });
  return currentPickup(deps, actor, caseId);
}

/** The courier has the parcel: the pickup's number becomes the return's tracking (once). */
export async function collectPickupTx(deps: Deps, tx: Tx, pickupId: string, source: "callback" | "tracking"): Promise<boolean> {
  const p = await tx
    .updateTable("carrier_pickups")
    .set({ status: "picked_up", updated_at: deps.clock.now() })
    .where("id", "=", pickupId)
    .where("status", "=", "booked")
    .where("tracking_no", "is not", null)
    .returningAll()
    .executeTakeFirst();
  if (!p?.tracking_no) return false;
  const c = await tx.selectFrom("cases").select(["status"]).where("id", "=", p.case_id).executeTakeFirstOrThrow();
  if (c.status === "awaiting_return") {
    const actor = bookerActor(p.booked_by, p.tenant_id);
    await applyAction(tx, deps, actor, p.case_id, "ship-return", {
      carrier: p.carrier,
      trackingNo: p.tracking_no,
      note: `快递员已上门取件（${source === "callback" ? "寄件回调" : "物流轨迹"}） / collected by the courier`,
    });
  }
  return true;
}

/** A courier-order callback's `param` (商家寄件回调): the waybill, the order's state and the courier. */
export async function applyPickupCallback(deps: Deps, tx: Tx, row: ConnectorRow, param: Record<string, unknown>) {
  const data = (param.data ?? {}) as Record<string, unknown>;
  const ref = String(data.orderId ?? "");
  // Our thirdOrderId is the pickup's id without its dashes.
  const third = /^[0-9a-f]{32}$/.test(String(data.thirdOrderId ?? "")) ? String(data.thirdOrderId) : "";
  const ourId = third
    ? `${third.slice(0, 8)}-${third.slice(8, 12)}-${third.slice(12, 16)}-${third.slice(16, 20)}-${third.slice(20)}`
    : null;
  const p = await tx
    .selectFrom("carrier_pickups")
    .selectAll()
    .where("connector_id", "=", row.id)
    .where((eb) => (ourId ? eb.or([eb("order_ref", "=", ref), eb("id", "=", ourId)]) : eb("order_ref", "=", ref)))
    .executeTakeFirst();
  if (!p) return { matched: false };
  const status = Number(data.status);
  const set: Record<string, unknown> = { updated_at: deps.clock.now() };
  if (param.kuaidinum && !p.tracking_no) set.tracking_no = String(param.kuaidinum).slice(0, 60);
  if (data.courierName) set.courier_name = String(data.courierName).slice(0, 100);
  if (data.courierMobile) set.courier_mobile = String(data.courierMobile).slice(0, 40);
  if (status === 11) Object.assign(set, { status: "failed", message: String(data.cancelMsg ?? param.message ?? "揽货失败").slice(0, 500) });
  if (status === 9 || status === 99)
    Object.assign(set, { status: "cancelled", message: String(data.cancelMsg ?? "订单已取消").slice(0, 500) });
  await tx.updateTable("carrier_pickups").set(set).where("id", "=", p.id).where("status", "=", "booked").execute();
  let collected = false;
  // 10 已取件, and anything after it (101 运输中, 13 已签收): the courier has the parcel.
  if (status === 10 || status === 101 || status === 13) collected = await collectPickupTx(deps, tx, p.id, "callback");
  return { matched: true, collected };
}
