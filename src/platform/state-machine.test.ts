import { describe, expect, it } from "vitest";
import { stateMachines } from "../state-machines.js";
import { checkMachines, defineMachine, machineProblems } from "./state-machine.js";

type Status = "new" | "open" | "done" | "lost";
type Action = "open" | "finish" | "reopen";

/** A small ticket machine; each test breaks one thing about it. */
const ticket = (over: Partial<Parameters<typeof defineMachine<Status, Action, "staff" | "bot", { vip: boolean }>>[0]> = {}) =>
  defineMachine<Status, Action, "staff" | "bot", { vip: boolean }>({
    name: "ticket",
    statuses: ["new", "open", "done", "lost"],
    start: ["new"],
    final: ["done", "lost"],
    roles: { open: ["staff", "bot"], finish: ["staff"], reopen: ["staff"] },
    steps: {
      new: { open: "open", finish: { to: (t) => (t.vip ? "done" : "lost") } },
      open: { finish: { to: "done", guard: (t) => (t.vip ? null : "needs_vip") }, reopen: "open" },
      done: {},
      lost: {},
    },
    subjects: [{ vip: true }, { vip: false }],
    ...over,
  });

describe("state machines", () => {
  it("passes the start-up check for every machine Dropdesk runs", () => {
    expect(stateMachines.length).toBeGreaterThanOrEqual(7);
    expect(() => checkMachines(stateMachines)).not.toThrow();
  });

  it("finds nothing wrong with a whole graph", () => {
    expect(machineProblems(ticket())).toEqual([]);
  });

  it("reports a status no start reaches, naming the machine and the status", () => {
    const m = ticket({ steps: { new: { open: "open" }, open: { finish: "done" }, done: {}, lost: {} } });
    expect(machineProblems(m)).toEqual(["ticket: lost cannot be reached from new"]);
    expect(() => checkMachines([m])).toThrow(/ticket: lost cannot be reached from new/);
  });

  it("reports a non-final status with no way out, and one from which no end can be reached", () => {
    const deadEnd = ticket({
      subjects: [],
      steps: { new: { open: "open", finish: "lost" }, open: { reopen: "open" }, done: {}, lost: {} },
    });
    expect(machineProblems(deadEnd)).toContain("ticket: open is a dead end, not final and with no way out");
    const loop = ticket({
      subjects: [],
      steps: { new: { open: "open", finish: "done" }, open: { reopen: "lost" }, done: {}, lost: { reopen: "open" } },
      final: ["done"],
    });
    expect(machineProblems(loop)).toEqual(["ticket: from open no end can be reached", "ticket: from lost no end can be reached"]);
  });

  it("reports a dead end that only some subjects meet, naming the subject", () => {
    const m = ticket({ steps: { new: { finish: { to: (t) => (t.vip ? "done" : "open") } }, open: {}, done: {}, lost: { open: "new" } } });
    expect(machineProblems(m)).toContain('ticket: open is a dead end, not final and with no way out (for {"vip":false})');
  });

  it("reports an action that names no roles and a step to a status that does not exist", () => {
    const m = ticket({ roles: { open: ["staff"], finish: [], reopen: ["staff"] } });
    expect(machineProblems(m)).toEqual(["ticket: action finish from new names no roles", "ticket: action finish from open names no roles"]);
    const typo = ticket({
      subjects: [],
      steps: { new: { open: "open", finish: "lost" }, open: { finish: "dnoe" as Status }, done: {}, lost: {} },
    });
    expect(machineProblems(typo)).toContain("ticket: action finish from open leads to dnoe, which does not exist");
  });

  it("reports steps that depend on the subject when the machine names no subjects", () => {
    expect(machineProblems(ticket({ subjects: [] }))).toContain(
      "ticket: some steps depend on the subject but the machine names no subjects",
    );
  });

  it("offers the actions the role may take and the guards let through, in the table's order", () => {
    const m = ticket();
    expect(m.allowed("open", { role: "staff", subject: { vip: true } })).toEqual(["finish", "reopen"]);
    expect(m.allowed("open", { role: "staff", subject: { vip: false } })).toEqual(["reopen"]);
    expect(m.allowed("open", { role: "bot", subject: { vip: true } })).toEqual([]);
    expect(m.allowed("new", { role: "bot", subject: { vip: true } })).toEqual(["open"]);
    expect(m.refusal("open", "finish", { role: "staff", subject: { vip: false } })).toBe("needs_vip");
    expect(m.refusal("open", "finish", { role: "bot", subject: { vip: true } })).toBe("forbidden");
    expect(m.refusal("done", "finish", { role: "staff" })).toBe("invalid_transition");
    expect(m.next("new", "finish", { vip: false })).toBe("lost");
  });

  it("never offers a step the system takes on an event, but still takes it", () => {
    const m = ticket({
      steps: { new: { open: { to: "open", offered: false }, finish: "lost" }, open: { finish: "done" }, done: {}, lost: {} },
    });
    expect(m.allowed("new", { role: "bot" })).toEqual([]);
    expect(m.refusal("new", "open", { role: "bot" })).toBeNull();
    expect(machineProblems(m)).toEqual([]);
  });
});
