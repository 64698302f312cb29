import { sql } from "kysely";
import { connectorOptions, contextFor, loadConnector } from "../../connectors/context.js";
import type { ConnectorRow } from "../../connectors/kind.js";
import { backoffMs } from "../../connectors/retry.js";
import type { Deps } from "../../platform/context.js";
import { outboundPolicy } from "../../platform/outbound.js";
import { allocate } from "../allocate.js";
import type { RefundGateway } from "../gateways.js";
import { settleRefund } from "../refunds.js";
import { AlipayGateway, type AlipaySettings } from "./alipay.js";
import { StripeGateway, type StripeSettings } from "./stripe.js";
import { GatewayDown, type GatewayName, type LegAnswer, type PaymentGateway } from "./types.js";
import { WechatPayGateway, type WechatPaySettings } from "./wechatpay.js";

/**
 * Refunds by the original route: the refund is split over the order's payments like its quote
 * (largest remainder over what each paid) and each part — a leg — goes to the gateway of the
 * shop's connector for that payment's method, under its own gateway key (the refund's key for a
 * single leg, `<key>-<n>` for several). A shop with no payment connector for any of the order's
 * methods keeps the installation's gateway (`DROPDESK_REFUND_GATEWAY`: sandbox or manual); a method
 * without one in a mixed payment goes there too.
 *
 * This wraps the installation's gateway in the existing RefundGateway seam, so executeRefund,
 * reconciliation and finance's retry drive it unchanged: `refund` sends the legs that have not
 * succeeded, `lookup` asks each open leg's gateway by its key (the query APIs) and sends again,
 * under the same key, what a gateway never received. A gateway that is down leaves its leg, and so
 * the refund, processing with the reason in words, tried again after an exponential back-off.
 */
export const GATEWAY_OF_METHOD: Record<string, GatewayName> = {
  alipay: "alipay",
  wechat: "wechatpay",
  wechatpay: "wechatpay",
  weixin: "wechatpay",
  card: "stripe",
  stripe: "stripe",
};
const GATEWAY_KINDS = ["alipay", "wechatpay", "stripe"] as const;

export interface Leg {
  tenant_id: string;
  refund_id: string;
  leg_no: number;
  payment_id: string;
  method: string;
  gateway: string;
  connector_id: string | null;
  amount: number;
  gateway_key: string;
  status: "pending" | "processing" | "succeeded" | "failed";
  gateway_ref: string | null;
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date | null;
}

interface RefundRow {
  id: string;
  tenant_id: string;
  order_id: string;
  amount: number;
  method: string;
  gateway_key: string;
  reason: string | null;
  kind: string;
}

/** Back-off between tries of a leg whose gateway was down: 30 s doubling to 30 min. */
const BACKOFF = { baseDelayMs: 30_000, maxDelayMs: 30 * 60_000 };

const legsOf = async (deps: Deps, refundId: string) =>
  (await sql<Leg>`SELECT * FROM refund_legs WHERE refund_id = ${refundId} ORDER BY leg_no`.execute(deps.db)).rows.map((l) => ({
    ...l,
    amount: Number(l.amount),
  }));

/** The legs of a refund by the original route, planned on first use; null when no connector applies. */
async function planLegs(deps: Deps, refund: RefundRow, fallback: string): Promise<Leg[] | null> {
  const existing = await legsOf(deps, refund.id);
  if (existing.length) return existing;
  if (refund.method !== "original") return null;
  const order = await deps.db.selectFrom("orders").select(["shop_id"]).where("id", "=", refund.order_id).executeTakeFirst();
  if (!order) return null;
  const payments = await deps.db
    .selectFrom("payments")
    .select(["id", "method", "amount"])
    .where("order_id", "=", refund.order_id)
    .orderBy("paid_at")
    .orderBy("id")
    .execute();
  if (!payments.length) return null;
  const connectors = (await deps.db
    .selectFrom("connectors")
    .selectAll()
    .where("tenant_id", "=", refund.tenant_id)
    .where("shop_id", "=", order.shop_id)
    .where("kind", "in", [...GATEWAY_KINDS])
    .where("deleted_at", "is", null)
    .where("status", "!=", "paused")
    .orderBy("created_at")
    .execute()) as ConnectorRow[];
  const byKind = new Map<string, ConnectorRow>();
  for (const c of connectors) if (!byKind.has(c.kind)) byKind.set(c.kind, c);
  const routes = payments.map((p) => byKind.get(GATEWAY_OF_METHOD[p.method.toLowerCase()] ?? ""));
  if (routes.every((c) => !c)) return null;
  const parts = allocate(
    Number(refund.amount),
    payments.map((p) => Number(p.amount)),
  );
  const planned = payments.map((p, i) => ({ p, c: routes[i], amount: parts[i] })).filter((x) => x.amount > 0);
  for (const [i, x] of planned.entries()) {
    const legNo = i + 1;
    const key = planned.length === 1 ? refund.gateway_key : `${refund.gateway_key}-${legNo}`;
    await sql`INSERT INTO refund_legs (tenant_id, refund_id, leg_no, payment_id, method, gateway, connector_id, amount, gateway_key, created_at, updated_at)
      VALUES (${refund.tenant_id}, ${refund.id}, ${legNo}, ${x.p.id}, ${x.p.method}, ${x.c?.kind ?? fallback}, ${x.c?.id ?? null}, ${x.amount}, ${key},
        ${deps.clock.now()}, ${deps.clock.now()})
      ON CONFLICT DO NOTHING`.execute(deps.db);
  }
  const legs = await legsOf(deps, refund.id);
  // The refund records where it really goes: each leg's gateway, in leg order.
  const route = [...new Set(legs.map((l) => l.gateway))].join(",");
  await deps.db.updateTable("refunds").set({ route }).where("id", "=", refund.id).execute();
  return legs;
}

/** The gateway a payment connector's settings make. */
export async function paymentGatewayOf(deps: Deps, row: ConnectorRow): Promise<PaymentGateway> {
  const { settings } = await contextFor(deps, row);
  const opts = { policy: outboundPolicy(deps.config.outboundAllow), timeoutMs: connectorOptions(deps).timeoutMs };
  if (row.kind === "alipay") return new AlipayGateway(settings as unknown as AlipaySettings, opts);
  if (row.kind === "wechatpay") return new WechatPayGateway(settings as unknown as WechatPaySettings, opts);
  if (row.kind === "stripe") return new StripeGateway(settings as unknown as StripeSettings, opts);
  throw new Error(`${row.kind} is not a payment gateway`);
}

/** Where WeChat Pay sends its refund notifications for a connector. */
export function notifyUrlOf(deps: Deps, connectorId: string, kind: string) {
  const base = (process.env.DROPDESK_PUBLIC_URL ?? `http://localhost:${deps.config.port}`).replace(/\/+$/, "");
  return `${base}/hooks/${kind}/${connectorId}`;
}

async function updateLeg(
  deps: Deps,
  leg: Leg,
  set: Partial<Pick<Leg, "status" | "gateway_ref" | "last_error" | "next_attempt_at" | "attempts">>,
) {
  await sql`UPDATE refund_legs SET
      status = coalesce(${set.status ?? null}, status),
      gateway_ref = coalesce(${set.gateway_ref ?? null}, gateway_ref),
      last_error = ${set.last_error === undefined ? leg.last_error : set.last_error},
      next_attempt_at = ${set.next_attempt_at === undefined ? leg.next_attempt_at : set.next_attempt_at},
      attempts = ${set.attempts ?? leg.attempts},
      updated_at = ${deps.clock.now()}
    WHERE refund_id = ${leg.refund_id} AND leg_no = ${leg.leg_no} AND status NOT IN ('succeeded')`.execute(deps.db);
}

type Context = { refund: RefundRow; currency: string; fallback: RefundGateway };

/** Sends one leg to its gateway under its key and records what came back. */
async function sendLeg(deps: Deps, leg: Leg, cx: Context): Promise<void> {
  const attempts = leg.attempts + 1;
  await updateLeg(deps, leg, { status: "processing", attempts });
  const record = (a: LegAnswer) =>
    updateLeg(
      deps,
      { ...leg, attempts },
      { status: a.status, gateway_ref: a.reference ?? null, last_error: a.error ?? null, next_attempt_at: null },
    );
  try {
    if (!leg.connector_id) {
      const a = await cx.fallback.refund({ key: leg.gateway_key, amount: leg.amount, currency: cx.currency, method: leg.method });
      return record(a);
    }
    const row = await loadConnector(deps.db, leg.connector_id, leg.tenant_id);
    if (!row) throw new GatewayDown(`the ${leg.gateway} connector of this payment was deleted; add it again to send the refund`);
    const payment = await deps.db
      .selectFrom("payments")
      .select(["reference", "amount"])
      .where("id", "=", leg.payment_id)
      .executeTakeFirstOrThrow();
    if (!payment.reference)
      return record({ status: "failed", error: `the ${leg.method} payment carries no trade number to refund against` });
    const gw = await paymentGatewayOf(deps, row);
    const a = await gw.refund({
      key: leg.gateway_key,
      amount: leg.amount,
      currency: cx.currency,
      payment: { reference: payment.reference, amount: Number(payment.amount), currency: cx.currency },
      reason: cx.refund.reason ?? `${cx.refund.kind} refund`,
      notifyUrl: row.kind === "wechatpay" ? notifyUrlOf(deps, row.id, row.kind) : undefined,
    });
    return record(a);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    const delay = Math.max(e instanceof GatewayDown ? (e.retryAfterMs ?? 0) : 0, backoffMs(BACKOFF, attempts));
    await updateLeg(
      deps,
      { ...leg, attempts },
      { status: "processing", last_error: why, next_attempt_at: new Date(deps.clock.now().getTime() + delay) },
    );
  }
}

/** Asks a leg's gateway what became of its key; sends it again when the gateway never got it. */
async function askLeg(deps: Deps, leg: Leg, cx: Context): Promise<void> {
  try {
    let known: { status: string; reference?: string; error?: string };
    if (!leg.connector_id) known = await cx.fallback.lookup(leg.gateway_key);
    else {
      const row = await loadConnector(deps.db, leg.connector_id, leg.tenant_id);
      if (!row) throw new GatewayDown(`the ${leg.gateway} connector of this payment was deleted; add it again to reconcile the refund`);
      const payment = await deps.db
        .selectFrom("payments")
        .select(["reference", "amount"])
        .where("id", "=", leg.payment_id)
        .executeTakeFirstOrThrow();
      known = await (await paymentGatewayOf(deps, row)).lookup({
        key: leg.gateway_key,
        payment: { reference: payment.reference ?? "", amount: Number(payment.amount), currency: cx.currency },
      });
    }
    if (known.status === "unknown") return sendLeg(deps, leg, cx);
    if (known.status === "processing") {
      await updateLeg(deps, leg, { gateway_ref: known.reference ?? null, last_error: known.error ?? null, next_attempt_at: null });
      return;
    }
    await updateLeg(deps, leg, {
      status: known.status as Leg["status"],
      gateway_ref: known.reference ?? null,
      last_error: known.error ?? null,
      next_attempt_at: null,
    });
  } catch (e) {
    const attempts = leg.attempts + 1;
    const delay = Math.max(e instanceof GatewayDown ? (e.retryAfterMs ?? 0) : 0, backoffMs(BACKOFF, attempts));
    await updateLeg(deps, leg, {
      attempts,
      last_error: e instanceof Error ? e.message : String(e),
      next_attempt_at: new Date(deps.clock.now().getTime() + delay),
    });
  }
}

/** What the legs add up to: succeeded when all have, failed when none is open and one failed. */
export function aggregate(legs: Leg[]): { status: "succeeded" | "processing" | "failed"; reference?: string; error?: string } {
  const name = (l: Leg) => `${l.gateway} (${l.method}, ${(l.amount / 100).toFixed(2)})`;
  const refs = legs.map((l) => l.gateway_ref).filter(Boolean);
  const reference = refs.length ? refs.join(",").slice(0, 200) : undefined;
  const errors = legs.filter((l) => l.last_error && l.status !== "succeeded").map((l) => `${name(l)}: ${l.last_error}`);
  if (legs.every((l) => l.status === "succeeded")) return { status: "succeeded", reference };
  if (legs.some((l) => l.status === "pending" || l.status === "processing"))
    return { status: "processing", reference, error: errors.length ? errors.join("; ") : undefined };
  const paid = legs.filter((l) => l.status === "succeeded").map(name);
  return {
    status: "failed",
    reference,
    error: `${errors.join("; ") || "declined"}${paid.length ? `; already refunded: ${paid.join(", ")} (a retry sends only what is not)` : ""}`,
  };
}

async function contextOf(deps: Deps, key: string, fallback: RefundGateway): Promise<Context | null> {
  const refund = await deps.db
    .selectFrom("refunds")
    .select(["id", "tenant_id", "order_id", "amount", "method", "gateway_key", "reason", "kind"])
    .where("gateway_key", "=", key)
    .where("gateway", "=", fallback.name)
    .executeTakeFirst();
  if (!refund) return null;
  const order = await deps.db.selectFrom("orders").select("currency").where("id", "=", refund.order_id).executeTakeFirstOrThrow();
  return { refund: { ...refund, amount: Number(refund.amount) } as RefundRow, currency: order.currency, fallback };
}

/** The installation's gateway, sending refunds of shops with payment connectors by the original route. */
export function routedGateway<G extends RefundGateway>(deps: Deps, fallback: G): G {
  const routed: Pick<RefundGateway, "refund" | "lookup"> = {
    async refund(req) {
      const cx = await contextOf(deps, req.key, fallback);
      const legs = cx ? await planLegs(deps, cx.refund, fallback.name) : null;
      if (!cx || !legs) return fallback.refund(req);
      // A retry sends again (same keys) only the legs that have not succeeded.
      for (const leg of legs) if (leg.status !== "succeeded") await sendLeg(deps, leg, cx);
      const a = aggregate(await legsOf(deps, cx.refund.id));
      // Still open with a reason (a gateway down): executeRefund keeps the refund processing with it.
      if (a.status === "processing" && a.error) throw new Error(a.error);
      return a;
    },
    async lookup(key) {
      const cx = await contextOf(deps, key, fallback);
      const legs = cx ? await legsOf(deps, cx.refund.id) : [];
      if (!cx || !legs.length) return fallback.lookup(key);
      const now = deps.clock.now().getTime();
      for (const leg of legs) {
        if (leg.status === "succeeded" || leg.status === "failed") continue;
        if (leg.next_attempt_at && new Date(leg.next_attempt_at).getTime() > now) continue;
        await askLeg(deps, leg, cx);
      }
      const a = aggregate(await legsOf(deps, cx.refund.id));
      if (a.status === "processing")
        await deps.db
          .updateTable("refunds")
          .set({ last_error: a.error ?? null, gateway_ref: a.reference ?? null })
          .where("id", "=", cx.refund.id)
          .execute();
      return a;
    },
  };
  // Everything else is the installation's gateway itself (the sandbox's test and demo controls).
  return new Proxy(fallback, {
    get(target, prop) {
      if (prop === "refund" || prop === "lookup") return routed[prop];
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

/**
 * A verified notification (WeChat Pay, Stripe) about one leg: records it and, once every leg of
 * the refund has an answer, settles the refund (once, whatever else reports it too).
 */
export async function settleLegFromNotice(deps: Deps, p: { tenantId: string; connectorId: string; key: string; answer: LegAnswer }) {
  const legs = (
    await sql<Leg>`SELECT * FROM refund_legs WHERE tenant_id = ${p.tenantId} AND gateway_key = ${p.key} AND connector_id = ${p.connectorId}`.execute(
      deps.db,
    )
  ).rows;
  const leg = legs[0];
  if (!leg) return { matched: false };
  if (p.answer.status !== "processing" && leg.status !== "succeeded")
    await updateLeg(deps, leg, {
      status: p.answer.status,
      gateway_ref: p.answer.reference ?? null,
      last_error: p.answer.error ?? null,
      next_attempt_at: null,
    });
  const a = aggregate(await legsOf(deps, leg.refund_id));
  if (a.status !== "processing") await settleRefund(deps, leg.refund_id, a.status, a.reference, a.error);
  return { matched: true, status: a.status };
}
