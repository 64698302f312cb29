import { z } from "zod";
import { audit } from "../platform/audit.js";
import type { Deps } from "../platform/context.js";
import { AppError, notFound, validation } from "../platform/errors.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { newId } from "../platform/ids.js";
import { loadPolicy, orderEligibility } from "./policy.repo.js";
import { CONDITION_FLAGS, type ConditionFlag, PolicyRulesSchema, PRESETS, policyFloorViolations, REASONS } from "./rules.js";

const shopParam = z.object({ id: z.string().uuid() });

/** `condition=seal_broken,tags_removed`: what the customer reports about the goods. */
const conditionQuery = z
  .string()
  .max(200)
  .regex(new RegExp(`^((${CONDITION_FLAGS.join("|")})(,|$))*$`), `comma-separated, among ${CONDITION_FLAGS.join(", ")}`)
  .optional();
const parseConditions = (v: string | undefined) => (v ?? "").split(",").filter(Boolean) as ConditionFlag[];

export function policyRoutes(app: ZApp, deps: Deps) {
  app.get(
    "/api/v1/shops/:id/policy",
    { config: { roles: ROLES.staff }, schema: { tags: ["policies"], params: shopParam } },
    async (req) => {
      const a = actorOf(req);
      const p = await loadPolicy(deps.db, a.tenantId, req.params.id);
      return { id: p.id, shopId: req.params.id, version: p.version, rules: p.rules, createdAt: p.createdAt, presets: Object.keys(PRESETS) };
    },
  );

  app.get(
    "/api/v1/shops/:id/policy/versions",
    { config: { roles: ROLES.staff }, schema: { tags: ["policies"], params: shopParam } },
    async (req) => {
      const a = actorOf(req);
      const rows = await deps.db
        .selectFrom("policies")
        .select(["id", "version", "created_at", "created_by"])
        .where("tenant_id", "=", a.tenantId)
        .where("shop_id", "=", req.params.id)
        .orderBy("version", "desc")
        .execute();
      return {
        items: rows.map((r) => ({ id: r.id, version: r.version, createdAt: r.created_at, createdBy: r.created_by })),
        nextCursor: null,
      };
    },
  );

  app.put(
    "/api/v1/shops/:id/policy",
    {
      config: { roles: ROLES.admin },
      schema: {
        tags: ["policies"],
        params: shopParam,
        body: z.strictObject({ preset: z.enum(["cn_default", "eu_withdrawal"]).optional(), rules: PolicyRulesSchema.optional() }),
      },
    },
    async (req) => {
      const a = actorOf(req);
      const rules = req.body.rules ?? (req.body.preset ? PRESETS[req.body.preset] : undefined);
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
          .where("id", "=", req.params.id)
          .forUpdate()
          .executeTakeFirst();
        if (!shop) throw notFound("shop");
        const current = await loadPolicy(tx, a.tenantId, req.params.id);
        const id = newId();
        const row = await tx
          .insertInto("policies")
          .values({
            id,
            tenant_id: a.tenantId,
            shop_id: req.params.id,
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
          req.params.id,
          { version: current.version, rules: current.rules },
          { version: row.version, rules },
        );
        return { id, shopId: req.params.id, version: row.version, rules, createdAt: row.created_at };
      });
    },
  );

  app.get(
    "/api/v1/orders/:id/eligibility",
    {
      config: { roles: ROLES.staff },
      schema: {
        tags: ["policies"],
        params: z.object({ id: z.string().uuid() }),
        querystring: z.strictObject({
          reason: z.enum(REASONS).default("changed_mind"),
          at: z.string().datetime({ offset: true }).optional(),
          condition: conditionQuery,
        }),
      },
    },
    async (req) =>
      orderEligibility(deps.db, actorOf(req), req.params.id, {
        reason: req.query.reason,
        at: req.query.at ? new Date(req.query.at) : deps.clock.now(),
        condition: parseConditions(req.query.condition),
      }),
  );

  // Try a draft policy on a real order before saving it: nothing is written.
  app.post(
    "/api/v1/shops/:id/policy/preview",
    {
      config: { roles: ROLES.admin },
      schema: {
        tags: ["policies"],
        params: shopParam,
        body: z.strictObject({
          preset: z.enum(["cn_default", "eu_withdrawal"]).optional(),
          rules: PolicyRulesSchema.optional(),
          orderId: z.string().uuid(),
          reason: z.enum(REASONS).default("changed_mind"),
          at: z.string().datetime({ offset: true }).optional(),
          condition: z.array(z.enum(CONDITION_FLAGS)).max(CONDITION_FLAGS.length).optional(),
        }),
      },
    },
    async (req) => {
      const a = actorOf(req);
      const b = req.body;
      const rules = b.rules ?? (b.preset ? PRESETS[b.preset] : (await loadPolicy(deps.db, a.tenantId, req.params.id)).rules);
      const order = await deps.db
        .selectFrom("orders")
        .select("shop_id")
        .where("tenant_id", "=", a.tenantId)
        .where("id", "=", b.orderId)
        .executeTakeFirst();
      if (!order || order.shop_id !== req.params.id) throw notFound("order");
      const result = await orderEligibility(deps.db, a, b.orderId, {
        reason: b.reason,
        at: b.at ? new Date(b.at) : deps.clock.now(),
        condition: b.condition,
        rules,
      });
      return { ...result, floorViolations: policyFloorViolations(rules).map(({ field, message }) => ({ field, message })) };
    },
  );
}
