import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectorOptions } from "../../src/connectors/kind.js";
import { topSign } from "../../src/connectors/taobao/top.js";
import { type Catalog, deliverOrder, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, type TestApp } from "../helpers/harness.js";
import { type EmuTrade, sign, TaobaoEmulator, topTime } from "./taobao-emulator.js";

const run = (t: TestApp) => (t.deps.services.runConnectorJobs as () => Promise<number>)();
const runEvents = (t: TestApp) => (t.deps.services.runPendingJobs as () => Promise<number>)();

const OPTIONS: Partial<ConnectorOptions> = {
  baseDelayMs: 20,
  maxDelayMs: 200,
  timeoutMs: 400,
  maxInlineWaitMs: 1500,
  inlineRetries: 3,
  leaseMs: 60_000,
};

describe("TOP signatures", () => {
  it("signs the sorted parameters as TOP documents, md5 with the secret around, hmac-sha256 keyed", () => {
    // The documented example: foo:1, bar:2, foo_bar:3, foobar:4 are joined as bar2foo1foo_bar3foobar4.
    const p = { foo: "1", bar: "2", foo_bar: "3", foobar: "4", empty: "" };
    expect(topSign(p, "s", "md5")).toBe(sign(p, "s", "md5"));
    expect(topSign(p, "s", "md5")).toMatch(/^[0-9A-F]{32}$/);
    expect(topSign(p, "s", "hmac-sha256")).toMatch(/^[0-9A-F]{64}$/);
    const { createHash, createHmac } = require("node:crypto") as typeof import("node:crypto");
    expect(topSign(p, "s", "md5")).toBe(createHash("md5").update("sbar2foo1foo_bar3foobar4s").digest("hex").toUpperCase());
    expect(topSign(p, "s", "hmac-sha256")).toBe(createHmac("sha256", "s").update("bar2foo1foo_bar3foobar4").digest("hex").toUpperCase());
  });
});

for (const kind of DB_KINDS) {
  describe(`Taobao connector on ${kind}`, () => {
    let t: TestApp;
    let emu: TaobaoEmulator;
    let cat: Catalog;
    let connectorId: string;

    const count = async (table: "orders" | "cases") =>
      Number(
        (
          await t.deps.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as("n"))
            .where("tenant_id", "=", t.t.tenantId)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const connector = async () => (await t.api("GET", `/api/v1/connectors/${connectorId}`)).body;
    const orderOf = (tid: string) =>
      t.deps.db
        .selectFrom("orders")
        .selectAll()
        .where("tenant_id", "=", t.t.tenantId)
        .where("platform_order_no", "=", tid)
        .executeTakeFirst();
    const caseOf = async (refundId: string) => {
      const rec = await t.deps.db
        .selectFrom("connector_records")
        .select("entity_id")
        .where("connector_id", "=", connectorId)
        .where("record_type", "=", "refund")
        .where("external_id", "=", refundId)
        .executeTakeFirst();
      return rec?.entity_id ? (await t.api("GET", `/api/v1/cases/${rec.entity_id}`)).body : undefined;
    };
    const sync = async () => {
      const r = await t.api("POST", `/api/v1/connectors/${connectorId}/actions/sync`);
      expect(r.status).toBe(200);
      await run(t);
      await runEvents(t);
      await run(t);
      return connector();
    };
    /** Time passes between pulls, as on the platform. */
    const later = (ms = 10 * 60_000) => t.clock.advance(ms);
    const mug = (extra: Partial<Parameters<TaobaoEmulator["addTrade"]>[0]> = {}) =>
      emu.addTrade({
        lines: [
          { sku: "MUG", title: "陶瓷杯", price: "39.00", num: 2, discount: "5.00" },
          { sku: "TEE", title: "纯棉T恤", price: "99.00", num: 1 },
        ],
        post: "10.00",
        shopDiscount: "8.00",
        ...extra,
      });

    beforeAll(async () => {
      t = await startTestApp(kind, { config: { outboundAllow: "127.0.0.1" } });
      emu = await new TaobaoEmulator(() => t.clock.now()).start();
      t.deps.services.connectorOptions = { ...OPTIONS };
      cat = await setupCatalog(t);
    });
    afterAll(async () => {
      await t?.close();
      await emu?.stop();
    });

    it("creates a connector with its secrets sealed and tests it in words", async () => {
      const bad = await t.api("POST", "/api/v1/connectors", {
        body: { kind: "taobao", shopId: cat.shopId, config: { appKey: emu.appKey } },
      });
      expect(bad.status).toBe(400);
      const r = await t.api("POST", "/api/v1/connectors", {
        body: {
          kind: "taobao",
          shopId: cat.shopId,
          name: "淘宝店",
          config: {
            appKey: emu.appKey,
            appSecret: emu.appSecret,
            sessionKey: emu.sessionKey,
            gateway: emu.gateway,
            signMethod: "md5",
            sellerAddressId: "1001",
            backfillDays: 3,
            tradeUrl: `${emu.url}/back-office/trade?tid={tid}`,
            refundUrl: `${emu.url}/back-office/refund?id={refundId}`,
          },
        },
      });
      expect(r.status).toBe(201);
      connectorId = r.body.id;
      for (const secret of [emu.appSecret, emu.sessionKey]) {
        expect(r.text).not.toContain(secret);
        expect((await t.api("GET", `/api/v1/connectors/${connectorId}`)).text).not.toContain(secret);
      }
      expect(r.body.config.appSecret).toMatch(/^••••/);
      const ok = await t.api("POST", `/api/v1/connectors/${connectorId}/actions/test`);
      expect(ok.body).toMatchObject({ ok: true });
      expect(ok.body.message).toContain(emu.nick);
      // Every call was signed and checked by the emulator; md5 as configured.
      expect(emu.requests.at(-1)?.params.sign_method).toBe("md5");
      expect(emu.requests.at(-1)?.error).toBeUndefined();
      // A wrong secret: TOP answers 25, said in words.
      await t.api("PATCH", `/api/v1/connectors/${connectorId}`, { body: { config: { appSecret: "wrong-secret-000" } } });
      const wrong = await t.api("POST", `/api/v1/connectors/${connectorId}/actions/test`);
      expect(wrong.body.ok).toBe(false);
      expect(emu.requests.at(-1)?.error).toMatchObject({ code: 25 });
      expect(wrong.body.message).toContain("签名");
      expect(wrong.body.message).toContain("appSecret");
      await t.api("PATCH", `/api/v1/connectors/${connectorId}`, {
        body: { config: { appSecret: emu.appSecret, signMethod: "hmac-sha256" } },
      });
      expect((await t.api("POST", `/api/v1/connectors/${connectorId}/actions/test`)).body.ok).toBe(true);
      expect(emu.requests.at(-1)?.params.sign_method).toBe("hmac-sha256");
    });

    it("backfills trades by one-day windows, pages read from the last back, money to the fen", async () => {
      const made: EmuTrade[] = [];
      // 45 trades modified within the last hour (three pages), and 5 two days ago (another window).
      for (let i = 0; i < 45; i++) made.push(mug({ modifiedAgo: 60_000 + i * 1000 }));
      for (let i = 0; i < 5; i++) made.push(mug({ modifiedAgo: 2 * 86_400_000 }));
      const noCode = emu.addTrade({ lines: [{ sku: null, title: "神秘盒", price: "10.00", num: 1 }] });
      const before = await count("orders");
      const c = await sync();
      expect(c.status).toBe("active");
      expect(await count("orders")).toBe(before + 50);
      const pulls = emu.requests.filter((r) => r.method === "taobao.trades.sold.increment.get");
      for (const p of pulls) {
        const span =
          new Date(`${p.params.end_modified.replace(" ", "T")}+08:00`).getTime() -
          new Date(`${p.params.start_modified.replace(" ", "T")}+08:00`).getTime();
        expect(span).toBeLessThanOrEqual(86_400_000);
      }
      // The window of the last hour: a count, then pages 3, 2, 1.
      const lastWindow = pulls.filter((p) => p.params.end_modified === topTime(t.clock.now()));
      expect(lastWindow.map((p) => [p.params.page_no, p.params.fields])).toEqual([
        ["1", "tid"],
        ["3", "tid,modified,status"],
        ["2", "tid,modified,status"],
        ["1", "tid,modified,status"],
      ]);
      const o = await orderOf(made[0].tid);
      const view = (await t.api("GET", `/api/v1/orders/${o?.id}`)).body;
      // 2 × 39.00 − 5.00 + 99.00 + 10.00 postage − 8.00 shop discount = 174.00
      expect(view.paidTotal).toBe(17400);
      expect(view.shippingFee).toBe(1000);
      expect(
        view.lines.map((l: { skuCode: string; quantity: number; unitPrice: number; discount: number }) => [
          l.skuCode,
          l.quantity,
          l.unitPrice,
        ]),
      ).toEqual([
        ["MUG", 2, 3900],
        ["TEE", 1, 9900],
      ]);
      expect(view.payments[0]).toMatchObject({ method: "taobao", amount: 17400 });
      expect(view.address).toMatchObject({
        province: "浙江省",
        city: "杭州市",
        district: "余杭区",
        line1: "文一西路 969 号",
        postalCode: "311121",
      });
      expect((await t.api("GET", "/api/v1/ledger/trial-balance")).body.balanced).toBe(true);
      expect(await orderOf(noCode.tid)).toBeUndefined();
      const log = (await connector()).log.map((l: { message: string }) => l.message).join("\n");
      expect(log).toContain(`order ${noCode.tid} not imported`);
      expect(log).toContain("商家编码");
      const links = (await t.api("GET", `/api/v1/orders/${o?.id}/platform-links`, { as: "cs" })).body.items;
      expect(links[0]).toMatchObject({ kind: "taobao", externalId: made[0].tid, url: `${emu.url}/back-office/trade?tid=${made[0].tid}` });
    });

    it("imports a trade once: pulled again, modified, and fetched for a refund", async () => {
      const before = await count("orders");
      later();
      await sync();
      expect(await count("orders")).toBe(before);
      const tr = mug();
      later();
      await sync();
      expect(await count("orders")).toBe(before + 1);
      emu.update(tr, { receiver_address: "西湖区 文三路 1 号" });
      later();
      await sync();
      expect((await orderOf(tr.tid))?.address).toMatchObject({ line1: "西湖区 文三路 1 号" });
      // A refund on it makes the connector fetch the trade again: still one order.
      emu.addRefund(tr, { index: 1, reason: "七天无理由退换货" });
      later();
      await sync();
      expect(await count("orders")).toBe(before + 1);
    });

    it("opens cases from refunds (paged by has_next) with type, reason, amount asked, messages, photos and the platform's deadline", async () => {
      const trades = Array.from({ length: 22 }, () => mug());
      later();
      await sync();
      const refunds = trades.map((tr, i) =>
        emu.addRefund(tr, {
          index: 0,
          reason: i === 0 ? "质量问题" : "不想要了",
          desc: i === 0 ? "杯子有裂纹" : "",
          pictures: i === 0 ? 2 : 0,
          timeoutHours: 36,
        }),
      );
      const casesBefore = await count("cases");
      emu.requests.length = 0;
      later();
      await sync();
      expect(await count("cases")).toBe(casesBefore + 22);
      const pages = emu.requests.filter((r) => r.method === "taobao.refunds.receive.get");
      expect(pages.map((p) => [p.params.page_no, p.params.use_has_next])).toEqual([
        ["1", "true"],
        ["2", "true"],
      ]);
      const c = await caseOf(refunds[0].refund_id);
      expect(c).toMatchObject({ type: "refund_only", reason: "quality", channel: "platform" });
      expect(c.description).toContain(`淘宝退款 ${refunds[0].refund_id}`);
      // 73.00 less its share of the ¥8.00 shop discount (3.40): what Taobao lets the buyer ask, and what Dropdesk computes.
      expect(c.description).toContain("¥69.60");
      const timeline = JSON.stringify(c.timeline ?? c.events ?? []);
      expect(timeline).toContain("杯子有裂纹");
      const evidence = await t.deps.db.selectFrom("evidence").select(["mime", "size_bytes"]).where("case_id", "=", c.id).execute();
      expect(evidence).toHaveLength(2);
      expect(evidence[0].mime).toBe("image/png");
      const row = await t.deps.db.selectFrom("cases").select("response_due_at").where("id", "=", c.id).executeTakeFirstOrThrow();
      expect(topTime(new Date(row.response_due_at as Date))).toBe(refunds[0].refund_remind_timeout.timeout);
      // The case links to its refund and its trade in the seller back office.
      const links = (await t.api("GET", `/api/v1/cases/${c.id}/platform-links`)).body.items;
      expect(links.map((l: { recordType: string; url: string }) => [l.recordType, l.url])).toEqual([
        ["refund", `${emu.url}/back-office/refund?id=${refunds[0].refund_id}`],
        ["order", `${emu.url}/back-office/trade?tid=${trades[0].tid}`],
      ]);
      // Pulled again: nothing new.
      later();
      await sync();
      expect(await count("cases")).toBe(casesBefore + 22);
      expect(evidence).toHaveLength(2);
    });

    it("refunds platform orders through the platform: agreed in batches, settled when Taobao reports it, posted as a platform refund", async () => {
      // 21 refund-only cases of the previous test, refunded in Dropdesk: two agree calls (20 + 1).
      const recs = await t.deps.db
        .selectFrom("connector_records")
        .select(["external_id", "entity_id"])
        .where("connector_id", "=", connectorId)
        .where("record_type", "=", "refund")
        .where("entity_id", "is not", null)
        .execute();
      const open = [];
      for (const r of recs) {
        const c = (await t.api("GET", `/api/v1/cases/${r.entity_id}`)).body;
        if (
          c.type === "refund_only" &&
          ["submitted", "approved"].includes(c.status) &&
          emu.refunds.get(r.external_id)?.status === "WAIT_SELLER_AGREE"
        )
          open.push({ refundId: r.external_id, caseId: c.id as string, status: c.status as string });
      }
      expect(open.length).toBeGreaterThanOrEqual(21);
      emu.requests.length = 0;
      for (const o of open) {
        if (o.status === "submitted")
          expect((await t.api("POST", `/api/v1/cases/${o.caseId}/actions/approve`, { body: { note: "同意" } })).status).toBe(200);
        const r = await t.api("POST", `/api/v1/cases/${o.caseId}/actions/refund`, { body: { method: "original" } });
        expect(r.status).toBe(200);
      }
      const refundRows = await t.deps.db
        .selectFrom("refunds")
        .select(["id", "gateway", "status"])
        .where(
          "case_id",
          "in",
          open.map((o) => o.caseId),
        )
        .execute();
      expect(refundRows.every((r) => r.gateway === "platform" && r.status === "processing")).toBe(true);
      await run(t);
      const agrees = emu.requests.filter((r) => r.method === "taobao.rp.refunds.agree");
      expect(agrees.map((a) => a.params.refund_infos.split(",").length)).toEqual([20, open.length - 20]);
      expect(agrees.every((a) => !a.error)).toBe(true);
      // Agreed, not yet seen paid: still processing. The next pull sees SUCCESS and settles.
      expect(
        (await t.deps.db.selectFrom("refunds").select("status").where("id", "=", refundRows[0].id).executeTakeFirstOrThrow()).status,
      ).toBe("processing");
      later();
      await sync();
      const settled = await t.deps.db
        .selectFrom("refunds")
        .select(["status", "gateway_ref"])
        .where(
          "id",
          "in",
          refundRows.map((r) => r.id),
        )
        .execute();
      expect(settled.every((r) => r.status === "succeeded" && String(r.gateway_ref).startsWith("taobao-refund:"))).toBe(true);
      const c = (await t.api("GET", `/api/v1/cases/${open[0].caseId}`)).body;
      expect(c.status).toBe("refunded");
      const postings = (await t.api("GET", `/api/v1/ledger/postings?caseId=${open[0].caseId}`, { as: "finance" })).body.items;
      expect(postings.map((p: { code: string }) => p.code)).toContain("platform_refund");
      expect((await t.api("GET", "/api/v1/ledger/trial-balance")).body.balanced).toBe(true);
      // Reconciliation asks Taobao again and changes nothing.
      await (t.deps.services.reconcileRefunds as () => Promise<number>)();
      expect((await t.api("GET", `/api/v1/cases/${open[0].caseId}`)).body.refundedTotal ?? c.refundedTotal).toBe(c.refundedTotal);
    });

    it("says on the case, with the back office's link, what Taobao will not agree", async () => {
      const a = mug();
      const b = mug();
      later();
      await sync();
      const onweb = emu.addRefund(a, { index: 1, constraint: "refund_onweb" });
      const partial = emu.addRefund(b, { index: 1, fee: "50.00" });
      later();
      await sync();
      for (const r of [onweb, partial]) {
        const c = await caseOf(r.refund_id);
        if (c.status === "submitted") await t.api("POST", `/api/v1/cases/${c.id}/actions/approve`, { body: { note: "同意" } });
        await t.api("POST", `/api/v1/cases/${c.id}/actions/refund`, { body: { method: "original" } });
        const refund = await t.deps.db
          .selectFrom("refunds")
          .select(["status", "last_error"])
          .where("case_id", "=", c.id)
          .executeTakeFirstOrThrow();
        expect(refund.status).toBe("failed");
        const after = (await t.api("GET", `/api/v1/cases/${c.id}`)).body;
        const notes = JSON.stringify(after.timeline ?? after.events);
        expect(notes).toContain(`${emu.url}/back-office/refund?id=${r.refund_id}`);
      }
      expect(
        (
          await t.deps.db
            .selectFrom("refunds")
            .select("last_error")
            .where("case_id", "=", (await caseOf(onweb.refund_id)).id)
            .executeTakeFirstOrThrow()
        ).last_error,
      ).toContain("卖家后台");
      expect(
        (
          await t.deps.db
            .selectFrom("refunds")
            .select("last_error")
            .where("case_id", "=", (await caseOf(partial.refund_id)).id)
            .executeTakeFirstOrThrow()
        ).last_error,
      ).toContain("50.00");
      expect(emu.refunds.get(onweb.refund_id)?.status).toBe("WAIT_SELLER_AGREE");
    });

    it("agrees a return with the case's return address, follows the buyer's shipment, refuses with words and proof, and ships", async () => {
      const tr = mug();
      const tr2 = mug();
      later();
      await sync();
      const order = await orderOf(tr.tid);
      await deliverOrder(t, (await orderOf(tr2.tid))?.id as string, t.clock.now().toISOString());
      await run(t);
      emu.requests.length = 0;
      await deliverOrder(t, order?.id as string, t.clock.now().toISOString());
      await run(t);
      // The supplier's shipment went to Taobao once, as logistics.offline.send with SF.
      const sends = emu.requests.filter((r) => r.method === "taobao.logistics.offline.send");
      expect(sends).toHaveLength(1);
      expect(sends[0].params).toMatchObject({ tid: tr.tid, company_code: "SF" });
      expect(emu.trades.get(tr.tid)?.status).toBe("WAIT_BUYER_CONFIRM_GOODS");

      // Taobao needs the return address's postcode: without it, the platform refuses and the case says so.
      const early = emu.addRefund(tr2, { index: 0, goods: true, reason: "质量问题" });
      later();
      await sync();
      const ec = await caseOf(early.refund_id);
      expect((await t.api("POST", `/api/v1/cases/${ec.id}/actions/approve`, { body: { note: "同意退货" } })).status).toBe(200);
      await runEvents(t);
      await run(t);
      expect(emu.refunds.get(early.refund_id)?.status).toBe("WAIT_SELLER_AGREE");
      const words = JSON.stringify((await t.api("GET", `/api/v1/cases/${ec.id}`)).body.timeline);
      expect(words).toContain("isv.missing-parameter:post");
      expect(words).toContain(`${emu.url}/back-office/refund?id=${early.refund_id}`);
      const addr = { name: "退货仓", phone: "13800000000", province: "浙江", city: "义乌", line1: "福田路 1 号", postalCode: "322000" };
      for (const id of [cat.suppliers.a, cat.suppliers.b])
        expect((await t.api("PATCH", `/api/v1/suppliers/${id}`, { body: { returnAddress: addr } })).status).toBe(200);

      const ret = emu.addRefund(tr, { index: 0, goods: true, reason: "质量问题", desc: "把手断了" });
      const no = emu.addRefund(tr, { index: 1, goods: true, reason: "尺码不合适" });
      later();
      await sync();
      const rc = await caseOf(ret.refund_id);
      expect(rc.type).toBe("return_refund");
      expect((await t.api("POST", `/api/v1/cases/${rc.id}/actions/approve`, { body: { note: "同意退货" } })).status).toBe(200);
      await runEvents(t);
      await run(t);
      expect(emu.refunds.get(ret.refund_id)?.status).toBe("WAIT_BUYER_RETURN_GOODS");
      expect(emu.refunds.get(ret.refund_id)?.address).toContain("福田路 1 号");
      expect(emu.refunds.get(ret.refund_id)?.seller_address_id).toBe("1001");
      // The buyer ships the return on Taobao: the case follows.
      emu.updateRefund(emu.refunds.get(ret.refund_id) as never, {
        status: "WAIT_SELLER_CONFIRM_GOODS",
        sid: "YT1234567",
        company_name: "圆通速递",
      });
      later();
      await sync();
      const shipped = (await t.api("GET", `/api/v1/cases/${rc.id}`)).body;
      expect(shipped.status).toBe("return_in_transit");

      const nc = await caseOf(no.refund_id);
      const png = Buffer.from(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000" +
          "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082",
        "hex",
      );
      const { storeEvidence } = await import("../../src/after-sales/evidence.service.js");
      await storeEvidence(t.deps, { kind: "user", id: "staff", tenantId: t.t.tenantId, role: "cs", locale: "zh-CN" }, nc.id, {
        filename: "发货凭证.png",
        data: png,
      });
      expect(
        (await t.api("POST", `/api/v1/cases/${nc.id}/actions/reject`, { body: { note: "商品已按描述发货，尺码表见详情页" } })).status,
      ).toBe(200);
      await runEvents(t);
      await run(t);
      const refused = emu.refunds.get(no.refund_id);
      expect(refused?.status).toBe("SELLER_REFUSE_BUYER");
      expect(refused?.refuse_message).toBe("商品已按描述发货，尺码表见详情页");
      expect(Buffer.compare(refused?.refuse_proof as Buffer, png)).toBe(0);
      // A repeated push reads the platform first and sends nothing again.
      const n = emu.requests.filter((r) => r.method === "taobao.refund.refuse").length;
      await t.deps.db.updateTable("connector_pushes").set({ status: "pending" }).where("push_key", "=", `refuse:${nc.id}`).execute();
      const { enqueueConnectorJob } = await import("../../src/connectors/jobs.js");
      await enqueueConnectorJob(t.deps, { type: "push", connectorId, pushKey: `refuse:${nc.id}` });
      await run(t);
      expect(emu.requests.filter((r) => r.method === "taobao.refund.refuse")).toHaveLength(n);
    });

    it("records a refund the platform agreed by itself at its deadline", async () => {
      const tr = mug();
      later();
      await sync();
      const r = emu.addRefund(tr, { index: 1 });
      later();
      await sync();
      const c = await caseOf(r.refund_id);
      emu.updateRefund(r, { status: "SUCCESS" });
      later();
      await sync();
      const after = (await t.api("GET", `/api/v1/cases/${c.id}`)).body;
      expect(after.status).toBe("refunded");
      const refund = await t.deps.db
        .selectFrom("refunds")
        .select(["gateway", "status", "amount"])
        .where("case_id", "=", c.id)
        .executeTakeFirstOrThrow();
      expect(refund).toMatchObject({ gateway: "platform", status: "succeeded", amount: 9440 });
      expect(
        emu.requests.filter((x) => x.method === "taobao.rp.refunds.agree" && x.params.refund_infos.includes(r.refund_id)),
      ).toHaveLength(0);
    });

    it("waits out call limits (7), retries platform failures, and turns error with the words to fix an expired session (27)", async () => {
      mug();
      later();
      emu.requests.length = 0;
      emu.faults.push(
        {
          error: {
            code: 7,
            msg: "App Call Limited",
            sub_code: "accesscontrol.limited-by-api-access-count",
            sub_msg: "This ban will last for 1 more seconds",
          },
        },
        { error: { code: 15, msg: "Remote service error", sub_code: "isp.top-remote-connection-timeout", sub_msg: "连接超时" } },
        { status: 502 },
        { hang: true },
      );
      let c = await sync();
      expect(c.status).toBe("active");
      expect(c.lastError).toBeNull();
      const [limited, next] = emu.requests;
      expect(limited.error?.code).toBe(7);
      expect(next.at - limited.at).toBeGreaterThanOrEqual(1000);

      // A long ban reschedules the sync instead of holding the worker.
      later();
      emu.faults.push({
        error: { code: 7, msg: "App Call Limited", sub_code: "isv.call-limited", sub_msg: "This ban will last for 30 more seconds" },
      });
      c = await sync();
      expect(c.status).toBe("active");
      expect(new Date(c.nextAttemptAt).getTime() - t.clock.now().getTime()).toBe(30_000);
      expect(c.lastError).toContain("限流");

      emu.sessionExpired = true;
      c = await sync();
      expect(c.status).toBe("error");
      expect(c.lastError).toContain("27");
      expect(c.lastError).toContain("sessionKey");
      expect(c.lastError).toMatch(/authorise the app again/);
      emu.sessionExpired = false;
      expect((await sync()).status).toBe("active");
    });

    it("resumes a sync that crashed mid-page from its checkpoint: no trade lost, none doubled", async () => {
      const made = Array.from({ length: 35 }, () => mug());
      const ids = new Set(made.map((m) => m.tid));
      const before = await count("orders");
      let seen = 0;
      later();
      t.deps.services.connectorOptions = {
        ...OPTIONS,
        afterRecord: (_c: string, externalId: string) => {
          if (ids.has(externalId)) seen += 1;
          if (seen === 23) throw new Error("process killed");
        },
      };
      await t.api("POST", `/api/v1/connectors/${connectorId}/actions/sync`);
      await run(t);
      expect((await count("orders")) - before).toBe(23);
      t.deps.services.connectorOptions = { ...OPTIONS };
      t.clock.advance(61_000);
      await sync();
      expect((await count("orders")) - before).toBe(35);
      for (const m of made) {
        const n = await t.deps.db
          .selectFrom("orders")
          .select("id")
          .where("tenant_id", "=", t.t.tenantId)
          .where("platform_order_no", "=", m.tid)
          .execute();
        expect(n).toHaveLength(1);
      }
    });
  });
}
