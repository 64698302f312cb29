import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatAmount } from "../../src/automation/templates.js";
import { type Catalog, createDeliveredOrder, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, supplierSession, type TestApp } from "../helpers/harness.js";

const run = (t: TestApp) => (t.deps.services.runPendingJobs as () => Promise<number>)();

describe.each(DB_KINDS)("supplier claim notice on %s", (kind) => {
  let t: TestApp;
  let cat: Catalog;
  beforeAll(async () => {
    t = await startTestApp(kind);
    cat = await setupCatalog(t);
    t.clock.set("2026-03-02T04:00:00Z");
  });
  afterAll(async () => {
    await t?.close();
  });

  const act = async (caseId: string, action: string, body: unknown = {}, as = "admin") => {
    const r = await t.api("POST", `/api/v1/cases/${caseId}/actions/${action}`, { as, body });
    if (r.status !== 200) throw new Error(`${action}: ${r.status} ${r.text}`);
    return r.body;
  };

  it("tells the supplier the claim row's amount and answer-by time, the same the supplier portal lists", async () => {
    const order = await createDeliveredOrder(t, cat, {
      lines: [{ skuCode: "TEE", quantity: 2 }],
      shippingFee: 1000,
      deliveredAt: "2026-03-01T10:00:00+08:00",
    });
    const opened = await t.api("POST", "/api/v1/cases", {
      as: "cs",
      body: { orderId: order.id, type: "return_refund", reason: "quality", lines: [{ orderLineId: order.lines[0].id, quantity: 1 }] },
    });
    expect(opened.status).toBe(201);
    const caseId = opened.body.id;
    await act(caseId, "approve", {}, "cs");
    await act(caseId, "ship-return", { carrier: "SF", trackingNo: "SF2000001" }, "cs");
    // The goods come back two days later: the claim's answer-by time is not the case's return deadline.
    t.clock.set("2026-03-04T06:30:00Z");
    await act(caseId, "receive", {}, "warehouse");
    await act(
      caseId,
      "inspect",
      { grade: "repairable", matchesOrder: true, complete: true, disposition: "return_to_supplier" },
      "warehouse",
    );
    const refunded = await act(caseId, "refund", { method: "balance" }, "finance");
    expect(refunded.status).toBe("refunded");
    expect(refunded.claim.status).toBe("open");

    const row = await t.deps.db.selectFrom("supplier_claims").selectAll().where("case_id", "=", caseId).executeTakeFirstOrThrow();
    const amount = Number(row.amount);
    const refund = await t.deps.db.selectFrom("refunds").select("amount").where("case_id", "=", caseId).executeTakeFirstOrThrow();
    // The customer's refund and the supplier's claim are different amounts: the message must not mix them up.
    expect(Number(refund.amount)).not.toBe(amount);

    await run(t);
    const notices = (await t.api("GET", `/api/v1/notifications?caseId=${caseId}`)).body.items.filter(
      (n: any) => n.event === "claim.opened",
    );
    expect(notices).toHaveLength(1);
    const notice = notices[0];
    expect(notice.recipient).toBe("a@supplier.test");

    const a = await supplierSession(t.app, t.deps, t.t.tenantId, cat.suppliers.a);
    const listed = (await t.api("GET", "/api/v1/supplier-claims", { headers: a })).body.items.find((x: any) => x.id === row.id);
    expect(listed.amount).toBe(amount);

    const shown = formatAmount(listed.amount, "CNY");
    expect(notice.subject).toBe(`索赔通知 ${shown}`);
    expect(notice.body).toContain(`索赔金额 ${shown}`);
    expect(notice.body).not.toContain(formatAmount(Number(refund.amount), "CNY"));
    // The answer-by time is the claim's, in the shop's time zone.
    const due = new Intl.DateTimeFormat("sv-SE", { timeZone: "Asia/Shanghai", dateStyle: "short", timeStyle: "short" }).format(
      new Date(listed.dueAt),
    );
    expect(notice.body).toContain(`请于 ${due} 前`);
  });
});
