import type { Deps } from "./context.js";
import { AppError } from "./errors.js";

/** A fixed-window counter kept in the database, so every API process shares it. */
export async function rateLimit(deps: Deps, key: string, max: number, windowSeconds: number): Promise<void> {
  const now = new Date();
  const windowStart = new Date(Math.floor(now.getTime() / (windowSeconds * 1000)) * windowSeconds * 1000);
  const row = await deps.db
    .insertInto("rate_limits")
    .values({ key, window_start: windowStart, count: 1 })
    .onConflict((oc) =>
      oc.column("key").doUpdateSet((eb) => ({
        count: eb
          .case()
          .when("rate_limits.window_start", "=", windowStart)
          .then(eb("rate_limits.count", "+", 1))
          .else(1)
          .end(),
        window_start: windowStart,
      })),
    )
    .returning("count")
    .executeTakeFirstOrThrow();
  if (row.count > max) throw new AppError("rate_limited", "too many attempts; wait a minute and try again");
}
