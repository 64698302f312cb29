import { CONNECTOR_KINDS } from "../connectors/context.js";
import type { Actor, Deps, DomainEvent } from "../platform/context.js";
import type { Tx } from "../platform/db.js";
import { installationSecret } from "../platform/secrets.js";
import { registerPaymentKinds } from "./gateways/kinds.js";
import { routedGateway } from "./gateways/route.js";
import { gateways, type RefundGateway, SandboxGateway } from "./gateways.js";
import { createOrderRefund, reconcileRefunds, sendAfterCommit } from "./refunds.js";
import { handleSandboxCallback } from "./sandbox.js";

/** Wires the payment gateways, the cancellation refunds and reconciliation into the application. */
export async function setupMoney(deps: Deps) {
  const secret = deps.config.sandboxGatewaySecret || (await installationSecret(deps.db, "sandbox_gateway_secret"));
  deps.services.sandboxSecret = secret;
  const sandbox = new SandboxGateway({
    secret,
    confirmAfterMs: Number(process.env.DROPDESK_SANDBOX_CONFIRM_MS ?? 300),
    failEvery: Number(process.env.DROPDESK_SANDBOX_FAIL_EVERY ?? 0) || undefined,
    onCallback: async (body, signature) => {
      await handleSandboxCallback(deps, body, signature);
    },
  });
  const made: Record<string, RefundGateway> = { ...gateways(deps), sandbox };
  // Shops with payment connectors refund by the original route through them (src/money/gateways/route.ts).
  deps.services.gateways = { ...made, sandbox: routedGateway(deps, sandbox), manual: routedGateway(deps, made.manual) };
  registerPaymentKinds(CONNECTOR_KINDS);
  const pendingRefunds: string[] = [];
  deps.eventSinks.push(async (tx: Tx, e: DomainEvent) => {
    if (e.type !== "order.cancelled") return;
    const due = Number(e.data.refundDue ?? 0);
    if (due <= 0) return;
    const actor: Actor = { kind: "system", id: String(e.data.actorId ?? "system"), tenantId: e.tenantId, role: "system", locale: "zh-CN" };
    const r = await createOrderRefund(tx, deps, actor, {
      orderId: e.entityId,
      amount: due,
      kind: "cancellation",
      reason: String(e.data.reason ?? "order cancelled before shipping"),
    });
    pendingRefunds.push(r.id);
  });
  // Refunds started by a cancellation inside an order transaction go out once it has committed;
  // one that never does (a crash, a rollback) is found again by reconciliation.
  deps.services.afterResponse ??= [];
  const after = deps.services.afterResponse as (() => Promise<void>)[];
  after.push(async () => {
    while (pendingRefunds.length) await sendAfterCommit(deps, pendingRefunds.shift() as string);
  });
  deps.services.reconcileRefunds = () => reconcileRefunds(deps);
  if (deps.config.workers) {
    // Refunds left processing by a crash are asked about at start-up and then every minute.
    const run = () => void reconcileRefunds(deps).catch(() => {});
    setTimeout(run, 1000).unref();
    setInterval(run, 60_000).unref();
  }
}
