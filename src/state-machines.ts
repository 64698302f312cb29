// Every stateful thing's state machine, in one list: the first start-up hook in src/modules.ts
// checks their graphs, and so does src/platform/state-machine.test.ts. Add a machine here when a
// new thing gets a status.

import { CASE_MACHINE } from "./after-sales/case.states.js";
import { COMPLAINT_MACHINE } from "./after-sales/complaint.states.js";
import { CLAIM_MACHINE } from "./money/claim.states.js";
import { REFUND_MACHINE } from "./money/refund.states.js";
import { STATEMENT_MACHINE } from "./money/statement.states.js";
import { ORDER_MACHINE, SUPPLIER_ORDER_MACHINE } from "./orders/order.states.js";
import { type AnyMachine, checkMachines } from "./platform/state-machine.js";

export const stateMachines: AnyMachine[] = [
  CASE_MACHINE,
  COMPLAINT_MACHINE,
  ORDER_MACHINE,
  SUPPLIER_ORDER_MACHINE,
  REFUND_MACHINE,
  CLAIM_MACHINE,
  STATEMENT_MACHINE,
];

/** The start-up check: throws, naming each machine and status, when any graph is broken. */
export const checkStateMachines = (): void => checkMachines(stateMachines);
