import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Catalog, createDeliveredOrder, createOrder, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, type TestApp } from "../helpers/harness.js";

describe.each(DB_KINDS)("blocklist and complaints on %s", (kind) => {
  let t: TestApp;
  let cat: Catalog;
  beforeAll(async () => {
    t = await startTestApp(kind);
    cat = await setupCatalog(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("flags a blocklisted customer's request and leaves it to CS instead of approving it", async () => {
    const entry = await t.api("POST", "/api/v1/blocklist", {
      as: "admin",
      body: { shopId: cat.shopId, kind: "phone", value: "13955556666", reason: "repeated refund-only abuse" },
    });
    expect(entry.status).toBe(201);
    expect((await t.api("POST", "/api/v1/blocklist", { as: "cs", body: { kind: "phone", value: "1" } })).status).toBe(403);
    const list = (await t.api("GET", "/api/v1/blocklist", { as: "cs" })).body.items;
    expect(list.map((x: any) => x.id)).toContain(entry.body.id);
    // The other tenant sees none of it.
    expect((await t.api("GET", "/api/v1/blocklist", { as: "other:admin" })).body.items).toEqual([]);

    const order = await createOrder(t, cat, { phone: "13955556666", lines: [{ skuCode: "MUG", quantity: 1 }] });
    const c = await t.api("POST", "/api/v1/cases", {
      as: "cs",
      body: { orderId: order.id, type: "refund_only", reason: "changed_mind", lines: [{ orderLineId: order.lines[0].id, quantity: 1 }] },
    });
    expect(c.status).toBe(201);
    // Without the block this request is approved at once; blocked, it waits for a person.
    expect(c.body.status).toBe("submitted");
    expect(c.body.riskFlag).toBe(true);

    expect((await t.api("DELETE", `/api/v1/blocklist/${entry.body.id}`, { as: "admin" })).status).toBe(200);
    expect((await t.api("DELETE", `/api/v1/blocklist/${entry.body.id}`, { as: "admin" })).status).toBe(404);
    const again = await createOrder(t, cat, { phone: "13955556666", lines: [{ skuCode: "MUG", quantity: 1 }] });
    const c2 = await t.api("POST", "/api/v1/cases", {
      as: "cs",
      body: { orderId: again.id, type: "refund_only", reason: "changed_mind", lines: [{ orderLineId: again.lines[0].id, quantity: 1 }] },
    });
    expect(c2.body.status).toBe("approved");
  });

  it("runs a complaint from open to closed with a due time by severity, and escalating a case opens one", async () => {
    t.clock.set("2026-03-02T04:00:00Z");
    const order = await createDeliveredOrder(t, cat, { deliveredAt: "2026-03-01T10:00:00+08:00" });
    const created = await t.api("POST", "/api/v1/complaints", {
      as: "cs",
      body: { orderId: order.id, severity: "high", subject: "客户投诉物流太慢" },
    });
    expect(created.status).toBe(201);
    expect(created.body.status).toBe("open");
    expect(new Date(created.body.dueAt).toISOString()).toBe("2026-03-02T12:00:00.000Z");
    expect((await t.api("POST", "/api/v1/complaints", { as: "cs", body: { subject: "nothing" } })).status).toBe(400);

    const id = created.body.id;
    const closeEarly = await t.api("POST", `/api/v1/complaints/${id}/actions/close`, { as: "cs", body: {} });
    expect(closeEarly.status).toBe(409);
    expect(closeEarly.body.error.details.allowedActions).toEqual(["assign", "resolve"]);
    const assigned = await t.api("POST", `/api/v1/complaints/${id}/actions/assign`, {
      as: "cs",
      body: { ownerId: t.t.userIds.cs },
    });
    expect(assigned.body.status).toBe("assigned");
    const resolved = await t.api("POST", `/api/v1/complaints/${id}/actions/resolve`, {
      as: "cs",
      body: { resolution: "补发优惠券并致歉" },
    });
    expect(resolved.body.status).toBe("resolved");
    expect((await t.api("POST", `/api/v1/complaints/${id}/actions/close`, { as: "cs", body: {} })).body.status).toBe("closed");
    expect((await t.api("GET", "/api/v1/complaints?status=closed")).body.items.map((x: any) => x.id)).toContain(id);

    const c = await t.api("POST", "/api/v1/cases", {
      as: "cs",
      body: { orderId: order.id, type: "return_refund", reason: "quality", lines: [{ orderLineId: order.lines[0].id, quantity: 1 }] },
    });
    const esc = await t.api("POST", `/api/v1/cases/${c.body.id}/actions/escalate`, { as: "cs", body: { severity: "critical" } });
    expect(esc.status).toBe(200);
    const open = (await t.api("GET", "/api/v1/complaints")).body.items.filter((x: any) => x.caseId === c.body.id);
    expect(open).toHaveLength(1);
    expect((await t.api("GET", "/api/v1/complaints", { as: "other:admin" })).body.items).toEqual([]);
  });

  it("reports a complaint still open past its deadline once, and not one resolved in time", async () => {
    t.clock.set("2026-04-01T04:00:00Z");
    const order = await createDeliveredOrder(t, cat, { deliveredAt: "2026-03-31T10:00:00+08:00" });
    const file = async (subject: string) =>
      (await t.api("POST", "/api/v1/complaints", { as: "cs", body: { orderId: order.id, severity: "critical", subject } })).body
        .id as string;
    const late = await file("包裹破损无人处理");
    const handled = await file("客服回复太慢");
    await t.api("POST", `/api/v1/complaints/${handled}/actions/resolve`, { as: "cs", body: { resolution: "已致歉" } });
    const sweep = () => (t.deps.services.runSlaSweep as () => Promise<{ fired: string[] }>)();
    const ours = (f: string[]) => f.filter((x) => x.includes(late) || x.includes(handled));
    t.clock.set("2026-04-01T05:59:00Z"); // critical: due in 2 hours
    expect(ours((await sweep()).fired)).toEqual([]);
    t.clock.set("2026-04-01T06:01:00Z");
    expect(ours((await sweep()).fired)).toEqual([`complaint_overdue:${late}`]);
    expect(ours((await sweep()).fired)).toEqual([]);
    const row = await t.deps.db.selectFrom("complaints").select("overdue_alerted_at").where("id", "=", late).executeTakeFirstOrThrow();
    expect(row.overdue_alerted_at?.toISOString()).toBe("2026-04-01T06:01:00.000Z");
  });
});
