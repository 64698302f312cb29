import { REFUND_STATUSES, type RefundStatus } from "../domain/vocabulary.js";
import { defineMachine } from "../platform/state-machine.js";

/**
 * A refund's lifecycle, two-phase like a TigerBeetle transfer: it is written pending, sent to its
 * gateway (processing), and the gateway's answer settles it once, succeeded or failed. Finance may
 * confirm a manual refund with its bank reference and retry a failed one under the same gateway key.
 *
 * What is offered differs from what is accepted, and stays so: `confirm` is accepted while the
 * refund is pending or processing, but offered only for a manual refund that is processing; a
 * refusal lists what the status offers to some refund, as it always has.
 */
export type RefundAction = "confirm" | "retry";
/** The system's steps: sending to the gateway and the gateway's answer. Never offered. */
type RefundEvent = "send" | "gateway-succeeded" | "gateway-failed";
export type RefundSubject = { gateway: string };

const event = (to: RefundStatus) => ({ to, offered: false as const });

export const REFUND_MACHINE = defineMachine<RefundStatus, RefundAction | RefundEvent, "admin" | "finance" | "system", RefundSubject>({
  name: "refund",
  statuses: REFUND_STATUSES,
  start: ["pending"],
  final: ["succeeded"],
  roles: {
    confirm: ["admin", "finance"],
    retry: ["admin", "finance"],
    send: ["system"],
    "gateway-succeeded": ["system"],
    "gateway-failed": ["system"],
  },
  steps: {
    pending: {
      send: event("processing"),
      confirm: { to: "succeeded", offered: false },
      "gateway-succeeded": event("succeeded"),
      "gateway-failed": event("failed"),
    },
    processing: {
      confirm: { to: "succeeded", offered: (r) => r.gateway === "manual" },
      "gateway-succeeded": event("succeeded"),
      "gateway-failed": event("failed"),
    },
    failed: { retry: "pending" },
    succeeded: {},
  },
});
