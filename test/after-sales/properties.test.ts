import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CASE_ACTIONS, CASE_STATUSES, type CaseAction, nextStatus } from "../../src/after-sales/case.states.js";
import { type Catalog, createDeliveredOrder, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, type TestApp } from "../helpers/harness.js";

const REASON_OF: Record<string, string> = {
  refund_only: "quality",
  return_refund: "quality",
  exchange: "quality",
  repair: "quality",
  reship: "missing_item",
  compensation: "damaged_in_transit",
};

const BODY: Record<CaseAction, unknown> = {
  approve: {},
  reject: { note: "not covered" },
  "request-info": { note: "please send a photo" },
  "provide-info": { note: "photo sent" },
  "set-responsibility": { responsibility: "supplier", note: "factory fault" },
  "ship-return": { carrier: "SF", trackingNo: "SF123456789" },
  receive: {},
  inspect: { grade: "resellable", matchesOrder: true, complete: true, disposition: "restock" },
  refund: { method: "balance" },
  "offer-compensation": { kind: "coupon", amount: 100 },
  "accept-offer": {},
  resolve: {},
  close: {},
  cancel: {},
  escalate: {},
  assign: { assigneeId: null },
};

const HOLDING = (s: string) => !["cancelled", "rejected"].includes(s);

describe.each(DB_KINDS)("case invariants under random actions on %s", (kind) => {
  let t: TestApp;
  let cat: Catalog;
  beforeAll(async () => {
    t = await startTestApp(kind);
    cat = await setupCatalog(t, { stock: 10000 });
  });
  afterAll(async () => {
    await t?.close();
  });

  const heldQuantity = async (orderLineId: string) => {
    const rows = await t.deps.db
      .selectFrom("case_lines as l")
      .innerJoin("cases as c", "c.id", "l.case_id")
      .select(["l.quantity", "c.status"])
      .where("l.order_line_id", "=", orderLineId)
      .where("c.tenant_id", "=", t.t.tenantId)
      .execute();
    return rows.filter((r: any) => HOLDING(r.status)).reduce((s: number, r: any) => s + Number(r.quantity), 0);
  };

  it("keeps quantities, states and the timeline consistent whatever the actions", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...Object.keys(REASON_OF)),
        fc.integer({ min: 1, max: 2 }),
        fc.array(
          fc.tuple(
            fc.constantFrom(...CASE_ACTIONS, "open-second" as const),
            fc.constantFrom("admin", "cs", "warehouse", "finance"),
            fc.integer({ min: 1, max: 3 }),
          ),
          { minLength: 1, maxLength: 8 },
        ),
        async (type, quantity, steps) => {
          t.clock.set("2026-03-02T04:00:00Z");
          const order = await createDeliveredOrder(t, cat, {
            lines: [{ skuCode: "MUG", quantity: 2 }],
            deliveredAt: "2026-03-01T10:00:00+08:00",
          });
          const lineId = order.lines[0].id;
          const open = (ty: string, q: number) =>
            t.api("POST", "/api/v1/cases", {
              as: "cs",
              body: { orderId: order.id, type: ty, reason: REASON_OF[ty], lines: [{ orderLineId: lineId, quantity: q }] },
            });
          const first = await open(type, quantity);
          expect(first.status).toBe(201);
          const caseId = first.body.id;
          const initial = (await t.api("GET", `/api/v1/cases/${caseId}`)).body;
          const startEvents = initial.timeline.filter((e: any) => (CASE_ACTIONS as readonly string[]).includes(e.action)).length;
          let status = initial.status as (typeof CASE_STATUSES)[number];
          const done: string[] = [];

          for (const [action, as, q] of steps) {
            if (action === "open-second") {
              const before = await heldQuantity(lineId);
              const r = await open("return_refund", q);
              // Accepted only when it fits in what is not held yet; never over-claims. More than was
              // bought is a bad request; units other cases hold are a conflict.
              if (before + q <= 2) expect(r.status).toBe(201);
              else expect(r.status).toBe(q > 2 ? 400 : 409);
              expect(await heldQuantity(lineId)).toBeLessThanOrEqual(2);
              continue;
            }
            const r = await t.api("POST", `/api/v1/cases/${caseId}/actions/${action}`, { as, body: BODY[action] });
            expect(r.status).toBeLessThan(500);
            const to = nextStatus(status, action, type as any);
            if (r.status === 200) {
              // Only what the table allows succeeds, and lands where the table says.
              expect(to).not.toBeNull();
              const got = r.body.status;
              expect(CASE_STATUSES).toContain(got);
              if (action === "refund") expect(["refund_pending", "refunded"]).toContain(got);
              else expect(got).toBe(to);
              status = got;
              done.push(action);
            } else {
              if (to === null) expect([403, 409]).toContain(r.status);
              const now = (await t.api("GET", `/api/v1/cases/${caseId}`)).body.status;
              expect(now).toBe(status);
            }
            expect(await heldQuantity(lineId)).toBeLessThanOrEqual(2);
          }

          // One timeline event per successful action, in order.
          const view = (await t.api("GET", `/api/v1/cases/${caseId}`)).body;
          expect(view.status).toBe(status);
          const actions = view.timeline
            .filter((e: any) => (CASE_ACTIONS as readonly string[]).includes(e.action))
            .map((e: any) => e.action)
            .slice(startEvents);
          expect(actions).toEqual(done);
        },
      ),
      { numRuns: 6 },
    );
  }, 120_000);
});
