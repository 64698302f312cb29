import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestCaseRefund } from "../../src/after-sales/case.events.js";
import type { ConnectorOptions } from "../../src/connectors/kind.js";
import { type Catalog, createOrder, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, type TestApp } from "../helpers/harness.js";
import { CjEmulator } from "./cj-emulator.js";
import { channelHelpers } from "./supplier-platform-helpers.js";

const OPTIONS: Partial<ConnectorOptions> = {
  baseDelayMs: 10,
  maxDelayMs: 100,
  timeoutMs: 400,
  maxInlineWaitMs: 1500,
  inlineRetries: 2,
  leaseMs: 60_000,
};
const DAY = 86_400_000;

for (const kind of DB_KINDS) {
  describe(`CJdropshipping supplier channel on ${kind}`, () => {
    let t: TestApp;
    let emu: CjEmulator;
    let cat: Catalog;
    let connectorId: string;
    const { runJobs, ok, sync, so, forwarded, JPEG, ...h } = channelHelpers({ t: () => t, cat: () => cat, connectorId: () => connectorId });
    const photo = async (caseId: string) => expect(await h.photo(caseId)).toBe(201);
    const openCase = async (order: { id: string; lines: { id: string }[] }, type: string, description: string) =>
      ok(
        "POST",
        "/api/v1/cases",
        { orderId: order.id, type, reason: "quality", lines: [{ orderLineId: order.lines[0].id, quantity: 1 }], description },
        "cs",
      );

    beforeAll(async () => {
      emu = await new CjEmulator().start();
      t = await startTestApp(kind, { config: { outboundAllow: "127.0.0.1" } });
      t.deps.services.connectorOptions = { ...OPTIONS };
      emu.now = () => t.clock.now().getTime();
      cat = await setupCatalog(t);
      emu.setVariant({ vid: "1B9C1C7A-0A4C-4F3E-9E7B-3C0C5A2D1F00", pid: "P100", nameEn: "Ceramic mug white", price: 250, stock: 100 });
    });
    afterAll(async () => {
      await t?.close();
      await emu?.stop();
    });
    const VID = "1B9C1C7A-0A4C-4F3E-9E7B-3C0C5A2D1F00";

    it("obtains, seals, reuses and refreshes CJ's access token, and says in words what CJ refuses", async () => {
      const r = await t.api("POST", "/api/v1/connectors", {
        body: { kind: "cj", name: "CJ account", config: { apiKey: emu.apiKey, endpoint: emu.url, usdRate: "7.2", qps: 50 } },
      });
      expect(r.status).toBe(201);
      connectorId = r.body.id;
      expect(r.text).not.toContain(emu.apiKey);
      expect(await ok("POST", `/api/v1/connectors/${connectorId}/actions/test`)).toMatchObject({ ok: true });
      expect(emu.tokensIssued).toBe(1);
      const token = emu.calls.at(-1)?.token as string;
      expect(token).toMatch(/^at-/);
      const row = await t.deps.db
        .selectFrom("supplier_platform_tokens")
        .selectAll()
        .where("connector_id", "=", connectorId)
        .executeTakeFirstOrThrow();
      expect(row.sealed).not.toContain(token);
      expect((await ok("GET", `/api/v1/connectors/${connectorId}`)).config.apiKey).not.toBe(emu.apiKey);
      // The token is reused, not asked for again (CJ allows getAccessToken rarely).
      await ok("POST", `/api/v1/connectors/${connectorId}/actions/test`);
      expect(emu.tokensIssued).toBe(1);
      // A day before it expires, it is refreshed with the refresh token.
      t.clock.advance(14.5 * DAY);
      await ok("POST", `/api/v1/connectors/${connectorId}/actions/test`);
      expect(emu.refreshes).toBe(1);
      expect(emu.calls.at(-1)?.token).not.toBe(token);
      // A token CJ no longer honours (1600001) is renewed once and the call goes through.
      emu.revokeTokens();
      expect((await ok("POST", `/api/v1/connectors/${connectorId}/actions/test`)).ok).toBe(true);
      expect(emu.refreshes).toBe(2);
      expect(emu.tokensIssued).toBe(1);
      // A wrong API key: refused in words, with CJ's code.
      await ok("PATCH", `/api/v1/connectors/${connectorId}`, { config: { apiKey: "CJ1@api@wrong" } });
      const bad = await ok("POST", `/api/v1/connectors/${connectorId}/actions/test`);
      expect(bad).toMatchObject({ ok: false });
      expect(bad.message).toContain("1600001");
      await ok("PATCH", `/api/v1/connectors/${connectorId}`, { config: { apiKey: emu.apiKey } });
      // Down, busy and over the limit: 503 said, busy (1600000) retried, 1600200 and HTTP 429 waited out.
      emu.down = true;
      const down = await ok("POST", `/api/v1/connectors/${connectorId}/actions/test`);
      expect(down.ok).toBe(false);
      expect(down.message).toContain("503");
      emu.down = false;
      emu.faults.push("busy", "limited");
      expect((await ok("POST", `/api/v1/connectors/${connectorId}/actions/test`)).ok).toBe(true);
      emu.limitStyle = "http";
      emu.faults.push("limited");
      expect((await ok("POST", `/api/v1/connectors/${connectorId}/actions/test`)).ok).toBe(true);
      emu.limitStyle = "code";
    });

    it("keeps within the account's QPS", async () => {
      // Two calls a second: three calls in a row would break it, so the client spaces them.
      await ok("PATCH", `/api/v1/connectors/${connectorId}`, { config: { qps: 2 } });
      emu.qps = 2;
      emu.resetWindow();
      const before = emu.qpsViolations;
      const started = Date.now();
      for (let i = 0; i < 3; i++) expect((await ok("POST", `/api/v1/connectors/${connectorId}/actions/test`)).ok).toBe(true);
      expect(emu.qpsViolations).toBe(before);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      await ok("PATCH", `/api/v1/connectors/${connectorId}`, { config: { qps: 50 } });
      emu.qps = 1000;
    });

    it("gives supplier A the CJ channel and reads the variant's price (USD at the shop's rate) and stock", async () => {
      await ok("PUT", `/api/v1/suppliers/${cat.suppliers.a}/channel`, { kind: "cj", connectorId });
      await ok("PUT", `/api/v1/offers/${cat.offers["A-MUG"]}/channel-link`, { externalOfferId: VID });
      const now = await ok("POST", `/api/v1/offers/${cat.offers["A-MUG"]}/actions/channel-sync`);
      // $2.50 × 7.2 = ¥18.00
      expect(now).toMatchObject({ lastPrice: 1800, lastStock: 100, offer: { cost: 1800, stock: 100 } });
    });

    let caseId: string;
    it("journey: forwarded to CJ, shipped with tracking, quality return refunded, claim opened as a CJ dispute, partly refunded", async () => {
      const order = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
      const s = await forwarded(order);
      const placed = await so(s.id);
      // ($2.50 + $0.80 postage) × 7.2 = ¥23.76
      expect(placed).toMatchObject({ state: "placed", charged: { goods: 1800, shipping: 576, total: 2376 }, costTotal: 2376 });
      const eo = emu.order(placed.externalOrderId);
      expect(eo.orderNumber).toBe(s.id);
      expect(eo.address).toMatchObject({ shippingCustomerName: "王小明", shippingProvince: "上海", shippingCountryCode: "CN", payType: 2 });
      expect(eo.lines[0]).toMatchObject({ vid: VID, quantity: 1 });

      await sync();
      expect((await so(s.id)).status).toBe("accepted");
      emu.ship(placed.externalOrderId, "CJPKL7160102171YQ", "CJPacket Ordinary");
      await sync();
      expect(await so(s.id)).toMatchObject({ status: "shipped", carrier: "CJPacket Ordinary", trackingNo: "CJPKL7160102171YQ" });
      emu.deliver(placed.externalOrderId);
      await sync();
      expect((await so(s.id)).status).toBe("delivered");
      expect(emu.callsOf("logistic/getTrackInfo").length).toBeGreaterThan(0);

      const c = await openCase(order, "return_refund", "杯口有裂纹");
      caseId = c.id;
      // CJ's terms were checked when the case opened: CJ takes no returns back.
      const view = await ok("GET", `/api/v1/cases/${c.id}`);
      const terms = view.timeline.find((e: { action: string }) => e.action === "platform_terms");
      expect(terms.note).toContain("CJ 平台条款：供应商不接受退货");
      expect(terms.note).toContain("CJdropshipping terms: The supplier accepts no returns");
      await photo(c.id);
      await ok("POST", `/api/v1/cases/${c.id}/actions/approve`, {});
      await ok("POST", `/api/v1/cases/${c.id}/actions/ship-return`, { carrier: "SF", trackingNo: "SFCJ00000001" }, "cs");
      await ok("POST", `/api/v1/cases/${c.id}/actions/receive`, {}, "warehouse");
      await ok(
        "POST",
        `/api/v1/cases/${c.id}/actions/inspect`,
        { grade: "scrap", matchesOrder: true, complete: true, disposition: "return_to_supplier" },
        "warehouse",
      );
      const refund = await requestCaseRefund(t.deps, t.t.actors.finance, c.id, { method: "balance" });
      expect(refund.status).toBe("succeeded");
      const claim = (await ok("GET", `/api/v1/supplier-claims?caseId=${c.id}`)).items[0];
      expect(claim).toMatchObject({ status: "open", supplierId: cat.suppliers.a });

      const dispute = await ok("POST", `/api/v1/supplier-claims/${claim.id}/actions/open-dispute`, {}, "finance");
      expect(dispute).toMatchObject({ state: "open", reason: "Quality problem", externalStatus: "Pending" });
      const ed = emu.disputes.get(dispute.externalRefundId)!;
      expect(ed).toMatchObject({ orderId: placed.externalOrderId, disputeReasonId: 1, businessDisputeId: `${claim.id}-1` });
      // At most what CJ says may be refunded: the goods and the postage, $3.30.
      expect(ed.asked).toBe(Math.min(Math.round(claim.amount / 7.2), 330));
      // The photo goes as a signed link CJ can fetch; a changed link shows nothing.
      expect(ed.imageUrl).toHaveLength(1);
      const link = new URL(ed.imageUrl[0]);
      const img = await t.app.inject({ method: "GET", url: `${link.pathname}${link.search}` });
      expect(img.statusCode).toBe(200);
      expect(img.rawPayload.length).toBe(JPEG.length);
      const forged = await t.app.inject({
        method: "GET",
        url: `${link.pathname}?e=${Number(link.searchParams.get("e")) + 1}&s=${link.searchParams.get("s")}`,
      });
      expect(forged.statusCode).toBe(403);
      expect((await t.api("POST", `/api/v1/supplier-claims/${claim.id}/actions/open-dispute`, { as: "finance", body: {} })).status).toBe(
        409,
      );

      // CJ refunds $1.50 of it: ¥10.80.
      emu.answerDispute(dispute.externalRefundId, { refund: 150 });
      await sync();
      expect((await ok("GET", `/api/v1/supplier-claims?caseId=${c.id}`)).items[0].status).toBe("settled");
      const rec = await ok("GET", `/api/v1/cases/${c.id}/recovery`, undefined, "finance");
      expect(rec).toMatchObject({
        refundedToCustomer: refund.amount,
        claimed: claim.amount,
        recovered: 1080,
        writtenOff: claim.amount - 1080,
        outstanding: 0,
        net: refund.amount - 1080,
        platformTerms: { platform: "cj" },
      });
      expect(rec.claims[0].disputes[0]).toMatchObject({ state: "refunded", refundedAmount: 1080 });
      const ledger = await ok("GET", `/api/v1/cases/${c.id}/ledger`, undefined, "finance");
      expect(ledger.postings.map((p: { code: string }) => p.code)).toEqual(
        expect.arrayContaining(["refund", "claim_opened", "claim_recovered", "claim_written_off"]),
      );
      expect(ledger.postings.find((p: { code: string }) => p.code === "claim_recovered").entries).toEqual(
        expect.arrayContaining([{ account: "cash", amount: 1080 }]),
      );
      expect(ledger.pnl.refunds + ledger.pnl.costOfGoods + ledger.pnl.freight).toBe(refund.amount - 1080);
      const orderLedger = await ok("GET", `/api/v1/orders/${order.id}/ledger`, undefined, "finance");
      expect(orderLedger.postings.find((p: { code: string }) => p.code === "supplier_cost").entries).toContainEqual({
        account: "cost_of_goods",
        amount: 2376,
      });
      expect((await ok("GET", "/api/v1/ledger/trial-balance", undefined, "finance")).balanced).toBe(true);
      await sync();
      expect((await ok("GET", `/api/v1/cases/${c.id}/recovery`, undefined, "finance")).recovered).toBe(1080);
    });

    it("follows a rejected, a reissued and a cancelled dispute, found through CJ's paged list, then a full refund", async () => {
      const order = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
      const s = await forwarded(order);
      const ext = (await so(s.id)).externalOrderId;
      emu.ship(ext);
      await sync();
      // Eleven old disputes on the order: the new one is found on the list's second page.
      for (let i = 0; i < 11; i++)
        emu.disputes.set(`old-${i}`, {
          id: `old-${i}`,
          businessDisputeId: `old-${i}`,
          orderId: ext,
          disputeReasonId: 5,
          reason: "Other",
          messageText: "old",
          imageUrl: [],
          asked: 10,
          status: "Completed",
          finallyDeal: 3,
          createdAt: t.clock.now().getTime() - DAY - i,
        });
      const c = await openCase(order, "refund_only", "把手断了");
      await photo(c.id);
      await ok("POST", `/api/v1/cases/${c.id}/actions/approve`, {});
      const st = (await ok("GET", `/api/v1/cases/${c.id}`)).status;
      if (st !== "refunded" && st !== "refund_pending") await requestCaseRefund(t.deps, t.t.actors.finance, c.id, { method: "balance" });
      const claim = (await ok("GET", `/api/v1/supplier-claims?caseId=${c.id}`)).items[0];
      const pages = emu.callsOf("disputes/getDisputeList").length;
      const d1 = await ok("POST", `/api/v1/supplier-claims/${claim.id}/actions/open-dispute`, {}, "finance");
      expect(emu.callsOf("disputes/getDisputeList").length - pages).toBeGreaterThanOrEqual(4);
      emu.answerDispute(d1.externalRefundId, { reject: true });
      await sync();
      let cl = (await ok("GET", `/api/v1/supplier-claims?caseId=${c.id}`)).items[0];
      expect(cl.status).toBe("disputed");
      expect(cl.supplierNote).toContain("CJ rejected the dispute");
      const listed = (await ok("GET", "/api/v1/recoveries", undefined, "finance")).items.find(
        (x: { claimId: string }) => x.claimId === claim.id,
      );
      expect(listed).toMatchObject({ status: "disputed", dispute: { state: "closed" } });

      const d2 = await ok(
        "POST",
        `/api/v1/supplier-claims/${claim.id}/actions/open-dispute`,
        { description: "再次申请：质量问题" },
        "finance",
      );
      expect(emu.disputes.get(d2.externalRefundId)?.businessDisputeId).toBe(`${claim.id}-2`);
      emu.answerDispute(d2.externalRefundId, { reissue: true });
      const p2 = await ok("POST", `/api/v1/supplier-claims/${claim.id}/actions/pull-dispute`, undefined, "finance");
      expect(p2.items.at(-1)).toMatchObject({ state: "closed" });
      const d3 = await ok("POST", `/api/v1/supplier-claims/${claim.id}/actions/open-dispute`, { description: "第三次申请" }, "finance");
      emu.answerDispute(d3.externalRefundId, { cancel: true });
      await sync();
      cl = (await ok("GET", `/api/v1/supplier-claims?caseId=${c.id}`)).items[0];
      expect(cl.status).toBe("disputed");

      const d4 = await ok("POST", `/api/v1/supplier-claims/${claim.id}/actions/open-dispute`, { description: "第四次申请" }, "finance");
      const asked = emu.disputes.get(d4.externalRefundId)!.asked;
      emu.answerDispute(d4.externalRefundId, { refund: asked });
      await sync();
      const rec = await ok("GET", `/api/v1/cases/${c.id}/recovery`, undefined, "finance");
      expect(rec.recovered).toBe(Math.round(asked * 7.2));
      expect(rec.outstanding).toBe(0);
      expect((await ok("GET", "/api/v1/recoveries", undefined, "finance")).items.map((x: { claimId: string }) => x.claimId)).not.toContain(
        claim.id,
      );
      // The scorecard's recovery: both CJ claims settled the day they were claimed.
      const score = (await ok("GET", "/api/v1/recoveries/suppliers", undefined, "finance")).items.find(
        (x: { supplierId: string }) => x.supplierId === cat.suppliers.a,
      );
      expect(score).toMatchObject({ settledClaims: 2, recovered: 1080 + Math.round(asked * 7.2), medianDaysToRecover: 0 });
      expect(score.recoveryRate).toBeGreaterThan(0);
      expect((await ok("GET", "/api/v1/ledger/trial-balance", undefined, "finance")).balanced).toBe(true);
    });

    it("cancels an unpaid order by deleting it on CJ, and says in words that a paid one cannot be", async () => {
      await ok("PATCH", `/api/v1/connectors/${connectorId}`, { config: { payFromBalance: false } });
      const o1 = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
      const s1 = await forwarded(o1);
      const e1 = (await so(s1.id)).externalOrderId;
      expect(emu.order(e1).status).toBe("UNPAID");
      await ok("POST", `/api/v1/orders/${o1.id}/actions/cancel`, { reason: "customer changed their mind" });
      await runJobs();
      expect(emu.order(e1).status).toBe("CANCELLED");
      expect(emu.callsOf("shopping/order/deleteOrder")).toHaveLength(1);
      await ok("PATCH", `/api/v1/connectors/${connectorId}`, { config: { payFromBalance: true } });

      const o2 = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
      const s2 = await forwarded(o2);
      const r = await t.api("POST", `/api/v1/supplier-orders/${s2.id}/actions/channel-cancel`, { body: {} });
      expect(r.status).toBe(409);
      expect(r.body.error.message).toContain("CJ deletes only orders not yet paid");
    });

    it("reroutes when CJ refuses the order, and retries CJ down without placing twice; tenants see only their own", async () => {
      emu.variants.get(VID)!.stock = 0;
      const o1 = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
      const fwd = await ok("POST", `/api/v1/orders/${o1.id}/actions/forward`);
      const a = fwd.supplierOrders.find((x: { supplierId: string }) => x.supplierId === cat.suppliers.a);
      await runJobs();
      const refused = await so(a.id);
      expect(refused).toMatchObject({ state: "failed", status: "rejected" });
      expect(refused.lastError).toContain("1603000");
      const after = await ok("GET", `/api/v1/orders/${o1.id}`);
      expect(after.supplierOrders.some((x: { supplierId: string; status: string }) => x.supplierId === cat.suppliers.b)).toBe(true);
      emu.variants.get(VID)!.stock = 50;

      emu.down = true;
      const o2 = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
      const s2 = await forwarded(o2);
      expect(await so(s2.id)).toMatchObject({ state: "queued", attempts: 1 });
      emu.down = false;
      const before = emu.orders.size;
      expect((await ok("POST", `/api/v1/supplier-orders/${s2.id}/actions/channel-forward`)).state).toBe("placed");
      expect(emu.orders.size).toBe(before + 1);
      expect(emu.callsOf("shopping/order/list").length).toBeGreaterThan(0);
      expect(await ok("POST", `/api/v1/supplier-orders/${s2.id}/actions/channel-forward`)).toMatchObject({ state: "placed" });
      expect(emu.orders.size).toBe(before + 1);
      expect((await t.api("GET", `/api/v1/supplier-orders/${s2.id}/channel`, { as: "other:admin" })).status).toBe(404);
      expect((await t.api("GET", `/api/v1/cases/${caseId}/recovery`, { as: "other:finance" })).status).toBe(404);
    });
  });
}
