import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trackingConnector } from "../../src/carriers/connector.js";
import { runCarrierJob, subscribeLater } from "../../src/carriers/jobs.js";
import type { DomainEvent } from "../../src/platform/context.js";
import { type Catalog, createOrder, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, type TestApp } from "../helpers/harness.js";
import { Track17Emulator } from "./track17-emulator.js";

const runCarrierJobs = (t: TestApp) => (t.deps.services.runCarrierJobs as () => Promise<number>)();
const runConnectorJobs = (t: TestApp) => (t.deps.services.runConnectorJobs as () => Promise<number>)();

for (const kind of DB_KINDS) {
  describe(`17TRACK for cross-border shops on ${kind}`, () => {
    let t: TestApp;
    let emu: Track17Emulator;
    let cat: Catalog;
    let connectorId: string;
    const events: DomainEvent[] = [];

    beforeAll(async () => {
      emu = await new Track17Emulator().start();
      t = await startTestApp(kind, { config: { outboundAllow: "127.0.0.1" } });
      // 17TRACK's webhooks reach the application as the exact bytes it would post.
      emu.deliver = async (url, body, headers) => {
        const r = await t.app.inject({ method: "POST", url: new URL(url).pathname, payload: body, headers });
        await runConnectorJobs(t);
        return { status: r.statusCode, body: r.body };
      };
      t.deps.eventSinks.push(async (_tx, e) => {
        events.push(e);
      });
      cat = await setupCatalog(t);
      // 快递100 for the tenant, 17TRACK for the cross-border shop.
      const k100 = await t.api("POST", "/api/v1/connectors", {
        body: { kind: "kuaidi100", config: { customer: "C1", key: "k100key", salt: "salt-0123456", endpoint: "http://127.0.0.1:9" } },
      });
      expect(k100.status, k100.text).toBe(201);
    });
    afterAll(async () => {
      await t?.close();
      await emu?.stop();
    });

    const subOf = (no: string) =>
      t.deps.db.selectFrom("carrier_subscriptions").selectAll().where("tracking_no", "=", no).executeTakeFirstOrThrow();
    const shipped = async (carrier: string, trackingNo: string) => {
      const order = await createOrder(t, cat, { lines: [{ skuCode: "TEE", quantity: 1 }] });
      const so = (await t.api("POST", `/api/v1/orders/${order.id}/actions/forward`)).body.supplierOrders[0];
      await t.api("POST", `/api/v1/supplier-orders/${so.id}/actions/accept`);
      const r = await t.api("POST", `/api/v1/supplier-orders/${so.id}/actions/ship`, { body: { carrier, trackingNo } });
      expect(r.status, r.text).toBe(200);
      return { order, so };
    };
    const orderOf = async (id: string) => (await t.api("GET", `/api/v1/orders/${id}`)).body;

    it("binds a 17TRACK connector to the shop, its key sealed, and chooses it for that shop only", async () => {
      const bad = await t.api("POST", "/api/v1/connectors", {
        body: { kind: "track17", shopId: cat.shopId, config: { endpoint: emu.url } },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error.details.fields[0].field).toBe("config.apiKey");
      const r = await t.api("POST", "/api/v1/connectors", {
        body: { kind: "track17", name: "17TRACK", shopId: cat.shopId, config: { apiKey: emu.key, endpoint: emu.url } },
      });
      expect(r.status, r.text).toBe(201);
      connectorId = r.body.id;
      emu.webhook = r.body.webhookUrl;
      expect(r.body.webhookUrl).toMatch(new RegExp(`/hooks/track17/${connectorId}$`));
      expect(JSON.stringify(r.body)).not.toContain(emu.key);
      const tested = await t.api("POST", `/api/v1/connectors/${connectorId}/actions/test`);
      expect(tested.body.ok, tested.text).toBe(true);
      expect((await trackingConnector(t.deps.db, t.t.tenantId, cat.shopId))?.kind).toBe("track17");
      const other = await t.api("POST", "/api/v1/shops", { body: { name: "Domestic", platform: "taobao", timezone: "Asia/Shanghai" } });
      expect((await trackingConnector(t.deps.db, t.t.tenantId, other.body.id))?.kind).toBe("kuaidi100");
    });

    it("registers a shipped parcel's number with the 17token header; 快递100 is not asked", async () => {
      const { so } = await shipped("DHL", "JD014600003421");
      expect(await runCarrierJobs(t)).toBeGreaterThan(0);
      expect(await subOf("JD014600003421")).toMatchObject({ status: "subscribed", connector_id: connectorId, supplier_order_id: so.id });
      const call = emu.calls.find((c) => c.path === "/track/v2.2/register");
      expect(call?.body).toEqual([{ number: "JD014600003421", carrier: 100001, tag: (await subOf("JD014600003421")).id }]);
      // A carrier outside the list is still registered: 17TRACK detects it.
      await shipped("乡镇小快递", "LX123456789CN");
      await runCarrierJobs(t);
      expect((await subOf("LX123456789CN")).status).toBe("subscribed");
    });

    it("registers in batches of 40 and records each number 17TRACK rejects, in words", async () => {
      const before = emu.calls.filter((c) => c.path === "/track/v2.2/register").length;
      emu.registered.set("RR000000001CN", { number: "RR000000001CN", carrier: 3011, entries: [] });
      const numbers = [...Array.from({ length: 42 }, (_, i) => `UB${String(100000 + i)}CN`), "RR000000001CN", "ZZ99887766", "bad-number!"];
      await t.deps.db.transaction().execute(async (tx) => {
        for (const n of numbers)
          await subscribeLater(t.deps, tx, { tenantId: t.t.tenantId, shopId: cat.shopId, carrier: null, trackingNo: n });
      });
      await runCarrierJobs(t);
      const calls = emu.calls.filter((c) => c.path === "/track/v2.2/register").slice(before);
      expect(calls.map((c) => (c.body as unknown[]).length)).toEqual([40, 5]);
      expect((await subOf("UB100041CN")).status).toBe("subscribed");
      expect((await subOf("RR000000001CN")).status).toBe("subscribed");
      expect(await subOf("ZZ99887766")).toMatchObject({ status: "failed" });
      expect((await subOf("ZZ99887766")).last_error).toContain("cannot tell the carrier");
      expect((await subOf("bad-number!")).last_error).toContain("format is not valid");
    });

    it("retries a batch after a 429 and after a 5xx, under the same numbers", async () => {
      await t.deps.db
        .transaction()
        .execute((tx) =>
          subscribeLater(t.deps, tx, { tenantId: t.t.tenantId, shopId: cat.shopId, carrier: "UPS", trackingNo: "1Z999AA10123456784" }),
        );
      emu.faults = [429];
      await runCarrierJobs(t);
      expect(await subOf("1Z999AA10123456784")).toMatchObject({ status: "pending", attempts: 1 });
      expect((await subOf("1Z999AA10123456784")).last_error).toContain("429");
      emu.faults = [503];
      await runCarrierJob(t.deps, { type: "track17-register", connectorId });
      expect(await subOf("1Z999AA10123456784")).toMatchObject({ status: "pending", attempts: 2 });
      expect((await subOf("1Z999AA10123456784")).last_error).toContain("503");
      await runCarrierJob(t.deps, { type: "track17-register", connectorId });
      expect(await subOf("1Z999AA10123456784")).toMatchObject({ status: "subscribed", attempts: 3, last_error: null });
      expect(emu.registered.get("1Z999AA10123456784")?.carrier).toBe(100002);
    });

    it("maps pushes like 快递100's: delivered sets the delivered time; repeated, out-of-order and forged pushes change nothing", async () => {
      const { order, so } = await shipped("DHL", "JD014600009999");
      await runCarrierJobs(t);
      emu.track(
        "JD014600009999",
        {
          at: "2026-03-01T10:00:00Z",
          description: "Shipment picked up",
          location: "SHENZHEN - CHINA",
          stage: "InTransit",
          sub: "InTransit_PickedUp",
        },
        {
          at: "2026-03-02T03:00:00Z",
          description: "Departed facility",
          location: "HONG KONG",
          stage: "InTransit",
          sub: "InTransit_Departure",
        },
        { at: "2026-03-04T08:30:00Z", description: "Out for delivery", location: "LOS ANGELES, CA", stage: "OutForDelivery" },
        { at: "2026-03-04T17:05:00Z", description: "Delivered - Signed for by: WANG", location: "LOS ANGELES, CA", stage: "Delivered" },
      );
      const early = await emu.push("JD014600009999", { upTo: 2 });
      expect(early.status).toBe(200);
      expect((await orderOf(order.id)).supplierOrders[0].status).toBe("shipped");
      expect((await emu.push("JD014600009999")).status).toBe(200);
      const delivered = await orderOf(order.id);
      expect(delivered.status).toBe("delivered");
      expect(new Date(delivered.deliveredAt).toISOString()).toBe("2026-03-04T17:05:00.000Z");
      const view = (await t.api("GET", `/api/v1/supplier-orders/${so.id}`)).body;
      expect(view.tracking.map((e: { status: string }) => e.status)).toEqual(["picked_up", "in_transit", "out_for_delivery", "delivered"]);
      expect((await subOf("JD014600009999")).status).toBe("ended");

      const count = async () =>
        Number(
          (
            await t.deps.db
              .selectFrom("tracking_events")
              .select((eb) => eb.fn.countAll<number>().as("n"))
              .where("tracking_no", "=", "JD014600009999")
              .executeTakeFirstOrThrow()
          ).n,
        );
      const audits = async () =>
        Number(
          (
            await t.deps.db
              .selectFrom("audit_log")
              .select((eb) => eb.fn.countAll<number>().as("n"))
              .where("entity_id", "in", [so.id, "JD014600009999"])
              .executeTakeFirstOrThrow()
          ).n,
        );
      const [n, a] = [await count(), await audits()];
      expect((await emu.push("JD014600009999")).status).toBe(200);
      expect((await emu.push("JD014600009999", { upTo: 3 })).status).toBe(200);
      expect([await count(), await audits()]).toEqual([n, a]);
      expect((await orderOf(order.id)).status).toBe("delivered");

      const forged = await emu.push("JD014600009999", { key: "not-the-key" });
      expect(forged.status).toBe(401);
      const tampered = await emu.post(emu.updateBody("JD014600009999").replace("WANG", "LI"), {
        sign: (await import("../../src/carriers/track17.js")).track17Sign(emu.updateBody("JD014600009999"), emu.key),
      });
      expect(tampered.status).toBe(401);
      expect([await count(), await audits()]).toEqual([n, a]);
    });

    it("raises an alert for an exception once, and runs the refused-parcel flow on a rejection", async () => {
      const { order, so } = await shipped("FedEx", "779912345678");
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
      await t.api("POST", `/api/v1/cases/${c.id}/actions/approve`, { body: { note: "拦截" } });
      emu.track(
        "779912345678",
        { at: "2026-03-02T01:00:00Z", description: "Picked up", stage: "InTransit", sub: "InTransit_PickedUp" },
        { at: "2026-03-05T01:00:00Z", description: "Customs delay", stage: "Exception", sub: "Exception_Delayed" },
      );
      await emu.push("779912345678");
      await emu.push("779912345678");
      const alerts = events.filter((e) => e.type === "tracking.exception" && e.data.trackingNo === "779912345678");
      expect(alerts).toHaveLength(1);
      expect(alerts[0].data).toMatchObject({ supplierOrderId: so.id, source: "17TRACK", description: "Customs delay" });
      emu.track("779912345678", {
        at: "2026-03-06T01:00:00Z",
        description: "Recipient refused",
        stage: "Exception",
        sub: "Exception_Rejected",
      });
      await emu.push("779912345678");
      expect((await orderOf(order.id)).supplierOrders[0].status).toBe("returned");
      expect((await t.api("GET", `/api/v1/refunds?caseId=${c.id}`)).body.items).toHaveLength(1);
      expect((await emu.stopped("779912345678")).status).toBe(200);
      expect((await subOf("779912345678")).status).toBe("ended");
    });
  });
}
