import type { Selectable } from "kysely";
import { sql } from "kysely";
import type { Cases, OrderDiscounts, OrderLines, Orders, Refunds } from "../db/schema.js";
import { audit } from "../platform/audit.js";
import { type Actor, type Deps, emit } from "../platform/context.js";
import { type Executor, type JsonRowOf, jsonColumn, type Tx } from "../platform/db.js";
import { AppError, invalidTransition, notFound } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import { lockRows } from "../platform/locks.js";
import { lockedRowKey, setTxMemo } from "../platform/tx-memo.js";
import { refundsShipping, returnFreightPayer } from "../policies/engine.js";
import { loadPolicy, loadPolicyById } from "../policies/policy.repo.js";
import type { Reason, Responsibility } from "../policies/rules.js";
import { isPlatformPaid } from "./gateways/platform.js";
import { gateways } from "./gateways.js";
import { post } from "./ledger.js";
import { type Quote, quoteRefund } from "./quote.js";
import { REFUND_MACHINE } from "./refund.states.js";
import { pendingRefundsSql, refundable, refundableOf } from "./refundable.js";

const R = (code: string, message: string, messageEn: string) => ({ code, message, messageEn });
type CaseLineJson = { order_line_id: string; quantity: number };

export { refundableOf } from "./refundable.js";

export type CaseQuote = Quote & {
  currency: string;
  giftDeductions: number;
  reasons: { code: string; message: string; messageEn: string }[];
};

type OwnRefund = { id: string; amount: number; status: Selectable<Refunds>["status"] };

/**
 * The refund a case is owed, computed from the order, the policy it was decided under and the
 * inspection. Takes the case by id, or its row when the caller has just read it (under its lock).
 */
export async function quoteCaseRefund(
  ex: Executor,
  tenantId: string,
  caseRef: string | Selectable<Cases>,
  opts: { preference?: "original" | "balance" } = {},
): Promise<CaseQuote> {
  return (await quoteWithOwnRefund(ex, tenantId, caseRef, opts)).quote;
}

/** The quote, and the refund the case already has (read in the same statement as the quote's facts). */
async function quoteWithOwnRefund(
  ex: Executor,
  tenantId: string,
  caseRef: string | Selectable<Cases>,
  opts: { preference?: "original" | "balance" },
): Promise<{ quote: CaseQuote; own: OwnRefund | null }> {
  const c =
    typeof caseRef === "string"
      ? await ex.selectFrom("cases").selectAll().where("tenant_id", "=", tenantId).where("id", "=", caseRef).executeTakeFirst()
      : caseRef;
  if (!c) throw notFound("case");
  const caseId = c.id;
  // Everything the quote reads about the order, in one statement: the order, its lines,
  // discounts and payments, this case's lines, the units other refunded cases took back, the
  // refunds under way, and this case's own refund if it has one.
  const facts = await sql<{
    order: JsonRowOf<Selectable<Orders>>;
    lines: JsonRowOf<Selectable<OrderLines>>[];
    discounts: JsonRowOf<Selectable<OrderDiscounts>>[];
    payments: { method: string; amount: number }[];
    case_lines: CaseLineJson[];
    earlier: CaseLineJson[];
    pending: string | number;
    own: OwnRefund | null;
  }>`SELECT row_to_json(o) AS order,
      (SELECT coalesce(json_agg(l ORDER BY l.line_no), '[]') FROM order_lines l WHERE l.order_id = o.id) AS lines,
      (SELECT coalesce(json_agg(d ORDER BY d.id), '[]') FROM order_discounts d WHERE d.order_id = o.id) AS discounts,
      (SELECT coalesce(json_agg(json_build_object('method', p.method, 'amount', p.amount) ORDER BY p.paid_at, p.id), '[]')
        FROM payments p WHERE p.order_id = o.id) AS payments,
      (SELECT coalesce(json_agg(json_build_object('order_line_id', cl.order_line_id, 'quantity', cl.quantity)), '[]')
        FROM case_lines cl WHERE cl.case_id = ${caseId}) AS case_lines,
      (SELECT coalesce(json_agg(json_build_object('order_line_id', cl.order_line_id, 'quantity', cl.quantity)), '[]')
        FROM case_lines cl JOIN cases oc ON oc.id = cl.case_id
        JOIN refunds r ON r.case_id = oc.id AND r.kind = 'case' AND r.status <> 'failed'
        WHERE oc.order_id = o.id AND oc.id <> ${caseId}) AS earlier,
      ${pendingRefundsSql(sql.ref("o.id"))} AS pending,
      (SELECT row_to_json(x) FROM (SELECT id, amount, status FROM refunds WHERE case_id = ${caseId} AND kind = 'case' LIMIT 1) x) AS own
    FROM orders o WHERE o.id = ${c.order_id}`
    .execute(ex)
    .then((r) => r.rows[0]);
  if (!facts) throw notFound("order");
  const order = jsonColumn<typeof facts.order>(facts.order);
  const lines = jsonColumn<typeof facts.lines>(facts.lines);
  const discounts = jsonColumn<typeof facts.discounts>(facts.discounts);
  const payments = jsonColumn<typeof facts.payments>(facts.payments);
  const caseLines = jsonColumn<CaseLineJson[]>(facts.case_lines);
  const earlier = jsonColumn<CaseLineJson[]>(facts.earlier);
  const policy = c.policy_id ? await loadPolicyById(ex, tenantId, c.policy_id) : await loadPolicy(ex, tenantId, c.shop_id);
  const returnedBefore: Record<string, number> = {};
  for (const e of earlier) returnedBefore[e.order_line_id] = (returnedBefore[e.order_line_id] ?? 0) + e.quantity;
  const after = { ...returnedBefore };
  for (const cl of caseLines) after[cl.order_line_id] = (after[cl.order_line_id] ?? 0) + cl.quantity;
  const fullReturn = lines.filter((l) => !l.is_gift).every((l) => (after[l.id] ?? 0) >= l.quantity);
  const responsibility = c.responsibility as Responsibility;
  const ship = refundsShipping({
    rules: policy.rules,
    reason: c.reason as Reason,
    responsibility,
    fullReturn,
    shippingFee: Number(order.shipping_fee),
  });
  const payer = returnFreightPayer(policy.rules, c.reason as Reason, responsibility);
  const resolution = c.resolution as { returnFreight?: number } | null;
  const customerPaidReturn = c.return_tracking_no ? Number(resolution?.returnFreight ?? policy.rules.defaultReturnFreight) : 0;
  const returnFreight = payer !== "customer" && c.type === "return_refund" ? customerPaidReturn : 0;
  const inspection = c.inspection as { deduction?: { amount: number; reason: string } } | null;
  const deductions = inspection?.deduction?.amount ? [{ amount: inspection.deduction.amount, reason: inspection.deduction.reason }] : [];
  const paid = Number(order.paid_total);
  const remaining = { remaining: refundable({ paid, refunded: Number(order.refunded_total), pending: Number(facts.pending) }) };
  // A refund already made for this case counts as its own.
  const own = jsonColumn<typeof facts.own>(facts.own);
  const q = quoteRefund({
    lines: lines.map((l) => ({
      id: l.id,
      quantity: l.quantity,
      unitPrice: Number(l.unit_price),
      discount: Number(l.discount),
      paidAmount: Number(l.paid_amount),
      isGift: l.is_gift,
      giftPrice: Number(l.gift_price),
    })),
    discounts: discounts.map((d) => ({
      kind: d.kind,
      amount: Number(d.amount),
      threshold: d.threshold === null ? null : Number(d.threshold),
      code: d.code,
    })),
    shippingFee: Number(order.shipping_fee),
    payments: payments.map((p) => ({ method: p.method, amount: Number(p.amount) })),
    returnedBefore,
    caseLines: caseLines.map((cl) => ({ orderLineId: cl.order_line_id, quantity: cl.quantity })),
    refundShipping: ship.refund,
    returnFreight,
    deductions,
    remaining: remaining.remaining + (own && own.status !== "failed" && own.status !== "succeeded" ? Number(own.amount) : 0),
    preference: opts.preference ?? c.refund_preference,
  });
  const reasons = [ship.reason];
  if (returnFreight > 0)
    reasons.push(
      R(
        "return_freight_refunded",
        "商家责任，退还买家垫付的退货运费",
        "The merchant side is responsible: the customer's return shipping is refunded",
      ),
    );
  if (q.giftDeduction)
    reasons.push(R("gift_deducted", "赠品未退回，按赠品标价扣除", "The gift was not returned and is deducted at its shown price"));
  if (q.thresholdResettlement)
    reasons.push(
      R(
        "threshold_resettled",
        "部分退货后未达满减门槛，保留商品按原价结算",
        "After this return the order no longer reaches its threshold discount; kept items are settled at their purchase price",
      ),
    );
  if (deductions.length)
    reasons.push(R("inspection_deduction", `验货扣款：${deductions[0].reason}`, `Inspection deduction: ${deductions[0].reason}`));
  if (q.couponsReissued.length) reasons.push(R("coupon_reissued", "优惠券按原形式退回", "Coupons and points come back in the same form"));
  if (q.capped) reasons.push(R("capped_at_refundable", "已按订单剩余可退金额退款", "Capped at what remains refundable on the order"));
  // `giftDeductions` is the name of the quote's public API field; `giftDeduction` is kept for older readers.
  return { quote: { ...q, giftDeductions: q.giftDeduction, currency: order.currency, reasons }, own };
}

function gatewayFor(method: string): "balance" | "manual" | "sandbox" {
  if (method === "balance") return "balance";
  const g = process.env.DROPDESK_REFUND_GATEWAY;
  return g === "manual" || g === "balance" ? g : "sandbox";
}

/**
 * Creates the case's refund inside the caller's transaction (the case row is locked by the caller).
 * One refund per case (unique index); at most what remains refundable on the order.
 */
export async function createCaseRefund(
  tx: Tx,
  deps: Deps,
  actor: Actor,
  caseRef: string | Selectable<Cases>,
  opts: { method?: "original" | "balance" } = {},
) {
  let c: Selectable<Cases>;
  if (typeof caseRef === "string") {
    c = await tx.selectFrom("cases").selectAll().where("id", "=", caseRef).executeTakeFirstOrThrow();
    // Serialise every refund of the order behind its row lock.
    await tx.selectFrom("orders").select("id").where("id", "=", c.order_id).forUpdate().executeTakeFirstOrThrow();
  } else {
    // The caller read the row after locking the order and the case (a case action's lockCase).
    c = caseRef;
  }
  const caseId = c.id;
  const preference = opts.method ?? c.refund_preference;
  const { quote: q, own: existing } = await quoteWithOwnRefund(tx, actor.tenantId, c, { preference });
  if (existing) throw new AppError("conflict", "this case has a refund already", { refundId: existing.id, status: existing.status });
  if (q.total <= 0) throw new AppError("policy_refused", "nothing is owed on this case", { reasons: q.reasons });
  const id = newId();
  const method = preference === "balance" ? "balance" : "original";
  // A marketplace order's money is the platform's to pay back (src/money/gateways/platform.ts).
  const gateway = method === "original" && (await isPlatformPaid(tx, c.order_id)) ? "platform" : gatewayFor(method);
  await tx
    .insertInto("refunds")
    .values({
      id,
      tenant_id: actor.tenantId,
      order_id: c.order_id,
      case_id: caseId,
      kind: "case",
      amount: q.total,
      method,
      gateway,
      route: gateway,
      status: "pending",
      gateway_key: `rf_${id}`,
      breakdown: JSON.stringify(q),
      created_by: actor.id,
      created_at: deps.clock.now(),
    })
    .execute();
  return { id, amount: q.total };
}

/** Creates a refund outside any case (goodwill, cancellation, compensation) within what remains. */
export async function createOrderRefund(
  tx: Tx,
  deps: Deps,
  actor: Actor,
  p: {
    orderId: string;
    amount: number;
    kind: "goodwill" | "cancellation" | "compensation";
    reason: string;
    caseId?: string;
    method?: "original" | "balance";
  },
) {
  await tx
    .selectFrom("orders")
    .select("id")
    .where("tenant_id", "=", actor.tenantId)
    .where("id", "=", p.orderId)
    .forUpdate()
    .executeTakeFirstOrThrow();
  const r = await refundableOf(tx, p.orderId);
  if (p.amount > r.remaining) {
    throw new AppError(
      "refund_exceeds_refundable",
      { en: `at most ${r.remaining} remains refundable on this order`, "zh-CN": `此订单最多还可退 ¥${(r.remaining / 100).toFixed(2)}` },
      {
        remaining: r.remaining,
        requested: p.amount,
      },
    );
  }
  const id = newId();
  const method = p.method ?? "original";
  const gateway = method === "original" && (await isPlatformPaid(tx, p.orderId)) ? "platform" : gatewayFor(method);
  await tx
    .insertInto("refunds")
    .values({
      id,
      tenant_id: actor.tenantId,
      order_id: p.orderId,
      case_id: p.caseId ?? null,
      kind: p.kind,
      amount: p.amount,
      method,
      gateway,
      route: gateway,
      status: "pending",
      gateway_key: `rf_${id}`,
      reason: p.reason,
      created_by: actor.id,
      created_at: deps.clock.now(),
    })
    .execute();
  return { id, amount: p.amount };
}

/** Sends a pending refund to its gateway, outside any transaction, then records the answer. */
export async function executeRefund(deps: Deps, refundId: string): Promise<void> {
  const r = await deps.db
    .updateTable("refunds")
    .set((eb) => ({ status: "processing", attempts: eb("attempts", "+", 1), updated_at: deps.clock.now() }))
    .where("id", "=", refundId)
    .where("status", "=", "pending")
    .returningAll()
    .returning((eb) => eb.selectFrom("orders").select("currency").whereRef("orders.id", "=", "refunds.order_id").as("currency"))
    .executeTakeFirst();
  if (!r) return;
  if (!r.currency) throw new Error(`refund ${refundId} has no order`);
  const o = { currency: r.currency };
  let answer: Awaited<ReturnType<(typeof gateways extends (d: Deps) => infer G ? G : never)[string]["refund"]>>;
  try {
    answer = await gateways(deps)[r.gateway].refund({
      key: r.gateway_key,
      amount: Number(r.amount),
      currency: o.currency,
      method: r.method,
    });
  } catch (e) {
    // A timeout or a crash leaves the refund processing; reconciliation asks the gateway by key.
    await deps.db
      .updateTable("refunds")
      .set({ last_error: e instanceof Error ? e.message : String(e) })
      .where("id", "=", refundId)
      .execute();
    return;
  }
  if (answer.status === "processing") {
    if (answer.reference) await deps.db.updateTable("refunds").set({ gateway_ref: answer.reference }).where("id", "=", refundId).execute();
    return;
  }
  await settleRefund(deps, refundId, answer.status, answer.reference, answer.error, r);
}

/**
 * Sends a refund that the caller's request has just committed. The request has done what it was
 * asked, so a failure here (a deadlock while settling, the database briefly gone) must not answer
 * it with an error that invites a retry: the refund stays pending or processing with the reason,
 * and reconciliation sends it or asks the gateway again within a minute.
 */
export async function sendAfterCommit(deps: Deps, refundId: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await executeRefund(deps, refundId);
      return;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (attempt < 3 && (code === "40P01" || code === "40001")) continue;
      await deps.db
        .updateTable("refunds")
        .set({ last_error: (e instanceof Error ? e.message : String(e)).slice(0, 500) })
        .where("id", "=", refundId)
        .execute()
        .catch(() => undefined);
      return;
    }
  }
}

/**
 * Records a gateway's final answer once: success posts the money movement and advances the case;
 * failure changes nothing but the refund's own status, so it can be retried with the same key.
 */
export async function settleRefund(
  deps: Deps,
  refundId: string,
  outcome: "succeeded" | "failed",
  reference?: string,
  error?: string,
  /** The refund's order and case when the caller has them (they never change). */
  known?: { order_id: string; case_id: string | null },
): Promise<boolean> {
  return deps.db.transaction().execute(async (tx) => {
    const owner = known ?? (await tx.selectFrom("refunds").select(["order_id", "case_id"]).where("id", "=", refundId).executeTakeFirst());
    if (!owner) return false;
    // Order, case, then refund: the lock order of src/platform/locks.ts, as a case action takes them.
    await lockRows(tx, { orders: [owner.order_id], cases: [owner.case_id], refunds: [refundId] });
    const r = await tx.selectFrom("refunds").selectAll().where("id", "=", refundId).executeTakeFirst();
    // Settled once: the gateway's answer is a step only from pending or processing.
    if (!r || !REFUND_MACHINE.next(r.status, outcome === "failed" ? "gateway-failed" : "gateway-succeeded")) return false;
    const now = deps.clock.now();
    if (outcome === "failed") {
      await tx
        .updateTable("refunds")
        .set({ status: "failed", last_error: error ?? "declined", updated_at: now })
        .where("id", "=", refundId)
        .execute();
      // After-sales moves the case on from these events (src/after-sales/case.events.ts).
      await emit(deps, tx, {
        type: "refund.failed",
        tenantId: r.tenant_id,
        entityId: refundId,
        data: { orderId: r.order_id, caseId: r.case_id, kind: r.kind, amount: Number(r.amount) },
        key: `refund.failed:${refundId}:${r.attempts}`,
      });
      return true;
    }
    // The update locks the order row, like the refund's creation did.
    const order = await tx
      .updateTable("orders")
      .set((eb) => ({ refunded_total: eb("refunded_total", "+", Number(r.amount)), updated_at: now }))
      .where("id", "=", r.order_id)
      .returning(["currency"])
      .executeTakeFirstOrThrow();
    // The case keeps its own total too, so that reports sum one column instead of joining refunds.
    if (r.case_id) {
      const c = await tx
        .updateTable("cases")
        .set((eb) => ({ refunded_total: eb("refunded_total", "+", Number(r.amount)) }))
        .where("id", "=", r.case_id)
        .returningAll()
        .executeTakeFirstOrThrow();
      // The case as it stands now, locked above: the case's own handling of the event reads it here.
      setTxMemo(tx, lockedRowKey("cases", c.id), c);
    }
    await tx
      .updateTable("refunds")
      .set({ status: "succeeded", gateway_ref: reference ?? r.gateway_ref, confirmed_at: now, updated_at: now, last_error: null })
      .where("id", "=", refundId)
      .execute();
    const amount = Number(r.amount);
    await post(tx, {
      tenantId: r.tenant_id,
      // A marketplace order's refund was paid by the platform: the ledger says so.
      code: r.kind === "compensation" ? "compensation_refund" : r.gateway === "platform" ? "platform_refund" : "refund",
      currency: order.currency,
      orderId: r.order_id,
      caseId: r.case_id,
      refundId,
      sourceKey: `refund:${refundId}`,
      memo: `${r.kind} refund by ${routeWords(r)}`,
      at: now,
      entries: [
        { account: r.kind === "compensation" ? "compensation_expense" : "customer_refunds", amount },
        { account: r.method === "balance" ? "store_credit" : "cash", amount: -amount },
      ],
    });
    await emit(deps, tx, {
      type: "refund.succeeded",
      tenantId: r.tenant_id,
      entityId: refundId,
      data: { orderId: r.order_id, caseId: r.case_id, kind: r.kind, amount, currency: order.currency },
      key: `refund.succeeded:${refundId}`,
    });
    return true;
  });
}

/** Finance's actions on a refund: confirm a manual one with its bank reference, or retry a failed one. */
export async function refundAction(deps: Deps, actor: Actor, refundId: string, action: "confirm" | "retry", input: { reference?: string }) {
  const r = await loadRefund(deps.db, actor, refundId);
  if (REFUND_MACHINE.refusal(r.status, action)) throw invalidTransition("refund", action, r.status, REFUND_MACHINE.allowed(r.status));
  if (action === "confirm") {
    await settleRefund(deps, refundId, "succeeded", input.reference);
  } else {
    // The retry goes out with the same gateway key, so the gateway pays at most once.
    const reopened = await deps.db.transaction().execute(async (tx) => {
      await tx.selectFrom("orders").select("id").where("id", "=", r.order_id).forUpdate().execute();
      const left = await refundableOf(tx, r.order_id);
      if (Number(r.amount) > left.remaining)
        throw new AppError("refund_exceeds_refundable", `at most ${left.remaining} remains refundable`, { remaining: left.remaining });
      const u = await tx
        .updateTable("refunds")
        .set({ status: "pending", last_error: null, updated_at: deps.clock.now() })
        .where("id", "=", refundId)
        .where("status", "=", "failed")
        .executeTakeFirst();
      await audit(tx, actor, "refund.retry", "refund", refundId);
      return Number(u.numUpdatedRows) === 1;
    });
    if (reopened) await executeRefund(deps, refundId);
  }
  await audit(deps.db, actor, `refund.${action}`, "refund", refundId, { status: r.status }, input);
  return refundView(deps.db, actor, refundId);
}

/** Asks the gateways about refunds left processing (after a crash or a lost callback) and settles them. */
export async function reconcileRefunds(deps: Deps): Promise<number> {
  const open = await deps.db.selectFrom("refunds").selectAll().where("status", "in", ["processing", "pending"]).limit(500).execute();
  let settled = 0;
  for (const r of open) {
    if (r.status === "pending") {
      await executeRefund(deps, r.id);
      continue;
    }
    if (await reconcileRefund(deps, r)) settled += 1;
  }
  return settled;
}

/** Asks a processing refund's gateway by its key and settles what it knows; sends again what it never got. */
export async function reconcileRefund(deps: Deps, r: Pick<Selectable<Refunds>, "id" | "gateway" | "gateway_key" | "amount" | "method">) {
  const g = gateways(deps)[r.gateway];
  const known = await g.lookup(r.gateway_key);
  if (known.status === "succeeded" || known.status === "failed") return settleRefund(deps, r.id, known.status, known.reference);
  if (known.status !== "unknown") return false;
  // The gateway never got it: send it again under the same key.
  const answer = await g.refund({ key: r.gateway_key, amount: Number(r.amount), currency: "CNY", method: r.method });
  return answer.status !== "processing" && settleRefund(deps, r.id, answer.status, answer.reference, answer.error);
}

const ROUTE_WORDS: Record<string, string> = {
  alipay: "Alipay",
  wechatpay: "WeChat Pay",
  stripe: "Stripe",
  platform: "the platform (paid by the marketplace)",
  sandbox: "the sandbox gateway",
  manual: "a bank transfer finance confirms",
  balance: "store credit",
};
/** The ledger memo's words for a refund's route: `original route via Alipay + WeChat Pay`, `store credit`. */
function routeWords(r: Pick<Selectable<Refunds>, "route" | "gateway" | "method">) {
  const parts = (r.route ?? r.gateway).split(",").map((g) => ROUTE_WORDS[g] ?? g);
  if (r.method === "balance") return "store credit";
  return r.gateway === "platform" ? ROUTE_WORDS.platform : `the original route via ${parts.join(" + ")}`;
}

export const refundOut = (r: Selectable<Refunds>) => ({
  id: r.id,
  orderId: r.order_id,
  caseId: r.case_id,
  kind: r.kind,
  amount: Number(r.amount),
  method: r.method,
  gateway: r.gateway,
  /** Where it really goes back: the gateway of each leg (alipay, wechatpay, stripe), else its own (platform, sandbox, manual, balance). */
  route: (r.route ?? r.gateway).split(","),
  status: r.status,
  gatewayRef: r.gateway_ref,
  attempts: r.attempts,
  lastError: r.last_error,
  reason: r.reason,
  breakdown: r.breakdown,
  createdAt: r.created_at,
  confirmedAt: r.confirmed_at,
  allowedActions: REFUND_MACHINE.allowed(r.status, { subject: { gateway: r.gateway } }),
});

/** A refund of the actor's tenant, or 404. */
export async function loadRefund(ex: Executor, actor: Actor, id: string) {
  const r = await ex.selectFrom("refunds").selectAll().where("tenant_id", "=", actor.tenantId).where("id", "=", id).executeTakeFirst();
  if (!r) throw notFound("refund");
  return r;
}

export async function refundView(ex: Executor, actor: Actor, id: string) {
  return refundOut(await loadRefund(ex, actor, id));
}

/** A supplier claim for a case the supplier caused: goods cost, freight and compensation. Idempotent. */
export async function openClaimForCase(
  tx: Tx,
  deps: Deps,
  actor: Actor,
  caseId: string,
  /** The case row and the order's currency when the caller has read them in this transaction. */
  known: { c?: Selectable<Cases>; currency?: string } = {},
): Promise<string | null> {
  const c = known.c ?? (await tx.selectFrom("cases").selectAll().where("id", "=", caseId).executeTakeFirstOrThrow());
  if (c.responsibility !== "supplier" || !c.supplier_id) return null;
  // The case's live claim, if it has one, and what the supplier charged for the case's goods: one read.
  const supplierId = c.supplier_id;
  const facts = await tx
    .selectNoFrom((eb) => [
      eb
        .selectFrom("supplier_claims")
        .select("id")
        .where("case_id", "=", caseId)
        .where("status", "!=", "cancelled")
        .limit(1)
        .as("existing"),
      eb
        .selectFrom("case_lines as cl")
        .innerJoin("supplier_order_lines as sl", "sl.order_line_id", "cl.order_line_id")
        .innerJoin("supplier_orders as so", (j) => j.onRef("so.id", "=", "sl.supplier_order_id").on("so.purpose", "=", "original"))
        .select(sql<string>`coalesce(sum(cl.quantity * sl.unit_cost), 0)`.as("cost"))
        .where("cl.case_id", "=", caseId)
        .where("so.supplier_id", "=", supplierId)
        .as("goods_cost"),
    ])
    .executeTakeFirstOrThrow();
  if (facts.existing) return facts.existing;
  const goodsCost = Number(facts.goods_cost);
  const resolution = c.resolution as { returnFreight?: number } | null;
  const offer = c.offer as { amount?: number; accepted?: boolean } | null;
  const freight = c.type === "return_refund" || c.type === "exchange" ? Number(resolution?.returnFreight ?? 0) : 0;
  const compensation = Number(offer?.amount ?? 0) * (offer?.accepted ? 1 : 0);
  const amount = goodsCost + freight + compensation;
  if (amount <= 0) return null;
  // The supplier answers within the shop policy's time (its terms' claimDeadlineDays is how long
  // after delivery a claim may be filed, checked when the case is opened).
  const policy = c.policy_id ? await loadPolicyById(tx, c.tenant_id, c.policy_id) : null;
  const answerDays = policy?.rules.sla.supplierClaimAnswerDays ?? 7;
  const id = newId();
  const now = deps.clock.now();
  await tx
    .insertInto("supplier_claims")
    .values({
      id,
      tenant_id: c.tenant_id,
      supplier_id: c.supplier_id,
      case_id: caseId,
      status: "open",
      amount,
      breakdown: JSON.stringify({ goods: goodsCost, freight, compensation }),
      note: `${c.case_no}: ${c.reason}`,
      due_at: new Date(now.getTime() + answerDays * 86400_000),
      created_at: now,
      updated_at: now,
    })
    .execute();
  const order = known.currency
    ? { currency: known.currency }
    : await tx.selectFrom("orders").select("currency").where("id", "=", c.order_id).executeTakeFirstOrThrow();
  await post(tx, {
    tenantId: c.tenant_id,
    code: "claim_opened",
    currency: order.currency,
    orderId: c.order_id,
    caseId,
    supplierId: c.supplier_id,
    claimId: id,
    sourceKey: `claim:${id}`,
    memo: "recoverable from the supplier",
    at: now,
    entries: [
      { account: "supplier_claims_receivable", amount },
      { account: "cost_of_goods", amount: -goodsCost },
      { account: "freight_expense", amount: -freight },
      { account: "compensation_expense", amount: -compensation },
    ],
  });
  await emit(deps, tx, {
    type: "claim.opened",
    tenantId: c.tenant_id,
    entityId: id,
    data: { caseId, supplierId: c.supplier_id, amount },
    key: `claim.opened:${id}`,
  });
  await audit(tx, actor, "claim.open", "supplier_claim", id, undefined, { amount });
  return id;
}

/** Paid, refunded, refunds under way and what remains refundable on one order of a tenant. */
export async function orderMoneySummary(ex: Executor, tenantId: string, orderId: string) {
  const o = await ex.selectFrom("orders").select("id").where("tenant_id", "=", tenantId).where("id", "=", orderId).executeTakeFirst();
  if (!o) throw notFound("order");
  const r = await refundableOf(ex, orderId);
  return { paid: r.paid, refunded: r.refunded, pending: r.pending, refundable: Math.max(0, r.remaining) };
}
