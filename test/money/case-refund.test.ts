import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestCaseRefund } from "../../src/after-sales/case.events.js";
import { issueCompensation } from "../../src/money/compensation.js";
import { SandboxGateway } from "../../src/money/gateways.js";
import { executeRefund, openClaimForCase, orderMoneySummary, reconcileRefunds } from "../../src/money/refunds.js";
import { sandboxSecretOf } from "../../src/money/sandbox.js";
import { type Catalog, createDeliveredOrder, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, type TestApp } from "../helpers/harness.js";

describe.each(DB_KINDS)("money: a case refunded end to end through an asynchronous gateway on %s", (kind) => {
  let t: TestApp;
  let cat: Catalog;
  beforeAll(async () => {
    t = await startTestApp(kind);
    cat = await setupCatalog(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  const act = async (caseId: string, action: string, body: unknown = {}, as = "admin") => {
    const r = await t.api("POST", `/api/v1/cases/${caseId}/actions/${action}`, { as, body });
    if (r.status !== 200) throw new Error(`${action}: ${r.status} ${r.text}`);
    return r.body;
  };

  /** Cases whose kept refunded total differs from the sum of their succeeded refunds. */
  const casesOffTheirRefunds = async () =>
    (
      await sql<{ id: string }>`SELECT c.id FROM cases c WHERE c.tenant_id = ${t.t.tenantId} AND c.refunded_total <>
        (SELECT coalesce(sum(r.amount), 0) FROM refunds r WHERE r.case_id = c.id AND r.status = 'succeeded')`.execute(t.deps.db)
    ).rows;

  it("quotes, refunds once, settles by signed callback, opens one supplier claim and keeps the books balanced", async () => {
    const sandbox = new SandboxGateway({
      secret: sandboxSecretOf(t.deps),
      onCallback: async (body, signature) => {
        await t.app.inject({
          method: "POST",
          url: "/api/v1/gateways/sandbox/callback",
          headers: { "content-type": "application/json", "dropdesk-signature": signature },
          payload: body,
        });
      },
    });
    (t.deps.services.gateways as Record<string, unknown>).sandbox = sandbox;
    t.clock.set("2026-03-02T04:00:00Z");
    const order = await createDeliveredOrder(t, cat, {
      lines: [{ skuCode: "TEE", quantity: 2 }],
      deliveredAt: "2026-03-01T10:00:00+08:00",
    });
    const opened = await t.api("POST", "/api/v1/cases", {
      as: "cs",
      body: {
        orderId: order.id,
        type: "return_refund",
        reason: "quality",
        lines: [{ orderLineId: order.lines[0].id, quantity: 1 }],
        description: "seam torn",
        channel: "phone",
      },
    });
    expect(opened.status).toBe(201);
    const caseId = opened.body.id;
    await act(caseId, "approve");
    await act(caseId, "ship-return", { carrier: "SF", trackingNo: "SF2000001" }, "cs");
    await act(caseId, "receive", {}, "warehouse");
    await act(
      caseId,
      "inspect",
      { grade: "repairable", matchesOrder: true, complete: true, disposition: "return_to_supplier" },
      "warehouse",
    );

    const quote = (await t.api("GET", `/api/v1/cases/${caseId}/refund-quote`, { as: "finance" })).body;
    expect(quote.currency).toBe("CNY");
    const half = Math.floor(Number(order.lines[0].paidAmount ?? 19800) / 2);
    expect(quote.lines).toEqual([{ orderLineId: order.lines[0].id, quantity: 1, amount: expect.any(Number) }]);
    expect(quote.lines[0].amount).toBeGreaterThanOrEqual(half);
    expect(quote.total).toBe(
      quote.lines[0].amount +
        quote.shipping +
        quote.returnFreight -
        quote.giftDeductions -
        quote.thresholdResettlement -
        quote.deductions.reduce((s: number, d: any) => s + d.amount, 0) -
        quote.couponsReissued.reduce((s: number, c: any) => s + c.amount, 0),
    );
    expect(quote.byMethod.reduce((s: number, m: any) => s + m.amount, 0)).toBe(quote.total);
    expect(quote.reasons.every((r: any) => r.code && r.message && r.messageEn)).toBe(true);

    const finance = t.t.actors.finance;
    const refund = await requestCaseRefund(t.deps, finance, caseId, { method: "original" });
    expect(refund).toMatchObject({ status: "processing", amount: quote.total, gateway: "sandbox" });
    // A second request for the same case is refused; the first one stands.
    await expect(requestCaseRefund(t.deps, finance, caseId)).rejects.toMatchObject({
      code: expect.stringMatching(/conflict|invalid_transition/),
    });
    expect(await orderMoneySummary(t.deps.db, t.t.tenantId, order.id)).toMatchObject({ pending: quote.total, refunded: 0 });
    const pendingCase = (await t.api("GET", `/api/v1/cases/${caseId}`)).body;
    expect(pendingCase.status).toBe("refund_pending");

    await sandbox.confirm(sandbox.keys[0]);
    const c = (await t.api("GET", `/api/v1/cases/${caseId}`)).body;
    expect(c.status).toBe("refunded");
    expect(await orderMoneySummary(t.deps.db, t.t.tenantId, order.id)).toMatchObject({ pending: 0, refunded: quote.total });

    // Opening the claim again changes nothing.
    const claims = await t.deps.db.selectFrom("supplier_claims").selectAll().where("case_id", "=", caseId).execute();
    expect(claims).toHaveLength(1);
    const again = await t.deps.db.transaction().execute((tx) => openClaimForCase(tx, t.deps, finance, caseId));
    expect(again).toBe(claims[0].id);
    const ledger = (await t.api("GET", `/api/v1/cases/${caseId}/ledger`, { as: "finance" })).body;
    expect(ledger.postings.filter((p: any) => p.code === "claim_opened")).toHaveLength(1);
    expect(ledger.postings.filter((p: any) => p.code === "refund")).toHaveLength(1);
    expect(ledger.pnl.refunds).toBe(quote.total);
    expect(ledger.pnl.recovered).toBe(Number(claims[0].amount));
    for (const p of ledger.postings) expect(p.entries.reduce((s: number, e: any) => s + e.amount, 0)).toBe(0);
    expect((await t.api("GET", "/api/v1/ledger/trial-balance", { as: "finance" })).body.balanced).toBe(true);
    expect(await casesOffTheirRefunds()).toEqual([]);
    // Another tenant sees none of it.
    expect((await t.api("GET", `/api/v1/cases/${caseId}/ledger`, { as: "other:finance" })).status).toBe(404);
  });
  it("issues compensation as a coupon, a partial refund within what remains, or a gift", async () => {
    const order = await createDeliveredOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
    const opened = await t.api("POST", "/api/v1/cases", {
      as: "cs",
      body: { orderId: order.id, type: "return_refund", reason: "quality", lines: [{ orderLineId: order.lines[0].id, quantity: 1 }] },
    });
    expect(opened.status).toBe(201);
    const caseId = opened.body.id;
    const cs = t.t.actors.cs;
    const coupon = await t.deps.db
      .transaction()
      .execute((tx) => issueCompensation(t.deps, tx, cs, caseId, { kind: "coupon", amount: 500 }));
    expect(coupon).toMatchObject({ kind: "coupon", amount: 500 });
    const coupons = (await t.api("GET", "/api/v1/coupons", { as: "finance" })).body.items;
    expect(coupons.some((x: any) => x.amount === 500 && (x.caseId === caseId || x.case_id === caseId))).toBe(true);

    const paid = (await orderMoneySummary(t.deps.db, t.t.tenantId, order.id)).refundable;
    await expect(
      t.deps.db.transaction().execute((tx) => issueCompensation(t.deps, tx, cs, caseId, { kind: "partial_refund", amount: paid + 1 })),
    ).rejects.toMatchObject({ code: "refund_exceeds_refundable", details: { remaining: paid } });
    expect(await t.deps.db.selectFrom("refunds").select("id").where("order_id", "=", order.id).execute()).toHaveLength(0);

    const part = await t.deps.db
      .transaction()
      .execute((tx) => issueCompensation(t.deps, tx, cs, caseId, { kind: "partial_refund", amount: 800 }));
    if (part.kind !== "partial_refund") throw new Error("expected a refund");
    await executeRefund(t.deps, part.refundId);
    const r = (await t.api("GET", `/api/v1/refunds/${part.refundId}`, { as: "finance" })).body;
    expect(r).toMatchObject({ kind: "compensation", amount: 800, caseId });
    expect(await orderMoneySummary(t.deps.db, t.t.tenantId, order.id)).toMatchObject({ refundable: paid - 800 });

    const gift = await t.deps.db.transaction().execute((tx) => issueCompensation(t.deps, tx, cs, caseId, { kind: "gift", amount: 0 }));
    expect(gift.kind).toBe("gift");
    const ledger = (await t.api("GET", `/api/v1/cases/${caseId}/ledger`, { as: "finance" })).body;
    expect(ledger.postings.map((p: any) => p.code)).toEqual(["coupon_issued"]);
    expect(ledger.pnl.compensation).toBe(500);
    expect((await t.api("GET", "/api/v1/ledger/trial-balance", { as: "finance" })).body.balanced).toBe(true);
    expect(await casesOffTheirRefunds()).toEqual([]);
  });
  it("gives 50 parallel refund requests on one case exactly one refund, one posting and one gateway call", async () => {
    const sandbox = new SandboxGateway({ secret: "unused" });
    (t.deps.services.gateways as Record<string, unknown>).sandbox = sandbox;
    const order = await createDeliveredOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
    const opened = await t.api("POST", "/api/v1/cases", {
      as: "cs",
      body: { orderId: order.id, type: "return_refund", reason: "quality", lines: [{ orderLineId: order.lines[0].id, quantity: 1 }] },
    });
    const caseId = opened.body.id;
    await act(caseId, "approve");
    await act(caseId, "receive", {}, "warehouse");
    await act(caseId, "inspect", { grade: "resellable", matchesOrder: true, complete: true, disposition: "restock" }, "warehouse");
    const finance = t.t.actors.finance;
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () => requestCaseRefund(t.deps, finance, caseId, { method: "original" })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results)
      if (r.status === "rejected") expect((r.reason as { code?: string }).code).toMatch(/conflict|invalid_transition/);
    const refunds = await t.deps.db.selectFrom("refunds").selectAll().where("case_id", "=", caseId).execute();
    expect(refunds).toHaveLength(1);
    expect(sandbox.keys).toEqual([refunds[0].gateway_key]);
    await sandbox.confirm(refunds[0].gateway_key);
    await reconcileRefunds(t.deps);
    const postings = await t.deps.db
      .selectFrom("ledger_postings")
      .select("code")
      .where("case_id", "=", caseId)
      .where("code", "=", "refund")
      .execute();
    expect(postings).toHaveLength(1);
    expect((await orderMoneySummary(t.deps.db, t.t.tenantId, order.id)).refunded).toBe(Number(refunds[0].amount));
  });
});
