import { type PlatformRefundRow, registerPlatformRefunds } from "../../money/gateways/platform.js";
import { createOrderRefund, settleRefund } from "../../money/refunds.js";
import type { Deps } from "../../platform/context.js";
import { AppError } from "../../platform/errors.js";
import { contextFor, loadConnector } from "../context.js";
import { ServiceError } from "../http.js";
import type { ConnectorContext, ConnectorRow } from "../kind.js";
import { fromMinorUnits, toMinorUnits } from "../money.js";
import { shopifyGraphql, shopifyMutation } from "./client.js";

/**
 * Money back on orders paid on Shopify. Shopify holds the buyer's payment, so Dropdesk's refund of
 * such an order (gateway `platform`, src/money/gateways/platform.ts) is a refund created in Shopify
 * with `refundCreate`, sent by the connector's push job. API 2025-01 has no idempotency key for
 * `refundCreate` (the `@idempotent` directive arrives in 2026-01), so every call first reads the
 * order's refunds and looks for the Dropdesk refund's gateway key, which the note carries: a retry
 * after a lost answer or a crash finds the refund and creates none. The Dropdesk refund settles
 * when Shopify reports its transactions done — in the mutation's answer, the `refunds/create`
 * webhook, the pull, or reconciliation's lookup — and refunds made in Shopify's admin are mirrored
 * into the ledger once, as goodwill refunds already paid on the platform.
 */
type Json = Record<string, any>;
const MONEY = "amountSet { shopMoney { amount currencyCode } }";
const REFUND_FIELDS = `id note createdAt transactions(first: 10) { nodes { id kind status gateway ${MONEY} } }`;
const ORDER_REFUNDS = `query DropdeskOrderRefunds($id: ID!) {
  order(id: $id) {
    id name currencyCode
    transactions(first: 50) { id kind status gateway ${MONEY} parentTransaction { id } }
    refunds(first: 50) { ${REFUND_FIELDS} }
  }
}`;
const REFUND_CREATE = `mutation DropdeskRefund($input: RefundInput!) {
  refundCreate(input: $input) { refund { ${REFUND_FIELDS} } userErrors { field message } }
}`;

/** A Shopify refund in one form, from GraphQL or from a webhook's REST body; amounts in minor units. */
export interface ShopifyRefund {
  id: string;
  note: string | null;
  transactions: { kind: string; status: string; amount: number }[];
}

const numericId = (gid: unknown) => String(gid ?? "").replace(/^gid:\/\/shopify\/\w+\//, "");
const orderGid = (id: string) => `gid://shopify/Order/${id}`;

export const refundFromGraphql = (r: Json, currency: string): ShopifyRefund => ({
  id: numericId(r.id),
  note: r.note ?? null,
  transactions: ((r.transactions?.nodes as Json[] | undefined) ?? []).map((t) => ({
    kind: String(t.kind).toLowerCase(),
    status: String(t.status).toLowerCase(),
    amount: toMinorUnits(String(t.amountSet?.shopMoney?.amount ?? "0"), currency),
  })),
});

export const refundFromRest = (r: Json, currency: string): ShopifyRefund => ({
  id: String(r.id),
  note: r.note ?? null,
  transactions: ((r.transactions as Json[] | undefined) ?? []).map((t) => ({
    kind: String(t.kind ?? "").toLowerCase(),
    status: String(t.status ?? "").toLowerCase(),
    amount: toMinorUnits(String(t.amount ?? "0"), currency),
  })),
});

/** succeeded when every refund transaction succeeded, failed when one failed, else still processing. */
export function outcomeOf(r: ShopifyRefund): { status: "succeeded" | "failed" | "processing"; amount: number } {
  const txns = r.transactions.filter((t) => t.kind === "refund");
  const amount = txns.filter((t) => t.status === "success").reduce((s, t) => s + t.amount, 0);
  if (txns.some((t) => t.status === "failure" || t.status === "error")) return { status: "failed", amount };
  if (txns.length && txns.every((t) => t.status === "success")) return { status: "succeeded", amount };
  return { status: "processing", amount };
}

const KEY = /\brf_[0-9a-f-]{8,}\b/i;
const reference = (id: string) => `shopify-refund:${id}`;

async function orderRecord(ctx: ConnectorContext, by: { externalId?: string; entityId?: string }) {
  let q = ctx.deps.db
    .selectFrom("connector_records")
    .select(["external_id", "entity_id", "external_no"])
    .where("connector_id", "=", ctx.connector.id)
    .where("record_type", "=", "order");
  if (by.externalId) q = q.where("external_id", "=", by.externalId);
  if (by.entityId) q = q.where("entity_id", "=", by.entityId);
  return q.executeTakeFirst();
}

/** Links a Shopify refund to the Dropdesk refund it is (or mirrors). */
async function linkRefund(ctx: ConnectorContext, shopifyRefundId: string, refundId: string | null, orderNo?: string | null) {
  const now = ctx.deps.clock.now();
  await ctx.deps.db
    .insertInto("connector_records")
    .values({
      tenant_id: ctx.connector.tenant_id,
      connector_id: ctx.connector.id,
      record_type: "refund",
      external_id: shopifyRefundId,
      entity_id: refundId,
      external_no: orderNo ?? null,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) => oc.columns(["connector_id", "record_type", "external_id"]).doUpdateSet({ entity_id: refundId, updated_at: now }))
    .execute();
}

type OrderState = { order: { id: string; name: string; currencyCode: string; transactions: Json[]; refunds: Json[] } | null };
const readOrder = (ctx: ConnectorContext, shopifyOrderId: string) =>
  shopifyGraphql<OrderState>(ctx, ORDER_REFUNDS, { id: orderGid(shopifyOrderId) });

/** What each sale or capture can still give back: its amount less the refunds already made on it. */
function plan(order: NonNullable<OrderState["order"]>, amount: number) {
  const cur = order.currencyCode;
  const m = (t: Json) => toMinorUnits(String(t.amountSet?.shopMoney?.amount ?? "0"), cur);
  const parents = order.transactions.filter((t) => ["SALE", "CAPTURE"].includes(t.kind) && t.status === "SUCCESS");
  const out: { orderId: string; parentId: string; gateway: string; kind: "REFUND"; amount: string }[] = [];
  let left = amount;
  for (const p of parents) {
    const taken = order.transactions
      .filter((t) => t.kind === "REFUND" && t.parentTransaction?.id === p.id && ["SUCCESS", "PENDING"].includes(t.status))
      .reduce((s, t) => s + m(t), 0);
    const take = Math.min(left, m(p) - taken);
    if (take <= 0) continue;
    out.push({ orderId: order.id, parentId: p.id, gateway: p.gateway, kind: "REFUND", amount: fromMinorUnits(take, cur) });
    left -= take;
    if (left === 0) break;
  }
  return { transactions: out, short: left };
}

async function refused(ctx: ConnectorContext, refundId: string, message: string): Promise<never> {
  await settleRefund(ctx.deps, refundId, "failed", undefined, message);
  throw new ServiceError("refused", message);
}

/** The push: Dropdesk's refund created in Shopify once, then settled when its transactions are done. */
export async function refundOnShopify(ctx: ConnectorContext, refundId: string) {
  const r = await ctx.deps.db
    .selectFrom("refunds")
    .select(["id", "order_id", "amount", "gateway_key", "status", "reason", "kind"])
    .where("id", "=", refundId)
    .where("tenant_id", "=", ctx.connector.tenant_id)
    .executeTakeFirstOrThrow();
  if (r.status === "succeeded" || r.status === "failed") return { note: `the refund is ${r.status} already` };
  const rec = await orderRecord(ctx, { entityId: r.order_id });
  if (!rec) return refused(ctx, r.id, "the order did not come from this Shopify store");
  const state = await readOrder(ctx, rec.external_id);
  const order = state.order;
  if (!order) return refused(ctx, r.id, "Shopify no longer has this order");
  const cur = order.currencyCode;
  const amount = Number(r.amount);
  const link = await ctx.deps.db
    .selectFrom("connector_records")
    .select("external_id")
    .where("connector_id", "=", ctx.connector.id)
    .where("record_type", "=", "refund")
    .where("entity_id", "=", r.id)
    .executeTakeFirst();
  let made = order.refunds.find(
    (x) => (typeof x.note === "string" && x.note.includes(r.gateway_key)) || numericId(x.id) === link?.external_id,
  );
  const again = Boolean(made);
  if (!made) {
    const p = plan(order, amount);
    if (p.short > 0)
      return refused(
        ctx,
        r.id,
        `Shopify 上这笔订单只剩 ${fromMinorUnits(amount - p.short, cur)} ${cur} 可退，Dropdesk 要退 ${fromMinorUnits(amount, cur)} ${cur} / Shopify has only ${fromMinorUnits(amount - p.short, cur)} ${cur} left to refund on this order, Dropdesk refunds ${fromMinorUnits(amount, cur)} ${cur}`,
      );
    const res = await shopifyMutation<{ refundCreate: { refund: Json | null; userErrors: { message: string }[] } }>(ctx, REFUND_CREATE, {
      input: {
        orderId: order.id,
        note: `Dropdesk ${r.kind} refund ${r.gateway_key}${r.reason ? `: ${r.reason}`.slice(0, 200) : ""}`,
        notify: true,
        transactions: p.transactions,
      },
    });
    const errs = res.refundCreate.userErrors;
    if (errs.length || !res.refundCreate.refund)
      return refused(ctx, r.id, `Shopify 拒绝了退款 / Shopify refused the refund: ${errs.map((e) => e.message).join("; ")}`);
    made = res.refundCreate.refund;
  }
  const refund = refundFromGraphql(made, cur);
  await linkRefund(ctx, refund.id, r.id, rec.external_no);
  const outcome = outcomeOf(refund);
  if (outcome.status !== "processing")
    await settleRefund(ctx.deps, r.id, outcome.status, reference(refund.id), "Shopify could not refund the payment");
  return { externalId: refund.id, note: again ? "already refunded on Shopify" : undefined };
}

/** Mirrors a refund made in Shopify's admin into Dropdesk's ledger once. */
async function mirror(ctx: ConnectorContext, orderExternalId: string, refund: ShopifyRefund, amount: number) {
  const { deps } = ctx;
  const rec = await orderRecord(ctx, { externalId: orderExternalId });
  if (!rec) {
    // Webhooks are not ordered: the order's own may still be on its way. The pull that brings the
    // order reads its refunds too.
    await ctx.log("info", `refund ${refund.id} made in Shopify waits for its order ${orderExternalId} to be imported`, refund.id);
    return;
  }
  if (!rec.entity_id) {
    await linkRefund(ctx, refund.id, null);
    await ctx.log(
      "warn",
      `refund ${refund.id} made in Shopify on an order Dropdesk did not import (${orderExternalId}); not mirrored`,
      refund.id,
    );
    return;
  }
  const orderId = rec.entity_id;
  const made = await deps.db.transaction().execute(async (tx) => {
    const now = deps.clock.now();
    const claimed = await tx
      .insertInto("connector_records")
      .values({
        tenant_id: ctx.connector.tenant_id,
        connector_id: ctx.connector.id,
        record_type: "refund",
        external_id: refund.id,
        entity_id: null,
        external_no: rec.external_no,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.columns(["connector_id", "record_type", "external_id"]).doNothing())
      .returning("external_id")
      .executeTakeFirst();
    if (!claimed) return null;
    try {
      const note = refund.note ? `: ${refund.note}`.slice(0, 300) : "";
      const r = await createOrderRefund(tx, deps, ctx.actor, {
        orderId,
        amount,
        kind: "goodwill",
        reason: `在 Shopify 后台退款 / refunded in Shopify (refund ${refund.id})${note}`,
      });
      await tx
        .updateTable("connector_records")
        .set({ entity_id: r.id })
        .where("connector_id", "=", ctx.connector.id)
        .where("record_type", "=", "refund")
        .where("external_id", "=", refund.id)
        .execute();
      return r.id;
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      return { error: e.message };
    }
  });
  const cur = ctx.shop?.currency ?? "CNY";
  const what = `refund ${refund.id} of ${fromMinorUnits(amount, cur)} ${cur} made in Shopify on order ${rec.external_no ?? orderExternalId}`;
  if (made === null) return;
  if (typeof made !== "string") {
    await ctx.log("warn", `${what} not mirrored: ${made.error}`, refund.id);
    return;
  }
  await settleRefund(deps, made, "succeeded", reference(refund.id));
  await ctx.log("info", `${what}: mirrored into the ledger as a platform refund`, refund.id);
}

/**
 * A refund Shopify reports (webhook or pull): Dropdesk's own (its key in the note, or linked
 * already) settles; one made in Shopify's admin is mirrored once, when its money has moved.
 */
export async function applyShopifyRefund(ctx: ConnectorContext, orderExternalId: string, refund: ShopifyRefund) {
  const { deps } = ctx;
  const key = KEY.exec(refund.note ?? "")?.[0];
  const linked = await deps.db
    .selectFrom("connector_records")
    .select("entity_id")
    .where("connector_id", "=", ctx.connector.id)
    .where("record_type", "=", "refund")
    .where("external_id", "=", refund.id)
    .executeTakeFirst();
  let ownId = (linked?.entity_id as string | null | undefined) ?? null;
  if (!ownId && key) {
    const own = await deps.db
      .selectFrom("refunds")
      .select("id")
      .where("tenant_id", "=", ctx.connector.tenant_id)
      .where("gateway_key", "=", key)
      .executeTakeFirst();
    ownId = own?.id ?? null;
    if (ownId) await linkRefund(ctx, refund.id, ownId);
  }
  const outcome = outcomeOf(refund);
  if (ownId) {
    if (outcome.status !== "processing")
      await settleRefund(deps, ownId, outcome.status, reference(refund.id), "Shopify could not refund the payment");
    return;
  }
  if (linked) return; // noted before (an order Dropdesk never imported, or more than was refundable)
  if (outcome.status === "processing") return; // the money has not moved yet: the pull comes back to it
  if (outcome.status === "failed" || outcome.amount === 0) {
    await linkRefund(ctx, refund.id, null);
    await ctx.log("info", `refund ${refund.id} made in Shopify moved no money; nothing to mirror`, refund.id);
    return;
  }
  await mirror(ctx, orderExternalId, refund, outcome.amount);
}

/** The pull: orders whose refunds are new to Dropdesk or still waiting are read again, refunds and all. */
export async function pullRefunds(ctx: ConnectorContext, nodes: Json[]) {
  const seen = nodes.flatMap((n) => ((n.refunds as Json[] | undefined) ?? []).map((r) => ({ order: n, id: numericId(r.id) })));
  if (!seen.length) return;
  const known = await ctx.deps.db
    .selectFrom("connector_records as c")
    .leftJoin("refunds as r", "r.id", "c.entity_id")
    .select(["c.external_id", "r.status"])
    .where("c.connector_id", "=", ctx.connector.id)
    .where("c.record_type", "=", "refund")
    .where(
      "c.external_id",
      "in",
      seen.map((s) => s.id),
    )
    .execute();
  const settled = new Set(
    known.filter((k) => k.status === null || k.status === "succeeded" || k.status === "failed").map((k) => k.external_id),
  );
  const orders = new Map(seen.filter((s) => !settled.has(s.id)).map((s) => [numericId(s.order.legacyResourceId ?? s.order.id), s.order]));
  for (const id of orders.keys()) {
    const state = await readOrder(ctx, id);
    if (!state.order) continue;
    for (const r of state.order.refunds) await applyShopifyRefund(ctx, id, refundFromGraphql(r, state.order.currencyCode));
  }
}

/** The connector and Shopify order of a Dropdesk refund's order. */
async function linkOf(deps: Deps, row: PlatformRefundRow) {
  const rec = await deps.db
    .selectFrom("connector_records as r")
    .innerJoin("connectors as c", "c.id", "r.connector_id")
    .select(["r.connector_id", "r.external_id"])
    .where("r.tenant_id", "=", row.tenant_id)
    .where("r.record_type", "=", "order")
    .where("r.entity_id", "=", row.order_id)
    .where("c.kind", "=", "shopify")
    .where("c.deleted_at", "is", null)
    .executeTakeFirst();
  if (!rec) return null;
  const connector = (await loadConnector(deps.db, rec.connector_id, row.tenant_id)) as ConnectorRow | undefined;
  return connector ? { connector, orderExternalId: rec.external_id } : null;
}

/** What Shopify says of a Dropdesk refund already linked to one of its refunds. */
async function linkedOutcome(ctx: ConnectorContext, orderExternalId: string, refundId: string) {
  const rec = await ctx.deps.db
    .selectFrom("connector_records")
    .select("external_id")
    .where("connector_id", "=", ctx.connector.id)
    .where("record_type", "=", "refund")
    .where("entity_id", "=", refundId)
    .executeTakeFirst();
  if (!rec) return null;
  const state = await readOrder(ctx, orderExternalId);
  const found = state.order?.refunds.find((r) => numericId(r.id) === rec.external_id);
  if (!found || !state.order) return { status: "processing" as const };
  const o = outcomeOf(refundFromGraphql(found, state.order.currencyCode));
  return { status: o.status, reference: reference(rec.external_id) };
}

const NO_CONNECTOR =
  "这笔 Shopify 订单的店铺连接器已删除，无法在 Shopify 退款 / the Shopify connector of this order is gone, so the refund cannot be made in Shopify";

registerPlatformRefunds(
  [],
  {
    async refund(deps, row) {
      const link = await linkOf(deps, row);
      if (!link) return { status: "failed", error: NO_CONNECTOR };
      const ctx = await contextFor(deps, link.connector);
      // Already on Shopify (a mirrored refund, or a crash after the call): never a second one.
      const known = await linkedOutcome(ctx, link.orderExternalId, row.id).catch((e) => {
        if (e instanceof ServiceError) return { status: "processing" as const };
        throw e;
      });
      if (known) return known;
      const key = `refund:${row.id}`;
      const inserted = await deps.db
        .insertInto("connector_pushes")
        .values({ tenant_id: row.tenant_id, connector_id: link.connector.id, push_key: key, action: "refund", entity_id: row.id })
        .onConflict((oc) => oc.columns(["connector_id", "push_key"]).doUpdateSet({ status: "pending", updated_at: deps.clock.now() }))
        .returning("push_key")
        .executeTakeFirst();
      const { enqueueConnectorJob } = await import("../jobs.js");
      if (inserted) await enqueueConnectorJob(deps, { type: "push", connectorId: link.connector.id, pushKey: key });
      return { status: "processing" };
    },
    async lookup(deps, row) {
      const link = await linkOf(deps, row);
      if (!link) return { status: "failed", error: NO_CONNECTOR };
      const ctx = await contextFor(deps, link.connector);
      try {
        const known = await linkedOutcome(ctx, link.orderExternalId, row.id);
        if (known) return known;
      } catch (e) {
        if (!(e instanceof ServiceError)) throw e;
        return { status: "processing" };
      }
      const push = await deps.db
        .selectFrom("connector_pushes")
        .select(["status", "last_error"])
        .where("connector_id", "=", link.connector.id)
        .where("push_key", "=", `refund:${row.id}`)
        .executeTakeFirst();
      if (push?.status === "failed") return { status: "failed", error: push.last_error ?? "Shopify refused the refund" };
      // Never handed to Shopify (a crash before the push was queued): send it again.
      return { status: push ? "processing" : "unknown" };
    },
  },
  { connectorKind: "shopify" },
);
