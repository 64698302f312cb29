import { insertOrders, skuMap } from "../orders/order.import.js";
import { contentHash, type PreparedOrder, prepareOrder } from "../orders/order.pricing.js";
import { OrderBody } from "../orders/order.schemas.js";
import { emit } from "../platform/context.js";
import type { Tx } from "../platform/db.js";
import { newId } from "../platform/ids.js";
import type { ConnectorContext, ExternalOrder } from "./kind.js";
import { recordHashes, type UpsertOutcome, upsertExternalOrder } from "./records.js";

/**
 * A page of pulled orders written like the CSV import writes a batch: the orders that are new to
 * Dropdesk (no record of the service's id, no order with their number in the shop) go in one
 * transaction through the import's set-based path (`insertOrders`: one statement per table), with
 * their `order.created` events, audit entries and connector records; everything else — updates,
 * refusals, cancellations, repeats within the page — goes through the one-order upsert
 * (records.ts). A page the database refuses (a constraint: another delivery created one of its
 * orders meanwhile) is written order by order instead, so nothing is lost or doubled.
 */
type Fresh = { i: number; ext: ExternalOrder; item: PreparedOrder; recordHash: string; moneyHash: string };

/** Data exceptions (22xxx) and integrity constraint violations (23xxx) are the rows' fault. */
const isRowError = (e: unknown) => /^2[23]/.test(String((e as { code?: unknown } | null)?.code ?? ""));

/** Which orders of the page can be written in one batch: new, valid, importable, not repeated. */
async function sortOut(ctx: ConnectorContext, exts: ExternalOrder[]) {
  const { deps, connector } = ctx;
  const shopId = connector.shop_id as string;
  const ids = [...new Set(exts.map((e) => e.externalId))];
  const known = new Set(
    ids.length
      ? (
          await deps.db
            .selectFrom("connector_records")
            .select("external_id")
            .where("connector_id", "=", connector.id)
            .where("record_type", "=", "order")
            .where("external_id", "in", ids)
            .execute()
        ).map((r) => r.external_id)
      : [],
  );
  const fresh: Fresh[] = [];
  const seen = new Set<string>();
  for (const [i, ext] of exts.entries()) {
    if (known.has(ext.externalId) || seen.has(ext.externalId) || seen.has(ext.platformOrderNo)) continue;
    if (!ext.order || ext.refusal || ext.cancelled) continue;
    const parsed = OrderBody.safeParse({ ...ext.order, shopId });
    if (!parsed.success) continue;
    let prepared: ReturnType<typeof prepareOrder>;
    try {
      prepared = prepareOrder(parsed.data);
    } catch {
      continue; // refused with its reason by the one-order path
    }
    seen.add(ext.externalId);
    seen.add(ext.platformOrderNo);
    const h = recordHashes(ext, parsed.data);
    fresh.push({
      i,
      ext,
      item: { input: parsed.data, prepared, hash: contentHash(parsed.data) },
      recordHash: h.content,
      moneyHash: h.money,
    });
  }
  if (!fresh.length) return fresh;
  const taken = new Set(
    (
      await deps.db
        .selectFrom("orders")
        .select("platform_order_no")
        .where("tenant_id", "=", connector.tenant_id)
        .where("shop_id", "=", shopId)
        .where(
          "platform_order_no",
          "in",
          fresh.map((f) => f.item.input.platformOrderNo),
        )
        .execute()
    ).map((o) => o.platform_order_no),
  );
  return fresh.filter((f) => !taken.has(f.item.input.platformOrderNo));
}

async function writeFresh(ctx: ConnectorContext, tx: Tx, fresh: Fresh[]) {
  const { deps, connector, actor } = ctx;
  const now = deps.clock.now();
  const codes = [...new Set(fresh.flatMap((f) => f.item.input.lines.map((l) => l.skuCode)))];
  const skus = await skuMap(tx, connector.tenant_id, codes);
  const currency = ctx.shop?.currency as string;
  const ids = await insertOrders(
    tx,
    connector.tenant_id,
    currency,
    now,
    `connector:${connector.kind}`,
    fresh.map((f) => f.item),
    skus,
  );
  await tx
    .insertInto("connector_records")
    .values(
      fresh.map((f, n) => ({
        tenant_id: connector.tenant_id,
        connector_id: connector.id,
        record_type: "order",
        external_id: f.ext.externalId,
        entity_id: ids[n],
        external_no: f.ext.platformOrderNo,
        external_updated_at: f.ext.updatedAt ?? null,
        content_hash: f.recordHash,
        money_hash: f.moneyHash,
        created_at: now,
        updated_at: now,
      })),
    )
    .execute();
  await tx
    .insertInto("audit_log")
    .values(
      fresh.map((f, n) => ({
        id: newId(),
        tenant_id: actor.tenantId,
        actor_type: actor.kind,
        actor_id: actor.id,
        action: "order.create",
        entity_type: "order",
        entity_id: ids[n],
        before: null,
        after: JSON.stringify({ platformOrderNo: f.item.input.platformOrderNo, paidTotal: f.item.prepared.paidTotal }),
      })),
    )
    .execute();
  for (const [n, f] of fresh.entries())
    await emit(deps, tx, {
      type: "order.created",
      tenantId: connector.tenant_id,
      entityId: ids[n],
      data: { platformOrderNo: f.item.input.platformOrderNo, paidTotal: f.item.prepared.paidTotal },
      key: `order.created:${ids[n]}`,
    });
}

/** Upserts a page of orders; the outcomes are in the page's order. */
export async function upsertExternalOrders(ctx: ConnectorContext, exts: ExternalOrder[]): Promise<UpsertOutcome[]> {
  const outcomes: (UpsertOutcome | undefined)[] = new Array(exts.length);
  const fresh = ctx.connector.shop_id && ctx.shop ? await sortOut(ctx, exts) : [];
  if (fresh.length) {
    try {
      await ctx.deps.db.transaction().execute((tx) => writeFresh(ctx, tx, fresh));
      for (const f of fresh) outcomes[f.i] = "created";
    } catch (e) {
      if (!isRowError(e)) throw e;
    }
  }
  for (const [i, ext] of exts.entries()) outcomes[i] ??= await upsertExternalOrder(ctx, ext);
  return outcomes as UpsertOutcome[];
}
