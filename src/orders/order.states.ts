import { ORDER_STATUSES, type OrderStatus, SUPPLIER_ORDER_STATUSES, type SupplierOrderStatus } from "../domain/vocabulary.js";
import { defineMachine, type Step } from "../platform/state-machine.js";

/**
 * Order and supplier-order state machines as data. `allowedActions` shown by the API comes from
 * these same tables; the order's status is derived from its supplier orders (roll-up), never set
 * by hand except for the explicit ends (cancelled, completed).
 */
// The statuses are the domain vocabulary's, shared with the web app.
export { ORDER_STATUSES, type OrderStatus, SUPPLIER_ORDER_STATUSES, type SupplierOrderStatus };

type Who = "staff" | "supplier";
type SupplierOrderAction =
  | "accept"
  | "reject"
  | "ship"
  | "request-cancel"
  | "confirm-cancel"
  | "refuse-cancel"
  | "deliver"
  | "request-intercept"
  | "intercept-result"
  | "mark-returned";
type SoStep = SupplierOrderStatus | Step<SupplierOrderStatus, Who, Record<string, unknown>>;

export const SUPPLIER_ORDER_TRANSITIONS: Record<SupplierOrderStatus, Partial<Record<SupplierOrderAction, SoStep>>> = {
  pending: { accept: "accepted", reject: "rejected", ship: "shipped", "request-cancel": "cancel_requested" },
  accepted: { ship: "shipped", reject: "rejected", "request-cancel": "cancel_requested" },
  cancel_requested: { "confirm-cancel": "cancelled", "refuse-cancel": "accepted", ship: "shipped" },
  shipped: { deliver: "delivered", "request-intercept": "intercept_requested", "mark-returned": "returned" },
  intercept_requested: {
    "intercept-result": { to: (i) => (i.outcome === "intercepted" ? "intercepted" : "shipped") },
    deliver: "delivered",
  },
  // The supplier reports an intercepted parcel back too.
  intercepted: { "mark-returned": { to: "returned", roles: ["staff", "supplier"] } },
  delivered: {},
  rejected: {},
  cancelled: {},
  returned: {},
};

export const SUPPLIER_ORDER_MACHINE = defineMachine<SupplierOrderStatus, SupplierOrderAction, Who, Record<string, unknown>>({
  name: "supplier order",
  statuses: SUPPLIER_ORDER_STATUSES,
  start: ["pending"],
  final: ["delivered", "rejected", "cancelled", "returned"],
  roles: {
    accept: ["staff", "supplier"],
    reject: ["staff", "supplier"],
    ship: ["staff", "supplier"],
    "request-cancel": ["staff"],
    "confirm-cancel": ["staff", "supplier"],
    "refuse-cancel": ["staff", "supplier"],
    deliver: ["staff"],
    "request-intercept": ["staff"],
    "intercept-result": ["staff", "supplier"],
    "mark-returned": ["staff"],
  },
  steps: SUPPLIER_ORDER_TRANSITIONS,
  subjects: [{ outcome: "intercepted" }, { outcome: "failed" }],
});

export function supplierOrderActions(status: SupplierOrderStatus, who: Who): string[] {
  return SUPPLIER_ORDER_MACHINE.allowed(status, { role: who });
}

export function nextSupplierOrderStatus(
  status: SupplierOrderStatus,
  action: string,
  input: Record<string, unknown> = {},
): SupplierOrderStatus | null {
  return SUPPLIER_ORDER_MACHINE.next(status, action as SupplierOrderAction, input);
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

type OrderAction = "confirm-payment" | "forward" | "cancel" | "change-address" | "complete" | "goodwill-refund";
/** The roll-up (deriveOrderStatus) moves an order as its supplier orders move; the system takes these, never staff. */
type RollUp = "some-shipped" | "all-shipped" | "all-delivered" | "none-active";
type OrderSubject = { supplierOrders: readonly { status: string }[] };
type OrderStep = OrderStatus | Step<OrderStatus, "staff" | "system", OrderSubject>;

const anyShipped = (o: OrderSubject) => o.supplierOrders.some((s) => SHIPPED_LIKE.includes(s.status as SupplierOrderStatus));
/** Cancel and address change work until a parcel ships; after that, interception. */
const beforeShipping = (to: OrderStatus): OrderStep => ({ to, guard: (o) => (anyShipped(o) ? "already_shipped" : null) });
const rolledUp = (to: OrderStatus): OrderStep => ({ to, offered: false });

const ORDER_STEPS: Record<OrderStatus, Partial<Record<OrderAction | RollUp, OrderStep>>> = {
  pending_payment: { "confirm-payment": "paid", cancel: beforeShipping("cancelled"), "change-address": beforeShipping("pending_payment") },
  paid: { forward: "forwarded", cancel: beforeShipping("cancelled"), "change-address": beforeShipping("paid"), "goodwill-refund": "paid" },
  forwarded: {
    forward: "forwarded",
    cancel: beforeShipping("cancelled"),
    "change-address": beforeShipping("forwarded"),
    "goodwill-refund": "forwarded",
    "some-shipped": rolledUp("partially_shipped"),
    "all-shipped": rolledUp("shipped"),
    // Every supplier order rejected or cancelled and no other offer: the order waits to be forwarded again.
    "none-active": rolledUp("paid"),
  },
  partially_shipped: {
    forward: "partially_shipped",
    "goodwill-refund": "partially_shipped",
    "all-shipped": rolledUp("shipped"),
    "all-delivered": rolledUp("delivered"),
  },
  shipped: { "goodwill-refund": "shipped", "all-delivered": rolledUp("delivered") },
  delivered: { complete: "completed", "goodwill-refund": "delivered" },
  completed: { "goodwill-refund": "completed" },
  cancelled: {},
};

export const ORDER_MACHINE = defineMachine<OrderStatus, OrderAction | RollUp, "staff" | "system", OrderSubject>({
  name: "order",
  statuses: ORDER_STATUSES,
  start: ["pending_payment", "paid"],
  final: ["completed", "cancelled"],
  roles: {
    "confirm-payment": ["staff"],
    forward: ["staff"],
    cancel: ["staff"],
    "change-address": ["staff"],
    complete: ["staff"],
    "goodwill-refund": ["staff"],
    "some-shipped": ["system"],
    "all-shipped": ["system"],
    "all-delivered": ["system"],
    "none-active": ["system"],
  },
  steps: ORDER_STEPS,
  order: ["confirm-payment", "forward", "cancel", "change-address", "complete", "goodwill-refund"],
});

/** What staff may do with an order in each status (guards on supplier orders apply on top). */
export const ORDER_ACTIONS = Object.fromEntries(ORDER_STATUSES.map((s) => [s, ORDER_MACHINE.allowed(s, { role: "staff" })])) as Record<
  OrderStatus,
  string[]
>;

/** What staff may do with this order now: before any parcel ships, cancel and address change too. */
export function allowedOrderActions(status: OrderStatus, supplierOrders: readonly Record<string, unknown>[]): string[] {
  return ORDER_MACHINE.allowed(status, { role: "staff", subject: { supplierOrders: supplierOrders as { status: string }[] } });
}
