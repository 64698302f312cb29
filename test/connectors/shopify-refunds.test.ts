import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectorOptions } from "../../src/connectors/kind.js";
import { type Catalog, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, type TestApp } from "../helpers/harness.js";
import { type EmuOrder, ShopifyEmulator } from "./shopify-emulator.js";

/**
 * Money back on Shopify orders and the webhook subscriptions, against the local Shopify: Dropdesk's
 * refunds created in Shopify once (also after an answer lost in a timeout), settled when Shopify
 * reports the transactions done, refused in words when Shopify has less left; refunds made in
 * Shopify's admin mirrored into the ledger once; subscriptions registered through the API once.
 */
const run = (t: TestApp) => (t.deps.services.runConnectorJobs as () => Promise<number>)();
const OPTIONS: Partial<ConnectorOptions> = { baseDelayMs: 20, maxDelayMs: 200, timeoutMs: 400, maxInlineWaitMs: 1500, inlineRetries: 3 };
const PUBLIC = "https://desk.example.test";

for (const kind of DB_KINDS) {
  describe(`Shopify refunds and subscriptions on ${kind}`, () => {
    let t: TestApp;
    let emu: ShopifyEmulator;
    let cat: Catalog;
    let connectorId: string;
    const before = process.env.DROPDESK_PUBLIC_URL;

    const hook = (w: { body: string; headers: Record<string, string> }) =>
      t.app.inject({ method: "POST", url: `/hooks/shopify/${connectorId}`, payload: w.body, headers: w.headers });
    const sync = async () => {
      expect((await t.api("POST", `/api/v1/connectors/${connectorId}/actions/sync`)).status).toBe(200);
      await run(t);
    };
    const imported = async (o: EmuOrder) => {
      await sync();
      return t.deps.db
        .selectFrom("orders")
        .selectAll()
        .where("tenant_id", "=", t.t.tenantId)
        .where("platform_order_no", "=", o.name)
        .executeTakeFirstOrThrow();
    };
    const refundsOf = (orderId: string) =>
      t.deps.db.selectFrom("refunds").selectAll().where("order_id", "=", orderId).orderBy("created_at").orderBy("id").execute();
    const postings = (refundId: string) =>
      t.deps.db.selectFrom("ledger_postings").select(["code"]).where("refund_id", "=", refundId).execute();
    const goodwill = async (orderId: string, amount: number) => {
      const r = await t.api("POST", `/api/v1/orders/${orderId}/actions/goodwill-refund`, { body: { amount, reason: "scratched" } });
      expect(r.status).toBe(200);
      return r.body.id as string;
    };
    const refund = (id: string) => t.deps.db.selectFrom("refunds").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    const mutations = () => emu.requests.filter((r) => r.operation === "DropdeskRefund").length;
    const mug = () =>
      emu.addOrder({
        lines: [{ sku: "MUG", title: "Ceramic mug", price: "39.00", quantity: 2 }],
        shipping: [{ title: "Std", price: "10.00", discounts: [] }],
      });

    beforeAll(async () => {
      process.env.DROPDESK_PUBLIC_URL = PUBLIC;
      emu = await new ShopifyEmulator().start();
      emu.throttling = false;
      t = await startTestApp(kind, { config: { outboundAllow: "127.0.0.1" } });
      t.deps.services.connectorOptions = { ...OPTIONS };
      cat = await setupCatalog(t);
    });
    afterAll(async () => {
      if (before === undefined) delete process.env.DROPDESK_PUBLIC_URL;
      else process.env.DROPDESK_PUBLIC_URL = before;
      await t?.close();
      await emu?.stop();
    });

    it("registers the webhook subscriptions through the API when created and tested, each topic once", async () => {
      // Someone else's subscription to another address stays as it is.
      emu.money.subscriptions.push({
        id: 1,
        topic: "ORDERS_CREATE",
        callbackUrl: "https://other.example.test/x",
        format: "JSON",
        createdAt: "",
      });
      const r = await t.api("POST", "/api/v1/connectors", {
        body: {
          kind: "shopify",
          shopId: cat.shopId,
          config: { shopDomain: emu.shopDomain, accessToken: emu.accessToken, webhookSecret: emu.webhookSecret, endpoint: emu.url },
        },
      });
      expect(r.status).toBe(201);
      connectorId = r.body.id;
      await run(t);
      const url = `${PUBLIC}/hooks/shopify/${connectorId}`;
      const ours = () => emu.money.subscriptions.filter((s) => s.callbackUrl === url);
      expect(
        ours()
          .map((s) => s.topic)
          .sort(),
      ).toEqual(["ORDERS_CANCELLED", "ORDERS_CREATE", "ORDERS_PAID", "ORDERS_UPDATED", "REFUNDS_CREATE"]);
      expect(emu.money.subscriptions).toHaveLength(6);
      const tested = await t.api("POST", `/api/v1/connectors/${connectorId}/actions/test`);
      expect(tested.body.ok).toBe(true);
      expect(tested.body.message).toContain("webhooks registered already");
      expect(ours()).toHaveLength(5);
      // One removed in Shopify's admin comes back on the next test, alone.
      emu.money.subscriptions.splice(emu.money.subscriptions.indexOf(ours()[2]), 1);
      const again = await t.api("POST", `/api/v1/connectors/${connectorId}/actions/test`);
      expect(again.body.message).toContain("1 subscription created, 4 already there");
      expect(ours()).toHaveLength(5);
      // An address Shopify cannot deliver to is said in words, and nothing is sent.
      process.env.DROPDESK_PUBLIC_URL = "http://localhost:3000";
      const local = await t.api("POST", `/api/v1/connectors/${connectorId}/actions/test`);
      process.env.DROPDESK_PUBLIC_URL = PUBLIC;
      expect(local.body.message).toMatch(/only to https addresses.*DROPDESK_PUBLIC_URL/);
      expect(emu.money.subscriptions).toHaveLength(6);
    });

    it("creates Dropdesk's refund in Shopify once, settles it on Shopify's answer and posts a platform refund", async () => {
      const o = mug();
      const order = await imported(o);
      const id = await goodwill(order.id, 2000);
      expect(await refund(id)).toMatchObject({ gateway: "platform", status: "processing" });
      await run(t);
      const made = emu.money.refunds.filter((r) => r.orderId === o.id);
      expect(made).toHaveLength(1);
      const sale = emu.money.transactionsOf(o).find((x) => x.kind === "SALE");
      expect(made[0].transactions).toMatchObject([{ kind: "REFUND", amount: "20.00", gateway: "shopify_payments", parentId: sale?.id }]);
      const r = await refund(id);
      expect(made[0].note).toContain(r.gateway_key);
      expect(r).toMatchObject({ status: "succeeded", gateway_ref: `shopify-refund:${made[0].id}` });
      expect(await postings(id)).toEqual([{ code: "platform_refund" }]);
      // Shopify's refunds/create for it, twice, and a pull: nothing more.
      await hook(emu.webhook("refunds/create", emu.money.rest(made[0])));
      await hook(emu.webhook("refunds/create", emu.money.rest(made[0])));
      await run(t);
      await sync();
      expect(await refundsOf(order.id)).toHaveLength(1);
      expect(emu.money.refunds.filter((x) => x.orderId === o.id)).toHaveLength(1);
      expect((await t.api("GET", "/api/v1/ledger/trial-balance")).body.balanced).toBe(true);
    });

    it("never refunds twice when Shopify's answer is lost: the retry reads the order's refunds first", async () => {
      const o = mug();
      const order = await imported(o);
      emu.faults.push({ lose: true, operation: "DropdeskRefund" });
      const id = await goodwill(order.id, 1500);
      await run(t);
      // Shopify made it, Dropdesk did not hear: still processing, the push waits for its retry.
      expect(emu.money.refunds.filter((r) => r.orderId === o.id)).toHaveLength(1);
      expect((await refund(id)).status).toBe("processing");
      const { enqueueConnectorJob } = await import("../../src/connectors/jobs.js");
      await enqueueConnectorJob(t.deps, { type: "push", connectorId, pushKey: `refund:${id}` });
      const calls = mutations();
      await run(t);
      expect(mutations()).toBe(calls);
      expect(emu.money.refunds.filter((r) => r.orderId === o.id)).toHaveLength(1);
      expect((await refund(id)).status).toBe("succeeded");
      // Reconciliation asks again and changes nothing.
      await t.api("POST", "/api/v1/refunds/reconcile");
      expect(emu.money.refunds.filter((r) => r.orderId === o.id)).toHaveLength(1);
    });

    it("keeps a refund processing while Shopify's transaction is pending and settles it when the pull sees it done", async () => {
      const o = mug();
      const order = await imported(o);
      emu.money.refundStatus = "PENDING";
      const id = await goodwill(order.id, 1000);
      await run(t);
      emu.money.refundStatus = "SUCCESS";
      const [made] = emu.money.refunds.filter((r) => r.orderId === o.id);
      expect(made.transactions[0].status).toBe("PENDING");
      await hook(emu.webhook("refunds/create", emu.money.rest(made)));
      await run(t);
      expect((await refund(id)).status).toBe("processing");
      expect(await postings(id)).toEqual([]);
      emu.money.complete(made);
      await sync();
      expect(await refund(id)).toMatchObject({ status: "succeeded", gateway_ref: `shopify-refund:${made.id}` });
      expect(await postings(id)).toEqual([{ code: "platform_refund" }]);
    });

    it("mirrors a refund made in Shopify's admin into the ledger once, whether by webhook or pull", async () => {
      const o = mug();
      const order = await imported(o);
      const made = emu.money.adminRefund(o, "15.00", "box crushed");
      const calls = mutations();
      await hook(emu.webhook("refunds/create", emu.money.rest(made)));
      await hook(emu.webhook("refunds/create", emu.money.rest(made), {}));
      await run(t);
      await sync();
      await t.api("POST", "/api/v1/refunds/reconcile");
      await run(t);
      const rows = await refundsOf(order.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ kind: "goodwill", gateway: "platform", status: "succeeded", amount: 1500 });
      expect(rows[0].reason).toContain(`refund ${made.id}`);
      expect(await postings(rows[0].id)).toEqual([{ code: "platform_refund" }]);
      expect(mutations()).toBe(calls);
      expect(emu.money.refunds.filter((r) => r.orderId === o.id)).toHaveLength(1);
      // A refund made in the admin and first seen by the pull is mirrored too.
      const pulled = emu.money.adminRefund(o, "5.00");
      await sync();
      await sync();
      const all = await refundsOf(order.id);
      expect(all.map((r) => Number(r.amount))).toEqual([1500, 500]);
      expect(all[1].reason).toContain(`refund ${pulled.id}`);
      expect((await t.api("GET", "/api/v1/ledger/trial-balance")).body.balanced).toBe(true);
    });

    it("fails Dropdesk's refund in words when Shopify has less left to refund than it asks", async () => {
      const o = mug();
      const order = await imported(o);
      // Refunded in full in the admin, and Dropdesk has not heard yet.
      emu.money.adminRefund(o, "88.00");
      const id = await goodwill(order.id, 8800);
      await run(t);
      const r = await refund(id);
      expect(r.status).toBe("failed");
      expect(r.last_error).toContain("Shopify has only 0.00 CNY left to refund on this order");
      expect(emu.money.refunds.filter((x) => x.orderId === o.id)).toHaveLength(1);
    });

    it("answers refundCreate's user errors as Shopify documents them", async () => {
      const o = mug();
      const gql = async (query: string, variables: Record<string, unknown>) => {
        const res = await fetch(`${emu.url}/admin/api/2025-01/graphql.json`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-shopify-access-token": emu.accessToken },
          body: JSON.stringify({ query, variables }),
        });
        return (await res.json()) as { data: { refundCreate: { refund: unknown; userErrors: { field: string[]; message: string }[] } } };
      };
      const q = "mutation R($input: RefundInput!) { refundCreate(input: $input) { refund { id } userErrors { field message } } }";
      const sale = emu.money.transactionsOf(o).find((x) => x.kind === "SALE");
      const txn = (over: Record<string, unknown>) => ({
        orderId: `gid://shopify/Order/${o.id}`,
        parentId: `gid://shopify/OrderTransaction/${sale?.id}`,
        gateway: "shopify_payments",
        kind: "REFUND",
        amount: "10.00",
        ...over,
      });
      const input = (t: Record<string, unknown>) => ({ input: { orderId: `gid://shopify/Order/${o.id}`, transactions: [txn(t)] } });
      expect((await gql(q, input({ amount: "88.01" }))).data.refundCreate.userErrors[0]).toMatchObject({
        field: ["transactions", "0", "amount"],
        message: expect.stringContaining("88.00"),
      });
      expect((await gql(q, input({ gateway: "paypal" }))).data.refundCreate.userErrors[0].field).toEqual(["transactions", "0", "gateway"]);
      expect((await gql(q, input({ kind: "SALE" }))).data.refundCreate.userErrors[0].field).toEqual(["transactions", "0", "kind"]);
      const none = await gql(q, { input: { orderId: "gid://shopify/Order/1", transactions: [] } });
      expect(none.data.refundCreate).toMatchObject({ refund: null, userErrors: [{ field: ["orderId"], message: "Order does not exist" }] });
      expect(emu.money.refunds.filter((x) => x.orderId === o.id)).toHaveLength(0);
    });
  });
}
