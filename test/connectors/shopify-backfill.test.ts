import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectorOptions } from "../../src/connectors/kind.js";
import { type Catalog, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, type TestApp } from "../helpers/harness.js";
import { ShopifyEmulator } from "./shopify-emulator.js";

/**
 * A 2,000-order backfill through the batched write (a page of new orders in one set-based
 * transaction, the CSV import's path), mixed with orders that take the one-order path — already in
 * by webhook, refused — and checked for no order lost or doubled, the money to the fen, and a heap
 * that does not grow with the orders. The 100,000-order run is `npm run bench -- backfill`.
 */
const run = (t: TestApp) => (t.deps.services.runConnectorJobs as () => Promise<number>)();
const OPTIONS: Partial<ConnectorOptions> = { baseDelayMs: 20, maxDelayMs: 200, timeoutMs: 2000, pagesPerJob: 1000 };
const N = 2000;

for (const kind of DB_KINDS) {
  describe(`Shopify backfill on ${kind}`, () => {
    let t: TestApp;
    let emu: ShopifyEmulator;
    let cat: Catalog;
    let connectorId: string;

    beforeAll(async () => {
      emu = await new ShopifyEmulator().start();
      emu.throttling = false;
      t = await startTestApp(kind, { config: { outboundAllow: "127.0.0.1" } });
      t.deps.services.connectorOptions = { ...OPTIONS };
      cat = await setupCatalog(t);
      const r = await t.api("POST", "/api/v1/connectors", {
        body: {
          kind: "shopify",
          shopId: cat.shopId,
          config: { shopDomain: emu.shopDomain, accessToken: emu.accessToken, webhookSecret: emu.webhookSecret, endpoint: emu.url },
        },
      });
      connectorId = r.body.id;
      await run(t);
    });
    afterAll(async () => {
      await t?.close();
      await emu?.stop();
    });

    it(`backfills ${N} orders a page at a time: none lost, none doubled, the money exact, the heap bounded`, async () => {
      for (let i = 0; i < N; i++)
        emu.addOrder({
          lines: [
            { sku: "MUG", title: "Ceramic mug", price: "39.00", quantity: 1 + (i % 3), discounts: i % 5 ? [] : ["1.50"] },
            { sku: "TEE", title: "Cotton tee", price: "99.00", quantity: 1 },
          ],
          shipping: [{ title: "Standard", price: "10.00", discounts: [] }],
        });
      // Three already in by webhook (the one-order path), one the pull must refuse.
      for (const o of emu.orders.slice(40, 43)) {
        const w = emu.webhook("orders/create", emu.rest(o));
        await t.app.inject({ method: "POST", url: `/hooks/shopify/${connectorId}`, payload: w.body, headers: w.headers });
      }
      await run(t);
      emu.orders[77].lines[1].sku = null;
      const expected = emu.orders.filter((_, i) => i !== 77).reduce((s, o) => s + emu.total(o), 0);

      const heap0 = process.memoryUsage().heapUsed;
      expect((await t.api("POST", `/api/v1/connectors/${connectorId}/actions/sync`)).status).toBe(200);
      await run(t);
      const heapGrowth = process.memoryUsage().heapUsed - heap0;

      const c = (await t.api("GET", `/api/v1/connectors/${connectorId}`)).body;
      expect(c.status).toBe("active");
      expect(c.log.find((l: { message: string }) => l.message.startsWith("sync finished")).message).toBe(
        `sync finished: ${N - 4} created, 3 unchanged, 1 refused`,
      );
      const stats = await sql<{ orders: string; distinct_nos: string; paid: string; lines: string }>`
        SELECT count(*) AS orders, count(DISTINCT platform_order_no) AS distinct_nos, coalesce(sum(paid_total), 0) AS paid,
          (SELECT count(*) FROM order_lines l JOIN orders o2 ON o2.id = l.order_id WHERE o2.tenant_id = ${t.t.tenantId}) AS lines
        FROM orders WHERE tenant_id = ${t.t.tenantId}`
        .execute(t.deps.db)
        .then((r) => r.rows[0]);
      expect(Number(stats.orders)).toBe(N - 1);
      expect(Number(stats.distinct_nos)).toBe(N - 1);
      expect(Number(stats.lines)).toBe(2 * (N - 1));
      expect(Number(stats.paid)).toBe(expected);
      const records = await t.deps.db
        .selectFrom("connector_records")
        .select((eb) => [eb.fn.countAll<string>().as("n"), eb.fn.count<string>("entity_id").as("linked")])
        .where("connector_id", "=", connectorId)
        .where("record_type", "=", "order")
        .executeTakeFirstOrThrow();
      expect([Number(records.n), Number(records.linked)]).toEqual([N, N - 1]);
      const audits = await t.deps.db
        .selectFrom("audit_log")
        .select((eb) => eb.fn.countAll<string>().as("n"))
        .where("tenant_id", "=", t.t.tenantId)
        .where("action", "=", "order.create")
        .executeTakeFirstOrThrow();
      expect(Number(audits.n)).toBe(N - 1);
      expect((await t.api("GET", "/api/v1/ledger/trial-balance")).body.balanced).toBe(true);
      // Pages are written and let go: the heap does not keep the orders (2,000 would be far more).
      expect(heapGrowth).toBeLessThan(150 * 1024 * 1024);

      // The last 50 pulled again (a watermark set back): nothing new, nothing doubled.
      const since = emu.orders[N - 50].updated_at;
      await t.deps.db
        .updateTable("connectors")
        .set({ sync_cursor: JSON.stringify({ since, after: null, newest: null }) })
        .where("id", "=", connectorId)
        .execute();
      await t.api("POST", `/api/v1/connectors/${connectorId}/actions/sync`);
      await run(t);
      const again = (await t.api("GET", `/api/v1/connectors/${connectorId}`)).body;
      expect(again.log.find((l: { message: string }) => l.message.startsWith("sync finished")).message).toBe("sync finished: 50 unchanged");
    });
  });
}
