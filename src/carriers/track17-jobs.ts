import { contextFor, loadConnector } from "../connectors/context.js";
import { ServiceError } from "../connectors/http.js";
import { backoffMs } from "../connectors/retry.js";
import type { Deps } from "../platform/context.js";
import { enqueueCarrierJob } from "./jobs.js";
import { TRACK17_BATCH, track17Carrier, track17Error } from "./track17.js";
import { registerNumbers, track17SettingsOf } from "./track17-client.js";

/**
 * Registers a 17TRACK connector's pending numbers, 40 a call. 17TRACK allows a few calls a second
 * per key, so one job makes at most three calls and hands the rest to a job a second later. A
 * number 17TRACK already has counts as registered; a number it refuses is recorded as failed with
 * the reason in words; a 429, a 5xx or its internal error leaves the batch pending, tried again
 * after a growing delay (or the service's Retry-After), up to eight times.
 */
const CALLS_PER_JOB = 3;
const MAX_ATTEMPTS = 8;
const BACKOFF = { baseDelayMs: 30_000, maxDelayMs: 3_600_000 };

type Sub = { id: string; carrier: string; tracking_no: string; attempts: number };

const pendingOf = (deps: Deps, connectorId: string) =>
  deps.db
    .selectFrom("carrier_subscriptions")
    .select(["id", "carrier", "tracking_no", "attempts"])
    .where("connector_id", "=", connectorId)
    .where("status", "=", "pending")
    .orderBy("created_at")
    .orderBy("id")
    .limit(TRACK17_BATCH)
    .execute();

async function setRows(deps: Deps, ids: string[], set: Record<string, unknown>) {
  if (!ids.length) return;
  await deps.db
    .updateTable("carrier_subscriptions")
    .set({ updated_at: deps.clock.now(), ...set })
    .where("id", "in", ids)
    .where("status", "=", "pending")
    .execute();
}

/** One register call for a batch; false when the batch must wait (a failure 17TRACK may get over). */
async function registerBatch(deps: Deps, settings: Record<string, string | undefined>, timeoutMs: number, batch: Sub[]) {
  const attempts = Math.max(...batch.map((b) => b.attempts)) + 1;
  try {
    const s = track17SettingsOf(settings, timeoutMs);
    const items = batch.map((b) => ({
      number: b.tracking_no,
      tag: b.id,
      ...(track17Carrier(b.carrier) ? { carrier: track17Carrier(b.carrier) } : {}),
    }));
    const a = await registerNumbers(deps, s, items);
    const byNo = new Map(batch.map((b) => [b.tracking_no, b]));
    const done = a.accepted.map((x) => byNo.get(x.number)?.id).filter((x): x is string => Boolean(x));
    await setRows(deps, done, { status: "subscribed", attempts, subscribed_at: deps.clock.now(), last_error: null });
    for (const r of a.rejected) {
      const sub = byNo.get(r.number);
      if (!sub) continue;
      const e = track17Error(r.code, r.message);
      if (e.kind === "done")
        await setRows(deps, [sub.id], { status: "subscribed", attempts, subscribed_at: deps.clock.now(), last_error: null });
      else if ((e.kind === "later" || e.kind === "transient") && attempts < MAX_ATTEMPTS)
        await setRows(deps, [sub.id], { attempts, last_error: e.words });
      else await setRows(deps, [sub.id], { status: "failed", attempts, last_error: e.words });
    }
    const waiting = attempts < MAX_ATTEMPTS && a.rejected.some((r) => ["later", "transient"].includes(track17Error(r.code).kind));
    return waiting ? { wait: backoffMs(BACKOFF, attempts) } : null;
  } catch (e) {
    if (!(e instanceof ServiceError)) throw e;
    const ids = batch.map((b) => b.id);
    if ((e.kind === "transient" || e.kind === "rate_limited") && attempts < MAX_ATTEMPTS) {
      await setRows(deps, ids, { attempts, last_error: e.message });
      return { wait: Math.max(e.opts.retryAfterMs ?? 0, e.kind === "rate_limited" ? 1000 : backoffMs(BACKOFF, attempts)) };
    }
    await setRows(deps, ids, { status: "failed", attempts, last_error: e.message });
    return null;
  }
}

export async function runTrack17Register(deps: Deps, connectorId: string) {
  const row = await loadConnector(deps.db, connectorId);
  if (!row || row.deleted_at) {
    const left = await pendingOf(deps, connectorId);
    return setRows(
      deps,
      left.map((l) => l.id),
      { status: "failed", last_error: "the connector was deleted" },
    );
  }
  if (row.status === "paused") return;
  const ctx = await contextFor(deps, row);
  for (let n = 0; n < CALLS_PER_JOB; n++) {
    const batch = await pendingOf(deps, connectorId);
    if (!batch.length) return;
    const later = await registerBatch(deps, ctx.settings, ctx.options.timeoutMs, batch);
    if (later) return enqueueCarrierJob(deps, { type: "track17-register", connectorId }, { delayMs: later.wait });
  }
  if ((await pendingOf(deps, connectorId)).length)
    await enqueueCarrierJob(deps, { type: "track17-register", connectorId }, { delayMs: 1000 });
}
