import type { Deps } from "../../platform/context.js";
import type { Executor } from "../../platform/db.js";
import type { RefundGateway } from "../gateways.js";

/**
 * Refunds of marketplace orders (Taobao, Tmall) and of orders paid on Shopify: the platform holds the buyer's money and pays it
 * back itself, so Dropdesk's refund for such an order is the seller agreeing the buyer's refund on
 * the platform, and it settles when the platform reports the refund done. The gateway stays
 * `processing` until then: `refund` hands the refund to the connector of the order's platform
 * (which first reads whether the platform has refunded already), `lookup` asks the platform
 * (reconciliation runs it every minute), and the connector's pulls settle it too when they see
 * the platform's refund succeed. The ledger posts it as `platform_refund`.
 */
export const PLATFORM_PAYMENT_METHODS: ReadonlySet<string> = new Set(["taobao", "tmall"]);

/**
 * Store platforms that take the payment themselves (Shopify): an order imported by a connector of
 * such a kind, and paid there, is refunded on the platform too, whatever its payment method says.
 */
const PLATFORM_CONNECTOR_KINDS = new Set<string>();

export interface PlatformRefunds {
  refund(
    deps: Deps,
    refund: PlatformRefundRow,
  ): Promise<{ status: "succeeded" | "processing" | "failed"; reference?: string; error?: string }>;
  lookup(
    deps: Deps,
    refund: PlatformRefundRow,
  ): Promise<{ status: "succeeded" | "processing" | "failed" | "unknown"; reference?: string; error?: string }>;
}

export interface PlatformRefundRow {
  id: string;
  tenant_id: string;
  order_id: string;
  case_id: string | null;
  kind: string;
  amount: number;
  gateway_key: string;
  /** The payment method of the order's platform payment (taobao, tmall), or the connector kind (shopify). */
  method: string;
}

const BY_METHOD = new Map<string, PlatformRefunds>();

/** A connector kind that imports marketplace orders says here who refunds their payments. */
export function registerPlatformRefunds(methods: string[], impl: PlatformRefunds, opts: { connectorKind?: string } = {}) {
  for (const m of methods) BY_METHOD.set(m, impl);
  if (opts.connectorKind) {
    BY_METHOD.set(opts.connectorKind, impl);
    PLATFORM_CONNECTOR_KINDS.add(opts.connectorKind);
  }
}

/** The kind of the live connector of a platform that took the order's payment, if any. */
async function platformConnectorKind(ex: Executor, orderId: string): Promise<string | null> {
  if (!PLATFORM_CONNECTOR_KINDS.size) return null;
  const r = await ex
    .selectFrom("connector_records as r")
    .innerJoin("connectors as c", "c.id", "r.connector_id")
    .select("c.kind")
    .where("r.record_type", "=", "order")
    .where("r.entity_id", "=", orderId)
    .where("c.kind", "in", [...PLATFORM_CONNECTOR_KINDS])
    .where("c.deleted_at", "is", null)
    .where((eb) => eb.exists(eb.selectFrom("payments as p").select("p.id").where("p.order_id", "=", orderId)))
    .executeTakeFirst();
  return r?.kind ?? null;
}

async function rowOf(deps: Deps, key: string): Promise<PlatformRefundRow | null> {
  const r = await deps.db
    .selectFrom("refunds")
    .select(["id", "tenant_id", "order_id", "case_id", "kind", "amount", "gateway_key"])
    .where("gateway_key", "=", key)
    .executeTakeFirst();
  if (!r) return null;
  const p = await deps.db
    .selectFrom("payments")
    .select("method")
    .where("order_id", "=", r.order_id)
    .where("method", "in", [...PLATFORM_PAYMENT_METHODS])
    .executeTakeFirst();
  const method = p?.method ?? (await platformConnectorKind(deps.db, r.order_id)) ?? "";
  return { ...r, amount: Number(r.amount), method };
}

export function platformGateway(deps: Deps): RefundGateway {
  return {
    name: "platform",
    async refund(req) {
      const r = await rowOf(deps, req.key);
      const impl = r && BY_METHOD.get(r.method);
      if (!r || !impl)
        return {
          status: "failed",
          error: "这笔订单的平台没有可用的店铺连接器，无法经平台退款 / no store connector of this order's platform can refund it",
        };
      return impl.refund(deps, r);
    },
    async lookup(key) {
      const r = await rowOf(deps, key);
      const impl = r && BY_METHOD.get(r.method);
      if (!r || !impl) return { status: "processing" };
      const known = await impl.lookup(deps, r);
      return { status: known.status, reference: known.reference };
    },
  };
}

/**
 * Which gateway refunds an order's original payment: the platform's, for a marketplace order or an
 * order paid on a store platform that refunds itself (Shopify).
 */
export async function isPlatformPaid(ex: Executor, orderId: string): Promise<boolean> {
  const p = await ex
    .selectFrom("payments")
    .select("id")
    .where("order_id", "=", orderId)
    .where("method", "in", [...PLATFORM_PAYMENT_METHODS])
    .executeTakeFirst();
  return Boolean(p) || Boolean(await platformConnectorKind(ex, orderId));
}
