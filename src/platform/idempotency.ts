import type { FastifyReply, FastifyRequest } from "fastify";
import type { Actor, Deps } from "./context.js";
import { AppError } from "./errors.js";
import { sha256 } from "./ids.js";

const LOCK_MS = 30_000;
const WAIT_MS = 15_000;

interface Reservation {
  tenantId: string;
  principal: string;
  key: string;
}

declare module "fastify" {
  interface FastifyRequest {
    idempotency?: Reservation;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Idempotency-Key on a mutating request: the first request reserves the key, runs, and stores its
 * response; a replay returns that response; the same key with another body is refused; a request
 * arriving while the first still runs waits for its result. Records live in the database, so any
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
  const r: Reservation = { tenantId: actor.tenantId, principal: `${actor.kind}:${actor.id}`, key };
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const inserted = await deps.db
      .insertInto("idempotency_keys")
      .values({
        tenant_id: r.tenantId,
        principal: r.principal,
        key,
        method: req.method,
        path,
        request_hash: requestHash,
        state: "pending",
        locked_until: new Date(Date.now() + LOCK_MS),
      })
      .onConflict((oc) => oc.doNothing())
      .returning("key")
      .executeTakeFirst();
    if (inserted) {
      req.idempotency = r;
      return;
    }
    const row = await deps.db
      .selectFrom("idempotency_keys")
      .selectAll()
      .where("tenant_id", "=", r.tenantId)
      .where("principal", "=", r.principal)
      .where("key", "=", key)
      .executeTakeFirst();
    if (!row) continue;
    if (row.request_hash !== requestHash) {
      throw new AppError("idempotency_key_reuse", "this Idempotency-Key was used with a different request", { key });
    }
    if (row.state === "done") {
      reply.header("idempotent-replayed", "true");
      reply.code(row.status_code).type(row.response_type ?? "application/json");
      return reply.send(row.response_body);
    }
    if (new Date(row.locked_until).getTime() < Date.now()) {
      // The first request died without finishing: take its place.
      const taken = await deps.db
        .updateTable("idempotency_keys")
        .set({ locked_until: new Date(Date.now() + LOCK_MS) })
        .where("tenant_id", "=", r.tenantId)
        .where("principal", "=", r.principal)
        .where("key", "=", key)
        .where("state", "=", "pending")
        .where("locked_until", "=", row.locked_until)
        .executeTakeFirst();
      if (Number(taken.numUpdatedRows) === 1) {
        req.idempotency = r;
        return;
      }
    }
    if (Date.now() > deadline) throw new AppError("conflict", "a request with this Idempotency-Key is still running");
    await sleep(25);
  }
}

/** Stores the response of a reserved request; a server error frees the key for a retry. */
export async function finishIdempotent(deps: Deps, req: FastifyRequest, reply: FastifyReply, payload: unknown) {
  const r = req.idempotency;
  if (!r) return;
  req.idempotency = undefined;
  const q = deps.db
    .updateTable("idempotency_keys")
    .where("tenant_id", "=", r.tenantId)
    .where("principal", "=", r.principal)
    .where("key", "=", r.key);
  if (reply.statusCode >= 500) {
    await deps.db
      .deleteFrom("idempotency_keys")
      .where("tenant_id", "=", r.tenantId)
      .where("principal", "=", r.principal)
      .where("key", "=", r.key)
      .execute();
    return;
  }
  const ct = reply.getHeader("content-type");
  await q
    .set({
      state: "done",
      status_code: reply.statusCode,
      response_body: typeof payload === "string" ? payload : Buffer.isBuffer(payload) ? payload.toString("utf8") : "",
      response_type: typeof ct === "string" ? ct : "application/json",
    })
    .execute();
}
