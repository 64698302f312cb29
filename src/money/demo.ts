import type { DemoSeeder } from "../demo/seed.js";
import type { Actor } from "../platform/context.js";
import { runClaimAction } from "./claim.service.js";
import { gateways, type SandboxGateway } from "./gateways.js";
import { createOrderRefund, executeRefund } from "./refunds.js";
import { closeStatement, createStatement } from "./statement.service.js";

/**
 * Money demo data, after the after-sales seeder: refunds in every state (succeeded, processing
 * awaiting finance's confirmation, failed and ready to retry, pending), claims answered by the
 * supplier, and a closed supplier statement that settled them.
 */
export const moneyDemoSeeder: DemoSeeder = {
  name: "refunds in every state, supplier claims and a closed statement",
  async run({ deps, actor }) {
    const a: Actor = { ...actor, role: "finance" };
    const orders = await deps.db
      .selectFrom("orders as o")
      .select(["o.id", "o.paid_total"])
      .where("o.tenant_id", "=", a.tenantId)
      .where("o.status", "=", "delivered")
      .where("o.refunded_total", "=", 0)
      .where((eb) => eb.not(eb.exists(eb.selectFrom("refunds as r").select("r.id").whereRef("r.order_id", "=", "o.id"))))
      .orderBy("o.id")
      .limit(4)
      .execute();
    const plans: { gateway: "balance" | "manual" | "sandbox"; fail?: boolean; send: boolean; reason: string }[] = [
      { gateway: "balance", send: true, reason: "包装破损，退部分款项" },
      { gateway: "manual", send: true, reason: "线下转账补偿运费" },
      { gateway: "sandbox", fail: true, send: true, reason: "少发配件，退差价" },
      { gateway: "manual", send: false, reason: "客户投诉，待财务处理" },
    ];
    for (const [i, order] of orders.entries()) {
      const plan = plans[i];
      const amount = Math.min(Number(order.paid_total), 500 + i * 300);
      if (amount <= 0) continue;
      const r = await deps.db.transaction().execute(async (tx) => {
        const made = await createOrderRefund(tx, deps, a, {
          orderId: order.id,
          amount,
          kind: "goodwill",
          reason: plan.reason,
          method: plan.gateway === "balance" ? "balance" : "original",
        });
        await tx.updateTable("refunds").set({ gateway: plan.gateway }).where("id", "=", made.id).execute();
        return made;
      });
      if (!plan.send) continue;
      const sandbox = gateways(deps).sandbox as SandboxGateway;
      if (plan.fail) sandbox.failNext += 1;
      await executeRefund(deps, r.id);
    }

    // Claims: the supplier accepts what it caused; a statement deducts them and is closed.
    const claims = await deps.db
      .selectFrom("supplier_claims")
      .select(["id", "supplier_id", "status"])
      .where("tenant_id", "=", a.tenantId)
      .where("status", "=", "open")
      .orderBy("id")
      .execute();
    for (const c of claims) await runClaimAction(deps, { ...a, role: "admin" }, c.id, "accept", { note: "同意赔付" });
    const supplierId =
      claims[0]?.supplier_id ??
      (await deps.db.selectFrom("suppliers").select("id").where("tenant_id", "=", a.tenantId).orderBy("id").executeTakeFirst())?.id;
    if (!supplierId) return;
    const now = deps.clock.now();
    const day = (d: Date) => new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
    const from = day(new Date(now.getTime() - 60 * 86_400_000));
    const id = await createStatement(deps, a, {
      supplierId,
      from,
      to: day(now),
      adjustments: [{ amount: -1000, memo: "上期少扣运费" }],
    });
    await closeStatement(deps, a, id);
  },
};
