import { CompiledQuery } from "kysely";
import PgBoss from "pg-boss";
import type { Deps, DomainEvent } from "./context.js";
import type { DbHandle, Tx } from "./db.js";

/**
 * The durable job queue: pg-boss on PostgreSQL, and on the embedded PGlite through an adapter.
 * Jobs are sent inside the transaction of the change that causes them (a transactional outbox),
 * so nothing is queued for a change that rolled back and nothing is lost after a commit.
 */
export const EVENT_QUEUE = "dropdesk-event";
export const SWEEP_QUEUE = "dropdesk-sla-sweep";

type Adapter = { executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount?: number }> };

function handleAdapter(h: DbHandle): Adapter {
  return {
    async executeSql(text, values) {
      // pg-boss sends several statements at once without parameters; a prepared statement refuses that.
      return values && values.length > 0 ? h.query(text, values) : h.exec(text);
    },
  };
}

export function txAdapter(tx: Tx): Adapter {
  return {
    async executeSql(text, values) {
      const r = await tx.executeQuery(CompiledQuery.raw(text, (values ?? []) as unknown[]));
      return { rows: r.rows, rowCount: Number(r.numAffectedRows ?? r.rows.length) };
    },
  };
}

export interface Jobs {
  boss: PgBoss;
  enqueue(tx: Tx, event: DomainEvent): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Processes starting together on one PostgreSQL deadlock when they create pg-boss's tables or a
 * queue (its partitioned insert) at the same moment: one at a time does it, under an advisory lock.
 */
async function oneAtATime(h: DbHandle, fn: () => Promise<void>): Promise<void> {
  const client = h.pool ? await h.pool.connect() : undefined;
  try {
    if (client) await client.query("SELECT pg_advisory_lock(727275)");
    await fn();
  } finally {
    if (client) {
      await client.query("SELECT pg_advisory_unlock(727275)").catch(() => {});
      client.release();
    }
  }
}

async function createQueueIfMissing(boss: PgBoss, name: string, options: Omit<PgBoss.Queue, "name">) {
  if (!(await boss.getQueue(name))) await boss.createQueue(name, { ...options, name });
}

/** Creates a capability's queue when it does not exist yet; safe with several processes starting at once. */
export async function ensureQueue(deps: Deps, name: string, options: Omit<PgBoss.Queue, "name">): Promise<void> {
  const jobs = deps.services.jobs as Jobs | undefined;
  if (!jobs) return;
  await oneAtATime(deps.h, () => createQueueIfMissing(jobs.boss, name, options));
}

export type JobHandler = (deps: Deps, event: DomainEvent) => Promise<void>;

/** Starts the queue; with `work`, this process also runs the handlers. */
export async function startJobs(deps: Deps, handlers: JobHandler[], opts: { work: boolean; pollSeconds?: number }): Promise<Jobs> {
  const h = deps.h;
  const boss =
    h.kind === "postgres" && deps.config.databaseUrl
      ? new PgBoss({ connectionString: deps.config.databaseUrl, max: 4, supervise: opts.work, schedule: opts.work })
      : new PgBoss({ db: handleAdapter(h), supervise: opts.work, schedule: false });
  boss.on("error", (err) => console.warn(`job queue: ${err.message}`));
  await oneAtATime(h, async () => {
    await boss.start();
    for (const q of [EVENT_QUEUE, SWEEP_QUEUE])
      await createQueueIfMissing(boss, q, { retryLimit: 6, retryDelay: 1, retryBackoff: true, expireInSeconds: 300 });
  });
  if (opts.work) {
    await boss.work<DomainEvent>(EVENT_QUEUE, { batchSize: 20, pollingIntervalSeconds: opts.pollSeconds ?? 1 }, async (jobs) => {
      for (const job of jobs) for (const handle of handlers) await handle(deps, job.data);
    });
  }
  return {
    boss,
    async enqueue(tx, event) {
      await boss.send(EVENT_QUEUE, event, { db: txAdapter(tx) } as PgBoss.SendOptions);
    },
    async stop() {
      await boss.stop({ graceful: true, wait: true, timeout: 5000 }).catch(() => {});
    },
  };
}

/**
 * Runs the jobs waiting in the queue now, in this process, and returns how many ran (tests and the
 * CLI use it to drive the queue deterministically). A failing handler fails its job for a retry.
 */
export async function runPendingJobs(deps: Deps, handlers: JobHandler[], boss: PgBoss): Promise<number> {
  let ran = 0;
  for (;;) {
    const jobs = await boss.fetch<DomainEvent>(EVENT_QUEUE, { batchSize: 50 });
    if (!jobs || jobs.length === 0) return ran;
    for (const job of jobs) {
      try {
        for (const handle of handlers) await handle(deps, job.data);
        await boss.complete(EVENT_QUEUE, job.id);
      } catch (e) {
        await boss.fail(EVENT_QUEUE, job.id, { message: e instanceof Error ? e.message : String(e) });
      }
      ran += 1;
    }
  }
}
