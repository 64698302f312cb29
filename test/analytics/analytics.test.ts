import { type Selectable, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type GroupBy,
  overview,
  resolveRange,
  returnsReport,
  scoreOf,
  supplierScorecards,
  supplierScores,
} from "../../src/analytics/analytics.js";
import { refreshAnalytics } from "../../src/analytics/analytics.routes.js";
import type { DB } from "../../src/db/schema.js";
import { newId } from "../../src/platform/ids.js";
import { DB_KINDS, startTestApp, supplierSession, type TestApp } from "../helpers/harness.js";

/** A column's type as selected, for the literal rows below. */
type Col<T extends keyof DB, C extends keyof Selectable<DB[T]>> = Selectable<DB[T]>[C];

// A small month (March 2026, shop in Asia/Shanghai) whose every figure can be worked out by hand;
// the expected numbers below are derived in the comments.
const H = 3_600_000;
const at = (iso: string, plusHours = 0) => new Date(Date.parse(iso) + plusHours * H);

describe.each(DB_KINDS)("analytics on %s", (kind) => {
  let t: TestApp;
  const shopId = newId();
  const supA = newId();
  const supB = newId();
  const c: Record<string, string> = {};
  const range = `from=2026-03-01&to=2026-03-31&shopId=${shopId}`;
  // March in Shanghai as instants: what every drill-down of the range carries.
  const span = { createdFrom: "2026-02-28T16:00:00.000Z", createdTo: "2026-03-31T16:00:00.000Z" };

  beforeAll(async () => {
    t = await startTestApp(kind);
    t.clock.set("2026-03-20T04:00:00Z"); // 12:00 in Shanghai
    const db = t.deps.db;
    const tenant = t.t.tenantId;
    await db
      .insertInto("shops")
      .values({ id: shopId, tenant_id: tenant, name: "Main shop", platform: "taobao", timezone: "Asia/Shanghai" })
      .execute();
    await db
      .insertInto("suppliers")
      .values([
        { id: supA, tenant_id: tenant, name: "Alpha" },
        { id: supB, tenant_id: tenant, name: "Beta" },
      ])
      .execute();
    // Orders: [key, placed_at, paid_total, status, sku, supplier, ship_by, shipped_at]
    const orders: [string, string, number, Col<"orders", "status">, string, string, string | null, string | null][] = [
      ["O1", "2026-03-01T16:30:00Z", 10000, "delivered", "SKU-A", supA, "2026-03-03T00:00:00Z", "2026-03-04T00:00:00Z"], // late
      ["O2", "2026-03-02T02:00:00Z", 20000, "delivered", "SKU-A", supA, "2026-03-04T00:00:00Z", "2026-03-03T00:00:00Z"],
      ["O3", "2026-03-05T03:00:00Z", 30000, "delivered", "SKU-B", supB, "2026-03-07T00:00:00Z", "2026-03-06T00:00:00Z"],
      ["O4", "2026-03-10T03:00:00Z", 40000, "forwarded", "SKU-B", supB, "2026-03-12T00:00:00Z", null], // never shipped: late
      ["O5", "2026-02-28T17:00:00Z", 5000, "delivered", "SKU-A", supA, "2026-03-02T00:00:00Z", "2026-03-01T12:00:00Z"], // 01:00 on 1 March in Shanghai
      ["O6", "2026-02-28T14:00:00Z", 7000, "delivered", "SKU-A", supA, null, null], // 22:00 on 28 Feb in Shanghai: outside
      ["O7", "2026-03-06T03:00:00Z", 9000, "pending_payment", "SKU-B", supB, null, null], // unpaid: not counted
      ["O8", "2026-03-15T03:00:00Z", 50000, "delivered", "SKU-B", supB, "2026-03-17T00:00:00Z", "2026-03-16T00:00:00Z"],
    ];
    const lineOf: Record<string, string> = {};
    const orderOf: Record<string, string> = {};
    for (const [key, placed, paid, status, sku, sup, shipBy, shippedAt] of orders) {
      const id = newId();
      orderOf[key] = id;
      await db
        .insertInto("orders")
        .values({
          id,
          tenant_id: tenant,
          shop_id: shopId,
          platform_order_no: `P-${key}`,
          customer: JSON.stringify({ name: "Customer" }),
          address: JSON.stringify({ city: "Hangzhou" }),
          status,
          currency: "CNY",
          goods_total: paid,
          paid_total: paid,
          content_hash: key,
          placed_at: new Date(placed),
          paid_at: status === "pending_payment" ? null : new Date(placed),
        })
        .execute();
      const lineId = newId();
      lineOf[key] = lineId;
      await db
        .insertInto("order_lines")
        .values({
          id: lineId,
          tenant_id: tenant,
          order_id: id,
          line_no: 1,
          sku_code: sku,
          quantity: 1,
          unit_price: paid,
          paid_amount: paid,
        })
        .execute();
      if (status === "pending_payment") continue;
      const soId = newId();
      await db
        .insertInto("supplier_orders")
        .values({
          id: soId,
          tenant_id: tenant,
          order_id: id,
          supplier_id: sup,
          status: shippedAt ? "delivered" : "accepted",
          cost_total: paid / 2,
          ship_by: shipBy ? new Date(shipBy) : null,
          shipped_at: shippedAt ? new Date(shippedAt) : null,
          created_at: at(placed, 1),
        })
        .execute();
      await db
        .insertInto("supplier_order_lines")
        .values({ id: newId(), tenant_id: tenant, supplier_order_id: soId, order_line_id: lineId, quantity: 1, unit_cost: paid / 2 })
        .execute();
    }
    // Cases: [key, order, supplier, reason, type, status, responsibility, created, response hours, approval hours, refund hours, close hours, csat]
    const cases: [
      string,
      string,
      string,
      Col<"cases", "reason">,
      Col<"cases", "type">,
      Col<"cases", "status">,
      Col<"cases", "responsibility">,
      string,
      number | null,
      number | null,
      number | null,
      number | null,
      number | null,
    ][] = [
      ["C1", "O1", supA, "quality", "return_refund", "closed", "supplier", "2026-03-03T02:00:00Z", 2, 4, 48, 72, 5],
      ["C2", "O2", supA, "quality", "refund_only", "refunded", "supplier", "2026-03-04T02:00:00Z", 10, 10, 20, null, 3],
      ["C3", "O3", supB, "wrong_item", "exchange", "submitted", "supplier", "2026-03-18T02:00:00Z", null, null, null, null, null],
      ["C4", "O4", supB, "changed_mind", "return_refund", "awaiting_return", "customer", "2026-03-19T02:00:00Z", 1, 1, null, null, null],
      ["C5", "O5", supA, "quality", "refund_only", "submitted", "undetermined", "2026-03-20T01:00:00Z", null, null, null, null, null],
      ["C6", "O6", supA, "other", "refund_only", "closed", "merchant", "2026-02-27T02:00:00Z", 1, 1, 2, 3, 1],
    ];
    for (const [key, order, sup, reason, type, status, resp, created, fr, ap, rf, cl, csat] of cases) {
      const id = newId();
      c[key] = id;
      await db
        .insertInto("cases")
        .values({
          id,
          tenant_id: tenant,
          shop_id: shopId,
          order_id: orderOf[order],
          case_no: `AS-${key}`,
          type,
          reason,
          status,
          responsibility: resp,
          supplier_id: sup,
          created_at: new Date(created),
          response_due_at: at(created, 24),
          return_ship_due_at: status === "awaiting_return" ? at(created, 24 * 7) : null,
          first_response_at: fr === null ? null : at(created, fr),
          approved_at: ap === null ? null : at(created, ap),
          refunded_at: rf === null ? null : at(created, rf),
          closed_at: cl === null ? null : at(created, cl),
          csat_score: csat,
        })
        .execute();
      await db
        .insertInto("case_lines")
        .values({ id: newId(), tenant_id: tenant, case_id: id, order_line_id: lineOf[order], quantity: 1 })
        .execute();
    }
    const refund = (
      order: string,
      caseKey: string | null,
      kind: Col<"refunds", "kind">,
      amount: number,
      confirmed: string,
      status: Col<"refunds", "status"> = "succeeded",
    ) => ({
      id: newId(),
      tenant_id: tenant,
      order_id: orderOf[order],
      case_id: caseKey ? c[caseKey] : null,
      kind,
      amount,
      method: "original" as const,
      gateway: "sandbox" as const,
      status,
      gateway_key: newId(),
      confirmed_at: status === "succeeded" ? new Date(confirmed) : null,
    });
    await db
      .insertInto("refunds")
      .values([
        refund("O1", "C1", "case", 10000, "2026-03-05T02:00:00Z"),
        refund("O2", "C2", "case", 5000, "2026-03-04T22:00:00Z"),
        refund("O3", "C3", "compensation", 2000, "2026-03-19T05:00:00Z"),
        refund("O8", null, "goodwill", 1000, "2026-03-20T02:00:00Z"), // today in Shanghai
        refund("O6", "C6", "case", 7000, "2026-02-27T05:00:00Z"), // outside the range
        refund("O4", "C4", "case", 40000, "2026-03-19T05:00:00Z", "failed"), // failed: never counted
      ])
      .execute();
    // What the refund settlement keeps on each case (the money tests check that it does).
    await sql`UPDATE cases c SET refunded_total = x.total FROM (SELECT case_id, sum(amount) AS total FROM refunds
      WHERE status = 'succeeded' AND case_id IS NOT NULL GROUP BY case_id) x WHERE x.case_id = c.id`.execute(db);
    await db
      .insertInto("supplier_claims")
      .values([
        {
          id: newId(),
          tenant_id: tenant,
          supplier_id: supA,
          case_id: c.C1,
          status: "settled",
          amount: 10000,
          created_at: new Date("2026-03-06T00:00:00Z"),
        },
        {
          id: newId(),
          tenant_id: tenant,
          supplier_id: supA,
          case_id: c.C2,
          status: "disputed",
          amount: 5000,
          created_at: new Date("2026-03-05T00:00:00Z"),
        },
        {
          id: newId(),
          tenant_id: tenant,
          supplier_id: supB,
          case_id: c.C3,
          status: "open",
          amount: 2000,
          created_at: new Date("2026-03-19T00:00:00Z"),
        },
      ])
      .execute();
    await db.transaction().execute(async (tx) => {
      const p = newId();
      await tx
        .insertInto("ledger_postings")
        .values({
          id: p,
          tenant_id: tenant,
          code: "return_freight",
          currency: "CNY",
          order_id: orderOf.O1,
          case_id: c.C1,
          source_key: `freight:${p}`,
          at: new Date("2026-03-05T00:00:00Z"),
        })
        .execute();
      await tx
        .insertInto("ledger_entries")
        .values([
          { id: newId(), tenant_id: tenant, posting_id: p, account: "freight_expense", amount: 800 },
          { id: newId(), tenant_id: tenant, posting_id: p, account: "cash", amount: -800 },
        ])
        .execute();
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("sums the overview: orders, sales, rates, today's refunds, open and overdue cases, CSAT, cost", async () => {
    const res = await t.api("GET", `/api/v1/analytics/overview?${range}`, { as: "viewer" });
    expect(res.status).toBe(200);
    const o = res.body;
    expect(o.range).toEqual({ from: "2026-03-01", to: "2026-03-31", timeZone: "Asia/Shanghai" });
    // O1..O5 and O8 (O5 is on 1 March in Shanghai; O6 is on 28 Feb; O7 is unpaid).
    expect(o.orders).toBe(6);
    expect(o.sales).toBe(155000);
    expect(o.cases).toBe(5);
    expect(o.refunded).toBe(17000); // C1 10000 + C2 5000 + C3 compensation 2000
    expect(o.returnRate).toBe(0.8333);
    expect(o.refundRate).toBe(0.1097);
    expect(o.refundsToday).toEqual({ count: 1, amount: 1000 });
    expect(o.openCases).toEqual([
      { status: "awaiting_return", count: 1, drillDown: { shopId, status: "awaiting_return" } },
      { status: "submitted", count: 2, drillDown: { shopId, status: "submitted" } },
    ]);
    expect(o.overdue).toEqual({ count: 1, drillDown: { shopId, overdue: "true" } }); // C3: no answer 24 h after submission
    expect(o.topReasonsThisMonth.map((x: { key: string; count: number }) => [x.key, x.count])).toEqual([
      ["quality", 3],
      ["changed_mind", 1],
      ["wrong_item", 1],
    ]);
    expect(o.csat).toEqual({
      responses: 2,
      average: 4,
      distribution: [
        { score: 1, count: 0 },
        { score: 2, count: 0 },
        { score: 3, count: 1 },
        { score: 4, count: 0 },
        { score: 5, count: 1 },
      ],
    });
    expect(o.cost).toEqual({ refunds: 16000, freight: 800, compensation: 2000, total: 18800, recoveredFromSuppliers: 10000, net: 8800 });
    // The warehouse sees the overview but not the reports.
    expect((await t.api("GET", `/api/v1/analytics/overview?${range}`, { as: "warehouse" })).status).toBe(200);
    expect((await t.api("GET", `/api/v1/analytics/returns?${range}`, { as: "warehouse" })).status).toBe(403);
    // Another tenant sees none of it.
    const other = await t.api("GET", "/api/v1/analytics/overview?from=2026-03-01&to=2026-03-31", { as: "other:admin" });
    expect(other.body.orders).toBe(0);
    expect(other.body.cases).toBe(0);
  });

  it("gives return and refund rates by supplier, SKU, reason and day", async () => {
    const bySupplier = (await t.api("GET", `/api/v1/analytics/returns?${range}&groupBy=supplier`, { as: "finance" })).body.items;
    expect(bySupplier).toEqual([
      {
        key: supA,
        label: "Alpha",
        orders: 3,
        sales: 35000,
        cases: 3,
        refunded: 15000,
        returnRate: 1,
        refundRate: 0.4286,
        drillDown: { shopId, supplierId: supA, ...span },
      },
      {
        key: supB,
        label: "Beta",
        orders: 3,
        sales: 120000,
        cases: 2,
        refunded: 2000,
        returnRate: 0.6667,
        refundRate: 0.0167,
        drillDown: { shopId, supplierId: supB, ...span },
      },
    ]);
    const bySku = (await t.api("GET", `/api/v1/analytics/returns?${range}&groupBy=sku`, { as: "cs" })).body.items;
    expect(bySku.map((x: Record<string, unknown>) => [x.key, x.orders, x.sales, x.cases, x.refunded])).toEqual([
      ["SKU-A", 3, 35000, 3, 15000],
      ["SKU-B", 3, 120000, 2, 2000],
    ]);
    const byReason = (await t.api("GET", `/api/v1/analytics/returns?${range}&groupBy=reason`, { as: "cs" })).body.items;
    expect(byReason[0]).toMatchObject({
      key: "quality",
      orders: 6,
      cases: 3,
      returnRate: 0.5,
      refunded: 15000,
      drillDown: { shopId, reason: "quality", ...span },
    });
    const byDay = (await t.api("GET", `/api/v1/analytics/returns?${range}&groupBy=day`, { as: "cs" })).body.items;
    expect(byDay.slice(0, 3).map((x: Record<string, unknown>) => [x.key, x.orders, x.sales, x.cases])).toEqual([
      ["2026-03-01", 1, 5000, 0],
      ["2026-03-02", 2, 30000, 0],
      ["2026-03-03", 0, 0, 1],
    ]);
    // A day's drill-down lists the cases opened that local day; a SKU's those with a line of it.
    expect(byDay[2].drillDown).toEqual({ shopId, createdFrom: "2026-03-02T16:00:00.000Z", createdTo: "2026-03-03T16:00:00.000Z" });
    const casesOf = async (d: Record<string, string>) =>
      (await t.api("GET", `/api/v1/cases?${new URLSearchParams(d)}`, { as: "cs" })).body.items.map((x: { id: string }) => x.id).sort();
    expect(await casesOf(byDay[2].drillDown)).toEqual([c.C1]);
    expect(await casesOf(bySku[1].drillDown)).toEqual([c.C3, c.C4].sort());
    expect(await casesOf(byReason[0].drillDown)).toEqual([c.C1, c.C2, c.C5].sort());
    const byMonth = (await t.api("GET", `/api/v1/analytics/returns?${range}&groupBy=month`, { as: "cs" })).body.items;
    expect(byMonth).toHaveLength(1);
    expect(byMonth[0]).toMatchObject({ key: "2026-03-01", orders: 6, cases: 5 });
  });

  it("ranks reasons as a Pareto with shares and cumulative shares", async () => {
    const res = (await t.api("GET", `/api/v1/analytics/reasons?${range}`, { as: "admin" })).body;
    expect(res.total).toBe(5);
    expect(res.items).toEqual([
      { key: "quality", label: "quality", count: 3, share: 0.6, cumulativeShare: 0.6, drillDown: { shopId, reason: "quality", ...span } },
      {
        key: "changed_mind",
        label: "changed_mind",
        count: 1,
        share: 0.2,
        cumulativeShare: 0.8,
        drillDown: { shopId, reason: "changed_mind", ...span },
      },
      {
        key: "wrong_item",
        label: "wrong_item",
        count: 1,
        share: 0.2,
        cumulativeShare: 1,
        drillDown: { shopId, reason: "wrong_item", ...span },
      },
    ]);
    const byType = (await t.api("GET", `/api/v1/analytics/reasons?${range}&groupBy=type`, { as: "admin" })).body.items;
    expect(byType.map((x: { key: string; count: number }) => [x.key, x.count])).toEqual([
      ["refund_only", 2],
      ["return_refund", 2],
      ["exchange", 1],
    ]);
  });

  it("measures timings with median and p90 and the response SLA", async () => {
    const res = (await t.api("GET", `/api/v1/analytics/timings?${range}`, { as: "viewer" })).body;
    expect(res.items).toHaveLength(1);
    const x = res.items[0];
    expect(x.cases).toBe(5);
    // First response 1, 2, 10 h: median 2, p90 = 2 + 0.8 × 8 = 8.4.
    expect(x.firstResponse).toEqual({ count: 3, medianHours: 2, p90Hours: 8.4 });
    expect(x.approval).toEqual({ count: 3, medianHours: 4, p90Hours: 8.8 });
    expect(x.refund).toEqual({ count: 2, medianHours: 34, p90Hours: 45.2 });
    expect(x.closed).toEqual({ count: 1, medianHours: 72, p90Hours: 72 });
    // Due: C1, C2, C4 (answered) and C3 (deadline passed); C5 is not due yet. On time: C1, C2, C4.
    expect(x.sla).toEqual({ due: 4, onTime: 3, breached: 1, compliance: 0.75 });
    const byType = (await t.api("GET", `/api/v1/analytics/timings?${range}&groupBy=type`, { as: "viewer" })).body.items;
    expect(byType.find((y: { key: string }) => y.key === "refund_only").firstResponse).toEqual({ count: 1, medianHours: 10, p90Hours: 10 });
  });

  it("scores suppliers: defects, wrong items, late shipments, claims and cost", async () => {
    const items = (await t.api("GET", `/api/v1/analytics/suppliers?${range}`, { as: "finance" })).body.items;
    expect(items).toHaveLength(2);
    const [a, b] = items;
    expect(a).toMatchObject({
      supplierId: supA,
      name: "Alpha",
      supplierOrders: 3,
      cases: 3,
      defectCases: 3,
      defectRate: 1,
      wrongItemCases: 0,
      wrongItemRate: 0,
      shipDue: 3,
      lateShipments: 1,
      lateShipRate: 0.3333,
      claims: { opened: 2, answered: 2, accepted: 1, acceptanceRate: 0.5, claimed: 15000, recovered: 10000, recoveryRate: 0.6667 },
      costCaused: 15000,
      netCost: 5000,
      score: 0,
    });
    expect(b).toMatchObject({
      supplierId: supB,
      supplierOrders: 3,
      cases: 2,
      defectCases: 0,
      wrongItemCases: 1,
      wrongItemRate: 0.3333,
      shipDue: 3,
      lateShipments: 1,
      claims: { opened: 1, answered: 0, accepted: 0, acceptanceRate: null, claimed: 2000, recovered: 0, recoveryRate: 0 },
      costCaused: 2000,
      netCost: 2000,
      score: 0.446,
    });
    expect(b.drillDown.wrongItem).toEqual({ supplierId: supB, reason: "wrong_item", ...span });
    // The drill-down filters are the case list's own.
    const drilled = await t.api("GET", `/api/v1/cases?${new URLSearchParams(b.drillDown.wrongItem)}`, { as: "cs" });
    expect(drilled.status).toBe(200);
    expect(drilled.body.items.map((x: { id: string }) => x.id)).toEqual([c.C3]);
    // Routing's view: the last 90 days, Beta ahead of Alpha.
    const scores = await supplierScores(t.deps.db, t.t.tenantId, t.clock.now());
    expect(scores.get(supB)).toBe(0.446);
    expect(scores.get(supA)).toBe(0);
    expect(scoreOf({ orders: 0, defects: 0, wrong: 0, due: 0, late: 0 })).toBe(0.78);
    // A supplier user sees its own scorecard and no other.
    const beta = await supplierSession(t.app, t.deps, t.t.tenantId, supB);
    const own = (await t.api("GET", `/api/v1/analytics/suppliers?from=2026-03-01&to=2026-03-31`, { headers: beta })).body.items;
    expect(own.map((x: { supplierId: string }) => x.supplierId)).toEqual([supB]);
    expect(own[0].wrongItemCases).toBe(1);
    expect((await t.api("GET", `/api/v1/analytics/returns?${range}`, { headers: beta })).status).toBe(403);
  });

  it("exports every report as CSV with a BOM and validates its query", async () => {
    for (const path of ["overview", "returns", "reasons", "timings", "suppliers"]) {
      const res = await t.api("GET", `/api/v1/analytics/${path}?${range}&format=csv`, { as: "admin" });
      expect(res.status).toBe(200);
      expect(String(res.headers["content-type"])).toContain("text/csv");
      expect(res.text.startsWith("\uFEFF")).toBe(true);
      expect(res.text.split("\r\n").length).toBeGreaterThan(2);
    }
    const csv = (await t.api("GET", `/api/v1/analytics/suppliers?${range}&format=csv`, { as: "admin" })).text;
    expect(csv).toContain("claims.recovered");
    expect(csv).toContain("Alpha");
    expect((await t.api("GET", "/api/v1/analytics/returns?from=2026-04-01&to=2026-03-01", { as: "admin" })).status).toBe(400);
    expect((await t.api("GET", "/api/v1/analytics/returns?groupBy=colour", { as: "admin" })).status).toBe(400);
    expect((await t.api("GET", `/api/v1/analytics/returns?shopId=${newId()}`, { as: "admin" })).status).toBe(404);
  });

  it("reads closed days from the daily rollup with the same figures, and follows later changes", async () => {
    const db = t.deps.db;
    const tenant = t.t.tenantId;
    const groups: (GroupBy | undefined)[] = [undefined, "day", "week", "month", "sku", "supplier", "shop", "reason", "type"];
    /** Every report over March for the shop and for the whole tenant, from the rollup or live. */
    const figures = async (live: boolean) => {
      const now = t.clock.now();
      const out: Record<string, unknown> = {};
      for (const shop of [shopId, berlin, undefined]) {
        const r = await resolveRange(db, tenant, { from: "2026-03-01", to: "2026-03-31", shopId: shop, live }, now);
        expect(r.rollup === null).toBe(live || !rolledUp);
        for (const g of groups) out[`returns:${shop}:${g}`] = await returnsReport(db, r, g);
        out[`overview:${shop}`] = await overview(db, r, now);
        out[`suppliers:${shop}`] = await supplierScorecards(db, r, now);
      }
      return out;
    };
    let rolledUp = false;
    // A second shop in Berlin, with orders either side of its midnight (and of Shanghai's): its
    // reports read its own zone's rollup, the tenant's read Shanghai's.
    const berlin = newId();
    await db
      .insertInto("shops")
      .values({ id: berlin, tenant_id: tenant, name: "Berlin shop", platform: "shopify", timezone: "Europe/Berlin", currency: "EUR" })
      .execute();
    for (const [no, placed, paid] of [
      ["B1", "2026-03-09T22:30:00Z", 3000], // 23:30 on the 9th in Berlin, 06:30 on the 10th in Shanghai
      ["B2", "2026-03-09T23:30:00Z", 4000], // 00:30 on the 10th in Berlin
      ["B3", "2026-03-10T15:30:00Z", 5000], // 16:30 on the 10th in Berlin, 23:30 in Shanghai
    ] as const) {
      const id = newId();
      await db
        .insertInto("orders")
        .values({
          id,
          tenant_id: tenant,
          shop_id: berlin,
          platform_order_no: no,
          customer: JSON.stringify({ name: "Kunde" }),
          address: JSON.stringify({ city: "Berlin" }),
          status: "delivered",
          currency: "EUR",
          goods_total: paid,
          paid_total: paid,
          content_hash: no,
          placed_at: new Date(placed),
          paid_at: new Date(placed),
        })
        .execute();
      await db
        .insertInto("order_lines")
        .values({
          id: newId(),
          tenant_id: tenant,
          order_id: id,
          line_no: 1,
          sku_code: "SKU-EU",
          quantity: 1,
          unit_price: paid,
          paid_amount: paid,
        })
        .execute();
    }
    // The rows above were written now (real time); date them when they happened, as they would be.
    await sql`UPDATE orders SET updated_at = placed_at WHERE tenant_id = ${tenant}`.execute(db);
    await sql`UPDATE supplier_orders SET updated_at = created_at WHERE tenant_id = ${tenant}`.execute(db);
    const before = await figures(true);

    // A refresh asked through the API runs as a job.
    const asked = await t.api("POST", "/api/v1/analytics/actions/refresh", { as: "finance", body: {} });
    expect(asked.status).toBe(202);
    expect((await t.api("POST", "/api/v1/analytics/actions/refresh", { as: "cs", body: {} })).status).toBe(403);
    const run = t.deps.services.runAnalyticsJobs as () => Promise<number>;
    expect(await run()).toBe(1);
    rolledUp = true;
    const state = (await t.api("GET", "/api/v1/analytics/rollups", { as: "viewer" })).body.items;
    // Now is 20 March 12:00 in Shanghai: the rollup holds up to the 19th; every lateness is final.
    expect(state).toEqual([
      expect.objectContaining({ timeZone: "Asia/Shanghai", through: "2026-03-19", shipThrough: "2026-03-19" }),
      expect.objectContaining({ timeZone: "Europe/Berlin", through: "2026-03-19" }),
    ]);
    const berlinDays = (before[`returns:${berlin}:day`] as { key: string; orders: number }[]).map((x) => [x.key, x.orders]);
    expect(berlinDays).toEqual([
      ["2026-03-09", 1],
      ["2026-03-10", 2],
    ]);
    const days = await db.selectFrom("analytics_order_days").select(["dim", "day"]).where("tenant_id", "=", tenant).execute();
    expect(days.length).toBeGreaterThan(0);
    expect(await figures(false)).toEqual(before);
    expect(await figures(true)).toEqual(before);

    // The reports really read the rollup: a doctored row shows through until a full rebuild.
    await sql`UPDATE analytics_order_days SET orders = orders + 100 WHERE tenant_id = ${tenant} AND dim = 'all' AND day = '2026-03-05'`.execute(
      db,
    );
    const doctored = (await t.api("GET", `/api/v1/analytics/overview?${range}`, { as: "admin" })).body;
    expect(doctored.orders).toBe((before[`overview:${shopId}`] as { orders: number }).orders + 100);
    await refreshAnalytics(t.deps, tenant, true);
    expect(await figures(false)).toEqual(before);

    // Later changes to rolled-up days: O7 (6 March) is paid, O3's supplier order (5 March) is
    // cancelled, and a new order on the 18th waits for its supplier until the 22nd.
    t.clock.set("2026-03-21T04:00:00Z");
    const now = t.clock.now();
    const o7 = await db
      .selectFrom("orders")
      .select("id")
      .where("platform_order_no", "=", "P-O7")
      .where("shop_id", "=", shopId)
      .executeTakeFirstOrThrow();
    await db.updateTable("orders").set({ status: "paid", paid_at: now, updated_at: now }).where("id", "=", o7.id).execute();
    const o3 = await db
      .selectFrom("orders")
      .select("id")
      .where("platform_order_no", "=", "P-O3")
      .where("shop_id", "=", shopId)
      .executeTakeFirstOrThrow();
    await db.updateTable("supplier_orders").set({ status: "cancelled", updated_at: now }).where("order_id", "=", o3.id).execute();
    const o9 = newId();
    await db
      .insertInto("orders")
      .values({
        id: o9,
        tenant_id: tenant,
        shop_id: shopId,
        platform_order_no: "P-O9",
        customer: JSON.stringify({ name: "Customer" }),
        address: JSON.stringify({ city: "Hangzhou" }),
        status: "forwarded",
        currency: "CNY",
        goods_total: 6000,
        paid_total: 6000,
        content_hash: "O9",
        placed_at: new Date("2026-03-18T03:00:00Z"),
        paid_at: new Date("2026-03-18T03:00:00Z"),
      })
      .execute();
    const line9 = newId();
    await db
      .insertInto("order_lines")
      .values({
        id: line9,
        tenant_id: tenant,
        order_id: o9,
        line_no: 1,
        sku_code: "SKU-A",
        quantity: 1,
        unit_price: 6000,
        paid_amount: 6000,
      })
      .execute();
    const so9 = newId();
    await db
      .insertInto("supplier_orders")
      .values({
        id: so9,
        tenant_id: tenant,
        order_id: o9,
        supplier_id: supA,
        status: "accepted",
        ship_by: new Date("2026-03-22T00:00:00Z"),
        created_at: new Date("2026-03-18T04:00:00Z"),
        updated_at: now,
      })
      .execute();
    await db
      .insertInto("supplier_order_lines")
      .values({ id: newId(), tenant_id: tenant, supplier_order_id: so9, order_line_id: line9, quantity: 1, unit_cost: 3000 })
      .execute();
    const changed = await figures(true);
    expect(changed).not.toEqual(before);
    const inc = await refreshAnalytics(t.deps, tenant);
    // Only the new day (the 20th) and the changed ones (5th, 6th, 18th) were rebuilt.
    expect(inc.zones[0]).toMatchObject({ through: "2026-03-20", shipThrough: "2026-03-17" });
    expect(inc.zones[0].orderDays).toBe(4);
    expect(await figures(false)).toEqual(changed);
    // Once its ship-by time passes unshipped, the supplier order is late; the next refresh rolls it up.
    t.clock.set("2026-03-23T04:00:00Z");
    const late = await figures(true);
    await refreshAnalytics(t.deps, tenant);
    expect((await t.api("GET", "/api/v1/analytics/rollups", { as: "viewer" })).body.items[0].shipThrough).toBe("2026-03-22");
    expect(await figures(false)).toEqual(late);
    const alpha = (late[`suppliers:${shopId}`] as { supplierId: string; lateShipments: number }[]).find((x) => x.supplierId === supA);
    expect(alpha?.lateShipments).toBe(2);
    // The job also stored each supplier's routing score.
    const stored = await db.selectFrom("suppliers").select(["id", "score"]).where("id", "in", [supA, supB]).execute();
    const scores = await supplierScores(db, tenant, t.clock.now());
    for (const x of stored) expect(Number(x.score)).toBe(scores.get(x.id));
  });
});
