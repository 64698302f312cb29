import { sql } from "kysely";
import { audit } from "../../platform/audit.js";
import type { Actor, Deps } from "../../platform/context.js";
import { invalidTransition } from "../../platform/errors.js";
import { loadRefund, reconcileRefund, refundView } from "../refunds.js";
import type { Leg } from "./route.js";

/**
 * Finance's gateway queue: refunds a gateway has not paid — still processing because a service was
 * down, throttled or answered what could not be trusted, or failed because it refused — each with
 * the reason (a kind the screens name in words, and the service's own words), the gateway, the
 * attempts and the next try, and what finance can do: `retry-now` for a processing one (ask the
 * service by its key now, send again under the same key what it never got), `retry` for a failed one.
 */

export type ReasonKind =
  | "unreachable"
  | "rate_limited"
  | "not_trusted"
  | "credentials"
  | "connector_missing"
  | "abnormal"
  | "refused"
  | "waiting_bank"
  | "waiting_gateway"
  | "other";

const KINDS: [ReasonKind, RegExp][] = [
  ["connector_missing", /connector .*(was deleted|missing)/i],
  ["abnormal", /abnormal|退款异常|cannot receive/i],
  ["rate_limited", /limiting|\b429\b|slow down|rate/i],
  ["not_trusted", /not trusted|did not verify|not JSON|could not be read|cut off/i],
  ["credentials", /API key|credentials|security key|refused the key|unauthori[sz]ed|\b401\b|\b403\b/i],
  ["unreachable", /could not reach|network|timeout|HTTP error|answered (HTTP )?5\d\d|status 5\d\d|could not .* now|SYSTEM_ERROR|20000/i],
];

/** What kind of reason a refund waits for, from its status, gateway and the service's words. */
export function reasonKind(status: string, gateway: string, error: string | null): ReasonKind {
  if (!error) return status === "failed" ? "refused" : gateway === "manual" ? "waiting_bank" : "waiting_gateway";
  for (const [kind, re] of KINDS) if (re.test(error)) return kind;
  return status === "failed" ? "refused" : "other";
}

const legsOf = async (deps: Deps, tenantId: string, ids: string[]) =>
  ids.length
    ? (
        await sql<Leg>`SELECT * FROM refund_legs WHERE tenant_id = ${tenantId} AND refund_id IN (${sql.join(ids)}) ORDER BY refund_id, leg_no`.execute(
          deps.db,
        )
      ).rows
    : [];

const legOut = (l: Leg) => ({
  legNo: l.leg_no,
  method: l.method,
  gateway: l.gateway,
  connectorId: l.connector_id,
  amount: Number(l.amount),
  status: l.status,
  gatewayKey: l.gateway_key,
  gatewayRef: l.gateway_ref,
  attempts: l.attempts,
  lastError: l.last_error,
  reasonKind: l.last_error ? reasonKind(l.status, l.gateway, l.last_error) : null,
  nextAttemptAt: l.next_attempt_at,
});

/** The queue: processing refunds first (oldest first), then the failed ones (latest first). */
export async function gatewayQueue(deps: Deps, tenantId: string) {
  const base = () =>
    deps.db
      .selectFrom("refunds as r")
      .innerJoin("orders as o", "o.id", "r.order_id")
      .leftJoin("cases as c", "c.id", "r.case_id")
      .select([
        "r.id",
        "r.order_id",
        "r.case_id",
        "r.kind",
        "r.amount",
        "r.method",
        "r.gateway",
        "r.route",
        "r.status",
        "r.attempts",
        "r.last_error",
        "r.created_at",
        "r.updated_at",
        "o.platform_order_no",
        "c.case_no",
      ])
      .where("r.tenant_id", "=", tenantId);
  const processing = await base().where("r.status", "=", "processing").orderBy("r.created_at").limit(500).execute();
  const failed = await base().where("r.status", "=", "failed").orderBy("r.updated_at", "desc").limit(200).execute();
  const rows = [...processing, ...failed];
  const legs = await legsOf(
    deps,
    tenantId,
    rows.map((r) => r.id),
  );
  return {
    items: rows.map((r) => {
      const own = legs.filter((l) => l.refund_id === r.id);
      const next = own.map((l) => l.next_attempt_at).filter((d): d is Date => Boolean(d));
      return {
        id: r.id,
        orderId: r.order_id,
        orderNo: r.platform_order_no,
        caseId: r.case_id,
        caseNo: r.case_no,
        kind: r.kind,
        amount: Number(r.amount),
        method: r.method,
        gateway: r.gateway,
        route: (r.route ?? r.gateway).split(","),
        status: r.status,
        attempts: Math.max(r.attempts, ...own.map((l) => l.attempts)),
        reason:
          r.last_error ??
          (own.length ? null : r.gateway === "manual" ? "waiting for finance to confirm the bank transfer" : "waiting for the gateway"),
        reasonKind: reasonKind(r.status, r.gateway, r.last_error),
        nextAttemptAt: next.length ? new Date(Math.min(...next.map((d) => new Date(d).getTime()))) : null,
        createdAt: r.created_at,
        updatedAt: r.updated_at,
        allowedActions: r.status === "failed" ? ["retry"] : r.gateway === "manual" && !own.length ? [] : ["retry-now"],
        legs: own.map(legOut),
      };
    }),
  };
}

/**
 * Finance's "try again now" for a refund still processing: the open legs' waits are lifted and the
 * gateway is asked by the key at once; what it never received goes again under the same key, so
 * nothing is paid twice. The refund's status moves only as the gateway's answer says.
 */
export async function retryNow(deps: Deps, actor: Actor, refundId: string) {
  const r = await loadRefund(deps.db, actor, refundId);
  if (r.status !== "processing") throw invalidTransition("refund", "retry-now", r.status, r.status === "failed" ? ["retry"] : []);
  await sql`UPDATE refund_legs SET next_attempt_at = NULL, updated_at = ${deps.clock.now()}
    WHERE refund_id = ${refundId} AND status IN ('pending', 'processing')`.execute(deps.db);
  await reconcileRefund(deps, r);
  await audit(deps.db, actor, "refund.retry-now", "refund", refundId, { status: r.status }, undefined);
  return refundView(deps.db, actor, refundId);
}
