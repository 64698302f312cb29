import { defineMachine } from "../platform/state-machine.js";

/** A supplier statement (对账单) is drawn up open and closed once: closing makes it immutable. */
export const STATEMENT_STATUSES = ["open", "closed"] as const;
export type StatementStatus = (typeof STATEMENT_STATUSES)[number];

export const STATEMENT_MACHINE = defineMachine<StatementStatus, "close", "admin" | "finance", undefined>({
  name: "statement",
  statuses: STATEMENT_STATUSES,
  start: ["open"],
  final: ["closed"],
  roles: { close: ["admin", "finance"] },
  steps: { open: { close: "closed" }, closed: {} },
});
