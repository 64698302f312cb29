import { type Compilable, CompiledQuery } from "kysely";
import type { Db, Executor } from "./db.js";

/** Stands in for a parameter while a statement's text is made; its run's value takes its place. */
class Slot {
  constructor(readonly key: string) {}
}

/** The placeholder for each argument, typed as the argument so the builder checks it. */
export type Slots<A> = { [K in keyof A]: A[K] };

/**
 * A statement whose SQL text is made once per variant instead of on every run. Building a query
 * with Kysely and compiling it costs more than anything else the server does for a request (a
 * fifth of its CPU under the lifecycle load, most of it for a handful of statements run by every
 * action: the audit entry, the case timeline entry, the case view). `build` gets a placeholder for
 * each argument, where a value goes (`values({ id: p.id })`, `where("id", "=", p.id)`), and is
 * run once per `variant`; every run then sends that text with the arguments put in place of their
 * placeholders (an argument left undefined is sent as null). Each placeholder is read by name
 * (`p.id`; spreading `p` gives nothing), and the statement's shape must depend only on the
 * variant: a builder that adds a clause or a column for some arguments names that choice. A raw
 * `sql` statement is returned compiled (`sql`…`.compile(db)`).
 */
export function precompiled<A extends Record<string, unknown>, R>(
  build: (db: Db, p: Slots<A>, variant: string) => Compilable<R> | CompiledQuery<R>,
) {
  const slots = new Proxy({}, { get: (_t, key) => new Slot(String(key)) }) as Slots<A>;
  const made = new Map<string, { sql: string; parameters: readonly unknown[] }>();
  return async (ex: Executor, args: A, variant = ""): Promise<R[]> => {
    let q = made.get(variant);
    if (!q) {
      const built = build(ex as Db, slots, variant);
      // A raw `sql` statement arrives compiled (it compiles against an executor).
      const c = "compile" in built ? built.compile() : built;
      q = { sql: c.sql, parameters: c.parameters };
      made.set(variant, q);
    }
    const values = q.parameters.map((v) => (v instanceof Slot ? (args[v.key] ?? null) : v));
    return (await ex.executeQuery(CompiledQuery.raw(q.sql, values))).rows as R[];
  };
}
