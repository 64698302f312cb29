import { ServiceError } from "./http.js";
import type { ConnectorOptions } from "./kind.js";

/** The n-th back-off delay (n from 1): doubling from the base, capped, with up to 20 % jitter. */
export function backoffMs(opts: Pick<ConnectorOptions, "baseDelayMs" | "maxDelayMs">, n: number, random = Math.random): number {
  const d = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** Math.max(0, n - 1));
  return Math.round(d * (1 + 0.2 * random()));
}

/**
 * Runs one call to a service, retrying inside the job what is worth retrying now: a rate limit
 * whose wait is short (the service's own Retry-After or throttle figures, never less), and
 * transient failures (5xx, timeouts, network) after a growing back-off. Anything else, and waits
 * too long to hold a job for, are thrown for the job runner to reschedule or report.
 */
export async function withRetries<T>(opts: ConnectorOptions, call: () => Promise<T>): Promise<T> {
  let transient = 0;
  let limited = 0;
  for (;;) {
    try {
      return await call();
    } catch (e) {
      if (!(e instanceof ServiceError)) throw e;
      if (e.kind === "rate_limited") {
        const wait = e.opts.retryAfterMs ?? opts.baseDelayMs;
        limited += 1;
        if (wait > opts.maxInlineWaitMs || limited > 20) throw e;
        await opts.sleep(wait);
        continue;
      }
      if (e.kind === "transient" && transient < opts.inlineRetries) {
        transient += 1;
        await opts.sleep(backoffMs(opts, transient));
        continue;
      }
      throw e;
    }
  }
}
