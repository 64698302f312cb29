import type { Deps } from "./context.js";
import { AppError, type Text } from "./errors.js";

const tooMany = (
  retryAfterSeconds: number,
  message: Text = { en: "too many attempts; wait a minute and try again", "zh-CN": "尝试次数过多，请一分钟后再试" },
) => new AppError("rate_limited", message, { retryAfterSeconds });

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
  if (row.count > max) {
    const retryAfterSeconds = Math.max(1, Math.ceil((windowStart.getTime() + windowSeconds * 1000 - now.getTime()) / 1000));
    throw tooMany(retryAfterSeconds);
  }
}

export interface Backoff {
  /** Failures allowed before any wait. */
  free: number;
  /** The wait after the first failure past `free`; it doubles with each further failure. */
  firstDelaySeconds: number;
  /** The longest wait, so the rightful person is never locked out for long. */
  maxDelaySeconds: number;
  /** Failures older than this are forgotten. */
  forgetAfterSeconds: number;
}

/**
 * A failure counter with an escalating delay (1 s, 2 s, 4 s … up to a cap) instead of a lock-out:
 * guessing slows to a crawl while the person who knows the answer waits seconds, not minutes. The
 * row keeps the count and the time of the last failure (in `window_start`).
 */
export async function checkBackoff(deps: Deps, key: string, b: Backoff): Promise<void> {
  const row = await deps.db.selectFrom("rate_limits").select(["window_start", "count"]).where("key", "=", key).executeTakeFirst();
  if (!row) return;
  const last = new Date(row.window_start).getTime();
  const now = Date.now();
  if (now - last > b.forgetAfterSeconds * 1000 || row.count <= b.free) return;
  const delayMs = Math.min(b.maxDelaySeconds, b.firstDelaySeconds * 2 ** (row.count - b.free - 1)) * 1000;
  const waitMs = last + delayMs - now;
  if (waitMs > 0) {
    const seconds = Math.ceil(waitMs / 1000);
    throw tooMany(seconds, { en: `too many wrong attempts; try again in ${seconds} s`, "zh-CN": `错误次数过多，请 ${seconds} 秒后再试` });
  }
}

export async function recordFailure(deps: Deps, key: string, b: Backoff): Promise<void> {
  const now = new Date();
  const forgotten = new Date(now.getTime() - b.forgetAfterSeconds * 1000);
  await deps.db
    .insertInto("rate_limits")
    .values({ key, window_start: now, count: 1 })
    .onConflict((oc) =>
      oc.column("key").doUpdateSet((eb) => ({
        count: eb
          .case()
          .when("rate_limits.window_start", "<", forgotten)
          .then(1)
          .else(eb("rate_limits.count", "+", 1))
          .end(),
        window_start: now,
      })),
    )
    .execute();
}

export async function clearFailures(deps: Deps, key: string): Promise<void> {
  await deps.db.deleteFrom("rate_limits").where("key", "=", key).execute();
}
