import { AsyncLocalStorage } from "node:async_hooks";
import { deserialize, serialize } from "node:v8";
import type { FastifyReply, FastifyRequest } from "fastify";
import { sql } from "kysely";
import type { Actor, Deps } from "./context.js";
import { interceptTransactions, planGenericallyWhen, type Tx } from "./db.js";
import { AppError } from "./errors.js";
import { randomToken, sha256 } from "./ids.js";

const WAIT_MS = 15_000;
/** How long an attempt holds its key without committing anything before a retry may take over. */
const leaseMs = () => Number(process.env.DROPDESK_IDEMPOTENCY_LEASE_MS ?? 30_000);
/** A recorded result larger than this is not kept; a replay of that step answers 409 instead. */
const MAX_STEP_BYTES = 256 * 1024;

interface Reservation {
  tenantId: string;
  principal: string;
  key: string;
  /** Names this attempt; only the holder of the current lease may record a step. */
  lease: string;
  /** What each committed transaction of an earlier attempt returned, by its ordinal. */
  steps: Record<string, string | null>;
  /** The ordinal the next transaction of this attempt gets. */
  next: number;
  finished: boolean;
}

declare module "fastify" {
  interface FastifyRequest {
    idempotency?: Reservation;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The request whose handler is running, for the transaction interceptor below. */
const requestScope = new AsyncLocalStorage<FastifyRequest>();
export const runInRequestScope = <T>(req: FastifyRequest, fn: () => T): T => requestScope.run(req, fn);
// A request's transactions plan their statements once (src/platform/db.ts).
planGenericallyWhen(() => requestScope.getStore() !== undefined);

/**
 * Every transaction a reserved request commits records what it returned in the idempotency row,
 * inside that same transaction. Either both commit or neither does, so a retry after a crash at any
 * point finds exactly the transactions that happened: those it replays (returning the recorded
 * result without running them), and the rest it runs. A handler is a sequence of transactions, so
 * the replay takes the same path the first attempt took.
 */
interceptTransactions(async (fn, execute) => {
  const r = requestScope.getStore()?.idempotency;
  if (!r || r.finished) return execute(fn);
  const ordinal = String(r.next++);
  if (ordinal in r.steps) return replayStep(r.steps[ordinal]);
  let recorded: string | null = null;
  const result = await execute(async (tx) => {
    const out = await fn(tx);
    recorded = encodeStep(out);
    await recordStep(tx, r, ordinal, recorded);
    return out;
  });
  r.steps[ordinal] = recorded;
  await holdForTest(requestScope.getStore());
  return result;
});

function encodeStep(value: unknown): string | null {
  try {
    const bytes = serialize(value);
    return bytes.length > MAX_STEP_BYTES ? null : bytes.toString("base64");
  } catch {
    return null;
  }
}

function replayStep<T>(recorded: string | null): T {
  if (recorded === null) {
    throw new AppError("conflict", "this request already took effect in an earlier attempt; reload to see the result");
  }
  return deserialize(Buffer.from(recorded, "base64")) as T;
}

async function recordStep(tx: Tx, r: Reservation, ordinal: string, recorded: string | null) {
  const res = await tx
    .updateTable("idempotency_keys")
    .set({
      steps: sql`steps || jsonb_build_object(${ordinal}::text, ${recorded}::text)`,
      locked_until: new Date(Date.now() + leaseMs()),
    })
    .where("tenant_id", "=", r.tenantId)
    .where("principal", "=", r.principal)
    .where("key", "=", r.key)
    .where("lease", "=", r.lease)
    .where("state", "=", "pending")
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) !== 1) {
    // A retry took this key over while this attempt was slow: its work wins, this one rolls back.
    throw new AppError("conflict", "a newer attempt of this request took over; nothing was changed by this one");
  }
}

/**
 * Tests stand in for a crash between a commit and the stored response: with
 * DROPDESK_TEST_HOLD_AFTER_COMMIT set to a path fragment, a request on that path stops for good
 * after its first committed transaction, as a process killed there would.
 */
async function holdForTest(req: FastifyRequest | undefined) {
  const fragment = process.env.DROPDESK_TEST_HOLD_AFTER_COMMIT;
  if (!fragment || !req?.url.includes(fragment)) return;
  process.stderr.write(`held after commit: ${req.method} ${req.url}\n`);
  await new Promise(() => {});
}

/**
 * Idempotency-Key on a mutating request: the first request reserves the key, runs, and stores its
 * response; a replay returns that response; the same key with another body is refused; a request
 * arriving while the first still runs waits for its result; a retry of an attempt that died takes
 * over its lease and replays the transactions it had committed. Records live in the database, so any
 * API process answers a replay.
 */
export async function beginIdempotent(deps: Deps, req: FastifyRequest, reply: FastifyReply, actor: Actor) {
  const key = req.headers["idempotency-key"];
  if (typeof key !== "string" || key.length === 0) return;
  if (key.length > 200)
    throw new AppError("validation_failed", "Idempotency-Key: at most 200 characters", {
      fields: [{ field: "Idempotency-Key", message: "too long" }],
    });
  const path = req.url.split("?")[0];
  const requestHash = sha256(`${req.method} ${path}\n${typeof req.body === "string" ? req.body : JSON.stringify(req.body ?? null)}`);
  const principal = `${actor.kind}:${actor.id}`;
  const lease = randomToken(12);
  const deadline = Date.now() + WAIT_MS;
  const own = (steps: Record<string, string | null>) => {
    req.idempotency = { tenantId: actor.tenantId, principal, key, lease, steps, next: 0, finished: false };
  };
  for (;;) {
    const inserted = await deps.db
      .insertInto("idempotency_keys")
      .values({
        tenant_id: actor.tenantId,
        principal,
        key,
        method: req.method,
        path,
        request_hash: requestHash,
        state: "pending",
        lease,
        locked_until: new Date(Date.now() + leaseMs()),
      })
      .onConflict((oc) => oc.doNothing())
      .returning("key")
      .executeTakeFirst();
    if (inserted) return own({});
    const row = await deps.db
      .selectFrom("idempotency_keys")
      .selectAll()
      .where("tenant_id", "=", actor.tenantId)
      .where("principal", "=", principal)
      .where("key", "=", key)
      .executeTakeFirst();
    if (!row) continue;
    if (row.request_hash !== requestHash) {
      throw new AppError("idempotency_key_reuse", "this Idempotency-Key was used with a different request", { key });
    }
    if (row.state === "done") {
      reply.header("idempotent-replayed", "true");
      // A done record is written with its status code.
      reply.code(row.status_code ?? 200).type(row.response_type ?? "application/json");
      return reply.send(row.response_body);
    }
    if (new Date(row.locked_until).getTime() < Date.now()) {
      // The attempt holding the key died (or stalled) before answering: take its place. The steps
      // are read in the same statement, so they include everything it committed before losing it.
      const taken = await deps.db
        .updateTable("idempotency_keys")
        .set({ lease, locked_until: new Date(Date.now() + leaseMs()) })
        .where("tenant_id", "=", actor.tenantId)
        .where("principal", "=", principal)
        .where("key", "=", key)
        .where("state", "=", "pending")
        .where("locked_until", "=", row.locked_until)
        .returning("steps")
        .executeTakeFirst();
      if (taken) return own(parseSteps(taken.steps));
    }
    if (Date.now() > deadline) throw new AppError("conflict", "a request with this Idempotency-Key is still running");
    await sleep(25);
  }
}

const parseSteps = (v: unknown): Record<string, string | null> =>
  (typeof v === "string" ? JSON.parse(v) : (v ?? {})) as Record<string, string | null>;

/**
 * Stores the response of a reserved request. A server error frees the key for a retry: at once when
 * nothing was committed, and by ending the lease when something was, so the retry replays it.
 */
export async function finishIdempotent(deps: Deps, req: FastifyRequest, reply: FastifyReply, payload: unknown) {
  const r = req.idempotency;
  if (!r) return;
  r.finished = true;
  req.idempotency = undefined;
  const mine = deps.db
    .updateTable("idempotency_keys")
    .where("tenant_id", "=", r.tenantId)
    .where("principal", "=", r.principal)
    .where("key", "=", r.key)
    .where("lease", "=", r.lease);
  if (reply.statusCode >= 500) {
    if (Object.keys(r.steps).length > 0) {
      await mine.set({ locked_until: new Date(0) }).execute();
      return;
    }
    await deps.db
      .deleteFrom("idempotency_keys")
      .where("tenant_id", "=", r.tenantId)
      .where("principal", "=", r.principal)
      .where("key", "=", r.key)
      .where("lease", "=", r.lease)
      .execute();
    return;
  }
  const ct = reply.getHeader("content-type");
  await mine
    .set({
      state: "done",
      status_code: reply.statusCode,
      response_body: typeof payload === "string" ? payload : Buffer.isBuffer(payload) ? payload.toString("utf8") : "",
      response_type: typeof ct === "string" ? ct : "application/json",
    })
    .execute();
}
