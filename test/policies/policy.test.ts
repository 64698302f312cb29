import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CN_DEFAULT, EU_WITHDRAWAL } from "../../src/policies/rules.js";
import { type Catalog, createDeliveredOrder, createOrder, setupCatalog, shipOrder } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, supplierSession, type TestApp } from "../helpers/harness.js";

describe.each(DB_KINDS)("shop policies and eligibility on %s", (kind) => {
  let t: TestApp;
  let cat: Catalog;
  beforeAll(async () => {
    t = await startTestApp(kind);
    t.clock.set("2026-03-02T04:00:00Z");
    cat = await setupCatalog(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Another shop of the same tenant, selling the same catalog. */
  const newShop = async (timezone = "Asia/Shanghai"): Promise<Catalog> => {
    const r = await t.api("POST", "/api/v1/shops", { body: { name: `Shop ${timezone}`, platform: "douyin", timezone } });
    if (r.status >= 300) throw new Error(r.text);
    return { ...cat, shopId: r.body.id };
  };
  const lineOf = (elig: any, orderLineId: string) => elig.lines.find((l: any) => l.orderLineId === orderLineId);
  const opt = (line: any, type: string) => line.options.find((o: any) => o.type === type);

  it("starts every shop on the mainland-China default, readable by staff only", async () => {
    const r = await t.api("GET", `/api/v1/shops/${cat.shopId}/policy`, { as: "viewer" });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ shopId: cat.shopId, version: 1, rules: CN_DEFAULT });
    expect(r.body.presets).toEqual(["cn_default", "eu_withdrawal"]);
    const sup = await supplierSession(t.app, t.deps, t.t.tenantId, cat.suppliers.a);
    expect((await t.api("GET", `/api/v1/shops/${cat.shopId}/policy`, { as: "none", headers: sup })).status).toBe(403);
    expect((await t.api("GET", `/api/v1/shops/${cat.shopId}/policy`, { as: "other:admin" })).status).toBe(404);
  });

  it("makes a new audited version on every change, admin only, and validates the rules", async () => {
    const shop = await newShop();
    const url = `/api/v1/shops/${shop.shopId}/policy`;
    expect((await t.api("PUT", url, { as: "cs", body: { preset: "eu_withdrawal" } })).status).toBe(403);
    const bad = await t.api("PUT", url, { body: { rules: { ...CN_DEFAULT, windows: { ...CN_DEFAULT.windows, noReasonReturnDays: 3 } } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields[0].field).toBe("rules.windows.noReasonReturnDays");
    const excluded = await t.api("PUT", url, { body: { rules: { ...CN_DEFAULT, excludedCategories: ["apparel"] } } });
    expect(excluded.status).toBe(400);
    expect(excluded.body.error.details.fields[0].field).toBe("rules.excludedCategories.0");
    expect((await t.api("PUT", url, { body: { rules: { ...CN_DEFAULT, extra: true } } })).status).toBe(400);
    expect((await t.api("PUT", url, { body: {} })).status).toBe(400);

    const v2 = await t.api("PUT", url, { body: { preset: "eu_withdrawal" } });
    expect(v2.status).toBe(200);
    expect(v2.body).toMatchObject({ version: 2, rules: EU_WITHDRAWAL });
    const generous = {
      ...CN_DEFAULT,
      windows: { ...CN_DEFAULT.windows, noReasonReturnDays: 15 },
      categoryWindows: { home: { repairDays: 730 } },
    };
    const v3 = await t.api("PUT", url, { body: { rules: generous } });
    expect(v3.body.version).toBe(3);
    expect((await t.api("GET", url, { as: "cs" })).body).toMatchObject({ version: 3, rules: generous });

    const versions = await t.api("GET", `${url}/versions`, { as: "finance" });
    expect(versions.body.items.map((v: any) => v.version)).toEqual([3, 2, 1]);
    // Changed through an API token, not a signed-in user: the audit log names the token.
    expect(versions.body.items[0].createdBy).toBeNull();

    const audits = await t.deps.db
      .selectFrom("audit_log")
      .select(["action", "actor_type", "before", "after"])
      .where("tenant_id", "=", t.t.tenantId)
      .where("entity_id", "=", shop.shopId)
      .where("action", "=", "policy.update")
      .orderBy("at")
      .execute();
    expect(audits).toHaveLength(2);
    expect(audits[1].actor_type).toBe("token");
    expect((audits[1].before as { version: number }).version).toBe(2);
    expect((audits[1].after as { version: number }).version).toBe(3);
    // The other tenant cannot change this shop's policy.
    expect((await t.api("PUT", url, { as: "other:admin", body: { preset: "cn_default" } })).status).toBe(404);
  });

  it("answers per line and type, with the deadline and reasons, as of any moment", async () => {
    const order = await createDeliveredOrder(t, cat, {
      lines: [
        { skuCode: "MUG", quantity: 2 },
        { skuCode: "CAKE", quantity: 1 },
        { skuCode: "MASK", quantity: 1, noReasonReturnWaived: true },
      ],
      deliveredAt: "2026-03-01T23:59:00+08:00",
    });
    const [mug, cake, mask] = order.lines;
    const ask = (q: string) => t.api("GET", `/api/v1/orders/${order.id}/eligibility?${q}`, { as: "cs" });

    const lastDay = await ask("reason=changed_mind&at=2026-03-08T23:59:00%2B08:00");
    expect(lastDay.status).toBe(200);
    expect(lastDay.body.policyVersion).toBe(1);
    const mugOpt = opt(lineOf(lastDay.body, mug.id), "return_refund");
    expect(mugOpt).toMatchObject({ allowed: true, deadline: "2026-03-08T15:59:59.999Z" });
    expect(mugOpt.reasons[0].code).toBe("window_open");
    expect(opt(lineOf(lastDay.body, cake.id), "return_refund").reasons[0].code).toBe("category_excluded");
    expect(opt(lineOf(lastDay.body, mask.id), "return_refund").reasons[0].code).toBe("waived_at_purchase");

    const dayAfter = await ask("reason=changed_mind&at=2026-03-09T00:00:00%2B08:00");
    const closed = opt(lineOf(dayAfter.body, mug.id), "return_refund");
    expect(closed.allowed).toBe(false);
    expect(closed.reasons[0]).toMatchObject({
      code: "window_closed",
      message: "申请期已于 2026-03-08 结束（签收 2026-03-01，七天无理由）",
      messageEn: "The window ended on 2026-03-08 (delivered 2026-03-01, 7-day no-reason return)",
    });

    // A quality problem on day 10: no return any more, an exchange or repair still.
    const quality = await ask("reason=quality&at=2026-03-11T12:00:00%2B08:00");
    const q = lineOf(quality.body, cake.id);
    expect(opt(q, "return_refund").reasons.map((r: any) => r.code)).toEqual(["window_closed", "exchange_or_repair_only"]);
    expect(opt(q, "exchange").allowed).toBe(true);

    // Without `at` the service clock decides.
    t.clock.set("2026-03-03T04:00:00Z");
    const now = await ask("reason=changed_mind");
    expect(now.body.at).toBe("2026-03-03T04:00:00.000Z");
    expect(opt(lineOf(now.body, mug.id), "return_refund").allowed).toBe(true);
  });

  it("counts quantities other live cases hold", async () => {
    t.clock.set("2026-03-03T04:00:00Z");
    const order = await createDeliveredOrder(t, cat, {
      lines: [{ skuCode: "MUG", quantity: 2 }],
      deliveredAt: "2026-03-01T10:00:00+08:00",
    });
    const line = order.lines[0];
    const openCase = () =>
      t.api("POST", "/api/v1/cases", {
        as: "cs",
        body: {
          orderId: order.id,
          type: "return_refund",
          reason: "quality",
          lines: [{ orderLineId: line.id, quantity: 1 }],
          channel: "phone",
        },
      });
    const first = await openCase();
    expect(first.status).toBe(201);
    let e = await t.api("GET", `/api/v1/orders/${order.id}/eligibility?reason=quality`, { as: "cs" });
    expect(lineOf(e.body, line.id)).toMatchObject({ quantity: 2, available: 1 });
    expect(opt(lineOf(e.body, line.id), "return_refund").allowed).toBe(true);
    expect((await openCase()).status).toBe(201);
    e = await t.api("GET", `/api/v1/orders/${order.id}/eligibility?reason=quality`, { as: "cs" });
    expect(lineOf(e.body, line.id).available).toBe(0);
    expect(opt(lineOf(e.body, line.id), "exchange").reasons[0].code).toBe("quantity_exhausted");
    // A cancelled case gives its quantity back.
    const cancel = await t.api("POST", `/api/v1/cases/${first.body.id}/actions/cancel`, { as: "cs", body: { note: "customer withdrew" } });
    expect(cancel.status).toBe(200);
    e = await t.api("GET", `/api/v1/orders/${order.id}/eligibility?reason=quality`, { as: "cs" });
    expect(lineOf(e.body, line.id).available).toBe(1);
  });

  it("before delivery offers the refund or an interception only", async () => {
    const paid = await createOrder(t, cat, { lines: [{ skuCode: "TEE", quantity: 1 }] });
    let e = await t.api("GET", `/api/v1/orders/${paid.id}/eligibility?reason=changed_mind`, { as: "cs" });
    let l = e.body.lines[0];
    expect(opt(l, "refund_only")).toMatchObject({ allowed: true, reasons: [{ code: "not_shipped" }] });
    expect(opt(l, "return_refund").reasons[0].code).toBe("not_delivered");
    await shipOrder(t, paid.id);
    e = await t.api("GET", `/api/v1/orders/${paid.id}/eligibility?reason=changed_mind`, { as: "cs" });
    l = e.body.lines[0];
    expect(opt(l, "refund_only").reasons[0].code).toBe("in_transit_intercept");
  });

  it("follows the shop's time zone and the policy version in force", async () => {
    const la = await newShop("America/Los_Angeles");
    const order = await createDeliveredOrder(t, la, {
      lines: [{ skuCode: "TEE", quantity: 1 }],
      deliveredAt: "2026-03-01T23:30:00-08:00",
    });
    const ask = async (at: string) =>
      opt(
        (await t.api("GET", `/api/v1/orders/${order.id}/eligibility?reason=size_fit&at=${encodeURIComponent(at)}`, { as: "cs" })).body
          .lines[0],
        "exchange",
      );
    // Daylight saving starts on 2026-03-08 in Los Angeles: its last minute is 23:59 PDT.
    expect((await ask("2026-03-08T23:59:00-07:00")).allowed).toBe(true);
    expect((await ask("2026-03-09T00:00:00-07:00")).allowed).toBe(false);
    await t.api("PUT", `/api/v1/shops/${la.shopId}/policy`, { body: { preset: "eu_withdrawal" } });
    const eu = await ask("2026-03-15T12:00:00-07:00");
    expect(eu.allowed).toBe(true);
    expect(eu.deadline).toBe("2026-03-16T06:59:59.999Z");
  });

  it("refuses bad queries and other tenants, suppliers and unknown orders", async () => {
    const order = await createDeliveredOrder(t, cat, { deliveredAt: "2026-03-01T10:00:00+08:00" });
    expect((await t.api("GET", `/api/v1/orders/${order.id}/eligibility?reason=bored`, { as: "cs" })).status).toBe(400);
    expect((await t.api("GET", `/api/v1/orders/${order.id}/eligibility?at=yesterday`, { as: "cs" })).status).toBe(400);
    expect((await t.api("GET", `/api/v1/orders/${order.id}/eligibility`, { as: "other:cs" })).status).toBe(404);
    expect((await t.api("GET", `/api/v1/orders/${cat.shopId}/eligibility`, { as: "cs" })).status).toBe(404);
    const sup = await supplierSession(t.app, t.deps, t.t.tenantId, cat.suppliers.a);
    expect((await t.api("GET", `/api/v1/orders/${order.id}/eligibility`, { as: "none", headers: sup })).status).toBe(403);
  });

  it("takes the customer's report on the goods into account", async () => {
    const order = await createDeliveredOrder(t, cat, {
      lines: [{ skuCode: "TEE", quantity: 1 }],
      deliveredAt: "2026-03-01T10:00:00+08:00",
    });
    const ask = (q: string) => t.api("GET", `/api/v1/orders/${order.id}/eligibility?at=2026-03-03T12:00:00%2B08:00&${q}`, { as: "cs" });
    const tags = await ask("reason=changed_mind&condition=tags_removed");
    expect(opt(tags.body.lines[0], "return_refund").reasons[0]).toMatchObject({
      code: "condition_failed",
      message: "商品吊牌已剪，不支持七天无理由退货",
    });
    // The same goods with a quality problem are still returnable.
    expect(opt((await ask("reason=quality&condition=tags_removed")).body.lines[0], "return_refund").allowed).toBe(true);
    expect((await ask("condition=tags_removed,sneezed")).status).toBe(400);
  });

  it("previews a draft policy on a real order without saving it", async () => {
    const order = await createDeliveredOrder(t, cat, {
      lines: [{ skuCode: "MUG", quantity: 1 }],
      deliveredAt: "2026-03-01T10:00:00+08:00",
    });
    const url = `/api/v1/shops/${cat.shopId}/policy/preview`;
    const before = (await t.api("GET", `/api/v1/shops/${cat.shopId}/policy`, { as: "cs" })).body.version;
    const draft = { ...CN_DEFAULT, windows: { ...CN_DEFAULT.windows, noReasonReturnDays: 30 } };
    const r = await t.api("POST", url, { body: { rules: draft, orderId: order.id, at: "2026-03-20T12:00:00+08:00" } });
    expect(r.status).toBe(200);
    expect(r.body.policyVersion).toBeNull();
    expect(r.body.floorViolations).toEqual([]);
    expect(opt(r.body.lines[0], "return_refund")).toMatchObject({ allowed: true, deadline: "2026-03-31T15:59:59.999Z" });
    // The policy in force still says no, and nothing was saved.
    const live = await t.api("GET", `/api/v1/orders/${order.id}/eligibility?at=2026-03-20T12:00:00%2B08:00`, { as: "cs" });
    expect(opt(live.body.lines[0], "return_refund").allowed).toBe(false);
    expect((await t.api("GET", `/api/v1/shops/${cat.shopId}/policy`, { as: "cs" })).body.version).toBe(before);
    // A stingy draft shows what the law would refuse.
    const stingy = await t.api("POST", url, {
      body: { rules: { ...CN_DEFAULT, excludedCategories: ["home"] }, orderId: order.id, at: "2026-03-03T12:00:00+08:00" },
    });
    expect(stingy.body.floorViolations[0].field).toBe("rules.excludedCategories.0");
    expect(opt(stingy.body.lines[0], "return_refund").reasons[0].code).toBe("category_excluded");
    expect((await t.api("POST", url, { as: "cs", body: { preset: "eu_withdrawal", orderId: order.id } })).status).toBe(403);
    const otherShop = await newShop();
    expect((await t.api("POST", `/api/v1/shops/${otherShop.shopId}/policy/preview`, { body: { orderId: order.id } })).status).toBe(404);
  });

  it("documents its routes in the OpenAPI description", async () => {
    const doc = (await t.api("GET", "/api/openapi.json")).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/api/v1/shops/{id}/policy",
        "/api/v1/shops/{id}/policy/versions",
        "/api/v1/shops/{id}/policy/preview",
        "/api/v1/orders/{id}/eligibility",
      ]),
    );
  });
});
