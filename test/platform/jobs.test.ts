import { describe, expect, it } from "vitest";
import type { Jobs } from "../../src/platform/jobs.js";
import { startTestApp } from "../helpers/harness.js";

/** Waits for `ok` to hold, checking every 20 ms (at most `ms`). */
async function until(ok: () => boolean | Promise<boolean>, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

// On PGlite the workers are woken by this process's sends, and one look every half-minute finds the
// jobs that came due without a send (a retry, a job sent to run later), for every queue at once.
describe("the embedded job queue", () => {
  it("runs a retry that came due through the one look for due jobs, which names only queues with work", async () => {
    const t = await startTestApp("pglite", { workers: true });
    try {
      const jobs = t.deps.services.jobs as Jobs;
      const queue = "dropdesk-test-due";
      await jobs.boss.createQueue(queue, { name: queue, retryLimit: 2, retryDelay: 0 });
      const attempts: number[] = [];
      // A batch of two, so that a batch of one failed job does not wake the worker by itself.
      await jobs.boss.work<{ n: number }>(queue, { batchSize: 2 }, async ([job]) => {
        attempts.push(job.data.n);
        if (attempts.length === 1) throw new Error("supplier platform unavailable");
      });
      await jobs.boss.send(queue, { n: 7 });
      await until(() => attempts.length === 1);
      // The failed job waits as a retry: nothing sent it again, and the worker's own polling is minutes away.
      const states = async () => (await t.deps.h.query("SELECT state FROM pgboss.job WHERE name = $1", [queue])).rows.map((r) => r.state);
      await until(async () => (await states())[0] === "retry");
      expect(attempts).toEqual([7]);
      const woken = await (jobs.wakeDue as () => Promise<string[]>)();
      expect(woken).toEqual([queue]);
      await until(() => attempts.length === 2);
      expect(attempts).toEqual([7, 7]);
      // Nothing is due any more: the look wakes nobody.
      await until(async () => (await states())[0] === "completed");
      expect(await states()).toEqual(["completed"]);
      expect(await (jobs.wakeDue as () => Promise<string[]>)()).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
