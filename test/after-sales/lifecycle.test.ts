import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evidenceDisposition } from "../../src/after-sales/evidence.js";
import { type Catalog, createDeliveredOrder, createOrder, setupCatalog, shipOrder } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, supplierSession, type TestApp } from "../helpers/harness.js";

const PNG = Buffer.concat([Buffer.from("89504e470d0a1a0a0000000d49484452", "hex"), Buffer.alloc(64, 1)]);

function multipart(filename: string, data: Buffer, mime = "application/octet-stream") {
  const boundary = "----dropdesk-test";
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: ${mime}\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, headers: { "content-type": `multipart/form-data; boundary=${boundary}` } };
}

describe("evidence Content-Disposition", () => {
  const id = "0190a0a0-0000-7000-8000-000000000001";
  it("keeps a plain name as it is and adds the exact UTF-8 name when it is not plain ASCII", () => {
    expect(evidenceDisposition("box.png", id, "image/png")).toBe('inline; filename="box.png"');
    expect(evidenceDisposition("é.jpg", id, "image/jpeg")).toBe(`inline; filename="_.jpg"; filename*=UTF-8''%C3%A9.jpg`);
    expect(evidenceDisposition("it's (1).png", id, "image/png")).toBe(`inline; filename="it's (1).png"`);
  });
  it("never lets a quote, a backslash, a path or a line break into the header", () => {
    const d = evidenceDisposition('C:\\Users\\x\\a"b\r\nSet-Cookie: x=1.png', id, "image/png");
    expect(d).not.toMatch(/[\r\n]/);
    expect(d).toBe(`inline; filename="a_bSet-Cookie: x=1.png"; filename*=UTF-8''a%22bSet-Cookie%3A%20x%3D1.png`);
    expect(evidenceDisposition("100%.png", id, "image/png")).toBe(`inline; filename="100_.png"; filename*=UTF-8''100%25.png`);
    expect(evidenceDisposition("", id, "video/quicktime")).toBe(`inline; filename="evidence-${id}.mov"`);
    expect(evidenceDisposition("\ud800.png", id, "image/png")).toBe(`inline; filename="_.png"; filename*=UTF-8''%EF%BF%BD.png`);
  });
});

describe.each(DB_KINDS)("after-sales lifecycle on %s", (kind) => {
  let t: TestApp;
  let cat: Catalog;
  beforeAll(async () => {
    t = await startTestApp(kind);
    cat = await setupCatalog(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  const act = async (caseId: string, action: string, body: unknown = {}, as = "admin") => {
    const r = await t.api("POST", `/api/v1/cases/${caseId}/actions/${action}`, { as, body });
    if (r.status !== 200) throw new Error(`${action}: ${r.status} ${r.text}`);
    return r.body;
  };
  const open = async (order: any, type: string, reason: string, quantity = 1, lineIndex = 0) => {
    const r = await t.api("POST", "/api/v1/cases", {
      as: "cs",
      body: {
        orderId: order.id,
        type,
        reason,
        lines: [{ orderLineId: order.lines[lineIndex].id, quantity }],
        description: "test",
        channel: "phone",
      },
    });
    if (r.status !== 201) throw new Error(`open: ${r.status} ${r.text}`);
    return r.body;
  };

  it("return & refund: submitted → approved → shipped back → received → inspected → refunded → closed", async () => {
    t.clock.set("2026-03-02T04:00:00Z");
    const order = await createDeliveredOrder(t, cat, {
      lines: [{ skuCode: "TEE", quantity: 2 }],
      deliveredAt: "2026-03-01T10:00:00+08:00",
    });
    let c = await open(order, "return_refund", "quality");
    expect(c.status).toBe("submitted");
    expect(c.responsibility.party).toBe("supplier");
    expect(c.allowedActions).toContain("approve");
    c = await act(c.id, "approve", { note: "photos show a torn seam" }, "cs");
    expect(c.status).toBe("awaiting_return");
    expect(c.returnAddress.city).toBe("义乌");
    c = await act(c.id, "ship-return", { carrier: "SF", trackingNo: "SF1000001" }, "cs");
    expect(c.status).toBe("return_in_transit");
    c = await act(c.id, "receive", {}, "warehouse");
    c = await act(
      c.id,
      "inspect",
      { grade: "repairable", matchesOrder: true, complete: true, disposition: "return_to_supplier" },
      "warehouse",
    );
    expect(c.status).toBe("inspected");
    const quote = (await t.api("GET", `/api/v1/cases/${c.id}/refund-quote`)).body;
    expect(quote.goods).toBe(9900);
    c = await act(c.id, "refund", { method: "balance" }, "finance");
    expect(c.status).toBe("refunded");
    expect(c.claim.status).toBe("open");
    expect(c.claim.amount).toBeGreaterThanOrEqual(4000);
    c = await act(c.id, "resolve");
    c = await act(c.id, "close");
    expect(c.status).toBe("closed");
    expect(c.timeline.map((e: any) => e.action)).toEqual([
      "submit",
      "approve",
      "ship-return",
      "receive",
      "inspect",
      "refund",
      "refund_settled",
      "resolve",
      "close",
    ]);
    const money = (await t.api("GET", `/api/v1/orders/${order.id}`)).body.money;
    expect(money.refunded).toBe(quote.total);
    const ledger = (await t.api("GET", `/api/v1/cases/${c.id}/ledger`)).body;
    expect(ledger.pnl.refunds).toBe(quote.total);
    expect(ledger.pnl.recovered).toBe(c.claim.amount);
    expect((await t.api("GET", "/api/v1/ledger/trial-balance")).body.balanced).toBe(true);
  });

  it("refund only before shipping is approved by the policy at once", async () => {
    const order = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
    const c = await open(order, "refund_only", "changed_mind");
    expect(c.status).toBe("approved");
    expect(c.decision.outcome).toBe("approve");
    expect(c.decision.reasons[0].code).toBe("auto_refund_before_shipping");
    const r = await act(c.id, "refund", { method: "balance" }, "finance");
    expect(r.status).toBe("refunded");
    expect((await act(c.id, "close")).status).toBe("closed");
  });

  it("refund only in transit asks for an interception", async () => {
    const order = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
    await shipOrder(t, order.id);
    const c = await open(order, "refund_only", "changed_mind");
    // Shipped already: not automatic; CS approves, which asks the carrier to stop the parcel.
    expect(c.status).toBe("submitted");
    expect((await act(c.id, "approve", {}, "cs")).status).toBe("approved");
    const o = (await t.api("GET", `/api/v1/orders/${order.id}`)).body;
    expect(o.supplierOrders[0].status).toBe("intercept_requested");
  });

  it("exchange: return, inspect, then a replacement supplier order, then resolved and closed", async () => {
    t.clock.set("2026-03-03T04:00:00Z");
    const order = await createDeliveredOrder(t, cat, {
      lines: [{ skuCode: "TEE", quantity: 1 }],
      deliveredAt: "2026-03-01T10:00:00+08:00",
    });
    let c = await open(order, "exchange", "size_fit");
    c = await act(c.id, "approve");
    c = await act(c.id, "ship-return", { carrier: "YTO", trackingNo: "YT200001" });
    c = await act(c.id, "receive", {}, "warehouse");
    c = await act(c.id, "inspect", { grade: "resellable", matchesOrder: true, complete: true, disposition: "restock" }, "warehouse");
    c = await act(c.id, "resolve");
    expect(c.status).toBe("fulfilling");
    const o = (await t.api("GET", `/api/v1/orders/${order.id}`)).body;
    expect(o.supplierOrders.some((s: any) => s.purpose === "exchange" && s.caseId === c.id)).toBe(true);
    expect(o.status).toBe("delivered");
    c = await act(c.id, "resolve");
    expect((await act(c.id, "close")).status).toBe("closed");
  });

  it("repair: returned, inspected, repaired and sent back", async () => {
    t.clock.set("2026-04-20T04:00:00Z");
    const order = await createDeliveredOrder(t, cat, {
      lines: [{ skuCode: "MUG", quantity: 1 }],
      deliveredAt: "2026-03-01T10:00:00+08:00",
    });
    let c = await open(order, "repair", "quality");
    c = await act(c.id, "approve");
    c = await act(c.id, "receive", {}, "warehouse");
    c = await act(c.id, "inspect", { grade: "repairable", matchesOrder: true, complete: true, disposition: "repair" }, "warehouse");
    c = await act(c.id, "resolve");
    expect(c.status).toBe("fulfilling");
    c = await act(c.id, "resolve");
    expect((await act(c.id, "close")).status).toBe("closed");
  });

  it("reship for a missing item creates a supplier order on approval", async () => {
    t.clock.set("2026-03-03T04:00:00Z");
    const order = await createDeliveredOrder(t, cat, {
      lines: [{ skuCode: "MUG", quantity: 2 }],
      deliveredAt: "2026-03-01T10:00:00+08:00",
    });
    let c = await open(order, "reship", "missing_item");
    c = await act(c.id, "approve");
    expect(c.status).toBe("fulfilling");
    c = await act(c.id, "resolve");
    expect(c.claim?.status).toBe("open");
    expect((await act(c.id, "close")).status).toBe("closed");
  });

  it("compensation: an offered coupon, accepted, closes the case with the cost on the ledger", async () => {
    t.clock.set("2026-03-03T04:00:00Z");
    const order = await createDeliveredOrder(t, cat, {
      lines: [{ skuCode: "MUG", quantity: 1 }],
      deliveredAt: "2026-03-01T10:00:00+08:00",
    });
    let c = await open(order, "compensation", "damaged_in_transit");
    c = await act(c.id, "offer-compensation", { kind: "coupon", amount: 500, note: "sorry for the chipped mug" });
    expect(c.status).toBe("offer_pending");
    c = await act(c.id, "accept-offer");
    expect(c.status).toBe("resolved");
    expect((await act(c.id, "close")).status).toBe("closed");
    const coupons = (await t.api("GET", "/api/v1/coupons")).body.items;
    expect(coupons.some((x: any) => x.caseId === c.id && x.amount === 500)).toBe(true);
  });

  it("refuses a request outside the policy with 422 and its reasons, writing nothing", async () => {
    t.clock.set("2026-03-20T04:00:00Z");
    const order = await createDeliveredOrder(t, cat, {
      lines: [{ skuCode: "TEE", quantity: 1 }],
      deliveredAt: "2026-03-01T10:00:00+08:00",
    });
    const r = await t.api("POST", "/api/v1/cases", {
      body: { orderId: order.id, type: "return_refund", reason: "changed_mind", lines: [{ orderLineId: order.lines[0].id, quantity: 1 }] },
    });
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe("policy_refused");
    expect(r.body.error.details.reasons[0].message).toBe("申请期已于 2026-03-08 结束（签收 2026-03-01，七天无理由）");
    expect((await t.api("GET", `/api/v1/cases?orderId=${order.id}`)).body.items).toEqual([]);
  });

  it("never claims more than was bought, across cases", async () => {
    t.clock.set("2026-03-02T04:00:00Z");
    const order = await createDeliveredOrder(t, cat, {
      lines: [{ skuCode: "MUG", quantity: 2 }],
      deliveredAt: "2026-03-01T10:00:00+08:00",
    });
    await open(order, "return_refund", "quality", 1);
    await open(order, "return_refund", "quality", 1);
    const third = await t.api("POST", "/api/v1/cases", {
      body: { orderId: order.id, type: "return_refund", reason: "quality", lines: [{ orderLineId: order.lines[0].id, quantity: 1 }] },
    });
    // The unit is already claimed by the other cases: a conflict with the order's state (409), and
    // the field and what is left are named.
    expect(third.status).toBe(409);
    expect(third.body.error.code).toBe("conflict");
    expect(third.body.error.details.fields[0].field).toBe("lines.0.quantity");
    expect(third.body.error.details.available).toBe(0);
    // Asking for more than was ever bought stays a bad request.
    const tooMany = await t.api("POST", "/api/v1/cases", {
      body: { orderId: order.id, type: "return_refund", reason: "quality", lines: [{ orderLineId: order.lines[0].id, quantity: 3 }] },
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.code).toBe("validation_failed");
    expect(tooMany.body.error.details.fields[0].field).toBe("lines.0.quantity");
    expect((await t.api("GET", `/api/v1/cases?orderId=${order.id}`)).body.items).toHaveLength(2);
  });

  it("answers an invalid action with 409, the status and the allowed actions", async () => {
    t.clock.set("2026-03-02T04:00:00Z");
    const order = await createDeliveredOrder(t, cat, { deliveredAt: "2026-03-01T10:00:00+08:00" });
    const c = await open(order, "return_refund", "quality");
    const r = await t.api("POST", `/api/v1/cases/${c.id}/actions/inspect`, {
      as: "warehouse",
      body: { grade: "scrap", matchesOrder: true, complete: true, disposition: "scrap" },
    });
    expect(r.status).toBe(409);
    expect(r.body.error.details.status).toBe("submitted");
    // The allowed actions are the caller's: the warehouse has nothing to do on a new request.
    expect(r.body.error.details.allowedActions).toEqual([]);
    const asCs = await t.api("POST", `/api/v1/cases/${c.id}/actions/receive`, { as: "cs", body: {} });
    expect(asCs.body.error.details.allowedActions).toEqual(expect.arrayContaining(["approve", "reject", "request-info"]));
    expect((await t.api("POST", `/api/v1/cases/${c.id}/actions/approve`, { as: "warehouse", body: {} })).status).toBe(403);
  });

  it("accepts evidence by its content and refuses what is not a photo or video", async () => {
    t.clock.set("2026-03-02T04:00:00Z");
    const order = await createDeliveredOrder(t, cat, { deliveredAt: "2026-03-01T10:00:00+08:00" });
    const c = await open(order, "return_refund", "quality");
    const png = multipart("photo.mp4", PNG);
    const up = await t.app.inject({
      method: "POST",
      url: `/api/v1/cases/${c.id}/evidence`,
      headers: { ...png.headers, authorization: `Bearer ${t.t.tokens.cs}` },
      payload: png.body,
    });
    expect(up.statusCode).toBe(201);
    expect(up.json().mime).toBe("image/png");
    const txt = multipart("photo.jpg", Buffer.from("just some text, not a photo"), "image/jpeg");
    const bad = await t.app.inject({
      method: "POST",
      url: `/api/v1/cases/${c.id}/evidence`,
      headers: { ...txt.headers, authorization: `Bearer ${t.t.tokens.cs}` },
      payload: txt.body,
    });
    expect(bad.statusCode).toBe(415);
    const view = (await t.api("GET", `/api/v1/cases/${c.id}`)).body;
    expect(view.evidence).toHaveLength(1);
    const file = await t.app.inject({
      method: "GET",
      url: view.evidence[0].url,
      headers: { authorization: `Bearer ${t.t.tokens.viewer}` },
    });
    expect(file.statusCode).toBe(200);
    expect(file.headers["content-type"]).toBe("image/png");
  });

  it("serves evidence inline under its uploaded name, the same way to staff and to the portal", async () => {
    t.clock.set("2026-03-02T04:00:00Z");
    const order = await createDeliveredOrder(t, cat, { phone: "13900008642", deliveredAt: "2026-03-01T10:00:00+08:00" });
    const c = await open(order, "return_refund", "quality");
    const upload = async (name: string) => {
      const mp = multipart(name, PNG);
      const r = await t.app.inject({
        method: "POST",
        url: `/api/v1/cases/${c.id}/evidence`,
        headers: { ...mp.headers, authorization: `Bearer ${t.t.tokens.cs}` },
        payload: mp.body,
      });
      expect(r.statusCode).toBe(201);
      return r.json().id as string;
    };
    const plain = await upload("box.png");
    const chinese = await upload("开箱 照片.png");
    const lookup = await t.api("POST", "/portal/api/lookup", {
      body: { platformOrderNo: order.platformOrderNo, phoneLast4: "8642" },
      headers: { authorization: "" },
    });
    expect(lookup.status).toBe(200);
    const portalUrls = (await t.api("GET", `/portal/api/cases/${c.id}`, { headers: { authorization: `Bearer ${lookup.body.token}` } })).body
      .evidence;
    expect(portalUrls.map((e: any) => e.url)).toContain(`/portal/api/evidence/${chinese}`);
    const fetchBoth = async (id: string) => {
      const staff = await t.app.inject({
        method: "GET",
        url: `/api/v1/evidence/${id}`,
        headers: { authorization: `Bearer ${t.t.tokens.viewer}` },
      });
      const portal = await t.app.inject({
        method: "GET",
        url: `/portal/api/evidence/${id}`,
        headers: { authorization: `Bearer ${lookup.body.token}` },
      });
      for (const r of [staff, portal]) {
        expect(r.statusCode).toBe(200);
        expect(r.headers["content-type"]).toBe("image/png");
        expect(r.headers["x-content-type-options"]).toBe("nosniff");
        expect(r.rawPayload.equals(PNG)).toBe(true);
      }
      // One route serves both: the headers are the same, not two copies that drift apart.
      for (const h of ["content-type", "content-disposition", "cache-control", "x-content-type-options"])
        expect(portal.headers[h], h).toBe(staff.headers[h]);
      return staff.headers["content-disposition"];
    };
    expect(await fetchBoth(plain)).toBe('inline; filename="box.png"');
    // A name that is not plain ASCII: an ASCII fallback, and the exact name in UTF-8 (RFC 5987).
    expect(await fetchBoth(chinese)).toBe(`inline; filename="__ __.png"; filename*=UTF-8''${encodeURIComponent("开箱 照片.png")}`);
  });

  it("shows suppliers only their cases, read-only", async () => {
    t.clock.set("2026-03-02T04:00:00Z");
    const order = await createDeliveredOrder(t, cat, {
      lines: [{ skuCode: "MASK", quantity: 1 }],
      deliveredAt: "2026-03-01T10:00:00+08:00",
    });
    const c = await open(order, "return_refund", "quality");
    const b = await supplierSession(t.app, t.deps, t.t.tenantId, cat.suppliers.b);
    const a = await supplierSession(t.app, t.deps, t.t.tenantId, cat.suppliers.a);
    expect((await t.api("GET", `/api/v1/cases/${c.id}`, { headers: b })).body.allowedActions).toEqual([]);
    expect((await t.api("GET", `/api/v1/cases/${c.id}`, { headers: a })).status).toBe(404);
    expect((await t.api("POST", `/api/v1/cases/${c.id}/actions/approve`, { headers: b, body: {} })).status).toBe(403);
  });

  it("gives 50 concurrent refund requests on one case exactly one refund and one posting", async () => {
    t.clock.set("2026-03-02T04:00:00Z");
    const order = await createDeliveredOrder(t, cat, {
      lines: [{ skuCode: "TEE", quantity: 1 }],
      deliveredAt: "2026-03-01T10:00:00+08:00",
    });
    const c = await open(order, "return_refund", "quality");
    await act(c.id, "approve");
    await act(c.id, "receive", {}, "warehouse");
    await act(c.id, "inspect", { grade: "resellable", matchesOrder: true, complete: true, disposition: "restock" }, "warehouse");
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        t.api("POST", `/api/v1/cases/${c.id}/actions/refund`, { as: "finance", body: { method: "balance" } }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.every((r) => r.status === 200 || r.status === 409)).toBe(true);
    const refunds = (await t.api("GET", `/api/v1/refunds?caseId=${c.id}`)).body.items;
    expect(refunds).toHaveLength(1);
    const postings = (await t.api("GET", `/api/v1/ledger/postings?caseId=${c.id}&code=refund`)).body.items;
    expect(postings).toHaveLength(1);
    expect((await t.api("GET", `/api/v1/orders/${order.id}`)).body.money.refunded).toBe(9900);
  });

  it("refuses a goodwill refund above what remains, with the remaining amount, writing nothing", async () => {
    const order = await createDeliveredOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
    const ok = await t.api("POST", `/api/v1/orders/${order.id}/actions/goodwill-refund`, {
      as: "finance",
      body: { amount: 1000, reason: "one of six glasses broke", method: "balance" },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.status).toBe("succeeded");
    const over = await t.api("POST", `/api/v1/orders/${order.id}/actions/goodwill-refund`, {
      as: "finance",
      body: { amount: 3000, reason: "too much" },
    });
    expect(over.status).toBe(422);
    expect(over.body.error.code).toBe("refund_exceeds_refundable");
    expect(over.body.error.details.remaining).toBe(2900);
    expect((await t.api("GET", `/api/v1/refunds?orderId=${order.id}`)).body.items).toHaveLength(1);
  });

  it("refunds a cancelled order in full through the same machinery", async () => {
    const order = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }], shippingFee: 600 });
    await t.api("POST", `/api/v1/orders/${order.id}/actions/cancel`, { body: { reason: "customer changed mind" } });
    const refunds = (await t.api("GET", `/api/v1/refunds?orderId=${order.id}`)).body.items;
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ kind: "cancellation", amount: 4500 });
  });
});
