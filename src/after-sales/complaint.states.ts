import { COMPLAINT_STATUSES, type ComplaintStatus } from "../domain/vocabulary.js";
import { defineMachine } from "../platform/state-machine.js";

/**
 * A complaint's lifecycle: it opens (assigned at once when it names an owner), is assigned or
 * reassigned, resolved with a resolution, then closed. Its `allowedActions` come from this table
 * whoever looks, as the routes admit only staff who write.
 */
export type ComplaintAction = "assign" | "resolve" | "close";

export const COMPLAINT_MACHINE = defineMachine<ComplaintStatus, ComplaintAction, "admin" | "cs", undefined>({
  name: "complaint",
  statuses: COMPLAINT_STATUSES,
  start: ["open", "assigned"],
  final: ["closed"],
  roles: { assign: ["admin", "cs"], resolve: ["admin", "cs"], close: ["admin", "cs"] },
  steps: {
    open: { assign: "assigned", resolve: "resolved" },
    assigned: { assign: "assigned", resolve: "resolved" },
    resolved: { close: "closed" },
    closed: {},
  },
});
