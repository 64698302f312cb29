import { timingSafeEqual } from "node:crypto";
import type { Deps } from "../platform/context.js";
import { AppError, notFound, validation } from "../platform/errors.js";
import { signSandbox } from "./gateways.js";
import { settleRefund } from "./refunds.js";

/**
 * The key that signs the sandbox gateway's callbacks: `DROPDESK_SANDBOX_GATEWAY_SECRET` when set,
 * otherwise one the installation made at random on first start and keeps in its database.
 */
export const sandboxSecretOf = (deps: Deps): string => {
  const s = deps.services.sandboxSecret;
  if (typeof s !== "string" || !s) throw new Error("the sandbox gateway's secret is not set up");
  return s;
};

/**
 * A signed answer of the sandbox gateway. It settles only a refund sent through the sandbox: a
 * manual refund waits for finance's bank reference, and no other gateway's refund is the sandbox's
 * to settle, whatever the key.
 */
export async function handleSandboxCallback(deps: Deps, body: string, signature: string) {
  const expected = Buffer.from(signSandbox(sandboxSecretOf(deps), body));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new AppError("unauthorized", "bad gateway signature");
  const msg = JSON.parse(body) as { key?: unknown; status?: unknown; reference?: unknown };
  if (typeof msg.key !== "string" || (msg.status !== "succeeded" && msg.status !== "failed"))
    throw new AppError("validation_failed", "a callback carries a key and a status of succeeded or failed");
  const r = await deps.db
    .selectFrom("refunds")
    .select("id")
    .where("gateway_key", "=", msg.key)
    .where("gateway", "=", "sandbox")
    .executeTakeFirst();
  if (!r) throw notFound("sandbox refund");
  return settleRefund(deps, r.id, msg.status, typeof msg.reference === "string" ? msg.reference : undefined);
}

/** The sandbox gateway's callback as it arrives over HTTP: the parsed JSON and its signature header. */
export async function sandboxCallback(deps: Deps, parsed: unknown, signature: string) {
  if (parsed === undefined) throw validation("body", "send the gateway's signed JSON message");
  return { ok: await handleSandboxCallback(deps, JSON.stringify(parsed), signature) };
}
