import { CLAIM_STATUSES, type ClaimStatus } from "../domain/vocabulary.js";
import type { Role } from "../platform/context.js";
import { defineMachine } from "../platform/state-machine.js";

/**
 * A supplier claim's lifecycle: the supplier accepts or disputes it (finance may answer for it, and
 * an unanswered claim is accepted by the SLA timer), finance cancels a disputed one, and an
 * accepted one is settled by deduction, on a closed statement or by hand.
 */
export type ClaimAction = "accept" | "dispute" | "settle" | "cancel";

export const CLAIM_MACHINE = defineMachine<ClaimStatus, ClaimAction, Role, undefined>({
  name: "supplier claim",
  statuses: CLAIM_STATUSES,
  start: ["open"],
  final: ["settled", "cancelled"],
  roles: {
    accept: ["supplier", "admin", "finance"],
    dispute: ["supplier", "admin", "finance"],
    settle: ["admin", "finance"],
    cancel: ["admin", "finance"],
  },
  steps: {
    open: { accept: "accepted", dispute: "disputed", settle: "settled" },
    disputed: { accept: "accepted", cancel: "cancelled" },
    accepted: { settle: "settled" },
    settled: {},
    cancelled: {},
  },
});
