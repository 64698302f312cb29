import { ORDER_STATUSES, type OrderStatus, SUPPLIER_ORDER_STATUSES, type SupplierOrderStatus } from "../domain/vocabulary.js";

/**
 * Order and supplier-order state machines as data. `allowedActions` shown by the API comes from
 * these same tables; the order's status is derived from its supplier orders (roll-up), never set
 * by hand except for the explicit ends (cancelled, completed).
 */
// The statuses are the domain vocabulary's, shared with the web app.
export { ORDER_STATUSES, type OrderStatus, SUPPLIER_ORDER_STATUSES, type SupplierOrderStatus };

type Who = "staff" | "supplier";
interface Transition<S> {
  to: S | ((input: Record<string, unknown>) => S);
  by: Who[];
}

export const SUPPLIER_ORDER_TRANSITIONS: Record<SupplierOrderStatus, Partial<Record<string, Transition<SupplierOrderStatus>>>> = {
  pending: {
    accept: { to: "accepted", by: ["staff", "supplier"] },
    reject: { to: "rejected", by: ["staff", "supplier"] },
    ship: { to: "shipped", by: ["staff", "supplier"] },
    "request-cancel": { to: "cancel_requested", by: ["staff"] },
  },
  accepted: {
    ship: { to: "shipped", by: ["staff", "supplier"] },
    reject: { to: "rejected", by: ["staff", "supplier"] },
    "request-cancel": { to: "cancel_requested", by: ["staff"] },
  },
  cancel_requested: {
    "confirm-cancel": { to: "cancelled", by: ["staff", "supplier"] },
    "refuse-cancel": { to: "accepted", by: ["staff", "supplier"] },
    ship: { to: "shipped", by: ["staff", "supplier"] },
  },
  shipped: {
    deliver: { to: "delivered", by: ["staff"] },
    "request-intercept": { to: "intercept_requested", by: ["staff"] },
    "mark-returned": { to: "returned", by: ["staff"] },
  },
  intercept_requested: {
    "intercept-result": { to: (i) => (i.outcome === "intercepted" ? "intercepted" : "shipped"), by: ["staff", "supplier"] },
    deliver: { to: "delivered", by: ["staff"] },
  },
  intercepted: { "mark-returned": { to: "returned", by: ["staff", "supplier"] } },
  delivered: {},
  rejected: {},
  cancelled: {},
  returned: {},
};

export function supplierOrderActions(status: SupplierOrderStatus, who: Who): string[] {
  return Object.entries(SUPPLIER_ORDER_TRANSITIONS[status] ?? {})
    .filter(([, t]) => t?.by.includes(who))
    .map(([a]) => a);
}

export function nextSupplierOrderStatus(
  status: SupplierOrderStatus,
  action: string,
  input: Record<string, unknown> = {},
): SupplierOrderStatus | null {
  const t = SUPPLIER_ORDER_TRANSITIONS[status]?.[action];
  if (!t) return null;
  return typeof t.to === "function" ? t.to(input) : t.to;
}

const SHIPPED_LIKE: SupplierOrderStatus[] = ["shipped", "delivered", "intercept_requested", "intercepted", "returned"];
const INACTIVE: SupplierOrderStatus[] = ["rejected", "cancelled"];

/**
 * The order's status from its payment, its explicit end and its original supplier orders
 * (Saleor's determine_order_status, for dropshipping).
 */
export function deriveOrderStatus(
  o: { paid: boolean; cancelled: boolean; completed: boolean },
  supplierOrders: { status: SupplierOrderStatus }[],
): OrderStatus {
  if (o.cancelled) return "cancelled";
  if (o.completed) return "completed";
  if (!o.paid) return "pending_payment";
  const active = supplierOrders.filter((s) => !INACTIVE.includes(s.status));
  if (active.length === 0) return "paid";
  if (active.every((s) => s.status === "delivered")) return "delivered";
  const shipped = active.filter((s) => SHIPPED_LIKE.includes(s.status)).length;
  if (shipped === active.length) return "shipped";
  if (shipped > 0) return "partially_shipped";
  return "forwarded";
}

/** What staff may do with an order in each status (guards on supplier orders apply on top). */
export const ORDER_ACTIONS: Record<OrderStatus, string[]> = {
  pending_payment: ["confirm-payment", "cancel", "change-address"],
  paid: ["forward", "cancel", "change-address", "goodwill-refund"],
  forwarded: ["forward", "cancel", "change-address", "goodwill-refund"],
  partially_shipped: ["forward", "goodwill-refund"],
  shipped: ["goodwill-refund"],
  delivered: ["complete", "goodwill-refund"],
  completed: ["goodwill-refund"],
  cancelled: [],
};
