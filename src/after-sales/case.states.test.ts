import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CASE_TYPES } from "../policies/rules.js";
import { ACTION_ROLES, allowedCaseActions, CASE_ACTIONS, CASE_STATUSES, type CaseRole, checkCaseGraph, nextStatus } from "./case.states.js";

const ROLES: CaseRole[] = ["admin", "cs", "warehouse", "finance", "viewer", "supplier", "customer", "system"];
const FINAL = ["closed", "cancelled", "rejected"];

describe("case state table", () => {
  it("passes its own start-up check", () => {
    expect(() => checkCaseGraph()).not.toThrow();
  });

  it("keeps every random walk inside the table, and final states accept nothing", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CASE_TYPES),
        fc.array(fc.tuple(fc.constantFrom(...CASE_ACTIONS), fc.constantFrom(...ROLES)), { maxLength: 40 }),
        (type, steps) => {
          let status: (typeof CASE_STATUSES)[number] = "submitted";
          for (const [action, role] of steps) {
            const allowed = allowedCaseActions(status, type, role);
            const to = nextStatus(status, action, type);
            // allowedActions is exactly "the table has a target and the role may act".
            expect(allowed.includes(action)).toBe(to !== null && ACTION_ROLES[action].includes(role));
            if (FINAL.includes(status)) expect(allowed).toEqual([]);
            if (allowed.includes(action) && to) {
              expect(CASE_STATUSES).toContain(to);
              status = to;
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("lets viewers and suppliers take no action in any state", () => {
    for (const s of CASE_STATUSES)
      for (const type of CASE_TYPES) {
        expect(allowedCaseActions(s, type, "viewer")).toEqual([]);
        expect(allowedCaseActions(s, type, "supplier")).toEqual([]);
      }
  });
});
