import type { CaseType } from "../policies/rules.js";

/**
 * The case lifecycle as data (Vendure style): for each status, the actions it accepts, the status
 * they lead to (which may depend on the case type), and who may take them. `allowedActions` in the
 * API and every transition come from this one table; `checkCaseGraph` verifies it at start-up.
 */
export const CASE_STATUSES = [
  "submitted",
  "info_requested",
  "approved",
  "rejected",
  "awaiting_return",
  "return_in_transit",
  "received",
  "inspected",
  "refund_pending",
  "refunded",
  "offer_pending",
  "fulfilling",
  "resolved",
  "closed",
  "cancelled",
] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

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

/** Who may take each action. */
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

type Target = CaseStatus | ((type: CaseType) => CaseStatus | null);
/** Actions that change nothing but a field (no status change) are allowed in every open status. */
const SIDE_ACTIONS: CaseAction[] = ["set-responsibility", "escalate", "assign"];
const FINAL: CaseStatus[] = ["closed", "cancelled", "rejected"];

export const CASE_TRANSITIONS: Record<CaseStatus, Partial<Record<CaseAction, Target>>> = {
  submitted: {
    approve: (t) => (needsReturn(t) ? "awaiting_return" : t === "reship" ? "fulfilling" : "approved"),
    reject: "rejected",
    "request-info": "info_requested",
    "offer-compensation": "offer_pending",
    cancel: "cancelled",
  },
  info_requested: {
    "provide-info": "submitted",
    approve: (t) => (needsReturn(t) ? "awaiting_return" : t === "reship" ? "fulfilling" : "approved"),
    reject: "rejected",
    cancel: "cancelled",
  },
  approved: {
    refund: (t) => (t === "refund_only" || t === "compensation" ? "refund_pending" : null),
    "offer-compensation": "offer_pending",
    resolve: "resolved",
    cancel: "cancelled",
  },
  awaiting_return: {
    "ship-return": "return_in_transit",
    receive: "received",
    cancel: "cancelled",
    close: "closed",
  },
  return_in_transit: { receive: "received" },
  received: { inspect: "inspected" },
  inspected: {
    refund: (t) => (t === "return_refund" ? "refund_pending" : null),
    resolve: (t) => (t === "exchange" || t === "repair" ? "fulfilling" : "resolved"),
    "offer-compensation": "offer_pending",
  },
  refund_pending: {},
  refunded: { resolve: "resolved", close: "closed" },
  offer_pending: { "accept-offer": "resolved", reject: "rejected", cancel: "cancelled" },
  fulfilling: { resolve: "resolved" },
  resolved: { close: "closed" },
  closed: {},
  cancelled: {},
  rejected: {},
};

export function nextStatus(status: CaseStatus, action: CaseAction, type: CaseType): CaseStatus | null {
  if (SIDE_ACTIONS.includes(action)) return FINAL.includes(status) ? null : status;
  const t = CASE_TRANSITIONS[status][action];
  if (!t) return null;
  return typeof t === "function" ? t(type) : t;
}

export function allowedCaseActions(status: CaseStatus, type: CaseType, role: CaseRole): CaseAction[] {
  return CASE_ACTIONS.filter((a) => ACTION_ROLES[a].includes(role) && nextStatus(status, a, type) !== null);
}

/** Every status is reachable from `submitted` and every non-final status can move on; run at start-up. */
export function checkCaseGraph(): void {
  for (const type of ["refund_only", "return_refund", "exchange", "repair", "reship", "compensation"] as CaseType[]) {
    const seen = new Set<CaseStatus>(["submitted"]);
    const queue: CaseStatus[] = ["submitted"];
    while (queue.length) {
      const s = queue.shift() as CaseStatus;
      for (const a of CASE_ACTIONS) {
        const n = nextStatus(s, a, type);
        if (n && !seen.has(n)) {
          seen.add(n);
          queue.push(n);
        }
      }
    }
    if (!seen.has("closed")) throw new Error(`case graph: a ${type} case can never be closed`);
  }
  for (const s of CASE_STATUSES) {
    if (!FINAL.includes(s) && s !== "refund_pending" && Object.keys(CASE_TRANSITIONS[s]).length === 0)
      throw new Error(`case graph: ${s} is a dead end`);
  }
}
