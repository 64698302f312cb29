import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkMachines } from "../platform/state-machine.js";
import {
  deriveOrderStatus,
  nextSupplierOrderStatus,
  ORDER_ACTIONS,
  ORDER_MACHINE,
  ORDER_STATUSES,
  SUPPLIER_ORDER_MACHINE,
  SUPPLIER_ORDER_STATUSES,
  SUPPLIER_ORDER_TRANSITIONS,
  type SupplierOrderStatus,
  supplierOrderActions,
} from "./order.states.js";

const ALL_SO_ACTIONS = [...new Set(Object.values(SUPPLIER_ORDER_TRANSITIONS).flatMap((t) => Object.keys(t)))];
const ENDS: SupplierOrderStatus[] = ["delivered", "rejected", "cancelled", "returned"];
const SHIPPED_ONWARDS: SupplierOrderStatus[] = ["shipped", "delivered", "intercept_requested", "intercepted", "returned"];

const step = fc.record({
  so: fc.nat(3),
  action: fc.constantFrom(...ALL_SO_ACTIONS),
  who: fc.constantFrom("staff" as const, "supplier" as const),
  outcome: fc.constantFrom("intercepted", "failed"),
});

describe("supplier order state machine", () => {
  it("every transition goes to a known status, and the ends lead nowhere", () => {
    for (const [from, ts] of Object.entries(SUPPLIER_ORDER_TRANSITIONS)) {
      for (const action of Object.keys(ts)) {
        for (const outcome of ["intercepted", "failed"]) {
          const to = nextSupplierOrderStatus(from as SupplierOrderStatus, action, { outcome });
          expect(SUPPLIER_ORDER_STATUSES).toContain(to);
        }
      }
    }
    for (const end of ENDS) expect(supplierOrderActions(end, "staff")).toEqual([]);
  });

  it("random action sequences never reach an impossible state and the roll-up stays consistent", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(step, { maxLength: 40 }), (count, steps) => {
        const sos = Array.from({ length: count }, () => ({ status: "pending" as SupplierOrderStatus, everShipped: false }));
        for (const s of steps) {
          const so = sos[s.so % count];
          const allowed = supplierOrderActions(so.status, s.who);
          const to = allowed.includes(s.action) ? nextSupplierOrderStatus(so.status, s.action, { outcome: s.outcome }) : null;
          if (!allowed.includes(s.action)) {
            // Refused actions change nothing; a supplier never starts a cancel, an interception or a delivery.
            expect(to).toBeNull();
            continue;
          }
          expect(to).not.toBeNull();
          const from = so.status;
          so.status = to as SupplierOrderStatus;
          if (SHIPPED_ONWARDS.includes(so.status)) so.everShipped = true;
          // Once shipped, goods never go back to unshipped states, and a cancel only happens before shipping.
          if (so.everShipped) expect(["pending", "accepted", "cancel_requested", "cancelled", "rejected"]).not.toContain(so.status);
          expect(ENDS).not.toContain(from);
          if (s.who === "supplier") expect(["request-cancel", "request-intercept", "deliver"]).not.toContain(s.action);

          const status = deriveOrderStatus({ paid: true, cancelled: false, completed: false }, sos);
          const active = sos.filter((x) => x.status !== "rejected" && x.status !== "cancelled");
          const shipped = active.filter((x) => SHIPPED_ONWARDS.includes(x.status)).length;
          if (active.length === 0) expect(status).toBe("paid");
          else if (active.every((x) => x.status === "delivered")) expect(status).toBe("delivered");
          else if (shipped === active.length) expect(status).toBe("shipped");
          else if (shipped > 0) expect(status).toBe("partially_shipped");
          else expect(status).toBe("forwarded");
          // Cancel and address change are offered only while nothing has shipped.
          const actions = ORDER_ACTIONS[status];
          if (shipped > 0) {
            expect(actions).not.toContain("cancel");
            expect(actions).not.toContain("change-address");
          }
          expect(ORDER_STATUSES).toContain(status);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("passes the start-up check of every machine", () => {
    expect(() => checkMachines([ORDER_MACHINE, SUPPLIER_ORDER_MACHINE])).not.toThrow();
  });

  it("every status change of the roll-up is a step of the order table", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(step, { maxLength: 40 }), (count, steps) => {
        const sos = Array.from({ length: count }, () => ({ status: "pending" as SupplierOrderStatus }));
        const paid = { paid: true, cancelled: false, completed: false };
        let status = deriveOrderStatus(paid, sos);
        for (const s of steps) {
          const so = sos[s.so % count];
          if (!supplierOrderActions(so.status, s.who).includes(s.action)) continue;
          so.status = nextSupplierOrderStatus(so.status, s.action, { outcome: s.outcome }) as SupplierOrderStatus;
          const after = deriveOrderStatus(paid, sos);
          if (after !== status) {
            const steps = Object.keys(ORDER_MACHINE.steps[status]) as Parameters<typeof ORDER_MACHINE.next>[1][];
            expect(steps.map((a) => ORDER_MACHINE.next(status, a))).toContain(after);
          }
          status = after;
        }
      }),
      { numRuns: 500 },
    );
  });

  it("explicit ends win over the supplier orders, and an unpaid order is pending payment", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...SUPPLIER_ORDER_STATUSES), { maxLength: 5 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        (statuses, paid, cancelled, completed) => {
          const status = deriveOrderStatus(
            { paid, cancelled, completed },
            statuses.map((s) => ({ status: s })),
          );
          if (cancelled) expect(status).toBe("cancelled");
          else if (completed) expect(status).toBe("completed");
          else if (!paid) expect(status).toBe("pending_payment");
          else expect(["paid", "forwarded", "partially_shipped", "shipped", "delivered"]).toContain(status);
        },
      ),
    );
  });

  it("only delivered orders can be completed and cancelled orders allow nothing", () => {
    for (const s of ORDER_STATUSES) {
      if (ORDER_ACTIONS[s].includes("complete")) expect(s).toBe("delivered");
    }
    expect(ORDER_ACTIONS.cancelled).toEqual([]);
  });
});
