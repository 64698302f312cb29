import { createHmac, randomBytes } from "node:crypto";
import type { Deps } from "../platform/context.js";
import { platformGateway } from "./gateways/platform.js";

/**
 * Payment adapters that send refunds. Every call carries the refund's gateway key as its
 * idempotency key, so a retry or a reconciliation can never pay twice.
 */
export interface RefundGateway {
  name: "manual" | "balance" | "sandbox" | "platform";
  /** Asks for the refund. `succeeded` settles at once; `processing` settles later (callback or confirm). */
  refund(req: {
    key: string;
    amount: number;
    currency: string;
    method: string;
  }): Promise<{ status: "succeeded" | "processing" | "failed"; reference?: string; error?: string }>;
  /** What the gateway knows of a key (reconciliation after a crash). */
  lookup(key: string): Promise<{ status: "succeeded" | "processing" | "failed" | "unknown"; reference?: string }>;
}

export const manualGateway: RefundGateway = {
  name: "manual",
  async refund() {
    return { status: "processing" };
  },
  async lookup() {
    return { status: "processing" };
  },
};

export const balanceGateway: RefundGateway = {
  name: "balance",
  async refund(r) {
    return { status: "succeeded", reference: `balance:${r.key}` };
  },
  async lookup(key) {
    return { status: "succeeded", reference: `balance:${key}` };
  },
};

/**
 * A local stand-in for an asynchronous payment gateway: it accepts a refund, remembers it by key
 * (a repeated key returns the first answer), and confirms it later through a signed callback.
 * `failEvery` makes every n-th new refund fail, for tests and the demo.
 */
export class SandboxGateway implements RefundGateway {
  readonly name = "sandbox";
  private seen = new Map<string, { status: "succeeded" | "processing" | "failed"; reference: string; amount: number }>();
  calls = 0;
  /** New attempts seen (a retry of a declined key counts again). */
  attempts = 0;
  /** Declines the next n new attempts (tests and demos). */
  failNext = 0;
  /** Every key asked for, in order, including repeats. */
  keys: string[] = [];
  constructor(
    private opts: {
      secret: string;
      confirmAfterMs?: number;
      failEvery?: number;
      onCallback?: (body: string, signature: string) => Promise<void>;
    },
  ) {}
  async refund(r: { key: string; amount: number }) {
    this.calls += 1;
    this.keys.push(r.key);
    const prior = this.seen.get(r.key);
    // A repeated key gets the first answer; only a declined refund (nothing paid) may be tried again.
    if (prior && prior.status !== "failed") return { status: prior.status, reference: prior.reference };
    this.attempts += 1;
    const n = this.attempts;
    let fail = this.opts.failEvery ? n % this.opts.failEvery === 0 : false;
    if (this.failNext > 0) {
      this.failNext -= 1;
      fail = true;
    }
    const entry = { status: fail ? ("failed" as const) : ("processing" as const), reference: `sbx_${r.key.slice(-12)}`, amount: r.amount };
    this.seen.set(r.key, entry);
    if (!fail && this.opts.confirmAfterMs !== undefined) {
      setTimeout(() => void this.confirm(r.key), this.opts.confirmAfterMs).unref();
    }
    return fail
      ? { status: "failed" as const, error: "the sandbox declined the refund" }
      : { status: "processing" as const, reference: entry.reference };
  }
  /** Settles a refund at the gateway and calls back, signed, as a real gateway would. */
  async confirm(key: string) {
    const e = this.seen.get(key);
    if (e?.status !== "processing") return;
    e.status = "succeeded";
    const body = JSON.stringify({ key, status: "succeeded", reference: e.reference });
    await this.opts.onCallback?.(body, signSandbox(this.opts.secret, body)).catch(() => {});
  }
  async lookup(key: string) {
    const e = this.seen.get(key);
    return e ? { status: e.status, reference: e.reference } : { status: "unknown" as const };
  }
}

export const signSandbox = (secret: string, body: string) => createHmac("sha256", secret).update(body).digest("hex");

export function gateways(deps: Deps): Record<string, RefundGateway> {
  const g = deps.services.gateways as Record<string, RefundGateway> | undefined;
  if (g) return g;
  // Without setupMoney nothing receives the sandbox's callbacks; its key is random all the same.
  const made = {
    manual: manualGateway,
    balance: balanceGateway,
    sandbox: new SandboxGateway({ secret: randomBytes(32).toString("hex") }),
    // Marketplace orders: the platform pays the buyer back (src/money/gateways/platform.ts).
    platform: platformGateway(deps),
  };
  deps.services.gateways = made;
  return made;
}
