import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { carrierCode } from "../../src/domain/vocabulary.js";
import type { DomainEvent } from "../../src/platform/context.js";
import { type Catalog, createDeliveredOrder, createOrder, setupCatalog, shipOrder } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, type TestApp } from "../helpers/harness.js";
import { Kuaidi100Emulator } from "./kuaidi100-emulator.js";

const runCarrierJobs = (t: TestApp) => (t.deps.services.runCarrierJobs as () => Promise<number>)();

for (const kind of DB_KINDS) {
  describe(`快递100 carriers on ${kind}`, () => {
    let t: TestApp;
    let emu: Kuaidi100Emulator;
    let cat: Catalog;
    let connectorId: string;
    const salt = "s4lt-for-pushes-0123";
    const events: DomainEvent[] = [];

    beforeAll(async () => {
      emu = await new Kuaidi100Emulator().start();
      t = await startTestApp(kind, { config: { outboundAllow: "127.0.0.1" } });
      // 快递100's callbacks reach the application as the exact form bodies it would post.
      emu.deliver = async (url, form) => {
        const r = await t.app.inject({
          method: "POST",
          url: new URL(url).pathname,
          payload: form,
          headers: { "content-type": "application/x-www-form-urlencoded" },
        });
        return { status: r.statusCode, body: r.body };
      };
      t.deps.eventSinks.push(async (_tx, e) => {
        events.push(e);
      });
      cat = await setupCatalog(t, { timezone: "America/Los_Angeles" });
    });
    afterAll(async () => {
      await t?.close();
      await emu?.stop();
    });

    const soOf = async (orderId: string) => (await t.api("GET", `/api/v1/orders/${orderId}`)).body.supplierOrders[0];
    const trackingCount = async (no: string) =>
      Number(
        (
          await t.deps.db
            .selectFrom("tracking_events")
            .select((eb) => eb.fn.countAll<number>().as("n"))
            .where("tenant_id", "=", t.t.tenantId)
            .where("tracking_no", "=", no)
            .executeTakeFirstOrThrow()
        ).n,
      );

    it("keeps one carrier list of 快递100 codes with names, and maps what people type onto it", async () => {
      const list = await t.api("GET", "/api/v1/carriers", { headers: { authorization: "" } });
      expect(list.status).toBe(200);
      const codes = list.body.items.map((c: { code: string }) => c.code);
      for (const c of [
        "shunfeng",
        "yuantong",
        "zhongtong",
        "yunda",
        "shentong",
        "jtexpress",
        "ems",
        "youzhengguonei",
        "jd",
        "debangkuaidi",
        "dhl",
        "fedex",
      ])
        expect(codes).toContain(c);
      expect(list.body.items.find((c: { code: string }) => c.code === "shunfeng").names).toEqual({ "zh-CN": "顺丰速运", en: "SF Express" });
      expect(["SF", "sf", "顺丰", "顺丰速运", "SF Express", "shunfeng"].map(carrierCode)).toEqual(Array(6).fill("shunfeng"));
      expect(["YTO", "圆通", "中通", "ZTO", "J&T", "极兔", "京东", "德邦"].map(carrierCode)).toEqual([
        "yuantong",
        "yuantong",
        "zhongtong",
        "zhongtong",
        "jtexpress",
        "jtexpress",
        "jd",
        "debangkuaidi",
      ]);
      expect(carrierCode("乡镇小快递")).toBeNull();
    });

    it("sets up the connector with customer, key and salt, the secrets sealed", async () => {
      const bad = await t.api("POST", "/api/v1/connectors", {
        body: { kind: "kuaidi100", config: { customer: emu.customer, key: emu.key } },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error.details.fields[0].field).toBe("config.salt");
      const r = await t.api("POST", "/api/v1/connectors", {
        body: {
          kind: "kuaidi100",
          name: "快递100",
          config: { customer: emu.customer, key: emu.key, salt, secret: emu.secret, endpoint: emu.url },
        },
      });
      expect(r.status, r.text).toBe(201);
      connectorId = r.body.id;
      expect(r.body.webhookUrl).toMatch(new RegExp(`/hooks/kuaidi100/${connectorId}$`));
      expect(JSON.stringify(r.body)).not.toContain(salt);
      expect(r.body.config.customer).toBe(emu.customer);
      const tested = await t.api("POST", `/api/v1/connectors/${connectorId}/actions/test`);
      expect(tested.body.ok).toBe(true);
    });

    it("subscribes a shipped parcel's number with a signed poll request; an unknown carrier is recorded, not sent", async () => {
      const order = await shipOrder(t, (await createOrder(t, cat, { lines: [{ skuCode: "TEE", quantity: 1 }] })).id);
      const so = order.supplierOrders[0];
      expect(so.carrier).toBe("SF");
      expect(await runCarrierJobs(t)).toBeGreaterThan(0);
      const sub = emu.subscriptions.get(`shunfeng:${so.trackingNo}`);
      expect(sub).toBeDefined();
      expect(sub?.callbackurl).toMatch(new RegExp(`/hooks/kuaidi100/${connectorId}$`));
      expect(sub?.salt).toBe(salt);
      // 顺丰 needs the phone's last four digits to answer.
      expect(sub?.phone).toBe("5678");
      const req = emu.requests.find((r) => r.path === "/poll" && r.form.param.includes(so.trackingNo));
      expect(req?.form.schema).toBe("json");
      expect(req?.form.sign).toMatch(/^[0-9A-F]{32}$/);
      const row = await t.deps.db
        .selectFrom("carrier_subscriptions")
        .selectAll()
        .where("tracking_no", "=", so.trackingNo)
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({ status: "subscribed", carrier: "shunfeng", supplier_order_id: so.id });

      // A second shipment of the same number subscribes nothing twice.
      expect(await runCarrierJobs(t)).toBe(0);

      const other = await createOrder(t, cat, { lines: [{ skuCode: "TEE", quantity: 1 }] });
      const fwd = (await t.api("POST", `/api/v1/orders/${other.id}/actions/forward`)).body.supplierOrders[0];
      await t.api("POST", `/api/v1/supplier-orders/${fwd.id}/actions/accept`);
      const shipped = await t.api("POST", `/api/v1/supplier-orders/${fwd.id}/actions/ship`, {
        body: { carrier: "乡镇小快递", trackingNo: "XZ000111222" },
      });
      expect(shipped.status).toBe(200);
      await runCarrierJobs(t);
      const unknown = await t.deps.db
        .selectFrom("carrier_subscriptions")
        .selectAll()
        .where("tracking_no", "=", "XZ000111222")
        .executeTakeFirstOrThrow();
      expect(unknown.status).toBe("failed");
      expect(unknown.last_error).toContain("乡镇小快递");
      expect([...emu.subscriptions.keys()].some((k) => k.endsWith("XZ000111222"))).toBe(false);
    });

    it("retries a subscription the service failed to take", async () => {
      const order = await shipOrder(t, (await createOrder(t, cat, { lines: [{ skuCode: "TEE", quantity: 1 }] })).id);
      const so = order.supplierOrders[0];
      emu.failNext = 1;
      await runCarrierJobs(t);
      const waiting = await t.deps.db
        .selectFrom("carrier_subscriptions")
        .selectAll()
        .where("tracking_no", "=", so.trackingNo)
        .executeTakeFirstOrThrow();
      expect(waiting).toMatchObject({ status: "pending", attempts: 1 });
      expect(waiting.last_error).toContain("500");
      // The retry waits its back-off; run the job now as the queue would later.
      const { runCarrierJob } = await import("../../src/carriers/jobs.js");
      await runCarrierJob(t.deps, { type: "subscribe", subscriptionId: waiting.id });
      expect(
        (await t.deps.db.selectFrom("carrier_subscriptions").select("status").where("id", "=", waiting.id).executeTakeFirstOrThrow())
          .status,
      ).toBe("subscribed");
    });

    it("turns pushes into tracking events; 签收 (Beijing time) delivers; repeated, out-of-order and forged pushes change nothing", async () => {
      const order = await shipOrder(t, (await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] })).id);
      const so = order.supplierOrders[0];
      await runCarrierJobs(t);
      emu.track(
        "shunfeng",
        so.trackingNo,
        { time: "2026-02-27 18:02:11", context: "【深圳】顺丰速运 已收取快件", state: "1" },
        { time: "2026-02-28 09:40:00", context: "快件到达 【上海浦东集散中心】", state: "0" },
        { time: "2026-03-01 21:15:00", context: "快件交给李师傅，正在派送途中", state: "5" },
        { time: "2026-03-02 06:00:00", context: "快件已签收，签收人：本人", state: "3" },
      );

      const early = await emu.push("shunfeng", so.trackingNo, { upTo: 2 });
      expect(early).toEqual({ status: 200, answer: { result: true, returnCode: "200", message: "成功" } });
      expect(await trackingCount(so.trackingNo)).toBe(2);
      expect((await soOf(order.id)).status).toBe("shipped");

      const full = await emu.push("shunfeng", so.trackingNo);
      expect(full.answer.result).toBe(true);
      expect(await trackingCount(so.trackingNo)).toBe(4);
      const delivered = (await t.api("GET", `/api/v1/orders/${order.id}`)).body;
      expect(delivered.status).toBe("delivered");
      // 2026-03-02 06:00 in Beijing is 2026-03-01 22:00 UTC.
      expect(new Date(delivered.deliveredAt).toISOString()).toBe("2026-03-01T22:00:00.000Z");
      const view = (await t.api("GET", `/api/v1/supplier-orders/${so.id}`)).body;
      expect(view.tracking.map((e: { status: string }) => e.status)).toEqual(["picked_up", "in_transit", "out_for_delivery", "delivered"]);
      expect(view.tracking[3].description).toBe("快件已签收，签收人：本人");
      const sub = await t.deps.db
        .selectFrom("carrier_subscriptions")
        .selectAll()
        .where("tracking_no", "=", so.trackingNo)
        .executeTakeFirstOrThrow();
      expect(sub).toMatchObject({ status: "ended", last_state: "3" });

      // The same push again, then an older one arriving late: nothing new, nothing undone.
      const audits = async () =>
        Number(
          (
            await t.deps.db
              .selectFrom("audit_log")
              .select((eb) => eb.fn.countAll<number>().as("n"))
              .where("tenant_id", "=", t.t.tenantId)
              .where("entity_id", "in", [so.id, so.trackingNo])
              .executeTakeFirstOrThrow()
          ).n,
        );
      const before = await audits();
      expect((await emu.push("shunfeng", so.trackingNo)).answer.result).toBe(true);
      expect((await emu.push("shunfeng", so.trackingNo, { upTo: 3 })).answer.result).toBe(true);
      expect(await trackingCount(so.trackingNo)).toBe(4);
      expect(await audits()).toBe(before);
      expect((await t.api("GET", `/api/v1/orders/${order.id}`)).body.status).toBe("delivered");

      // Forged: signed with another salt, or not signed, or for no connector.
      const forged = await emu.push("shunfeng", so.trackingNo, {
        salt: "not-the-salt",
        param: emu.pushParam("shunfeng", so.trackingNo).replace("本人", "门卫"),
      });
      expect(forged.status).toBe(400);
      expect(forged.answer.result).toBe(false);
      const unsigned = await t.app.inject({
        method: "POST",
        url: `/hooks/kuaidi100/${connectorId}`,
        payload: new URLSearchParams({ param: emu.pushParam("shunfeng", so.trackingNo) }).toString(),
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
      expect(unsigned.statusCode).toBe(400);
      expect(unsigned.json().result).toBe(false);
      const nobody = await t.app.inject({
        method: "POST",
        url: "/hooks/kuaidi100/00000000-0000-4000-8000-000000000000",
        payload: "param=%7B%7D&sign=X",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
      expect(nobody.statusCode).toBe(404);
      expect(await trackingCount(so.trackingNo)).toBe(4);
      expect(await audits()).toBe(before);
    });

    it("counts the after-sales windows from the pushed 签收 time in the shop's time zone", async () => {
      const order = await shipOrder(t, (await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] })).id);
      const so = order.supplierOrders[0];
      await runCarrierJobs(t);
      // Signed for at 06:00 on 2 March in Beijing: still 1 March in Los Angeles (14:00).
      emu.track("shunfeng", so.trackingNo, { time: "2026-03-02 06:00:00", context: "已签收", state: "3" });
      await emu.push("shunfeng", so.trackingNo);
      const line = order.lines[0].id;
      const deadline = async () => {
        const e = (await t.api("GET", `/api/v1/orders/${order.id}/eligibility?reason=changed_mind&at=2026-03-03T00:00:00Z`, { as: "cs" }))
          .body;
        return e.lines.find((l: any) => l.orderLineId === line).options.find((o: any) => o.type === "return_refund").deadline;
      };
      // Seven days from the day after 1 March, to the end of 8 March in Los Angeles (daylight time from that day, UTC−7).
      expect(await deadline()).toBe("2026-03-09T06:59:59.999Z");
      // The same push for a shop in Shanghai: the parcel arrived on 2 March there, so one day more.
      expect((await t.api("PATCH", `/api/v1/shops/${cat.shopId}`, { body: { timezone: "Asia/Shanghai" } })).status).toBe(200);
      expect(await deadline()).toBe("2026-03-09T15:59:59.999Z");
      await t.api("PATCH", `/api/v1/shops/${cat.shopId}`, { body: { timezone: "America/Los_Angeles" } });
    });

    it("raises an alert for 疑难 and runs the refused-parcel flow on 拒签", async () => {
      const order = await shipOrder(t, (await createOrder(t, cat, { lines: [{ skuCode: "TEE", quantity: 1 }] })).id);
      const so = order.supplierOrders[0];
      await runCarrierJobs(t);
      const c = (
        await t.api("POST", "/api/v1/cases", {
          body: {
            orderId: order.id,
            type: "refund_only",
            reason: "changed_mind",
            lines: [{ orderLineId: order.lines[0].id, quantity: 1 }],
          },
        })
      ).body;
      expect((await t.api("POST", `/api/v1/cases/${c.id}/actions/approve`, { body: { note: "拦截" } })).body.status).toBe("approved");
      emu.track(
        "shunfeng",
        so.trackingNo,
        { time: "2026-03-01 10:00:00", context: "已揽收", state: "1" },
        { time: "2026-03-02 11:00:00", context: "收件人电话无人接听，派送受阻", state: "2" },
      );
      await emu.push("shunfeng", so.trackingNo);
      const alert = events.filter((e) => e.type === "tracking.exception" && e.data.trackingNo === so.trackingNo);
      expect(alert).toHaveLength(1);
      expect(alert[0].data).toMatchObject({ supplierOrderId: so.id, orderId: order.id, description: "收件人电话无人接听，派送受阻" });
      await emu.push("shunfeng", so.trackingNo);
      expect(events.filter((e) => e.type === "tracking.exception" && e.data.trackingNo === so.trackingNo)).toHaveLength(1);

      emu.track("shunfeng", so.trackingNo, { time: "2026-03-02 15:30:00", context: "收件人拒收", state: "14" });
      expect((await emu.push("shunfeng", so.trackingNo)).answer.result).toBe(true);
      expect((await soOf(order.id)).status).toBe("returned");
      const refunds = (await t.api("GET", `/api/v1/refunds?caseId=${c.id}`)).body.items;
      expect(refunds).toHaveLength(1);
      expect(refunds[0].amount).toBe(9900);
      const view = (await t.api("GET", `/api/v1/supplier-orders/${so.id}`)).body;
      expect(view.tracking.map((e: { status: string }) => e.status)).toEqual(["picked_up", "exception", "refused"]);
    });

    it("sends an interception to the carrier when the supplier does not answer; the callback finishes it like the supplier's answer", async () => {
      const order = await shipOrder(t, (await createOrder(t, cat, { lines: [{ skuCode: "TEE", quantity: 1 }] })).id);
      const so = order.supplierOrders[0];
      const c = (
        await t.api("POST", "/api/v1/cases", {
          body: {
            orderId: order.id,
            type: "refund_only",
            reason: "changed_mind",
            lines: [{ orderLineId: order.lines[0].id, quantity: 1 }],
          },
        })
      ).body;
      await t.api("POST", `/api/v1/cases/${c.id}/actions/approve`, { body: { note: "拦截" } });
      expect((await soOf(order.id)).status).toBe("intercept_requested");
      // The supplier stays silent; the console offers the carrier, and CS asks it.
      const state = async () => (await t.api("GET", `/api/v1/supplier-orders/${so.id}/carrier-intercept`, { as: "cs" })).body;
      expect(await state()).toMatchObject({ available: true, blocked: null, intercept: null, carrier: "shunfeng" });
      const asked = await t.api("POST", `/api/v1/supplier-orders/${so.id}/actions/carrier-intercept`, {
        body: { note: "供应商未回复" },
        as: "cs",
      });
      expect(asked.status, asked.text).toBe(200);
      await runCarrierJobs(t);
      const it = await t.deps.db
        .selectFrom("carrier_intercepts")
        .selectAll()
        .where("supplier_order_id", "=", so.id)
        .executeTakeFirstOrThrow();
      expect(it).toMatchObject({ status: "requested", carrier: "shunfeng", tracking_no: so.trackingNo });
      const sent = emu.intercepts.get(it.id);
      expect(sent?.param).toMatchObject({
        kuaidicom: "shunfeng",
        kuaidinum: so.trackingNo,
        interceptType: "RETURN_SEND_ADDR",
        reason: "供应商未回复",
      });
      expect(sent?.param.callbackUrl).toMatch(new RegExp(`/hooks/kuaidi100/${connectorId}/intercept$`));
      expect(await state()).toMatchObject({ available: false, blocked: "already_sent", intercept: { status: "requested" } });
      // Asking twice sends one interception.
      await t.api("POST", `/api/v1/supplier-orders/${so.id}/actions/carrier-intercept`, { body: {}, as: "cs" });
      await runCarrierJobs(t);
      expect(emu.intercepts.size).toBe(1);

      expect((await emu.interceptCallback(it.id, "processing", "拦截处理中")).answer.result).toBe(true);
      expect((await soOf(order.id)).status).toBe("intercept_requested");
      expect((await emu.interceptCallback(it.id, "success", "拦截成功，已退回寄件人")).answer.result).toBe(true);
      expect((await soOf(order.id)).status).toBe("intercepted");
      expect((await t.api("GET", `/api/v1/refunds?caseId=${c.id}`)).body.items).toHaveLength(1);
      expect(await state()).toMatchObject({ available: false, blocked: "status", intercept: { status: "intercepted" } });
      // The same callback again (or a late failure) changes nothing.
      await emu.interceptCallback(it.id, "success", "拦截成功，已退回寄件人");
      await emu.interceptCallback(it.id, "fail", "晚到的失败");
      expect((await soOf(order.id)).status).toBe("intercepted");
      expect((await t.api("GET", `/api/v1/refunds?caseId=${c.id}`)).body.items).toHaveLength(1);
    });

    it("sends interceptions straight to the carrier when the shop prefers it; a failure leaves the parcel shipped", async () => {
      expect((await t.api("PATCH", `/api/v1/connectors/${connectorId}`, { body: { config: { interceptVia: "carrier" } } })).status).toBe(
        200,
      );
      const order = await shipOrder(t, (await createOrder(t, cat, { lines: [{ skuCode: "TEE", quantity: 1 }] })).id);
      const so = order.supplierOrders[0];
      const c = (
        await t.api("POST", "/api/v1/cases", {
          body: {
            orderId: order.id,
            type: "refund_only",
            reason: "changed_mind",
            lines: [{ orderLineId: order.lines[0].id, quantity: 1 }],
          },
        })
      ).body;
      await t.api("POST", `/api/v1/cases/${c.id}/actions/approve`, { body: { note: "拦截" } });
      await runCarrierJobs(t);
      const it = await t.deps.db
        .selectFrom("carrier_intercepts")
        .selectAll()
        .where("supplier_order_id", "=", so.id)
        .executeTakeFirstOrThrow();
      expect(emu.intercepts.get(it.id)?.param.kuaidinum).toBe(so.trackingNo);
      await emu.interceptCallback(it.id, "fail", "快件已派送，无法拦截");
      expect((await soOf(order.id)).status).toBe("shipped");
      expect(
        (await t.deps.db.selectFrom("carrier_intercepts").select(["status", "message"]).where("id", "=", it.id).executeTakeFirstOrThrow())
          .status,
      ).toBe("failed");
      await t.api("PATCH", `/api/v1/connectors/${connectorId}`, { body: { config: { interceptVia: "supplier" } } });
    });

    describe("return pickup and the return slip", () => {
      let caseId: string;
      let caseNo: string;
      let portal: { authorization: string };

      beforeAll(async () => {
        const order = await createDeliveredOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }], phone: "13700001234" });
        const c = (
          await t.api("POST", "/api/v1/cases", {
            body: { orderId: order.id, type: "return_refund", reason: "quality", lines: [{ orderLineId: order.lines[0].id, quantity: 1 }] },
          })
        ).body;
        caseId = c.id;
        caseNo = c.caseNo;
        if (c.status !== "awaiting_return")
          expect((await t.api("POST", `/api/v1/cases/${c.id}/actions/approve`, { body: {} })).body.status).toBe("awaiting_return");
        const token = (
          await t.api("POST", "/portal/api/lookup", {
            body: { platformOrderNo: order.platformOrderNo, phoneLast4: "1234" },
            headers: { authorization: "" },
          })
        ).body.token;
        portal = { authorization: `Bearer ${token}` };
      });

      const book = (carrier = "顺丰") =>
        t.api("POST", `/portal/api/cases/${caseId}/pickup`, {
          headers: portal,
          body: {
            carrier,
            address: { name: "王小明", phone: "13700001234", province: "上海", city: "上海", district: "浦东", line1: "世纪大道 100 号" },
            day: "明天",
            startTime: "09:00",
            endTime: "11:00",
          },
        });

      it("books a courier pickup from the portal, refuses a second one, and cancels before pickup", async () => {
        const r = await book();
        expect(r.status, r.text).toBe(201);
        expect(r.body.pickup).toMatchObject({
          status: "booked",
          carrier: "shunfeng",
          day: "明天",
          startTime: "09:00",
          endTime: "11:00",
          allowedActions: ["cancel"],
        });
        expect(r.body.pickup.trackingNo).toMatch(/^SF\d+$/);
        const order = [...emu.orders.values()].find((o) => o.kuaidinum === r.body.pickup.trackingNo);
        expect(order?.param).toMatchObject({
          kuaidicom: "shunfeng",
          sendManName: "王小明",
          sendManMobile: "13700001234",
          sendManPrintAddr: "上海上海浦东世纪大道 100 号",
          recManPrintAddr: "浙江义乌福田路 1 号",
          dayType: "明天",
          pickupStartTime: "09:00",
          pickupEndTime: "11:00",
          cargo: "Ceramic mug×1",
        });
        expect(order?.param.remark).toContain(caseNo);

        const again = await book("圆通");
        expect(again.status).toBe(409);
        const cancelled = await t.api("POST", `/portal/api/cases/${caseId}/pickup/cancel`, { headers: portal, body: {} });
        expect(cancelled.status, cancelled.text).toBe(200);
        expect(cancelled.body.pickup.status).toBe("cancelled");
        expect(order?.status).toBe(99);
        expect((await t.api("GET", `/api/v1/cases/${caseId}`)).body.status).toBe("awaiting_return");
      });

      it("makes the waybill the return's tracking when the courier collects it, and subscribes it", async () => {
        const r = await book("中通");
        expect(r.status, r.text).toBe(201);
        const no = r.body.pickup.trackingNo;
        const order = [...emu.orders.values()].find((o) => o.kuaidinum === no);
        if (!order) throw new Error("no courier order");
        expect((await emu.orderCallback(order.orderId, 1)).answer.result).toBe(true);
        expect((await t.api("GET", `/api/v1/cases/${caseId}/pickup`, { as: "cs" })).body.pickup).toMatchObject({
          status: "booked",
          courierName: "王师傅",
        });
        // A forged callback does nothing.
        expect((await emu.orderCallback(order.orderId, 10, {}, "wrong-salt")).status).toBe(400);
        expect((await t.api("GET", `/api/v1/cases/${caseId}`)).body.status).toBe("awaiting_return");

        expect((await emu.orderCallback(order.orderId, 10)).answer.result).toBe(true);
        const c = (await t.api("GET", `/api/v1/cases/${caseId}`)).body;
        expect(c.status).toBe("return_in_transit");
        expect(c.returnShipment).toMatchObject({ carrier: "zhongtong", trackingNo: no });
        expect((await emu.orderCallback(order.orderId, 10)).answer.result).toBe(true);
        expect(
          (await t.api("GET", `/api/v1/cases/${caseId}`)).body.timeline.filter((e: { action: string }) => e.action === "ship-return"),
        ).toHaveLength(1);
        await runCarrierJobs(t);
        expect(emu.subscriptions.has(`zhongtong:${no}`)).toBe(true);
        const late = await t.api("POST", `/portal/api/cases/${caseId}/pickup/cancel`, { headers: portal, body: {} });
        expect(late.status).toBe(409);
      });

      it("prints a return slip: case number as a Code 128 barcode, order, items and the return address", async () => {
        const r = await t.app.inject({ method: "GET", url: `/portal/api/cases/${caseId}/return-slip.pdf`, headers: portal });
        expect(r.statusCode).toBe(200);
        expect(r.headers["content-type"]).toBe("application/pdf");
        const pdf = r.rawPayload.toString("latin1");
        expect(pdf.startsWith("%PDF-1.4")).toBe(true);
        expect(pdf.trimEnd().endsWith("%%EOF")).toBe(true);
        // Every object sits where the cross-reference table says.
        const xrefAt = Number(/startxref\n(\d+)/.exec(pdf)?.[1]);
        const offsets = [...pdf.slice(xrefAt).matchAll(/^(\d{10}) 00000 n $/gm)].map((m) => Number(m[1]));
        expect(offsets.length).toBe(7);
        for (const [i, off] of offsets.entries()) expect(pdf.slice(off, off + 10)).toMatch(new RegExp(`^${i + 1} 0 obj`));
        const texts = [...pdf.matchAll(/<([0-9A-F]+)> Tj/g)].map((m) => Buffer.from(m[1], "hex").swap16().toString("utf16le"));
        expect(texts).toContain(`售后单号 Case: ${caseNo}`);
        expect(texts.some((x) => x.includes("Ceramic mug × 1"))).toBe(true);
        expect(texts.some((x) => x.includes("福田路 1 号"))).toBe(true);
        // Read the barcode back from the rectangles: bar and gap widths in modules, decoded by Code 128's table.
        const { CODE128_PATTERNS } = await import("../../src/carriers/code128.js");
        const bars = [...pdf.matchAll(/([\d.]+) [\d.]+ ([\d.]+) 60 re f/g)].map((m) => ({ x: Number(m[1]), w: Number(m[2]) }));
        const widths: number[] = [];
        bars.forEach((b, i) => {
          widths.push(Math.round(b.w / 1.1));
          if (i + 1 < bars.length) widths.push(Math.round((bars[i + 1].x - b.x - b.w) / 1.1));
        });
        const symbols: number[] = [];
        for (let i = 0; i + 6 <= widths.length - 7; i += 6) symbols.push(CODE128_PATTERNS.indexOf(widths.slice(i, i + 6).join("")));
        expect(widths.slice(-7).join("")).toBe("2331112");
        expect(symbols[0]).toBe(104);
        const data = symbols.slice(1, -1);
        const check = (104 + data.reduce((s, v, i) => s + v * (i + 1), 0)) % 103;
        expect(symbols[symbols.length - 1]).toBe(check);
        expect(String.fromCharCode(...data.map((v) => v + 32))).toBe(caseNo);

        const staff = await t.app.inject({
          method: "GET",
          url: `/api/v1/cases/${caseId}/return-slip.pdf`,
          headers: { authorization: `Bearer ${t.t.tokens.cs}` },
        });
        expect(staff.statusCode).toBe(200);
        const other = await t.app.inject({
          method: "GET",
          url: `/api/v1/cases/${caseId}/return-slip.pdf`,
          headers: { authorization: `Bearer ${t.other.tokens.cs}` },
        });
        expect(other.statusCode).toBe(404);
      });
    });
  });
}
