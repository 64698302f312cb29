import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestCaseRefund } from "../../src/after-sales/case.events.js";
import { sign1688 } from "../../src/connectors/alibaba1688/client.js";
import type { ConnectorOptions } from "../../src/connectors/kind.js";
import { scheduleSupplierSyncs } from "../../src/suppliers-platforms/channel.jobs.js";
import { type Catalog, createOrder, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, type TestApp } from "../helpers/harness.js";
import { Ali1688Emulator } from "./alibaba1688-emulator.js";
import { channelHelpers } from "./supplier-platform-helpers.js";

const OPTIONS: Partial<ConnectorOptions> = {
  baseDelayMs: 20,
  maxDelayMs: 200,
  timeoutMs: 400,
  maxInlineWaitMs: 1500,
  inlineRetries: 2,
  leaseMs: 60_000,
};
const JPEG = Buffer.concat([Buffer.from("ffd8ffe000104a464946000101", "hex"), Buffer.alloc(200, 7)]);

function multipart(filename: string, data: Buffer, mime: string) {
  const boundary = "----dropdesk-1688-test";
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: ${mime}\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, headers: { "content-type": `multipart/form-data; boundary=${boundary}` } };
}

describe("the 1688 signature", () => {
  it("is HMAC-SHA1 of the path and the sorted fields, upper-case hex", () => {
    // Worked by hand: path + "a1" + "b2" under key "k".
    const s = sign1688("param2/1/ns/api/1", { b: "2", a: "1", _aop_signature: "ignored" }, "k");
    expect(s).toMatch(/^[0-9A-F]{40}$/);
    expect(s).toBe(sign1688("param2/1/ns/api/1", { a: "1", b: "2" }, "k"));
    expect(s).not.toBe(sign1688("param2/1/ns/api/1", { a: "1", b: "3" }, "k"));
  });
});

for (const kind of DB_KINDS) {
  describe(`1688 supplier channel on ${kind}`, () => {
    let t: TestApp;
    let emu: Ali1688Emulator;
    let cat: Catalog;
    let connectorId: string;
    const { runJobs, runConnector, ok, sync, so, forwarded } = channelHelpers({
      t: () => t,
      cat: () => cat,
      connectorId: () => connectorId,
    });

    beforeAll(async () => {
      emu = await new Ali1688Emulator().start();
      t = await startTestApp(kind, { config: { outboundAllow: "127.0.0.1" } });
      t.deps.services.connectorOptions = { ...OPTIONS };
      cat = await setupCatalog(t);
      emu.setOffer({
        offerId: "610000001",
        subject: "陶瓷马克杯",
        status: "published",
        specs: [{ specId: "spec-mug-white", price: "12.00", consignPrice: "11.00", amountOnSale: 100 }],
      });
    });
    afterAll(async () => {
      await t?.close();
      await emu?.stop();
    });

    it("keeps the account's secrets sealed and tests them: signature, token and a platform that is down", async () => {
      const r = await t.api("POST", "/api/v1/connectors", {
        body: {
          kind: "alibaba1688",
          name: "1688 buyer",
          config: { appKey: emu.appKey, appSecret: emu.appSecret, accessToken: emu.accessToken, endpoint: emu.url },
        },
      });
      expect(r.status).toBe(201);
      connectorId = r.body.id;
      expect(r.text).not.toContain(emu.appSecret);
      expect(r.text).not.toContain(emu.accessToken);
      const good = await ok("POST", `/api/v1/connectors/${connectorId}/actions/test`);
      expect(good).toMatchObject({ ok: true });
      expect(emu.calls.at(-1)?.params._aop_signature).toMatch(/^[0-9A-F]{40}$/);

      await ok("PATCH", `/api/v1/connectors/${connectorId}`, { config: { appSecret: "wrong-secret" } });
      const badSig = await ok("POST", `/api/v1/connectors/${connectorId}/actions/test`);
      expect(badSig.ok).toBe(false);
      expect(badSig.message).toContain("gw.SignatureInvalid");
      await ok("PATCH", `/api/v1/connectors/${connectorId}`, { config: { appSecret: emu.appSecret, accessToken: "expired" } });
      const badToken = await ok("POST", `/api/v1/connectors/${connectorId}/actions/test`);
      expect(badToken.message).toMatch(/401.*gw.AccessTokenInvalid/);
      await ok("PATCH", `/api/v1/connectors/${connectorId}`, { config: { accessToken: emu.accessToken } });
      emu.down = true;
      const down = await ok("POST", `/api/v1/connectors/${connectorId}/actions/test`);
      expect(down.ok).toBe(false);
      expect(down.message).toContain("503");
      emu.down = false;
      // A rate limit is waited out and the call goes through.
      emu.faults.push("limited");
      expect((await ok("POST", `/api/v1/connectors/${connectorId}/actions/test`)).ok).toBe(true);
    });

    it("gives supplier A the 1688 channel and syncs the linked offer's price and stock into its history", async () => {
      const bad = await t.api("PUT", `/api/v1/suppliers/${cat.suppliers.a}/channel`, { body: { kind: "alibaba1688" } });
      expect(bad.status).toBe(400);
      expect(await ok("PUT", `/api/v1/suppliers/${cat.suppliers.a}/channel`, { kind: "alibaba1688", connectorId })).toMatchObject({
        kind: "alibaba1688",
      });
      await ok("PUT", `/api/v1/offers/${cat.offers["A-MUG"]}/channel-link`, {
        externalOfferId: "610000001",
        externalSpecId: "spec-mug-white",
      });
      const now = await ok("POST", `/api/v1/offers/${cat.offers["A-MUG"]}/actions/channel-sync`);
      expect(now).toMatchObject({ lastPrice: 1100, lastStock: 100, priceWarning: null, offer: { cost: 1100, stock: 100 } });
      // The price rises on 1688: the scheduled sync reads it and the offer shows a warning.
      emu.offers.get("610000001")!.specs[0].consignPrice = "16.00";
      t.clock.advance(60_000);
      expect(await scheduleSupplierSyncs(t.deps)).toBe(1);
      await runConnector();
      const link = await ok("GET", `/api/v1/offers/${cat.offers["A-MUG"]}/channel-link`);
      expect(link.priceWarning).toMatchObject({ from: 1100, to: 1600, rise: 500 });
      const history = (await ok("GET", `/api/v1/offers/${cat.offers["A-MUG"]}/history`)).items;
      const rows = history.map((h: { cost: number; reason: string }) => [h.cost, h.reason]);
      expect(rows[0]).toEqual([1600, "alibaba1688 sync"]);
      expect(rows).toContainEqual([1100, "alibaba1688 sync"]);
      expect((await ok("POST", `/api/v1/offers/${cat.offers["A-MUG"]}/actions/acknowledge-price`)).priceWarning).toBeNull();
    });

    let claimId: string;
    let caseId: string;
    it("journey: forwarded to 1688, shipped with tracking, quality return refunded, claim opened as a dispute, partly refunded", async () => {
      const order = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
      const s = await forwarded(order);
      const placed = await so(s.id);
      expect(placed).toMatchObject({ state: "placed", charged: { goods: 1600, shipping: 500, total: 2100 }, costTotal: 2100 });
      const eo = emu.order(placed.externalOrderId);
      expect(eo.outOrderId).toBe(s.id);
      expect(eo.address).toMatchObject({ fullName: "王小明", provinceText: "上海", address: "世纪大道 100 号" });
      expect(emu.callsOf("alibaba.trade.fastCreateOrder").at(-1)?.params.flow).toBe("saleproxy");

      await sync();
      expect((await so(s.id)).status).toBe("accepted");
      emu.ship(placed.externalOrderId, "圆通速递", "YT1234567890");
      await sync();
      expect(await so(s.id)).toMatchObject({ status: "shipped", carrier: "圆通速递", trackingNo: "YT1234567890" });
      emu.sign(placed.externalOrderId);
      await sync();
      expect((await so(s.id)).status).toBe("delivered");
      expect((await ok("GET", `/api/v1/orders/${order.id}`)).status).toBe("delivered");

      const c = await ok(
        "POST",
        "/api/v1/cases",
        {
          orderId: order.id,
          type: "return_refund",
          reason: "quality",
          lines: [{ orderLineId: order.lines[0].id, quantity: 1 }],
          description: "杯口有裂纹",
        },
        "cs",
      );
      caseId = c.id;
      // 1688's terms were checked when the case opened: within its window, a photo still to come.
      const terms = (await ok("GET", `/api/v1/cases/${c.id}`)).timeline.find((e: { action: string }) => e.action === "platform_terms");
      expect(terms.note).toContain("1688 平台条款：供应商索赔需要凭证");
      expect(terms.data.platform).toBe("alibaba1688");
      const photo = multipart("crack.jpg", JPEG, "image/jpeg");
      const up = await t.app.inject({
        method: "POST",
        url: `/api/v1/cases/${c.id}/evidence`,
        headers: { ...photo.headers, authorization: `Bearer ${t.t.tokens.cs}` },
        payload: photo.body,
      });
      expect(up.statusCode).toBe(201);
      await ok("POST", `/api/v1/cases/${c.id}/actions/approve`, {});
      await ok("POST", `/api/v1/cases/${c.id}/actions/ship-return`, { carrier: "SF", trackingNo: "SF1688000001" }, "cs");
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
      claimId = claim.id;
      expect(claim.amount).toBeGreaterThanOrEqual(1600);

      const dispute = await ok("POST", `/api/v1/supplier-claims/${claimId}/actions/open-dispute`, {}, "finance");
      expect(dispute).toMatchObject({ state: "open", request: "returnRefund", reason: "质量问题", appliedAmount: claim.amount });
      expect(dispute.vouchers).toHaveLength(1);
      expect(emu.vouchers[0].bytes).toBe(JPEG.length);
      const er = emu.refunds.get(dispute.externalRefundId)!;
      expect(er).toMatchObject({
        disputeRequest: "returnRefund",
        applyPayment: 1600,
        applyReasonId: 20001,
        goodsStatus: "refundBuyerReceived",
      });
      expect((await t.api("POST", `/api/v1/supplier-claims/${claimId}/actions/open-dispute`, { as: "finance", body: {} })).status).toBe(
        409,
      );

      // The seller agrees to refund 10.00 of the 16.00.
      emu.answerRefund(dispute.externalRefundId, { agree: 1000 });
      await sync();
      const settled = (await ok("GET", `/api/v1/supplier-claims?caseId=${c.id}`)).items[0];
      expect(settled.status).toBe("settled");
      const rec = await ok("GET", `/api/v1/cases/${c.id}/recovery`, undefined, "finance");
      expect(rec).toMatchObject({
        refundedToCustomer: refund.amount,
        claimed: claim.amount,
        recovered: 1000,
        writtenOff: claim.amount - 1000,
        outstanding: 0,
        net: refund.amount - 1000,
      });
      expect(rec.claims[0].disputes[0]).toMatchObject({ state: "refunded", refundedAmount: 1000, externalStatus: "refundsuccess" });
      const ledger = await ok("GET", `/api/v1/cases/${c.id}/ledger`, undefined, "finance");
      const codes = ledger.postings.map((p: { code: string }) => p.code);
      expect(codes).toEqual(expect.arrayContaining(["refund", "claim_opened", "claim_recovered", "claim_written_off"]));
      const recovered = ledger.postings.find((p: { code: string }) => p.code === "claim_recovered");
      expect(recovered.entries).toEqual(
        expect.arrayContaining([
          { account: "cash", amount: 1000 },
          { account: "supplier_claims_receivable", amount: -1000 },
        ]),
      );
      // Cost of the case: the refund, less the claim booked, plus what was written off = refund − recovered.
      expect(ledger.pnl.refunds + ledger.pnl.costOfGoods + ledger.pnl.freight).toBe(refund.amount - 1000);
      const orderLedger = await ok("GET", `/api/v1/orders/${order.id}/ledger`, undefined, "finance");
      expect(orderLedger.postings.find((p: { code: string }) => p.code === "supplier_cost").entries).toContainEqual({
        account: "cost_of_goods",
        amount: 2100,
      });
      expect((await ok("GET", "/api/v1/ledger/trial-balance", undefined, "finance")).balanced).toBe(true);
      // A second sync changes nothing.
      await sync();
      expect((await ok("GET", `/api/v1/cases/${c.id}/recovery`, undefined, "finance")).recovered).toBe(1000);
    });

    it("follows a refused dispute and a closed one, then a full refund; the finance list shows what is outstanding, oldest first", async () => {
      const order = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
      const s = await forwarded(order);
      const ext = (await so(s.id)).externalOrderId;
      emu.ship(ext);
      await sync();
      const c = await ok(
        "POST",
        "/api/v1/cases",
        {
          orderId: order.id,
          type: "refund_only",
          reason: "quality",
          lines: [{ orderLineId: order.lines[0].id, quantity: 1 }],
          description: "把手断了",
        },
        "cs",
      );
      const photo = multipart("handle.jpg", JPEG, "image/jpeg");
      await t.app.inject({
        method: "POST",
        url: `/api/v1/cases/${c.id}/evidence`,
        headers: { ...photo.headers, authorization: `Bearer ${t.t.tokens.cs}` },
        payload: photo.body,
      });
      await ok("POST", `/api/v1/cases/${c.id}/actions/approve`, {});
      const cs = (await ok("GET", `/api/v1/cases/${c.id}`)).status;
      if (cs !== "refunded" && cs !== "refund_pending") await requestCaseRefund(t.deps, t.t.actors.finance, c.id, { method: "balance" });
      const claim = (await ok("GET", `/api/v1/supplier-claims?caseId=${c.id}`)).items[0];
      expect(claim.status).toBe("open");

      const list0 = (await ok("GET", "/api/v1/recoveries", undefined, "finance")).items;
      expect(list0.map((x: { claimId: string }) => x.claimId)).toContain(claim.id);
      expect(list0.map((x: { claimId: string }) => x.claimId)).not.toContain(claimId);

      const d1 = await ok("POST", `/api/v1/supplier-claims/${claim.id}/actions/open-dispute`, {}, "finance");
      expect(d1.request).toBe("refund");
      expect(emu.refunds.get(d1.externalRefundId)?.goodsStatus).toBe("refundWaitBuyerReceive");
      emu.answerRefund(d1.externalRefundId, { refuse: "买家使用不当" });
      await sync();
      let cl = (await ok("GET", `/api/v1/supplier-claims?caseId=${c.id}`)).items[0];
      expect(cl).toMatchObject({ status: "disputed", supplierNote: "the seller refused: 买家使用不当" });
      emu.answerRefund(d1.externalRefundId, { close: true });
      const pulled = await ok("POST", `/api/v1/supplier-claims/${claim.id}/actions/pull-dispute`, undefined, "finance");
      expect(pulled.items[0]).toMatchObject({ state: "closed", externalStatus: "refundclose" });
      cl = (await ok("GET", `/api/v1/supplier-claims?caseId=${c.id}`)).items[0];
      expect(cl.status).toBe("disputed");
      const list1 = (await ok("GET", "/api/v1/recoveries", undefined, "finance")).items.find(
        (x: { claimId: string }) => x.claimId === claim.id,
      );
      expect(list1).toMatchObject({ status: "disputed", outstanding: claim.amount, dispute: { state: "closed" } });

      // Pursued again: the seller refunds it all this time.
      const d2 = await ok(
        "POST",
        `/api/v1/supplier-claims/${claim.id}/actions/open-dispute`,
        { description: "再次申请：把手断裂，质量问题" },
        "finance",
      );
      emu.answerRefund(d2.externalRefundId, { agree: Math.min(claim.amount, 1600) });
      await sync();
      const rec = await ok("GET", `/api/v1/cases/${c.id}/recovery`, undefined, "finance");
      expect(rec).toMatchObject({ recovered: Math.min(claim.amount, 1600), outstanding: 0 });
      expect(rec.claims[0].status).toBe("settled");
      expect((await ok("GET", "/api/v1/recoveries", undefined, "finance")).items.map((x: { claimId: string }) => x.claimId)).not.toContain(
        claim.id,
      );
      expect((await ok("GET", "/api/v1/ledger/trial-balance", undefined, "finance")).balanced).toBe(true);
    });

    it("cancels before shipping: an unpaid order at once, a paid one by the platform's full refund", async () => {
      emu.autoPay = false;
      const o1 = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
      const s1 = await forwarded(o1);
      const e1 = (await so(s1.id)).externalOrderId;
      expect(emu.order(e1).status).toBe("waitbuyerpay");
      await ok("POST", `/api/v1/orders/${o1.id}/actions/cancel`, { reason: "customer changed their mind" });
      await runJobs();
      expect(emu.order(e1).status).toBe("cancel");
      expect(emu.callsOf("alibaba.trade.cancel")).toHaveLength(1);
      emu.autoPay = true;

      const o2 = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
      const s2 = await forwarded(o2);
      const e2 = (await so(s2.id)).externalOrderId;
      const asked = await ok("POST", `/api/v1/supplier-orders/${s2.id}/actions/channel-cancel`, {});
      expect(asked).toMatchObject({ status: "cancel_requested", cancellation: { done: false } });
      const refund = emu.refunds.get(asked.cancellation.refundId)!;
      expect(refund).toMatchObject({ disputeRequest: "refund", goodsStatus: "refundWaitSellerSend", applyPayment: 1600 });
      emu.answerRefund(refund.refundId, { agree: 1600 });
      await sync();
      expect((await so(s2.id)).status).toBe("cancelled");
      expect(emu.order(e2).status).toBe("cancel");
    });

    it("reroutes when 1688 refuses the order, and retries a platform that was down without placing twice", async () => {
      emu.offers.get("610000001")!.specs[0].amountOnSale = 0;
      const o1 = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
      const fwd = await ok("POST", `/api/v1/orders/${o1.id}/actions/forward`);
      const a = fwd.supplierOrders.find((x: { supplierId: string }) => x.supplierId === cat.suppliers.a);
      await runJobs();
      const refused = await so(a.id);
      expect(refused).toMatchObject({ state: "failed", status: "rejected" });
      expect(refused.lastError).toContain("库存不足");
      const after = await ok("GET", `/api/v1/orders/${o1.id}`);
      expect(
        after.supplierOrders.some(
          (x: { supplierId: string; status: string }) => x.supplierId === cat.suppliers.b && x.status === "pending",
        ),
      ).toBe(true);
      emu.offers.get("610000001")!.specs[0].amountOnSale = 50;

      emu.down = true;
      const o2 = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
      const s2 = await forwarded(o2);
      const waiting = await so(s2.id);
      expect(waiting).toMatchObject({ state: "queued", status: "pending", attempts: 1 });
      expect(waiting.lastError).toContain("503");
      const c = await sync();
      expect(c.status).toBe("active");
      expect(c.lastError).toContain("trying again");
      emu.down = false;
      const before = emu.orders.size;
      const retried = await ok("POST", `/api/v1/supplier-orders/${s2.id}/actions/channel-forward`);
      expect(retried.state).toBe("placed");
      expect(emu.orders.size).toBe(before + 1);
      // The retry looked the order up under our key before placing it.
      expect(emu.callsOf("alibaba.trade.getBuyerOrderList").some((x) => x.params.outOrderId === s2.id)).toBe(true);
      expect(await ok("POST", `/api/v1/supplier-orders/${s2.id}/actions/channel-forward`)).toMatchObject({ state: "placed" });
      expect(emu.orders.size).toBe(before + 1);
      // Another tenant sees none of it.
      expect((await t.api("GET", `/api/v1/supplier-orders/${s2.id}/channel`, { as: "other:admin" })).status).toBe(404);
      expect((await t.api("GET", `/api/v1/cases/${caseId}/recovery`, { as: "other:finance" })).status).toBe(404);
    });
  });
}
