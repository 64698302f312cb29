import type { z } from "zod";
import { audit } from "../platform/audit.js";
import type { Actor, Deps } from "../platform/context.js";
import { AppError, notFound, validation } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import { loadPolicy, orderEligibility } from "./policy.repo.js";
import type { EligibilityQuery, PolicyBody, PolicyPreviewBody } from "./policy.schemas.js";
import { type ConditionFlag, PRESETS, policyFloorViolations } from "./rules.js";

// A shop's return policy: read, versioned on each save, and tried on a real order.

export async function currentPolicy(deps: Deps, a: Actor, shopId: string) {
  const p = await loadPolicy(deps.db, a.tenantId, shopId);
  return { id: p.id, shopId, version: p.version, rules: p.rules, createdAt: p.createdAt, presets: Object.keys(PRESETS) };
}

export async function policyVersions(deps: Deps, a: Actor, shopId: string) {
  const rows = await deps.db
    .selectFrom("policies")
    .select(["id", "version", "created_at", "created_by"])
    .where("tenant_id", "=", a.tenantId)
    .where("shop_id", "=", shopId)
    .orderBy("version", "desc")
    .execute();
  return {
    items: rows.map((r) => ({ id: r.id, version: r.version, createdAt: r.created_at, createdBy: r.created_by })),
    nextCursor: null,
  };
}

/** Saves the rules (or a preset) as the shop's next policy version. */
export async function savePolicy(deps: Deps, a: Actor, shopId: string, b: z.infer<typeof PolicyBody>) {
  const rules = b.rules ?? (b.preset ? PRESETS[b.preset] : undefined);
  if (!rules) throw validation("rules", "send rules or a preset");
  // The law sets a floor: a shop may be more generous, never less.
  const floor = policyFloorViolations(rules);
  if (floor.length > 0) {
    const first = floor[0];
    throw new AppError(
      "validation_failed",
      { en: `${first.field}: ${first.message}`, "zh-CN": first.zh ?? first.message },
      { fields: floor },
    );
  }
  return deps.db.transaction().execute(async (tx) => {
    const shop = await tx
      .selectFrom("shops")
      .select("id")
      .where("tenant_id", "=", a.tenantId)
      .where("id", "=", shopId)
      .forUpdate()
      .executeTakeFirst();
    if (!shop) throw notFound("shop");
    const current = await loadPolicy(tx, a.tenantId, shopId);
    const id = newId();
    const row = await tx
      .insertInto("policies")
      .values({
        id,
        tenant_id: a.tenantId,
        shop_id: shopId,
        version: current.version + 1,
        rules: JSON.stringify(rules),
        created_by: a.kind === "user" ? a.id : null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(
      tx,
      a,
      "policy.update",
      "shop",
      shopId,
      { version: current.version, rules: current.rules },
      { version: row.version, rules },
    );
    return { id, shopId, version: row.version, rules, createdAt: row.created_at };
  });
}

/** What the shop's policy allows on an order, for a reason, at a moment, with the goods' condition. */
export async function eligibility(deps: Deps, a: Actor, orderId: string, q: z.infer<typeof EligibilityQuery>) {
  return orderEligibility(deps.db, a, orderId, {
    reason: q.reason,
    at: q.at ? new Date(q.at) : deps.clock.now(),
    condition: (q.condition ?? "").split(",").filter(Boolean) as ConditionFlag[],
  });
}

/** A draft policy tried on a real order of the shop: nothing is written. */
export async function previewPolicy(deps: Deps, a: Actor, shopId: string, b: z.infer<typeof PolicyPreviewBody>) {
  const rules = b.rules ?? (b.preset ? PRESETS[b.preset] : (await loadPolicy(deps.db, a.tenantId, shopId)).rules);
  const order = await deps.db
    .selectFrom("orders")
    .select("shop_id")
    .where("tenant_id", "=", a.tenantId)
    .where("id", "=", b.orderId)
    .executeTakeFirst();
  if (!order || order.shop_id !== shopId) throw notFound("order");
  const result = await orderEligibility(deps.db, a, b.orderId, {
    reason: b.reason,
    at: b.at ? new Date(b.at) : deps.clock.now(),
    condition: b.condition,
    rules,
  });
  return { ...result, floorViolations: policyFloorViolations(rules).map(({ field, message }) => ({ field, message })) };
}
