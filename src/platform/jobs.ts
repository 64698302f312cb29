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
  /** On PGlite: wakes the workers of the queues that have due jobs now, and names those queues. */
  wakeDue?: () => Promise<string[]>;
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

/**
 * How often the embedded (PGlite) server looks for jobs that have come due while nobody told a
 * worker of them, unless DROPDESK_POLL_SECONDS says otherwise. Jobs sent by this process (every
 * job, on PGlite) wake their queue's workers at once (see `wakeOnSend`), so the look bounds only
 * the wait for a retry or a job sent to run later. It is one query for all queues: each queue's
 * own fetch is an update of pg-boss's partitioned table (five queues cost ~60 ms of CPU every
 * look, the idle server's largest cost), against ~4 ms for the look.
 */
export const EMBEDDED_IDLE_POLL_SECONDS = 30;
/** The workers' own polling on PGlite, a safety net behind the look above. */
const EMBEDDED_WORKER_POLL_SECONDS = 600;

/**
 * On PGlite every job is sent by this one process, so `boss.send` wakes the workers of that queue
 * in this process instead of leaving them to poll: their fetch waits for the database's single
 * connection, i.e. until the sending transaction has ended, and so sees the job once it is
 * committed (and none if it rolled back). A worker whose batch came back full looks again at once.
 * Without DROPDESK_POLL_SECONDS the workers then poll only every EMBEDDED_WORKER_POLL_SECONDS,
 * and every EMBEDDED_IDLE_POLL_SECONDS one query finds the queues with due jobs and wakes those.
 * Returns that look, for the timer and for tests.
 */
function wakeOnSend(boss: PgBoss, h: DbHandle): () => Promise<string[]> {
  const workers = new Map<string, string[]>();
  const work = boss.work.bind(boss) as (name: string, options: PgBoss.WorkOptions, handler: PgBoss.WorkHandler<unknown>) => Promise<string>;
  const send = boss.send.bind(boss) as (...args: unknown[]) => Promise<string | null>;
  const wake = (name: string) => {
    for (const id of workers.get(name) ?? []) boss.notifyWorker(id);
  };
  const wakeDue = async (): Promise<string[]> => {
    if (workers.size === 0) return [];
    const { rows } = await h.exec("SELECT DISTINCT name FROM pgboss.job WHERE state < 'active' AND start_after < now()");
    const due = rows.map((r) => String(r.name)).filter((name) => workers.has(name));
    for (const name of due) wake(name);
    return due;
  };
  const polled = process.env.DROPDESK_POLL_SECONDS !== undefined;
  let timer: NodeJS.Timeout | undefined;
  (boss as { work: unknown }).work = async (
    name: string,
    optionsOrHandler: PgBoss.WorkOptions | PgBoss.WorkHandler<unknown>,
    maybeHandler?: PgBoss.WorkHandler<unknown>,
  ) => {
    const options = typeof optionsOrHandler === "function" ? {} : optionsOrHandler;
    const handler = (typeof optionsOrHandler === "function" ? optionsOrHandler : maybeHandler) as PgBoss.WorkHandler<unknown>;
    const pollingIntervalSeconds = polled ? options.pollingIntervalSeconds : EMBEDDED_WORKER_POLL_SECONDS;
    const batchSize = options.batchSize ?? 1;
    const id = await work(name, { ...options, pollingIntervalSeconds }, async (jobs) => {
      const r = await handler(jobs);
      if (jobs.length >= batchSize) wake(name);
      return r;
    });
    workers.set(name, [...(workers.get(name) ?? []), id]);
    if (!polled && !timer) {
      timer = setInterval(() => void wakeDue().catch(() => {}), EMBEDDED_IDLE_POLL_SECONDS * 1000);
      timer.unref();
      boss.once("stopped", () => clearInterval(timer));
    }
    return id;
  };
  (boss as { send: unknown }).send = async (...args: unknown[]) => {
    const id = await send(...args);
    const name = typeof args[0] === "string" ? args[0] : (args[0] as { name?: string } | undefined)?.name;
    if (name) wake(name);
    return id;
  };
  return wakeDue;
}

/** Starts the queue; with `work`, this process also runs the handlers. */
export async function startJobs(deps: Deps, handlers: JobHandler[], opts: { work: boolean; pollSeconds?: number }): Promise<Jobs> {
  const h = deps.h;
  const boss =
    h.kind === "postgres" && deps.config.databaseUrl
      ? new PgBoss({ connectionString: deps.config.databaseUrl, max: 4, supervise: opts.work, schedule: opts.work })
      : // Embedded: its maintenance (expiring, archiving, deleting old jobs) every 10 minutes, not 2.
        new PgBoss({ db: handleAdapter(h), supervise: opts.work, schedule: false, maintenanceIntervalSeconds: 600 });
  boss.on("error", (err) => console.warn(`job queue: ${err.message}`));
  const wakeDue = h.kind === "pglite" ? wakeOnSend(boss, h) : undefined;
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
    wakeDue,
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
