import { OrderBody } from "../orders/order.schemas.js";
import { createOrder, runOrderAction } from "../orders/order.service.js";
import { AppError } from "../platform/errors.js";
import { sha256 } from "../platform/ids.js";
import type { ConnectorContext, ExternalOrder } from "./kind.js";

/**
 * Inbound orders are upserts keyed on the service's id (connector_records). The order itself is
 * created by the same service as `POST /api/v1/orders` (pricing, discount allocation, the payment
 * posting), idempotent on shop + platform order number. Seeing the same version again — the same
 * webhook twice, or a webhook and a pull of the same thing — changes nothing: the record's hash
 * matches. A newer version applies what can change after a sale (payment, address, cancellation)
 * through the order's own actions; a change of lines or money is reported, never half-applied.
 */
export type UpsertOutcome = "created" | "updated" | "unchanged" | "stale" | "refused";

const hashOf = (v: unknown) => sha256(JSON.stringify(v));

/** The record's hashes: of the service's version (a repeat changes nothing) and of its money. */
export function recordHashes(ext: ExternalOrder, input?: Pick<ReturnType<typeof OrderBody.parse>, "lines" | "discounts" | "shippingFee">) {
  return {
    content: hashOf({ order: ext.order ?? null, refusal: ext.refusal ?? null, cancelled: ext.cancelled }),
    money: input ? hashOf({ lines: input.lines, discounts: input.discounts, shippingFee: input.shippingFee }) : "",
  };
}

export async function upsertExternalOrder(ctx: ConnectorContext, ext: ExternalOrder): Promise<UpsertOutcome> {
  const { deps, connector, actor } = ctx;
  const contentHash = recordHashes(ext).content;
  const rec = await deps.db
    .selectFrom("connector_records")
    .selectAll()
    .where("connector_id", "=", connector.id)
    .where("record_type", "=", "order")
    .where("external_id", "=", ext.externalId)
    .executeTakeFirst();
  if (rec && rec.content_hash === contentHash) return "unchanged";
  // An older version arriving late (webhooks are not ordered) must not undo a newer one.
  if (rec?.external_updated_at && ext.updatedAt && new Date(rec.external_updated_at) > ext.updatedAt) return "stale";

  const save = async (entityId: string | null, moneyHash: string | null) => {
    const now = deps.clock.now();
    await deps.db
      .insertInto("connector_records")
      .values({
        tenant_id: connector.tenant_id,
        connector_id: connector.id,
        record_type: "order",
        external_id: ext.externalId,
        entity_id: entityId,
        external_no: ext.platformOrderNo,
        external_updated_at: ext.updatedAt ?? null,
        content_hash: contentHash,
        money_hash: moneyHash,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) =>
        oc.columns(["connector_id", "record_type", "external_id"]).doUpdateSet({
          entity_id: entityId,
          external_no: ext.platformOrderNo,
          external_updated_at: ext.updatedAt ?? null,
          content_hash: contentHash,
          money_hash: moneyHash,
          updated_at: now,
        }),
      )
      .execute();
  };

  if (!ext.order || ext.refusal) {
    await ctx.log("error", `order ${ext.platformOrderNo} not imported: ${ext.refusal ?? "nothing to import"}`, ext.externalId);
    await save(rec?.entity_id ?? null, rec?.money_hash ?? null);
    return "refused";
  }
  if (!connector.shop_id) throw new AppError("validation_failed", "the connector is not bound to a shop");
  const parsed = OrderBody.safeParse({ ...ext.order, shopId: connector.shop_id });
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    await ctx.log("error", `order ${ext.platformOrderNo} not imported: ${why}`, ext.externalId);
    await save(rec?.entity_id ?? null, rec?.money_hash ?? null);
    return "refused";
  }
  const input = parsed.data;
  const moneyHash = recordHashes(ext, input).money;
  let orderId = (rec?.entity_id as string | null | undefined) ?? null;
  if (!orderId) {
    const existing = await deps.db
      .selectFrom("orders")
      .select("id")
      .where("tenant_id", "=", connector.tenant_id)
      .where("shop_id", "=", connector.shop_id)
      .where("platform_order_no", "=", input.platformOrderNo)
      .executeTakeFirst();
    orderId = (existing?.id as string | undefined) ?? null;
  }
  if (!orderId) {
    // An order first seen cancelled was never Dropdesk's to fulfil: importing it would post a
    // payment only to owe it back.
    if (ext.cancelled) {
      await ctx.log("info", `order ${ext.platformOrderNo} was cancelled on the platform before it was imported; skipped`, ext.externalId);
      await save(null, null);
      return "refused";
    }
    try {
      const { order } = await createOrder(deps, actor, input, { source: `connector:${connector.kind}` });
      await save(order.id as string, moneyHash);
      return "created";
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      // Created a moment ago by another delivery of the same order: carry on as an update.
      if (e.code === "conflict" && typeof e.details?.orderId === "string") orderId = e.details.orderId;
      else {
        await ctx.log("error", `order ${ext.platformOrderNo} not imported: ${e.message}`, ext.externalId);
        await save(null, null);
        return "refused";
      }
    }
  }
  await applyChanges(ctx, ext, orderId as string, input, rec?.money_hash ?? null, moneyHash);
  await save(orderId, rec?.money_hash ?? moneyHash);
  return "updated";
}

/** JSON compared without regard to key order (jsonb stores keys in its own order). */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object")
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined && x !== null)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, x]) => [k, canonical(x)]),
    );
  return v;
}
const sameJson = (a: unknown, b: unknown) =>
  JSON.stringify(canonical(typeof a === "string" ? JSON.parse(a) : a)) === JSON.stringify(canonical(b));

/** Brings an imported order up to the service's newer version, action by action. */
async function applyChanges(
  ctx: ConnectorContext,
  ext: ExternalOrder,
  orderId: string,
  input: ReturnType<typeof OrderBody.parse>,
  importedMoneyHash: string | null,
  moneyHash: string,
) {
  const { deps, actor } = ctx;
  const o = await deps.db
    .selectFrom("orders")
    .select(["id", "paid_at", "cancelled_at", "address", "status"])
    .where("id", "=", orderId)
    .executeTakeFirstOrThrow();
  const attempt = async (action: string, body: Record<string, unknown>, what: string) => {
    try {
      await runOrderAction(deps, actor, orderId, action, body);
      await ctx.log("info", `order ${ext.platformOrderNo}: ${what}`, ext.externalId);
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      await ctx.log("warn", `order ${ext.platformOrderNo}: could not apply "${what}" from the platform: ${e.message}`, ext.externalId);
    }
  };
  if (importedMoneyHash && importedMoneyHash !== moneyHash) {
    await ctx.log(
      "warn",
      `order ${ext.platformOrderNo} changed its lines or amounts on the platform after import; Dropdesk keeps the imported ones (handle the difference as an after-sales case)`,
      ext.externalId,
    );
  }
  const payment = input.payments?.[0] ?? input.paid;
  if (payment && !o.paid_at && !o.cancelled_at && !ext.cancelled) await attempt("confirm-payment", payment, "payment confirmed");
  if (!o.cancelled_at && !ext.cancelled && !sameJson(o.address, input.address))
    await attempt("change-address", { address: input.address }, "address changed");
  if (ext.cancelled && !o.cancelled_at) await attempt("cancel", { reason: "cancelled on the platform" }, "cancelled on the platform");
}

/** Notes a record of the service that has no Dropdesk twin yet (a refund made on the platform), once. */
export async function recordOnce(
  ctx: ConnectorContext,
  r: { recordType: string; externalId: string; entityId?: string | null; externalNo?: string },
): Promise<boolean> {
  const now = ctx.deps.clock.now();
  const inserted = await ctx.deps.db
    .insertInto("connector_records")
    .values({
      tenant_id: ctx.connector.tenant_id,
      connector_id: ctx.connector.id,
      record_type: r.recordType,
      external_id: r.externalId,
      entity_id: r.entityId ?? null,
      external_no: r.externalNo ?? null,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) => oc.columns(["connector_id", "record_type", "external_id"]).doNothing())
    .returning("external_id")
    .executeTakeFirst();
  return Boolean(inserted);
}
