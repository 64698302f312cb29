import type { Selectable } from "kysely";
import { sql } from "kysely";
import type { OrderLines, Orders } from "../db/schema.js";
import type { Actor } from "../platform/context.js";
import { type Executor, type JsonRowOf, jsonColumn } from "../platform/db.js";
import { notFound } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import { precompiled } from "../platform/precompiled.js";
import { type EligibilityInput, evaluateEligibility, type TypeOption } from "./engine.js";
import { CN_DEFAULT, type ConditionFlag, type PolicyRules, PolicyRulesSchema, type Reason } from "./rules.js";

export interface LoadedPolicy {
  id: string;
  version: number;
  rules: PolicyRules;
  createdAt: Date;
}

/** The shop's current policy; version 1 with the mainland-China default is made on first use. */
export async function loadPolicy(ex: Executor, tenantId: string, shopId: string): Promise<LoadedPolicy> {
  // Which version is current is read each time; its rules, which never change, come from memory.
  const row = await ex
    .selectFrom("policies")
    .select("id")
    .where("tenant_id", "=", tenantId)
    .where("shop_id", "=", shopId)
    .orderBy("version", "desc")
    .limit(1)
    .executeTakeFirst();
  if (row) return loadPolicyById(ex, tenantId, row.id);
  const shop = await ex.selectFrom("shops").select("id").where("tenant_id", "=", tenantId).where("id", "=", shopId).executeTakeFirst();
  if (!shop) throw notFound("shop");
  const id = newId();
  const inserted = await ex
    .insertInto("policies")
    .values({ id, tenant_id: tenantId, shop_id: shopId, version: 1, rules: JSON.stringify(CN_DEFAULT) })
    .onConflict((oc) => oc.columns(["shop_id", "version"]).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!inserted) return loadPolicy(ex, tenantId, shopId);
  return { id, version: 1, rules: CN_DEFAULT, createdAt: inserted.created_at };
}

/**
 * A policy version never changes once written (an edit makes a new version), so a version read
 * once is kept in memory: every case action reads the version its case was decided under.
 */
const versions = new Map<string, LoadedPolicy>();

export async function loadPolicyById(ex: Executor, tenantId: string, id: string): Promise<LoadedPolicy> {
  const key = `${tenantId}:${id}`;
  const hit = versions.get(key);
  if (hit) return hit;
  const row = await ex.selectFrom("policies").selectAll().where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirstOrThrow();
  const loaded = { id: row.id, version: row.version, rules: PolicyRulesSchema.parse(row.rules), createdAt: row.created_at };
  if (versions.size > 5000) versions.clear();
  versions.set(key, loaded);
  return loaded;
}

const liveClaims = precompiled((db, p: { orderId: string; excludeCaseId: string }, variant) => {
  let q = db
    .selectFrom("case_lines as cl")
    .innerJoin("cases as c", "c.id", "cl.case_id")
    .select(["cl.order_line_id", (eb) => eb.fn.sum<number>("cl.quantity").as("qty")])
    .where("c.order_id", "=", p.orderId)
    .where("c.status", "not in", ["rejected", "cancelled"])
    .groupBy("cl.order_line_id");
  if (variant === "excluding") q = q.where("c.id", "!=", p.excludeCaseId);
  return q;
});

/** Quantity of each order line already held by cases that are still alive. */
export async function claimedQuantities(ex: Executor, orderId: string, excludeCaseId?: string): Promise<Map<string, number>> {
  const rows = await liveClaims(ex, { orderId, excludeCaseId: excludeCaseId ?? "" }, excludeCaseId ? "excluding" : "");
  return new Map(rows.map((r) => [r.order_line_id as string, Number(r.qty)]));
}

/** An order line as the facts carry it (from `json_agg`). */
export type OrderLineJson = JsonRowOf<Selectable<OrderLines>>;

export interface OrderFacts {
  order: Selectable<Orders>;
  lines: OrderLineJson[];
  timezone: string;
  shippedAt: Date | null;
  policy: LoadedPolicy;
}

/** The statement of `orderFacts`; the variant "lock" locks the order row (never the shop's). */
const orderFactsRow = precompiled((db, p: { tenantId: string; orderId: string }, variant) => {
  let q = db
    .selectFrom("orders as o")
    .innerJoin("shops as sh", "sh.id", "o.shop_id")
    .selectAll("o")
    .select("sh.timezone as shop_timezone")
    .select(
      sql<unknown>`(SELECT coalesce(json_agg(l ORDER BY l.line_no), '[]') FROM order_lines l WHERE l.order_id = o.id)`.as("lines_json"),
    )
    .select(
      sql<Date | null>`(SELECT min(so.shipped_at) FROM supplier_orders so WHERE so.order_id = o.id AND so.purpose = 'original')`.as(
        "first_shipped",
      ),
    )
    .where("o.tenant_id", "=", p.tenantId)
    .where("o.id", "=", p.orderId);
  if (variant === "lock") q = q.modifyEnd(sql`FOR UPDATE OF o`);
  return q;
});

/**
 * The order, its lines, its shop's time zone and when it first shipped, in one statement; with
 * `lock` the order row is locked for the caller's transaction (never the shop's row).
 */
export async function orderFacts(ex: Executor, who: Actor | string, orderId: string, opts: { lock?: boolean } = {}): Promise<OrderFacts> {
  const actor = { tenantId: typeof who === "string" ? who : who.tenantId };
  const [row] = await orderFactsRow(ex, { tenantId: actor.tenantId, orderId }, opts.lock ? "lock" : "");
  if (!row) throw notFound("order");
  const { shop_timezone, lines_json, first_shipped, ...order } = row;
  const lines = jsonColumn<OrderLineJson[]>(lines_json);
  const policy = await loadPolicy(ex, actor.tenantId, order.shop_id);
  return { order, lines, timezone: shop_timezone, shippedAt: first_shipped ? new Date(first_shipped) : null, policy };
}

/**
 * Eligibility of every line of an order, for one reason, as of `at`: what each line may still ask
 * for, until when and why, net of the quantities other live cases already hold. `condition` is what
 * the customer reports about the goods; `rules` evaluates a draft policy instead of the shop's.
 */
export async function orderEligibility(
  ex: Executor,
  who: Actor | string,
  orderId: string,
  p: { reason: Reason; at: Date; condition?: ConditionFlag[]; rules?: PolicyRules },
) {
  const loaded = await orderFacts(ex, who, orderId);
  const facts = p.rules ? { ...loaded, policy: { ...loaded.policy, rules: p.rules } } : loaded;
  const claimed = await claimedQuantities(ex, orderId);
  return {
    orderId,
    reason: p.reason,
    at: p.at.toISOString(),
    policyVersion: p.rules ? null : facts.policy.version,
    lines: facts.lines.map((l) => {
      const input = eligibilityInput(facts, l, p.reason, p.at, claimed.get(l.id) ?? 0);
      if (p.condition?.length) input.line.condition = p.condition;
      return {
        orderLineId: l.id as string,
        skuCode: l.sku_code,
        title: l.title,
        category: l.category,
        isGift: l.is_gift,
        quantity: l.quantity,
        available: Math.max(0, l.quantity - (claimed.get(l.id) ?? 0)),
        options: evaluateEligibility(input),
      };
    }),
  };
}

export function eligibilityInput(facts: OrderFacts, l: OrderLineJson, reason: Reason, at: Date, alreadyClaimed: number): EligibilityInput {
  return {
    rules: facts.policy.rules,
    timezone: facts.timezone,
    reason,
    at,
    order: {
      shippedAt: facts.shippedAt,
      deliveredAt: facts.order.delivered_at ? new Date(facts.order.delivered_at) : null,
      cancelled: facts.order.status === "cancelled",
      freeShipping: Number(facts.order.shipping_fee ?? 0) === 0,
    },
    line: {
      category: l.category,
      isGift: l.is_gift,
      noReasonReturnWaived: l.no_reason_return_waived,
      quantity: l.quantity,
      alreadyClaimed,
    },
  };
}

export type { TypeOption };
