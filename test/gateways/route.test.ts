import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectorOptions } from "../../src/connectors/kind.js";
import { reconcileRefunds } from "../../src/money/refunds.js";
import { type Catalog, createOrder, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, freshDb, startTestApp, type TestApp } from "../helpers/harness.js";
import { AlipayEmulator } from "./alipay-emulator.js";
import { StripeEmulator } from "./stripe-emulator.js";
import { WechatPayEmulator } from "./wechatpay-emulator.js";

const SECRET_KEY = "4f".repeat(32);
const OPTIONS: Partial<ConnectorOptions> = { timeoutMs: 2000, baseDelayMs: 20, maxDelayMs: 200 };
const config = { outboundAllow: "127.0.0.1", secretKey: SECRET_KEY };

interface Emus {
  alipay: AlipayEmulator;
  wechat: WechatPayEmulator;
  stripe: StripeEmulator;
}

/** The shop's three payment connectors, made through the API with the emulators' credentials. */
async function connect(t: TestApp, shopId: string, e: Emus) {
  const make = async (kind: string, cfg: Record<string, unknown>) => {
    const r = await t.api("POST", "/api/v1/connectors", { body: { kind, shopId, config: cfg } });
    expect(r.status, r.text).toBe(201);
    return r.body.id as string;
  };
  return {
    alipay: await make("alipay", {
      appId: e.alipay.appId,
      privateKey: e.alipay.app.privateKey,
      alipayPublicKey: e.alipay.alipay.publicKey,
      gateway: e.alipay.gateway,
    }),
    wechatpay: await make("wechatpay", {
      mchId: e.wechat.mchId,
      merchantSerialNo: e.wechat.merchantSerialNo,
      merchantPrivateKey: e.wechat.merchant.privateKey,
      apiV3Key: e.wechat.apiV3Key,
      platformPublicKey: e.wechat.platform.publicKey,
      platformSerial: e.wechat.platformSerial,
      endpoint: e.wechat.endpoint,
    }),
    stripe: await make("stripe", { secretKey: e.stripe.secretKey, webhookSecret: e.stripe.webhookSecret, endpoint: e.stripe.endpoint }),
  };
}

/** An order paid by the given methods, each payment carrying the service's own trade number. */
async function paidOrder(t: TestApp, cat: Catalog, e: Emus, payments: { method: "alipay" | "wechat" | "card"; amount: number }[]) {
  const total = payments.reduce((s, p) => s + p.amount, 0);
  const order = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1, unitPrice: total }], payments });
  const refs: Record<string, string> = {};
  for (const p of payments) {
    const ref =
      p.method === "alipay"
        ? e.alipay.addTrade(p.amount).tradeNo
        : p.method === "wechat"
          ? e.wechat.addPayment(p.amount).transactionId
          : e.stripe.addCharge(p.amount).paymentIntent;
    refs[p.method] = ref;
    await t.deps.db
      .updateTable("payments")
      .set({ reference: ref })
      .where("order_id", "=", order.id)
      .where("method", "=", p.method)
      .execute();
  }
  return { order, refs };
}

const goodwill = (t: TestApp, orderId: string, amount: number) =>
  t.api("POST", `/api/v1/orders/${orderId}/actions/goodwill-refund`, { as: "finance", body: { amount, reason: "arrived scratched" } });
const legsOf = (t: TestApp, refundId: string) =>
  t.deps.db
    .selectFrom("refund_legs" as never)
    .selectAll()
    .where("refund_id" as never, "=", refundId as never)
    .orderBy("leg_no" as never)
    .execute() as Promise<any[]>;
const postings = (t: TestApp, refundId: string) =>
  t.deps.db.selectFrom("ledger_postings").select("code").where("refund_id", "=", refundId).execute();
const runJobs = (t: TestApp) => (t.deps.services.runConnectorJobs as () => Promise<number>)();

describe.each(DB_KINDS)("refunds by the original route on %s", (kind) => {
  let t: TestApp;
  let cat: Catalog;
  let e: Emus;
  let ids: Awaited<ReturnType<typeof connect>>;
  beforeAll(async () => {
    e = {
      alipay: await new AlipayEmulator().start(),
      wechat: await new WechatPayEmulator().start(),
      stripe: await new StripeEmulator().start(),
    };
    t = await startTestApp(kind, { config });
    t.deps.services.connectorOptions = { ...OPTIONS };
    cat = await setupCatalog(t);
    ids = await connect(t, cat.shopId, e);
    e.wechat.deliver = async (url, body, headers) =>
      (await t.app.inject({ method: "POST", url: new URL(url).pathname, payload: body, headers })).statusCode;
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all([e?.alipay.stop(), e?.wechat.stop(), e?.stripe.stop()]);
  });

  it("tests each connector's credentials against its service", async () => {
    for (const id of Object.values(ids)) {
      const r = await t.api("POST", `/api/v1/connectors/${id}/actions/test`);
      expect(r.body, JSON.stringify(r.body)).toMatchObject({ ok: true });
    }
    const shown = await t.api("GET", `/api/v1/connectors/${ids.wechatpay}`);
    expect(shown.body.config.apiV3Key).toMatch(/^••••/);
    expect(JSON.stringify(shown.body)).not.toContain(e.wechat.apiV3Key);
  });

  it("refunds an Alipay order through the shop's Alipay connector with out_request_no = the gateway key, and posts it once", async () => {
    const { order, refs } = await paidOrder(t, cat, e, [{ method: "alipay", amount: 3900 }]);
    const r = await goodwill(t, order.id, 1500);
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ status: "succeeded", gatewayRef: refs.alipay });
    const key = (await t.deps.db.selectFrom("refunds").select("gateway_key").where("id", "=", r.body.id).executeTakeFirstOrThrow())
      .gateway_key;
    expect(e.alipay.calls.filter((c) => c.method === "alipay.trade.refund").map((c) => c.outRequestNo)).toContain(key);
    expect(await legsOf(t, r.body.id)).toMatchObject([
      { gateway: "alipay", connector_id: ids.alipay, status: "succeeded", gateway_key: key },
    ]);
    expect((await postings(t, r.body.id)).map((p) => p.code)).toEqual(["refund"]);
  });

  it("splits a mixed WeChat Pay + card payment like the payment and settles when both services' verified notifications arrive", async () => {
    e.stripe.pendingRefunds = true;
    try {
      const { order } = await paidOrder(t, cat, e, [
        { method: "wechat", amount: 6000 },
        { method: "card", amount: 4000 },
      ]);
      const r = await goodwill(t, order.id, 2500);
      expect(r.body.status).toBe("processing");
      expect(r.body.route).toEqual(["wechatpay", "stripe"]);
      const legs = await legsOf(t, r.body.id);
      expect(legs.map((l) => [l.gateway, Number(l.amount), l.status])).toEqual([
        ["wechatpay", 1500, "processing"],
        ["stripe", 1000, "processing"],
      ]);
      const wx = e.wechat.refunds.get(legs[0].gateway_key)!;
      expect(wx.notify_url).toBe(`http://localhost:${t.deps.config.port}/hooks/wechatpay/${ids.wechatpay}`);
      // A forged notification is refused and changes nothing.
      const forged = e.wechat.notification({ ...wx, status: "SUCCESS" }, { forge: true });
      const refused = await t.app.inject({
        method: "POST",
        url: `/hooks/wechatpay/${ids.wechatpay}`,
        payload: forged.body,
        headers: forged.headers,
      });
      expect(refused.statusCode).toBe(401);
      // WeChat Pay settles and notifies: answered as its documentation asks.
      expect(await e.wechat.settle(legs[0].gateway_key)).toBe(200);
      await runJobs(t);
      expect((await t.api("GET", `/api/v1/refunds/${r.body.id}`)).body.status).toBe("processing");
      // Stripe settles; its signed refund.updated event completes the refund.
      const refund = e.stripe.settle(e.stripe.refunds.find((x) => x.metadata.dropdesk_key === legs[1].gateway_key)!.id);
      const ev = e.stripe.event("refund.updated", refund);
      const hook = await t.app.inject({ method: "POST", url: `/hooks/stripe/${ids.stripe}`, payload: ev.body, headers: ev.headers });
      expect(hook.statusCode).toBe(200);
      const replay = await t.app.inject({ method: "POST", url: `/hooks/stripe/${ids.stripe}`, payload: ev.body, headers: ev.headers });
      expect(replay.statusCode).toBe(200);
      await runJobs(t);
      const done = (await t.api("GET", `/api/v1/refunds/${r.body.id}`)).body;
      expect(done.status).toBe("succeeded");
      expect((await postings(t, r.body.id)).map((p) => p.code)).toEqual(["refund"]);
    } finally {
      e.stripe.pendingRefunds = false;
    }
  });

  it("keeps a refund processing with the reason while Alipay is down, shows it in finance's queue, and retries after the back-off", async () => {
    const { order, refs } = await paidOrder(t, cat, e, [{ method: "alipay", amount: 2000 }]);
    e.alipay.faults.push("outage");
    const r = await goodwill(t, order.id, 2000);
    expect(r.body.status).toBe("processing");
    expect(r.body.lastError).toContain("HTTP error (status 502)");
    const queue = await t.api("GET", "/api/v1/refunds/gateway-queue", { as: "finance" });
    const item = queue.body.items.find((i: { id: string }) => i.id === r.body.id);
    expect(item.reason).toContain("502");
    expect(item.legs[0]).toMatchObject({ gateway: "alipay", status: "processing", attempts: 1 });
    expect(new Date(item.nextAttemptAt).getTime()).toBeGreaterThan(t.clock.now().getTime());
    const before = e.alipay.calls.length;
    await reconcileRefunds(t.deps);
    expect(e.alipay.calls.length).toBe(before);
    t.clock.advance(60_000);
    await reconcileRefunds(t.deps);
    // The query found nothing under the key, so it was sent again, under the same key, and paid once.
    const after = (await t.api("GET", `/api/v1/refunds/${r.body.id}`)).body;
    expect(after.status).toBe("succeeded");
    expect(e.alipay.refundedOf(e.alipay.trades.get(refs.alipay)!)).toBe(2000);
    expect(
      (await t.api("GET", "/api/v1/refunds/gateway-queue", { as: "finance" })).body.items.map((i: { id: string }) => i.id),
    ).not.toContain(r.body.id);
  });

  it("records each refund's real route, names the reason in finance's queue, and lets finance try again now", async () => {
    const { order } = await paidOrder(t, cat, e, [{ method: "alipay", amount: 1800 }]);
    e.alipay.faults.push("outage");
    const r = await goodwill(t, order.id, 1800);
    expect(r.body).toMatchObject({ status: "processing", gateway: "sandbox", route: ["alipay"] });
    const item = (await t.api("GET", "/api/v1/refunds/gateway-queue", { as: "finance" })).body.items.find(
      (i: { id: string }) => i.id === r.body.id,
    );
    expect(item).toMatchObject({
      reasonKind: "unreachable",
      route: ["alipay"],
      orderNo: order.platformOrderNo,
      allowedActions: ["retry-now"],
    });
    expect((await t.api("GET", "/api/v1/refunds/gateway-queue", { as: "cs" })).status).toBe(403);
    expect((await t.api("POST", `/api/v1/refunds/${r.body.id}/actions/retry-now`, { as: "cs", body: {} })).status).toBe(403);
    // Without waiting for the back-off: asked by its key, never received, sent again under it, paid once.
    const now = await t.api("POST", `/api/v1/refunds/${r.body.id}/actions/retry-now`, { as: "finance", body: {} });
    expect(now.status, now.text).toBe(200);
    expect(now.body).toMatchObject({ status: "succeeded", route: ["alipay"] });
    const again = await t.api("POST", `/api/v1/refunds/${r.body.id}/actions/retry-now`, { as: "finance", body: {} });
    expect(again.status).toBe(409);
    const memo = await t.deps.db.selectFrom("ledger_postings").select("memo").where("refund_id", "=", r.body.id).executeTakeFirstOrThrow();
    expect(memo.memo).toContain("the original route via Alipay");
  });

  it("fails in words when the service refuses, and a retry sends the same key", async () => {
    const { order } = await paidOrder(t, cat, e, [{ method: "card", amount: 1000 }]);
    await t.deps.db.updateTable("payments").set({ reference: "pi_does_not_exist" }).where("order_id", "=", order.id).execute();
    const r = await goodwill(t, order.id, 500);
    expect(r.body.status).toBe("failed");
    expect(r.body.lastError).toContain("resource_missing");
    const keys = e.stripe.calls.filter((c) => c.path === "/v1/refunds" && c.method === "POST").map((c) => c.idempotencyKey);
    const retried = await t.api("POST", `/api/v1/refunds/${r.body.id}/actions/retry`, { as: "finance", body: {} });
    expect(retried.body.status).toBe("failed");
    const again = e.stripe.calls.filter((c) => c.path === "/v1/refunds" && c.method === "POST").map((c) => c.idempotencyKey);
    expect(again.at(-1)).toBe(keys.at(-1));
  });

  it("leaves orders of a shop without payment connectors on the installation's gateway", async () => {
    const other = await t.api("POST", "/api/v1/shops", { body: { name: "No connectors", platform: "taobao", timezone: "Asia/Shanghai" } });
    const order = await createOrder(t, { ...cat, shopId: other.body.id }, { lines: [{ skuCode: "MUG", quantity: 1 }] });
    const r = await goodwill(t, order.id, 1000);
    expect(r.body).toMatchObject({ gateway: "sandbox", status: "processing" });
    expect(await legsOf(t, r.body.id)).toEqual([]);
  });
});

describe.each(DB_KINDS)("a crash between the gateway call and its confirmation on %s", (kind) => {
  it("reconciles to exactly one refund per gateway with each service's query API", async () => {
    const e: Emus = {
      alipay: await new AlipayEmulator().start(),
      wechat: await new WechatPayEmulator().start(),
      stripe: await new StripeEmulator().start(),
    };
    const handle = await freshDb(kind);
    const first = await startTestApp(kind, { handle, keepDb: true, config });
    const made: { id: string; method: string }[] = [];
    let tenantId = "";
    try {
      first.deps.services.connectorOptions = { ...OPTIONS };
      tenantId = first.t.tenantId;
      const cat = await setupCatalog(first);
      await connect(first, cat.shopId, e);
      for (const method of ["alipay", "wechat", "card"] as const) {
        const { order } = await paidOrder(first, cat, e, [{ method, amount: 5000 }]);
        // Each service takes the refund, and its answer never comes back.
        (method === "alipay" ? e.alipay : method === "wechat" ? e.wechat : e.stripe).faults.push("drop", "drop", "drop");
        const r = await goodwill(first, order.id, 3000);
        expect([method, r.body.status, r.body.lastError]).toEqual([method, "processing", expect.any(String)]);
        made.push({ id: r.body.id, method });
      }
    } finally {
      await first.close();
    }
    e.alipay.faults = [];
    e.wechat.faults = [];
    e.stripe.faults = [];
    // The refunds were made at each service (Stripe's SDK even retried under the same key).
    expect([...e.alipay.trades.values()].map((x) => e.alipay.refundedOf(x))).toEqual([3000]);
    expect(e.wechat.refunds.size).toBe(1);
    expect(e.stripe.refunds).toHaveLength(1);
    const stripeKeys = e.stripe.calls.filter((c) => c.method === "POST").map((c) => c.idempotencyKey);
    expect(stripeKeys).toHaveLength(3);
    expect(new Set(stripeKeys).size).toBe(1);

    const second = await startTestApp(kind, { handle, config });
    try {
      second.deps.services.connectorOptions = { ...OPTIONS };
      second.clock.advance(3600_000);
      for (const w of e.wechat.refunds.keys()) e.wechat.refunds.get(w)!.status = "SUCCESS";
      const settled = await reconcileRefunds(second.deps);
      expect(settled).toBe(3);
      expect(await reconcileRefunds(second.deps)).toBe(0);
      const rows = await second.deps.db.selectFrom("refunds").select(["id", "status"]).where("tenant_id", "=", tenantId).execute();
      expect(rows.map((r) => r.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
      for (const m of made) expect((await postings(second, m.id)).map((p) => p.code)).toEqual(["refund"]);
      // Still exactly one refund at each service: the queries found them, nothing was sent twice.
      expect([...e.alipay.trades.values()].map((x) => e.alipay.refundedOf(x))).toEqual([3000]);
      expect(e.wechat.refunds.size).toBe(1);
      expect(e.stripe.refunds).toHaveLength(1);
      expect(e.alipay.calls.filter((c) => c.method === "alipay.trade.fastpay.refund.query").length).toBeGreaterThan(0);
      expect(e.wechat.calls.filter((c) => c.method === "GET").length).toBeGreaterThan(0);
      expect(e.stripe.calls.filter((c) => c.method === "GET" && c.path === "/v1/refunds").length).toBeGreaterThan(0);
      const tb = await second.deps.db
        .selectFrom("ledger_entries")
        .select((eb) => eb.fn.sum<number>("amount").as("n"))
        .where("tenant_id", "=", tenantId)
        .executeTakeFirstOrThrow();
      expect(Number(tb.n)).toBe(0);
    } finally {
      await second.close();
      await Promise.all([e.alipay.stop(), e.wechat.stop(), e.stripe.stop()]);
    }
  });
});
