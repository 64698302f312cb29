import { CASE_STATUSES, type CaseStatus } from "../domain/vocabulary.js";
import { STAFF_ROLES, type StaffRole } from "../platform/context.js";
import { checkMachines, defineMachine, type Step } from "../platform/state-machine.js";
import { CASE_TYPES, type CaseType } from "../policies/rules.js";

/**
 * The case lifecycle as data (Vendure style): for each status, the actions it accepts, the status
 * they lead to (which may depend on the case type), and who may take them. `allowedActions` in the
 * API and every transition come from this one table, checked at start-up with every other machine.
 */
// The statuses are the domain vocabulary's, shared with the web app.
export { CASE_STATUSES, type CaseStatus };

export const CASE_ACTIONS = [
  "approve",
  "reject",
  "request-info",
  "provide-info",
  "set-responsibility",
  "ship-return",
  "receive",
  "inspect",
  "refund",
  "offer-compensation",
  "accept-offer",
  "resolve",
  "close",
  "cancel",
  "escalate",
  "assign",
] as const;
export type CaseAction = (typeof CASE_ACTIONS)[number];

export type CaseRole = "admin" | "cs" | "warehouse" | "finance" | "viewer" | "supplier" | "customer" | "system";

/** Steps the system takes on events from elsewhere; they are in the table but never offered. */
type CaseEvent = "refund-settled";

/** Who may take each action, named once: the action routes admit the staff among them. */
export const ACTION_ROLES: Record<CaseAction, CaseRole[]> = {
  approve: ["admin", "cs", "system"],
  reject: ["admin", "cs"],
  "request-info": ["admin", "cs"],
  "provide-info": ["admin", "cs", "customer"],
  "set-responsibility": ["admin", "cs"],
  "ship-return": ["admin", "cs", "customer"],
  receive: ["admin", "warehouse", "cs"],
  inspect: ["admin", "warehouse"],
  refund: ["admin", "finance", "cs", "system"],
  "offer-compensation": ["admin", "cs"],
  "accept-offer": ["admin", "cs", "customer"],
  resolve: ["admin", "cs", "system"],
  close: ["admin", "cs", "system"],
  cancel: ["admin", "cs", "customer"],
  escalate: ["admin", "cs", "customer", "system"],
  assign: ["admin", "cs"],
};

const RETURN_TYPES: CaseType[] = ["return_refund", "exchange", "repair"];
export const needsReturn = (t: CaseType) => RETURN_TYPES.includes(t);

type Target = CaseStatus | Step<CaseStatus, CaseRole, CaseType>;
const byType = (to: (type: CaseType) => CaseStatus | null): Target => ({ to });

/** Actions that change nothing but a field stay in the status, and are allowed in every open status. */
const side = (s: CaseStatus): Partial<Record<CaseAction, Target>> => ({ "set-responsibility": s, escalate: s, assign: s });
const approve = byType((t) => (needsReturn(t) ? "awaiting_return" : t === "reship" ? "fulfilling" : "approved"));

export const CASE_TRANSITIONS: Record<CaseStatus, Partial<Record<CaseAction | CaseEvent, Target>>> = {
  submitted: {
    approve,
    reject: "rejected",
    "request-info": "info_requested",
    "offer-compensation": "offer_pending",
    cancel: "cancelled",
    ...side("submitted"),
  },
  info_requested: { "provide-info": "submitted", approve, reject: "rejected", cancel: "cancelled", ...side("info_requested") },
  approved: {
    refund: byType((t) => (t === "refund_only" || t === "compensation" ? "refund_pending" : null)),
    "offer-compensation": "offer_pending",
    resolve: "resolved",
    cancel: "cancelled",
    ...side("approved"),
  },
  awaiting_return: {
    "ship-return": "return_in_transit",
    receive: "received",
    cancel: "cancelled",
    close: "closed",
    ...side("awaiting_return"),
  },
  return_in_transit: { receive: "received", ...side("return_in_transit") },
  received: { inspect: "inspected", ...side("received") },
  inspected: {
    refund: byType((t) => (t === "return_refund" ? "refund_pending" : null)),
    resolve: byType((t) => (t === "exchange" || t === "repair" ? "fulfilling" : "resolved")),
    "offer-compensation": "offer_pending",
    ...side("inspected"),
  },
  // The refund's settlement moves the case on (onCaseRefundSettled); a failed refund leaves it here.
  refund_pending: { "refund-settled": { to: "refunded", roles: ["system"], offered: false }, ...side("refund_pending") },
  refunded: { resolve: "resolved", close: "closed", ...side("refunded") },
  offer_pending: { "accept-offer": "resolved", reject: "rejected", cancel: "cancelled", ...side("offer_pending") },
  fulfilling: { resolve: "resolved", ...side("fulfilling") },
  resolved: { close: "closed", ...side("resolved") },
  closed: {},
  cancelled: {},
  rejected: {},
};

export const CASE_MACHINE = defineMachine<CaseStatus, CaseAction | CaseEvent, CaseRole, CaseType>({
  name: "case",
  statuses: CASE_STATUSES,
  start: ["submitted"],
  final: ["closed", "cancelled", "rejected"],
  roles: { ...ACTION_ROLES, "refund-settled": ["system"] },
  steps: CASE_TRANSITIONS,
  order: CASE_ACTIONS,
  subjects: CASE_TYPES,
});

/** The staff roles that may call an action's route (customers act through the portal, the system within). */
export const actionRouteRoles = (action: CaseAction): StaffRole[] =>
  ACTION_ROLES[action].filter((r): r is StaffRole => (STAFF_ROLES as readonly string[]).includes(r));

export function nextStatus(status: CaseStatus, action: CaseAction, type: CaseType): CaseStatus | null {
  return CASE_MACHINE.next(status, action, type);
}

export function allowedCaseActions(status: CaseStatus, type: CaseType, role: CaseRole): CaseAction[] {
  return CASE_MACHINE.allowed(status, { role, subject: type }) as CaseAction[];
}

/** The case graph passes the one start-up check of every machine (`checkMachines`). */
export function checkCaseGraph(): void {
  checkMachines([CASE_MACHINE]);
}
