import { z } from "zod";
import { quoteCaseRefund } from "../money/refunds.js";
import type { Deps } from "../platform/context.js";
import { notFound } from "../platform/errors.js";
import { actorOf, type ZApp } from "../platform/http.js";

// What the customer's case page says about the money: the refund the case comes to and the
// routes it goes back by, or what was refunded once it has been.

const REFUNDING = ["return_refund", "refund_only", "compensation"];
const idParam = z.object({ id: z.string().uuid() });

export function portalRefundRoutes(app: ZApp, deps: Deps) {
  app.get(
    "/portal/api/cases/:id/refund",
    { config: { roles: ["customer"] as const }, schema: { tags: ["portal"], params: idParam } },
    async (req) => {
      const a = actorOf(req);
      const c = await deps.db
        .selectFrom("cases")
        .select(["id", "type", "status", "refunded_total"])
        .where("tenant_id", "=", a.tenantId)
        .where("id", "=", req.params.id)
        .where("order_id", "=", a.orderId ?? "")
        .executeTakeFirst();
      if (!c) throw notFound("case");
      if (!REFUNDING.includes(c.type) || ["rejected", "cancelled"].includes(c.status)) return { refund: null };
      if (c.refunded_total > 0) {
        // Refunded: the routes its money actually went back by, from the refunds' legs.
        const refunds = await deps.db
          .selectFrom("refunds")
          .select(["id", "method", "amount"])
          .where("tenant_id", "=", a.tenantId)
          .where("case_id", "=", c.id)
          .where("status", "!=", "failed")
          .execute();
        const legs = refunds.length
          ? await deps.db
              .selectFrom("refund_legs")
              .select(["refund_id", "method", "amount"])
              .where(
                "refund_id",
                "in",
                refunds.map((r) => r.id),
              )
              .execute()
          : [];
        const sums = new Map<string, number>();
        for (const r of refunds) {
          const own = legs.filter((l) => l.refund_id === r.id);
          for (const l of own.length ? own : [r]) sums.set(l.method, (sums.get(l.method) ?? 0) + Number(l.amount));
        }
        const byMethod = [...sums].map(([method, amount]) => ({ method, amount }));
        return { refund: { amount: c.refunded_total, refunded: true, byMethod } };
      }
      const q = await quoteCaseRefund(deps.db, a.tenantId, c.id).catch(() => null);
      if (!q) return { refund: null };
      return {
        refund: { amount: c.refunded_total > 0 ? c.refunded_total : q.total, refunded: c.refunded_total > 0, byMethod: q.byMethod },
      };
    },
  );
}
