import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Catalog, createDeliveredOrder, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, type TestApp } from "../helpers/harness.js";

// The case inbox sorted by the server (GET /api/v1/cases?sort=…): created, updated, amount and
// SLA deadline each way, paged by cursor without losing or repeating a case, and an unknown sort
// refused naming the parameter.

describe.each(DB_KINDS)("the case list sorted by the API on %s", (kind) => {
  let t: TestApp;
  let cat: Catalog;
  /** The cases made here, in the order they were opened, with the amount each claims. */
  const made: { id: string; amount: number }[] = [];

  beforeAll(async () => {
    t = await startTestApp(kind);
    cat = await setupCatalog(t);
    const start = Date.now() - 3 * 3600_000;
    // Four cases a minute apart claiming ¥99, ¥39, ¥198 and ¥39 (a tie, broken by id).
    const claims = [
      { skuCode: "TEE", quantity: 1, amount: 9900 },
      { skuCode: "MUG", quantity: 1, amount: 3900 },
      { skuCode: "TEE", quantity: 2, amount: 19800 },
      { skuCode: "MUG", quantity: 1, amount: 3900 },
    ];
    for (const [i, l] of claims.entries()) {
      t.clock.set(new Date(start + i * 60_000));
      const order = await createDeliveredOrder(t, cat, {
        lines: [{ skuCode: l.skuCode, quantity: 2 }],
        deliveredAt: new Date(start - 86400_000).toISOString(),
      });
      const c = await t.api("POST", "/api/v1/cases", {
        body: {
          orderId: order.id,
          type: "return_refund",
          reason: "quality",
          lines: [{ orderLineId: order.lines[0].id, quantity: l.quantity }],
          description: "坏了",
        },
      });
      expect(c.status, c.text).toBe(201);
      made.push({ id: c.body.id, amount: l.amount });
    }
    // The second case is cancelled (no deadline any more), which also makes it the last updated.
    t.clock.set(new Date(start + 10 * 60_000));
    const cancelled = await t.api("POST", `/api/v1/cases/${made[1].id}/actions/cancel`, { body: {} });
    expect(cancelled.status, cancelled.text).toBe(200);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  const ids = async (query: string) => {
    const r = await t.api("GET", `/api/v1/cases?limit=100&${query}`);
    expect(r.status, r.text).toBe(200);
    return (r.body.items as { id: string }[]).map((x) => x.id);
  };
  /** Every page of a sorted list, two at a time. */
  const paged = async (sort: string) => {
    const out: string[] = [];
    let cursor: string | null = null;
    do {
      const r = await t.api("GET", `/api/v1/cases?limit=2&sort=${sort}${cursor ? `&cursor=${cursor}` : ""}`);
      expect(r.status, r.text).toBe(200);
      out.push(...r.body.items.map((x: { id: string }) => x.id));
      cursor = r.body.nextCursor;
    } while (cursor);
    return out;
  };
  const byId = (a: string, b: string) => (a < b ? -1 : 1);

  it("sorts by when a case was opened and last changed, each way", async () => {
    const opened = made.map((c) => c.id);
    expect(await ids("sort=createdAt")).toEqual(opened);
    expect(await ids("sort=-createdAt")).toEqual([...opened].reverse());
    expect((await ids("sort=-updatedAt"))[0]).toBe(made[1].id);
    expect((await ids("sort=updatedAt")).at(-1)).toBe(made[1].id);
  });

  it("sorts by the amount claimed, ties by id, and by the SLA deadline with cases without one last", async () => {
    const asc = [...made].sort((a, b) => a.amount - b.amount || byId(a.id, b.id)).map((c) => c.id);
    expect(await ids("sort=amount")).toEqual(asc);
    const desc = [...made].sort((a, b) => b.amount - a.amount || byId(a.id, b.id)).map((c) => c.id);
    expect(await ids("sort=-amount")).toEqual(desc);
    // Submitted a minute apart, the deadlines fall in the order the cases were opened; the cancelled one has none.
    const open = [made[0].id, made[2].id, made[3].id];
    const soonest = await ids("sort=deadline");
    expect(soonest).toEqual([...open, made[1].id]);
    expect(await ids("sort=-deadline")).toEqual([...open].reverse().concat(made[1].id));
    const page = (await t.api("GET", "/api/v1/cases?sort=deadline&limit=1")).body.items[0];
    expect(page.deadline.kind).toBe("merchant_response");
    expect(page.shopTimezone).toBe("Asia/Shanghai");
  });

  it("pages a sorted list by cursor without losing or repeating a case, and keeps the filters", async () => {
    for (const sort of ["createdAt", "-createdAt", "updatedAt", "-updatedAt", "amount", "-amount", "deadline", "-deadline"]) {
      expect(await paged(sort), sort).toEqual(await ids(`sort=${sort}`));
    }
    expect(await ids("sort=-amount&status=cancelled")).toEqual([made[1].id]);
    const csv = await t.api("GET", "/api/v1/cases?sort=amount&format=csv");
    expect(csv.status).toBe(200);
    expect(csv.text.split("\r\n").filter(Boolean)).toHaveLength(made.length + 1);
  });

  it("refuses a sort field it does not know, naming the parameter, and a cursor from another sort", async () => {
    const r = await t.api("GET", "/api/v1/cases?sort=-customer");
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("validation_failed");
    expect(r.body.error.message).toContain("sort");
    expect(r.body.error.details.fields[0].field).toBe("querystring.sort");
    const zh = await t.api("GET", "/api/v1/cases?sort=priority", { headers: { "accept-language": "zh-CN" } });
    expect(zh.status).toBe(400);
    expect(zh.body.error.message).toContain("sort");
    const plain = (await t.api("GET", "/api/v1/cases?limit=1")).body.nextCursor;
    const mixed = await t.api("GET", `/api/v1/cases?limit=1&sort=amount&cursor=${plain}`);
    expect(mixed.status).toBe(400);
    expect(mixed.body.error.details.fields[0].field).toBe("cursor");
  });
});
