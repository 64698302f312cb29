import { forwardLocked, releaseStock } from "../fulfilment/supplier-order.service.js";
import { post } from "../money/ledger.js";
import { refundableOf } from "../money/refundable.js";
import { audit } from "../platform/audit.js";
import { type Actor, type Deps, emit } from "../platform/context.js";
import type { Tx } from "../platform/db.js";
import { AppError, invalidTransition, notFound, validation } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import { insertOrder } from "./order.import.js";
import { contentHash, prepareOrder } from "./order.pricing.js";
import type { OrderActionInput, OrderInput } from "./order.schemas.js";
import { allowedOrderActions } from "./order.states.js";
import { type OrderView, orderView } from "./order.view.js";

// Orders: creating one from the API and the order-level actions (confirm payment, forward, cancel,
// change address, complete). Supplier orders live in src/fulfilment/.

const fieldError = validation;

export async function createOrder(
  deps: Deps,
  actor: Actor,
  input: OrderInput,
  opts: { source?: string } = {},
): Promise<{ order: OrderView; created: boolean }> {
  const prepared = prepareOrder(input);
  const hash = contentHash(input);
  const now = deps.clock.now();
  const result = await deps.db.transaction().execute(async (tx) => {
    const shop = await tx
      .selectFrom("shops")
      .select(["id", "currency"])
      .where("tenant_id", "=", actor.tenantId)
      .where("id", "=", input.shopId)
      .executeTakeFirst();
    if (!shop) throw fieldError("shopId", "no such shop");
    const existing = await tx
      .selectFrom("orders")
      .select(["id", "content_hash"])
      .where("tenant_id", "=", actor.tenantId)
      .where("shop_id", "=", input.shopId)
      .where("platform_order_no", "=", input.platformOrderNo)
      .executeTakeFirst();
    if (existing) {
      if (existing.content_hash !== hash) {
        throw new AppError("conflict", `order ${input.platformOrderNo} exists with different content`, {
          orderId: existing.id,
          field: "platformOrderNo",
        });
      }
      return { id: existing.id as string, created: false };
    }
    const orderId = await insertOrder(tx, actor, input, prepared, hash, shop.currency, now, opts.source ?? "api");
    await emit(deps, tx, {
      type: "order.created",
      tenantId: actor.tenantId,
      entityId: orderId,
      data: { platformOrderNo: input.platformOrderNo, paidTotal: prepared.paidTotal },
      key: `order.created:${orderId}`,
    });
    await audit(tx, actor, "order.create", "order", orderId, undefined, {
      platformOrderNo: input.platformOrderNo,
      paidTotal: prepared.paidTotal,
    });
    return { id: orderId, created: true };
  });
  return { order: await orderView(deps.db, actor, result.id), created: result.created };
}

async function postPayment(tx: Tx, tenantId: string, orderId: string, currency: string, amount: number, at: Date) {
  await post(tx, {
    tenantId,
    code: "payment",
    currency,
    orderId,
    sourceKey: `payment:${orderId}`,
    memo: "customer payment",
    at,
    entries: [
      { account: "cash", amount },
      { account: "revenue", amount: -amount },
    ],
  });
}

async function lockOrder(tx: Tx, actor: Actor, orderId: string) {
  const o = await tx
    .selectFrom("orders")
    .selectAll()
    .where("tenant_id", "=", actor.tenantId)
    .where("id", "=", orderId)
    .forUpdate()
    .executeTakeFirst();
  if (!o) throw notFound("order");
  return o;
}

// Order actions -----------------------------------------------------------------------------------

export async function runOrderAction(deps: Deps, actor: Actor, orderId: string, action: string, input: OrderActionInput) {
  await deps.db.transaction().execute(async (tx) => {
    const o = await lockOrder(tx, actor, orderId);
    // Its supplier orders next, so that a supplier's answer waits for this action, or this for it.
    const sos = await tx.selectFrom("supplier_orders").selectAll().where("order_id", "=", orderId).orderBy("id").forUpdate().execute();
    const allowed = allowedOrderActions(o.status, sos);
    if (!allowed.includes(action)) throw invalidTransition("order", action, o.status, allowed);
    const now = deps.clock.now();
    switch (action) {
      case "confirm-payment": {
        const p = input as { amount: number; method: string; reference?: string; paidAt?: string };
        if (p.amount !== Number(o.paid_total)) {
          throw fieldError("amount", `the order's total is ${o.paid_total}`, { expected: Number(o.paid_total) });
        }
        const paidAt = p.paidAt ? new Date(p.paidAt) : now;
        await tx
          .insertInto("payments")
          .values({
            id: newId(),
            tenant_id: actor.tenantId,
            order_id: orderId,
            method: p.method,
            amount: p.amount,
            reference: p.reference ?? null,
            paid_at: paidAt,
          })
          .execute();
        await tx.updateTable("orders").set({ paid_at: paidAt, status: "paid", updated_at: now }).where("id", "=", orderId).execute();
        if (p.amount > 0) await postPayment(tx, actor.tenantId, orderId, o.currency, p.amount, paidAt);
        break;
      }
      case "forward":
        await forwardLocked(tx, deps, actor, o, sos);
        break;
      case "cancel": {
        for (const so of sos) {
          if (so.status === "pending" || so.status === "accepted") {
            await tx
              .updateTable("supplier_orders")
              .set({ status: "cancelled", cancelled_at: now, updated_at: now, note: input.reason ?? "order cancelled" })
              .where("id", "=", so.id)
              .execute();
            await releaseStock(tx, so.id);
          }
        }
        await tx.updateTable("orders").set({ status: "cancelled", cancelled_at: now, updated_at: now }).where("id", "=", orderId).execute();
        // What a refund still under way will pay back is not due again.
        const refundDue = Math.max(0, (await refundableOf(tx, orderId)).remaining);
        await emit(deps, tx, {
          type: "order.cancelled",
          tenantId: actor.tenantId,
          entityId: orderId,
          data: { refundDue, reason: input.reason ?? null, actorId: actor.id },
          key: `order.cancelled:${orderId}`,
        });
        break;
      }
      case "change-address":
        await tx
          .updateTable("orders")
          .set({ address: JSON.stringify(input.address), updated_at: now })
          .where("id", "=", orderId)
          .execute();
        break;
      case "complete":
        await tx.updateTable("orders").set({ status: "completed", completed_at: now, updated_at: now }).where("id", "=", orderId).execute();
        await emit(deps, tx, {
          type: "order.completed",
          tenantId: actor.tenantId,
          entityId: orderId,
          data: {},
          key: `order.completed:${orderId}`,
        });
        break;
      default:
        throw invalidTransition("order", action, o.status, allowed);
    }
    await audit(tx, actor, `order.${action}`, "order", orderId, { status: o.status }, input);
  });
  return orderView(deps.db, actor, orderId);
}
