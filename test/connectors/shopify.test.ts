import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectorOptions } from "../../src/connectors/kind.js";
import { type Catalog, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, type TestApp } from "../helpers/harness.js";
import { type EmuOrder, ShopifyEmulator } from "./shopify-emulator.js";

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

function mugOrder(emu: ShopifyEmulator, extra: Partial<EmuOrder> = {}) {
  return emu.addOrder({
    lines: [
      { sku: "MUG", title: "Ceramic mug", price: "39.00", quantity: 2, discounts: ["5.00"] },
      { sku: "TEE", title: "Cotton tee", price: "99.00", quantity: 1, discounts: ["3.00"] },
    ],
    shipping: [{ title: "Standard", price: "10.00", discounts: ["2.00"] }],
    ...extra,
  });
}

for (const kind of DB_KINDS) {
  describe(`Shopify connector on ${kind}`, () => {
    let t: TestApp;
    let emu: ShopifyEmulator;
    let cat: Catalog;
    let connectorId: string;

    const orderCount = async () =>
      Number(
        (
          await t.deps.db
            .selectFrom("orders")
            .select((eb) => eb.fn.countAll<number>().as("n"))
            .where("tenant_id", "=", t.t.tenantId)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const connector = async () => (await t.api("GET", `/api/v1/connectors/${connectorId}`)).body;
    const orderByNo = (no: string) =>
      t.deps.db
        .selectFrom("orders")
        .selectAll()
        .where("tenant_id", "=", t.t.tenantId)
        .where("platform_order_no", "=", no)
        .executeTakeFirst();
    const hook = (w: { body: string; headers: Record<string, string> }, id = connectorId) =>
      t.app.inject({ method: "POST", url: `/hooks/shopify/${id}`, payload: w.body, headers: w.headers });
    const sync = async () => {
      const r = await t.api("POST", `/api/v1/connectors/${connectorId}/actions/sync`);
      expect(r.status).toBe(200);
      await run(t);
      return connector();
    };

    beforeAll(async () => {
      emu = await new ShopifyEmulator().start();
      t = await startTestApp(kind, { config: { outboundAllow: "127.0.0.1" } });
      t.deps.services.connectorOptions = { ...OPTIONS };
      cat = await setupCatalog(t);
    });
    afterAll(async () => {
      await t?.close();
      await emu?.stop();
    });

    it("creates a connector with its secrets sealed, write-only and masked", async () => {
      const bad = await t.api("POST", "/api/v1/connectors", {
        body: { kind: "shopify", shopId: cat.shopId, config: { shopDomain: emu.shopDomain, accessToken: "x" } },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error.details.fields[0].field).toBe("config.webhookSecret");
      const cs = await t.api("POST", "/api/v1/connectors", { as: "cs", body: { kind: "shopify", shopId: cat.shopId, config: {} } });
      expect(cs.status).toBe(403);
      const r = await t.api("POST", "/api/v1/connectors", {
        body: {
          kind: "shopify",
          shopId: cat.shopId,
          config: { shopDomain: emu.shopDomain, accessToken: emu.accessToken, webhookSecret: emu.webhookSecret, endpoint: emu.url },
        },
      });
      expect(r.status).toBe(201);
      connectorId = r.body.id;
      expect(r.body).toMatchObject({ kind: "shopify", shopId: cat.shopId, status: "active", name: emu.shopDomain });
      expect(r.body.webhookUrl).toMatch(new RegExp(`/hooks/shopify/${connectorId}$`));
      expect(r.body.config.shopDomain).toBe(emu.shopDomain);
      expect(r.body.config.accessToken).toMatch(/^••••/);
      for (const secret of [emu.accessToken, emu.webhookSecret]) {
        expect(r.text).not.toContain(secret);
        expect((await t.api("GET", "/api/v1/connectors")).text).not.toContain(secret);
        expect((await t.api("GET", `/api/v1/connectors/${connectorId}`)).text).not.toContain(secret);
      }
      const row = await t.deps.db.selectFrom("connectors").selectAll().where("id", "=", connectorId).executeTakeFirstOrThrow();
      expect(JSON.stringify(row)).not.toContain(emu.accessToken.slice(6));
      expect(row.secrets).toMatch(/^v1\./);
      const audits = await t.deps.db.selectFrom("audit_log").select(["before", "after"]).where("entity_id", "=", connectorId).execute();
      expect(JSON.stringify(audits)).not.toContain(emu.accessToken);
      expect(JSON.stringify(audits)).toContain("accessToken");
    });

    it("tests the credentials against Shopify and answers in words", async () => {
      const ok = await t.api("POST", `/api/v1/connectors/${connectorId}/actions/test`);
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ ok: true });
      expect(ok.body.message).toContain("Dropdesk Test Store");
      // A wrong token (PATCHed; the webhook secret left out keeps its value).
      expect((await t.api("PATCH", `/api/v1/connectors/${connectorId}`, { body: { config: { accessToken: "shpat_wrong" } } })).status).toBe(
        200,
      );
      const bad = await t.api("POST", `/api/v1/connectors/${connectorId}/actions/test`);
      expect(bad.body.ok).toBe(false);
      expect(bad.body.message).toMatch(/401/);
      await t.api("PATCH", `/api/v1/connectors/${connectorId}`, { body: { config: { accessToken: emu.accessToken } } });
      expect((await t.api("POST", `/api/v1/connectors/${connectorId}/actions/test`)).body.ok).toBe(true);
    });

    it("backfills through the GraphQL API with the money mapped to the fen, refusing what does not add up", async () => {
      const first = mugOrder(emu);
      for (let i = 0; i < 22; i++) mugOrder(emu, { financial_status: i % 2 ? "paid" : "partially_refunded" });
      const taxed = mugOrder(emu, { taxes_included: false, total_tax: "12.30" });
      const noSku = emu.addOrder({ lines: [{ sku: null, title: "Mystery", price: "10.00", quantity: 1 }] });
      const before = await orderCount();
      const c = await sync();
      expect(c.status).toBe("active");
      expect(c.lastSyncAt).toBeTruthy();
      expect(await orderCount()).toBe(before + 23);
      // Three pages of 10 and a page cursor on every page after the first.
      const pulls = emu.requests.filter((r) => r.operation === "DropdeskOrders");
      expect(pulls.length).toBe(3);
      expect(pulls[1].variables.after).toBeTruthy();

      const o = await orderByNo(first.name);
      const view = (await t.api("GET", `/api/v1/orders/${o?.id}`)).body;
      // 2 × 39.00 − 5.00 + 99.00 − 3.00 + (10.00 − 2.00) = 177.00
      expect(view.paidTotal).toBe(17700);
      expect(view.shippingFee).toBe(800);
      expect(
        view.lines.map((l: { skuCode: string; quantity: number; unitPrice: number; discount: number }) => [
          l.skuCode,
          l.quantity,
          l.unitPrice,
          l.discount,
        ]),
      ).toEqual([
        ["MUG", 2, 3900, 500],
        ["TEE", 1, 9900, 300],
      ]);
      expect(view.payments[0]).toMatchObject({ method: "shopify_payments", amount: 17700 });
      expect(view.address).toMatchObject({
        line1: "1 Century Avenue",
        line2: "Room 5",
        postalCode: "200120",
        country: "CN",
        province: "SH",
        city: "Shanghai",
      });
      expect(view.customer).toMatchObject({ name: "Mei Lin", email: first.email });
      expect(new Date(view.placedAt).toISOString()).toBe(new Date(first.processed_at).toISOString());
      expect((await t.api("GET", "/api/v1/ledger/trial-balance")).body.balanced).toBe(true);

      expect(await orderByNo(taxed.name)).toBeUndefined();
      expect(await orderByNo(noSku.name)).toBeUndefined();
      const log = (await connector()).log.map((l: { message: string }) => l.message).join("\n");
      expect(log).toContain(`order ${taxed.name} not imported: the money does not add up`);
      expect(log).toContain("tax 12.30");
      expect(log).toContain(`order ${noSku.name} not imported: line 1 (Mystery) has no SKU`);

      // The link to the record on Shopify.
      const links = (await t.api("GET", `/api/v1/orders/${o?.id}/platform-links`, { as: "cs" })).body.items;
      expect(links).toEqual([
        expect.objectContaining({
          kind: "shopify",
          externalId: String(first.id),
          externalNo: first.name,
          url: `${emu.url}/admin/orders/${first.id}`,
        }),
      ]);
    });

    it("catches up from its watermark and imports nothing twice", async () => {
      const before = await orderCount();
      emu.requests.length = 0;
      await sync();
      expect(await orderCount()).toBe(before);
      expect(emu.requests[0].variables.query).toMatch(/^updated_at:>='/);
      const fresh = mugOrder(emu);
      await sync();
      expect(await orderCount()).toBe(before + 1);
      expect(await orderByNo(fresh.name)).toBeTruthy();
    });

    it("verifies webhooks by HMAC, answers 401 to a forgery and writes nothing", async () => {
      const o = mugOrder(emu);
      const inbox = async () =>
        Number(
          (
            await t.deps.db
              .selectFrom("connector_inbox")
              .select((eb) => eb.fn.countAll<number>().as("n"))
              .executeTakeFirstOrThrow()
          ).n,
        );
      const n0 = await inbox();
      const forged = await hook(emu.webhook("orders/create", emu.rest(o), { secret: "not-the-secret" }));
      expect(forged.statusCode).toBe(401);
      const tampered = emu.webhook("orders/create", emu.rest(o));
      const r1 = await hook({ ...tampered, body: tampered.body.replace('"39.00"', '"0.01"') });
      expect(r1.statusCode).toBe(401);
      const unsigned = emu.webhook("orders/create", emu.rest(o));
      delete unsigned.headers["x-shopify-hmac-sha256"];
      expect((await hook(unsigned)).statusCode).toBe(401);
      expect(await inbox()).toBe(n0);
      await run(t);
      expect(await orderByNo(o.name)).toBeUndefined();
      expect((await hook(emu.webhook("orders/create", emu.rest(o)), "00000000-0000-7000-8000-000000000000")).statusCode).toBe(404);
    });

    it("imports a webhook once: the same delivery twice, another delivery of it, and a pull of it change nothing", async () => {
      await sync();
      const o = mugOrder(emu);
      const w = emu.webhook("orders/create", emu.rest(o), { webhookId: `wh-${o.id}` });
      const before = await orderCount();
      const a = await hook(w);
      expect(a.statusCode).toBe(200);
      expect((await hook(w)).statusCode).toBe(200);
      await run(t);
      expect(await orderCount()).toBe(before + 1);
      const imported = await orderByNo(o.name);
      // Another delivery id of the same version, then a pull that sees it.
      expect((await hook(emu.webhook("orders/create", emu.rest(o)))).statusCode).toBe(200);
      await run(t);
      await sync();
      expect(await orderCount()).toBe(before + 1);
      const again = await orderByNo(o.name);
      expect(again?.updated_at).toEqual(imported?.updated_at);
      const inbox = await t.deps.db.selectFrom("connector_inbox").select("delivery_id").where("delivery_id", "=", `wh-${o.id}`).execute();
      expect(inbox).toHaveLength(1);
    });

    it("applies orders/updated and orders/cancelled through the order's actions, without echoing the cancel back", async () => {
      const o = mugOrder(emu);
      await hook(emu.webhook("orders/create", emu.rest(o)));
      await run(t);
      emu.update(o, { shipping_address: { ...(o.shipping_address as Record<string, string>), address1: "88 Nanjing Road" } });
      await hook(emu.webhook("orders/updated", emu.rest(o)));
      await run(t);
      const moved = await orderByNo(o.name);
      expect(moved?.address).toMatchObject({ line1: "88 Nanjing Road" });
      // A late, older version does not undo it.
      const stale = { ...emu.rest(o), updated_at: "2026-01-01T00:00:00Z", shipping_address: { ...o.shipping_address, address1: "old" } };
      await hook(emu.webhook("orders/updated", stale));
      await run(t);
      expect((await orderByNo(o.name))?.address).toMatchObject({ line1: "88 Nanjing Road" });

      emu.update(o, { cancelled_at: new Date().toISOString(), cancel_reason: "customer" });
      emu.requests.length = 0;
      await hook(emu.webhook("orders/cancelled", emu.rest(o)));
      await run(t);
      await runEvents(t);
      await run(t);
      expect((await orderByNo(o.name))?.status).toBe("cancelled");
      expect(emu.requests.filter((r) => r.operation === "DropdeskCancel")).toHaveLength(0);
    });

    it("mirrors a refund made in Shopify into the ledger once", async () => {
      const o = mugOrder(emu);
      await hook(emu.webhook("orders/create", emu.rest(o)));
      await run(t);
      const refund = {
        id: 9_900_001,
        order_id: o.id,
        created_at: new Date().toISOString(),
        transactions: [{ kind: "refund", status: "success", amount: "20.00" }],
      };
      await hook(emu.webhook("refunds/create", refund));
      await hook(emu.webhook("refunds/create", refund));
      await run(t);
      const lines = (await connector()).log.filter((l: { message: string }) => l.message.includes("refund 9900001"));
      expect(lines).toHaveLength(1);
      expect(lines[0].message).toContain("20.00 CNY");
      const order = await orderByNo(o.name);
      const refunds = await t.deps.db
        .selectFrom("refunds")
        .select(["amount", "status"])
        .where("order_id", "=", order?.id as string)
        .execute();
      expect(refunds.map((r) => [Number(r.amount), r.status])).toEqual([[2000, "succeeded"]]);
    });

    it("sends a supplier's shipment to Shopify as a fulfillment once, and a Dropdesk cancellation as orderCancel", async () => {
      const o = emu.addOrder({ lines: [{ sku: "MUG", price: "39.00", quantity: 1 }], shipping: [] });
      await sync();
      const order = await orderByNo(o.name);
      expect((await t.api("POST", `/api/v1/orders/${order?.id}/actions/forward`)).status).toBe(200);
      const so = await t.deps.db
        .selectFrom("supplier_orders")
        .select("id")
        .where("order_id", "=", order?.id as string)
        .executeTakeFirstOrThrow();
      emu.faults.push({ status: 429, retryAfter: "0.2" });
      const shipped = await t.api("POST", `/api/v1/supplier-orders/${so.id}/actions/ship`, {
        body: { carrier: "SF Express", trackingNo: "SF1234567890" },
      });
      expect(shipped.status).toBe(200);
      await run(t);
      expect(o.fulfillments).toHaveLength(1);
      expect(o.fulfillments[0]).toMatchObject({ tracking_company: "SF Express", tracking_number: "SF1234567890" });
      expect(o.lines[0].fulfilled).toBe(1);
      // The same push again (a retry after a lost answer) finds the fulfillment and sends nothing.
      await t.deps.db.updateTable("connector_pushes").set({ status: "pending" }).where("push_key", "=", `fulfillment:${so.id}`).execute();
      const { enqueueConnectorJob } = await import("../../src/connectors/jobs.js");
      await enqueueConnectorJob(t.deps, { type: "push", connectorId, pushKey: `fulfillment:${so.id}` });
      await run(t);
      expect(o.fulfillments).toHaveLength(1);

      const c = emu.addOrder({ lines: [{ sku: "TEE", price: "99.00", quantity: 1 }] });
      await sync();
      const co = await orderByNo(c.name);
      expect((await t.api("POST", `/api/v1/orders/${co?.id}/actions/cancel`, { body: { reason: "customer asked" } })).status).toBe(200);
      await run(t);
      expect(c.cancelled_at).toBeTruthy();
      expect(c.cancel_reason).toBe("other");
      // Pulled back from Shopify, the cancellation changes nothing more.
      await sync();
      expect((await orderByNo(c.name))?.status).toBe("cancelled");
    });

    it("turns error with the reason in words on 401", async () => {
      await t.api("PATCH", `/api/v1/connectors/${connectorId}`, { body: { config: { accessToken: "shpat_revoked" } } });
      const c = await sync();
      expect(c.status).toBe("error");
      expect(c.lastError).toMatch(/refused the access token \(401\)/);
      expect(c.allowedActions).toContain("sync");
      await t.api("PATCH", `/api/v1/connectors/${connectorId}`, { body: { config: { accessToken: emu.accessToken } } });
      expect((await sync()).status).toBe("active");
    });

    it("waits out a 429's Retry-After, backs off over 5xx and timeouts, and waits for throttled points", async () => {
      mugOrder(emu);
      emu.requests.length = 0;
      emu.faults.push({ status: 429, retryAfter: "1.0" }, { status: 503 }, { hang: true }, { status: 502 });
      const c = await sync();
      expect(c.status).toBe("active");
      expect(c.lastError).toBeNull();
      const [limited, next] = emu.requests;
      expect(limited.status).toBe(429);
      expect(next.at - limited.at).toBeGreaterThanOrEqual(1000);
      expect(emu.requests.map((r) => r.status).slice(0, 5)).toEqual([429, 503, 0, 502, 200]);

      // THROTTLED: an empty bucket refills at the restore rate; the connector waits for it.
      emu.bucket.available = 0;
      emu.bucket.at = Date.now();
      emu.bucket.restoreRate = 1000;
      emu.requests.length = 0;
      mugOrder(emu);
      const before = await orderCount();
      expect((await sync()).status).toBe("active");
      expect(emu.requests[0].throttled).toBe(true);
      expect(emu.requests.some((r) => r.status === 200 && !r.throttled)).toBe(true);
      expect(await orderCount()).toBe(before + 1);
      emu.bucket.restoreRate = 100;
    });

    it("reschedules a long Retry-After and persistent 5xx instead of holding the worker", async () => {
      emu.faults.push({ status: 429, retryAfter: "30" });
      let c = await sync();
      expect(c.status).toBe("active");
      expect(c.lastError).toMatch(/429/);
      expect(new Date(c.nextAttemptAt).getTime() - t.clock.now().getTime()).toBe(30_000);
      // Not due yet: nothing runs now.
      expect(await run(t)).toBe(0);
      emu.faults.push({ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 });
      c = await sync();
      expect(c.lastError).toMatch(/Shopify answered 500; trying again/);
      const row = await t.deps.db.selectFrom("connectors").select("sync_attempts").where("id", "=", connectorId).executeTakeFirstOrThrow();
      expect(row.sync_attempts).toBe(1);
      expect((await sync()).lastError).toBeNull();
    });

    it("resumes a sync that crashed mid-sync from its checkpoint: no order lost, none doubled", async () => {
      const made = Array.from({ length: 35 }, () => mugOrder(emu));
      const before = await orderCount();
      let seen = 0;
      const ids = new Set(made.map((o) => String(o.id)));
      t.deps.services.connectorOptions = {
        ...OPTIONS,
        afterRecord: (_c: string, externalId: string) => {
          if (ids.has(externalId)) seen += 1;
          if (seen === 23) throw new Error("process killed");
        },
      };
      await t.api("POST", `/api/v1/connectors/${connectorId}/actions/sync`);
      await run(t);
      // The 23rd order's page was written whole (one transaction per page), its checkpoint not saved.
      const imported = (await orderCount()) - before;
      expect(imported).toBeGreaterThanOrEqual(23);
      expect(imported).toBeLessThan(35);
      const row = await t.deps.db
        .selectFrom("connectors")
        .select(["sync_cursor", "sync_running_since"])
        .where("id", "=", connectorId)
        .executeTakeFirstOrThrow();
      expect((row.sync_cursor as { after: string | null }).after).toBeTruthy();
      expect(row.sync_running_since).toBeTruthy();
      // Another process takes over once the dead one's lease ran out.
      t.deps.services.connectorOptions = { ...OPTIONS };
      t.clock.advance(61_000);
      emu.requests.length = 0;
      const c = await sync();
      expect(c.status).toBe("active");
      expect(emu.requests[0].variables.after).toBe((row.sync_cursor as { after: string }).after);
      expect((await orderCount()) - before).toBe(35);
      for (const o of made) {
        const n = await t.deps.db
          .selectFrom("orders")
          .select("id")
          .where("platform_order_no", "=", o.name)
          .where("tenant_id", "=", t.t.tenantId)
          .execute();
        expect(n).toHaveLength(1);
      }
    });

    it("pauses: no pulls, webhooks kept and handled on resume", async () => {
      expect((await t.api("POST", `/api/v1/connectors/${connectorId}/actions/pause`)).body.status).toBe("paused");
      expect((await t.api("POST", `/api/v1/connectors/${connectorId}/actions/sync`)).status).toBe(409);
      const o = mugOrder(emu);
      expect((await hook(emu.webhook("orders/create", emu.rest(o)))).statusCode).toBe(200);
      await run(t);
      expect(await orderByNo(o.name)).toBeUndefined();
      expect((await t.api("POST", `/api/v1/connectors/${connectorId}/actions/resume`)).body.status).toBe("active");
      await run(t);
      expect(await orderByNo(o.name)).toBeTruthy();
    });

    it("keeps other tenants out and deletes (orders keep their link)", async () => {
      expect((await t.api("GET", `/api/v1/connectors/${connectorId}`, { as: "other:admin" })).status).toBe(404);
      expect((await t.api("GET", "/api/v1/connectors", { as: "other:admin" })).body.items).toHaveLength(0);
      const del = await t.api("DELETE", `/api/v1/connectors/${connectorId}`);
      expect(del.status).toBe(204);
      expect((await t.api("GET", `/api/v1/connectors/${connectorId}`)).status).toBe(404);
      const o = mugOrder(emu);
      expect((await hook(emu.webhook("orders/create", emu.rest(o)))).statusCode).toBe(404);
      const row = await t.deps.db.selectFrom("connectors").select("secrets").where("id", "=", connectorId).executeTakeFirstOrThrow();
      expect(row.secrets).toBeNull();
    });
  });
}
