import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  deriveOrderStatus,
  nextSupplierOrderStatus,
  type SupplierOrderStatus,
  supplierOrderActions,
} from "../../src/orders/order.states.js";
import { type Catalog, createOrder, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, type TestApp } from "../helpers/harness.js";

const ACTIONS = [
  "accept",
  "reject",
  "ship",
  "deliver",
  "request-cancel",
  "confirm-cancel",
  "refuse-cancel",
  "request-intercept",
  "intercept-result",
  "mark-returned",
] as const;
const bodyFor = (action: string, outcome: string, i: number) =>
  ({
    reject: { reason: "no stock" },
    ship: { carrier: "SF", trackingNo: `SFPROP${i}${Date.now() % 100000}` },
    deliver: { deliveredAt: "2026-03-01T10:00:00+08:00" },
    "intercept-result": { outcome },
  })[action] ?? {};

describe.each(DB_KINDS)("order state machine through the API on %s", (kind) => {
  let t: TestApp;
  let cat: Catalog;
  beforeAll(async () => {
    t = await startTestApp(kind);
    cat = await setupCatalog(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("random supplier-order actions move exactly as the table says and the order always rolls up", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ so: fc.nat(1), action: fc.constantFrom(...ACTIONS), outcome: fc.constantFrom("intercepted", "failed") }), {
          minLength: 3,
          maxLength: 10,
        }),
        async (steps) => {
          // TEE only A offers, MASK only B: two supplier orders.
          const order = await createOrder(t, cat, {
            lines: [
              { skuCode: "TEE", quantity: 1 },
              { skuCode: "MASK", quantity: 1 },
            ],
          });
          const fwd = (await t.api("POST", `/api/v1/orders/${order.id}/actions/forward`)).body;
          const sos: { id: string; status: SupplierOrderStatus }[] = fwd.supplierOrders.map((s: any) => ({ id: s.id, status: s.status }));
          expect(sos).toHaveLength(2);
          for (const [i, s] of steps.entries()) {
            const so = sos[s.so];
            const allowed = supplierOrderActions(so.status, "staff");
            const res = await t.api("POST", `/api/v1/supplier-orders/${so.id}/actions/${s.action}`, {
              body: bodyFor(s.action, s.outcome, i),
            });
            if (allowed.includes(s.action)) {
              expect(res.status).toBe(200);
              so.status = nextSupplierOrderStatus(so.status, s.action, { outcome: s.outcome }) as SupplierOrderStatus;
              expect(res.body.status).toBe(so.status);
            } else {
              expect(res.status).toBe(409);
              expect(res.body.error.details.allowedActions).toEqual(allowed);
            }
            const view = (await t.api("GET", `/api/v1/orders/${order.id}`)).body;
            // A rejection reroutes to the next offer: compare the roll-up over what the order holds now.
            const now = view.supplierOrders.filter((x: any) => x.purpose === "original");
            for (const x of now) {
              const known = sos.find((k) => k.id === x.id);
              if (known) expect(x.status).toBe(known.status);
              else sos.push({ id: x.id, status: x.status });
            }
            expect(view.status).toBe(
              deriveOrderStatus(
                { paid: true, cancelled: false, completed: false },
                now.map((x: any) => ({ status: x.status })),
              ),
            );
            const anyShipped = now.some((x: any) =>
              ["shipped", "delivered", "intercept_requested", "intercepted", "returned"].includes(x.status),
            );
            if (anyShipped) expect(view.allowedActions).not.toContain("cancel");
          }
        },
      ),
      { numRuns: kind === "pglite" ? 15 : 10 },
    );
  }, 120_000);
});
