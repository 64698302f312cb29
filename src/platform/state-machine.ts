/**
 * Every stateful thing in Dropdesk (cases, orders, supplier orders, claims, statements,
 * complaints, refunds) is one machine described as data, Vendure style: for each status, the
 * steps it accepts, the status each leads to and who may take it. The API's `allowedActions`, every
 * transition and the start-up check all read the same table, so what is offered, what is accepted
 * and what is checked cannot drift apart.
 *
 * A step's roles are named once per action (`roles`), and a step may narrow them for one status.
 * A step that the system takes on an outside event (a refund settling, supplier orders rolling up)
 * is in the table so that the graph is whole, but is never offered (`offered: false`).
 */

/** Why a step may be refused for one subject: an error code, or null when it may go ahead. */
export type Guard<C> = (subject: C) => string | null;

export interface Step<S extends string, R extends string, C> {
  /** The status it leads to, or a choice made from the subject (a case's type); null: not for this subject. */
  to: S | ((subject: C) => S | null);
  /** Who may take it here, when not every role of the action may. */
  roles?: readonly R[];
  /** Refuses the step for one subject with an error code (the step is then not offered either). */
  guard?: Guard<C>;
  /**
   * Whether `allowedActions` lists the step: false for steps the system takes on events, or a
   * test of the subject; without a subject the test counts as passed.
   */
  offered?: boolean | ((subject: C) => boolean);
}

export interface MachineSpec<S extends string, A extends string, R extends string, C> {
  /** The thing's name in messages: "case", "supplier claim". */
  name: string;
  statuses: readonly S[];
  /** Where a new one starts. */
  start: readonly S[];
  /** Where it ends: nothing moves it on from there. */
  final: readonly S[];
  /** Who may take each action, named once. */
  roles: Record<A, readonly R[]>;
  /** For each status, its steps: a bare status is a step to it. */
  steps: Record<S, Partial<Record<A, S | Step<S, R, C>>>>;
  /** The order in which `allowedActions` lists actions; without it, each status's own order. */
  order?: readonly A[];
  /**
   * Subjects that between them take every branch of the steps that depend on the subject (every
   * case type). The check walks the graph once for each, since a subject keeps its kind.
   */
  subjects?: readonly C[];
}

export interface Machine<S extends string, A extends string, R extends string, C> extends MachineSpec<S, A, R, C> {
  /** The step an action takes from a status, whoever asks. */
  step(status: S, action: A): Step<S, R, C> | undefined;
  /** Where an action leads from a status for this subject (roles and guards aside), or null. */
  next(status: S, action: A, subject?: C): S | null;
  /** Who may take an action from a status. */
  rolesOf(status: S, action: A): readonly R[];
  /** Why this role may not take the action now, or null when it may. */
  refusal(status: S, action: A, opts?: { role?: R; subject?: C }): string | null;
  /** The actions offered in a status, to one role (any role when none is given) and for one subject. */
  allowed(status: S, opts?: { role?: R; subject?: C }): A[];
}

const asStep = <S extends string, R extends string, C>(s: S | Step<S, R, C>): Step<S, R, C> => (typeof s === "string" ? { to: s } : s);

export function defineMachine<S extends string, A extends string, R extends string, C = undefined>(
  spec: MachineSpec<S, A, R, C>,
): Machine<S, A, R, C> {
  const step = (status: S, action: A) => {
    const s = spec.steps[status]?.[action];
    return s === undefined ? undefined : asStep<S, R, C>(s);
  };
  const next = (status: S, action: A, subject?: C) => {
    const s = step(status, action);
    if (!s) return null;
    return typeof s.to === "function" ? s.to(subject as C) : s.to;
  };
  const rolesOf = (status: S, action: A) => step(status, action)?.roles ?? spec.roles[action] ?? [];
  const refusal = (status: S, action: A, opts: { role?: R; subject?: C } = {}): string | null => {
    const s = step(status, action);
    // Without a subject, a step whose target depends on it counts as possible.
    if (!s || (opts.subject !== undefined && next(status, action, opts.subject) === null)) return "invalid_transition";
    if (opts.role !== undefined && !rolesOf(status, action).includes(opts.role)) return "forbidden";
    return opts.subject !== undefined && s.guard ? s.guard(opts.subject) : null;
  };
  const allowed = (status: S, opts: { role?: R; subject?: C } = {}) => {
    const own = Object.keys(spec.steps[status] ?? {}) as A[];
    const actions = spec.order ? spec.order.filter((a) => own.includes(a)) : own;
    return actions.filter((a) => {
      const offered = step(status, a)?.offered ?? true;
      if (offered === false || (typeof offered === "function" && opts.subject !== undefined && !offered(opts.subject))) return false;
      return refusal(status, a, opts) === null;
    });
  };
  return { ...spec, step, next, rolesOf, refusal, allowed };
}

// The start-up check -----------------------------------------------------------------------------

/** A machine of any status, action, role and subject type, as the start-up check takes them. */
// biome-ignore lint/suspicious/noExplicitAny: the subject type is checked where each machine is defined; here any one is taken.
export type AnyMachine = Machine<string, string, string, any>;

/**
 * Everything wrong with one machine's graph, in words naming the machine and the status: a status
 * no start reaches, a non-final status with no way out (or from which no end can be reached), a
 * step whose action names no roles, a step to a status that does not exist.
 */
export function machineProblems(m: AnyMachine): string[] {
  const problems: string[] = [];
  const known = new Set(m.statuses);
  const final = new Set(m.final);
  for (const s of [...m.start, ...m.final]) if (!known.has(s)) problems.push(`${m.name}: start or final status ${s} does not exist`);
  for (const s of Object.keys(m.steps)) if (!known.has(s)) problems.push(`${m.name}: steps are given for ${s}, which does not exist`);
  const dependsOnSubject = m.statuses.some((s) =>
    Object.values(m.steps[s] ?? {}).some((x) => x && typeof x !== "string" && typeof x.to === "function"),
  );
  if (dependsOnSubject && !m.subjects?.length)
    problems.push(`${m.name}: some steps depend on the subject but the machine names no subjects`);
  const subjects: unknown[] = m.subjects?.length ? [...m.subjects] : [undefined];
  const label = (subject: unknown) => (m.subjects?.length ? ` (for ${JSON.stringify(subject)})` : "");

  for (const s of m.statuses)
    for (const a of Object.keys(m.steps[s] ?? {}))
      if (m.rolesOf(s, a).length === 0) problems.push(`${m.name}: action ${a} from ${s} names no roles`);

  const reachedByAny = new Set<string>();
  for (const subject of subjects) {
    const edges = (s: string) =>
      Object.keys(m.steps[s] ?? {})
        .map((a) => {
          let to: string | null;
          try {
            to = m.next(s, a, subject);
          } catch {
            to = null;
          }
          if (to !== null && !known.has(to)) {
            problems.push(`${m.name}: action ${a} from ${s} leads to ${to}, which does not exist${label(subject)}`);
            return null;
          }
          return to;
        })
        .filter((t): t is string => t !== null);
    const reached = walk(m.start, edges);
    for (const s of reached) reachedByAny.add(s);
    for (const s of reached) {
      if (final.has(s)) continue;
      if (!edges(s).some((t) => t !== s)) problems.push(`${m.name}: ${s} is a dead end, not final and with no way out${label(subject)}`);
      else if (![...walk([s], edges)].some((t) => final.has(t)))
        problems.push(`${m.name}: from ${s} no end can be reached${label(subject)}`);
    }
  }
  for (const s of m.statuses) if (!reachedByAny.has(s)) problems.push(`${m.name}: ${s} cannot be reached from ${m.start.join(" or ")}`);
  return [...new Set(problems)];
}

function walk(from: readonly string[], edges: (s: string) => string[]): Set<string> {
  const seen = new Set(from);
  const queue = [...from];
  while (queue.length) {
    for (const t of edges(queue.shift() as string))
      if (!seen.has(t)) {
        seen.add(t);
        queue.push(t);
      }
  }
  return seen;
}

/** Throws, naming every problem, when any machine's graph is broken; run at start-up and by tests. */
export function checkMachines(machines: readonly AnyMachine[]): void {
  const problems = machines.flatMap(machineProblems);
  if (problems.length) throw new Error(`state machines are broken:\n${problems.map((p) => `- ${p}`).join("\n")}`);
}
