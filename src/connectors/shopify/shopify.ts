import "@shopify/shopify-api/adapters/node";
import { createHash } from "node:crypto";
import { LogSeverity, type Shopify, shopifyApi } from "@shopify/shopify-api";
import { z } from "zod";
import { ServiceError } from "../http.js";
import type { ConnectorContext, ConnectorKind, ExternalOrder, PushRequest } from "../kind.js";
import { SHOPIFY_API_VERSION, shopBaseUrl, shopifyGraphql } from "./client.js";
import { fromGraphql, fromRest, toExternalOrder } from "./map.js";
import { cancelOnShopify, fulfillOnShopify } from "./push.js";
import { applyShopifyRefund, pullRefunds, refundFromRest, refundOnShopify } from "./refunds.js";
import { registerShopifyWebhooks } from "./subscriptions.js";

/**
 * Shopify: orders come in by webhook (`orders/create`, `orders/updated`, `orders/cancelled`,
 * `refunds/create`) and by pulls of the Admin GraphQL API (backfill, then catch-up by
 * `updated_at`), and go back as fulfillments (a supplier's shipment), cancellations and refunds
 * (Dropdesk's refunds of orders paid on Shopify, src/connectors/shopify/refunds.ts).
 */
const hostname = z
  .string()
  .min(3)
  .max(255)
  .regex(
    /^(?=.{1,255}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i,
    "a host name such as your-store.<shopify domain>",
  );

const ConfigSchema = z.strictObject({
  shopDomain: hostname,
  accessToken: z.string().min(1).max(500),
  webhookSecret: z.string().min(1).max(500),
  /** The Admin API's base URL; unset, the shop's own domain over https. Tests point it at the emulator. */
  endpoint: z.string().url().max(500).optional(),
});

/**
 * A page of 10 orders with up to 10 lines and 3 shipping lines each requests 892 points by Shopify's
 * cost rules (the emulator computes them), under the 1,000 a single query may cost; the actual cost
 * charged is what came back, about a fifth of that for orders of two lines.
 */
const PAGE_SIZE = 10;
const LINES = 10;
const MONEY = "shopMoney { amount currencyCode }";
const ORDER_FIELDS = `
  id legacyResourceId name createdAt processedAt updatedAt cancelledAt currencyCode taxesIncluded
  displayFinancialStatus paymentGatewayNames email phone
  totalPriceSet { ${MONEY} } totalTaxSet { ${MONEY} }
  customer { firstName lastName email phone }
  shippingAddress { name firstName lastName phone address1 address2 city province provinceCode country countryCodeV2 zip }
  lineItems(first: ${LINES}) { pageInfo { hasNextPage endCursor } nodes { ${LINE_FIELDS()} } }
  shippingLines(first: 3) { pageInfo { hasNextPage } nodes { originalPriceSet { ${MONEY} } discountAllocations { allocatedAmountSet { ${MONEY} } } } }
  refunds(first: 10) { id }`;
function LINE_FIELDS() {
  return `id sku title quantity originalUnitPriceSet { ${MONEY} } discountAllocations { allocatedAmountSet { ${MONEY} } }`;
}
const ORDERS_QUERY = `query DropdeskOrders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {
    pageInfo { hasNextPage endCursor }
    nodes { ${ORDER_FIELDS} }
  }
}`;
const MORE_LINES_QUERY = `query DropdeskOrderLines($id: ID!, $after: String) {
  order(id: $id) { lineItems(first: 50, after: $after) { pageInfo { hasNextPage endCursor } nodes { ${LINE_FIELDS()} } } }
}`;

interface Cursor {
  /** Orders updated at or after this time are pulled (inclusive: the boundary's repeats change nothing). */
  since: string | null;
  /** Shopify's page cursor within the current pull. */
  after: string | null;
  /** The newest `updatedAt` seen in the current pull: the next pull's `since`. */
  newest: string | null;
}
type Page = { orders: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: Record<string, any>[] } };

async function allLines(ctx: ConnectorContext, node: Record<string, any>) {
  let info = node.lineItems?.pageInfo;
  const nodes = [...(node.lineItems?.nodes ?? [])];
  while (info?.hasNextPage) {
    const more = await shopifyGraphql<{ order: { lineItems: { pageInfo: typeof info; nodes: unknown[] } } | null }>(ctx, MORE_LINES_QUERY, {
      id: node.id,
      after: info.endCursor,
    });
    if (!more.order) break;
    nodes.push(...more.order.lineItems.nodes);
    info = more.order.lineItems.pageInfo;
  }
  return { ...node, lineItems: { nodes } };
}

const apis = new Map<string, Shopify>();
/** The SDK configured with this connector's webhook secret (its HMAC check needs it as `apiSecretKey`). */
function sdkFor(secret: string): Shopify {
  const key = createHash("sha256").update(secret).digest("hex");
  let api = apis.get(key);
  if (!api) {
    api = shopifyApi({
      apiKey: "dropdesk",
      apiSecretKey: secret,
      hostName: "dropdesk.invalid",
      apiVersion: SHOPIFY_API_VERSION as never,
      isEmbeddedApp: false,
      isCustomStoreApp: false,
      logger: { level: LogSeverity.Error, log: async () => {} },
    });
    if (apis.size > 1000) apis.clear();
    apis.set(key, api);
  }
  return api;
}

const ORDER_TOPICS = new Set(["ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED", "ORDERS_PAID", "ORDERS_EDITED"]);

export const shopifyKind: ConnectorKind = {
  kind: "shopify",
  configSchema: ConfigSchema,
  secretFields: ["accessToken", "webhookSecret"],
  needsShop: true,

  async test(ctx) {
    try {
      const r = await shopifyGraphql<{ shop: { name: string; myshopifyDomain: string; currencyCode: string; ianaTimezone: string } }>(
        ctx,
        "query DropdeskTest { shop { name myshopifyDomain currencyCode ianaTimezone } }",
      );
      const s = r.shop;
      const notes: string[] = [];
      if (ctx.shop && ctx.shop.currency !== s.currencyCode)
        notes.push(`the shop in Dropdesk keeps ${ctx.shop.currency}: orders in ${s.currencyCode} will be refused`);
      if (ctx.shop && ctx.shop.timezone !== s.ianaTimezone)
        notes.push(`the shop in Dropdesk counts days in ${ctx.shop.timezone}, Shopify in ${s.ianaTimezone}`);
      return {
        ok: notes.length === 0 || !notes[0].includes("refused"),
        message: `connected to ${s.name} (${s.myshopifyDomain}), ${s.currencyCode}, ${s.ianaTimezone}${notes.length ? `; ${notes.join("; ")}` : ""}`,
        details: { shop: s },
      };
    } catch (e) {
      if (e instanceof ServiceError) return { ok: false, message: e.message };
      throw e;
    }
  },

  async syncPage(ctx, raw, write, writeMany) {
    const cursor: Cursor = (raw as Cursor | null) ?? { since: null, after: null, newest: null };
    const data = await shopifyGraphql<Page>(ctx, ORDERS_QUERY, {
      first: PAGE_SIZE,
      after: cursor.after,
      query: cursor.since ? `updated_at:>='${cursor.since}'` : null,
    });
    let newest = cursor.newest;
    const page: ExternalOrder[] = [];
    for (const node of data.orders.nodes) {
      const full = node.lineItems?.pageInfo?.hasNextPage ? await allLines(ctx, node) : node;
      const ext = toExternalOrder(fromGraphql(full), { shopCurrency: ctx.shop?.currency ?? "" });
      if (node.shippingLines?.pageInfo?.hasNextPage) ext.refusal = "the order has more than 3 shipping lines";
      page.push(ext);
      if (node.updatedAt && (!newest || node.updatedAt > newest)) newest = node.updatedAt;
    }
    // The page's new orders in one set-based write, like a batch of the CSV import.
    if (writeMany) await writeMany(page);
    else for (const ext of page) await write(ext);
    await pullRefunds(ctx, data.orders.nodes);
    const { hasNextPage, endCursor } = data.orders.pageInfo;
    const next: Cursor = hasNextPage
      ? { since: cursor.since, after: endCursor, newest }
      : { since: newest ?? cursor.since, after: null, newest: null };
    return { cursor: next, done: !hasNextPage, records: data.orders.nodes.length };
  },

  async verifyWebhook(ctx, req, rawBody, reply) {
    const secret = ctx.settings.webhookSecret;
    if (!secret) return { ok: false, status: 401, message: "the connector has no webhook secret" };
    const r = await sdkFor(secret).webhooks.validate({ rawBody: rawBody.toString("utf8"), rawRequest: req.raw, rawResponse: reply.raw });
    if (!r.valid) {
      const reason = String(r.reason);
      if (reason === "missing_headers" && "missingHeaders" in r)
        return { ok: false, status: 400, message: `missing headers: ${(r.missingHeaders as string[]).join(", ")}` };
      return { ok: false, status: 401, message: `the X-Shopify-Hmac-Sha256 signature does not match (${reason})` };
    }
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(rawBody.toString("utf8"));
    } catch {
      return { ok: false, status: 400, message: "the body is not JSON" };
    }
    if (!payload || typeof payload !== "object" || Array.isArray(payload))
      return { ok: false, status: 400, message: "the body is not a JSON object" };
    return { ok: true, deliveryId: r.webhookId, topic: r.topic, payload };
  },
  webhookAnswer: { status: 200, body: { ok: true } },

  async handleWebhook(ctx, topic, payload, write) {
    if (ORDER_TOPICS.has(topic)) {
      await write(toExternalOrder(fromRest(payload), { shopCurrency: ctx.shop?.currency ?? "" }));
      return;
    }
    if (topic === "REFUNDS_CREATE") {
      await applyShopifyRefund(ctx, String(payload.order_id), refundFromRest(payload, ctx.shop?.currency ?? "CNY"));
      return;
    }
    await ctx.log("info", `webhook ${topic} ignored (not a topic Dropdesk handles)`);
  },

  pushEvents: ["supplier_order.shipped", "order.cancelled"],
  pushesFor(event, connectorId) {
    const out: PushRequest[] = [];
    if (event.type === "supplier_order.shipped" && event.data.purpose === "original")
      out.push({
        action: "fulfillment",
        key: `fulfillment:${event.entityId}`,
        entityId: event.entityId,
        data: { orderId: event.data.orderId },
      });
    // A cancellation that came from Shopify is not sent back to it.
    if (event.type === "order.cancelled" && event.data.actorId !== connectorId)
      out.push({ action: "cancel", key: `cancel:${event.entityId}`, entityId: event.entityId, data: {} });
    return out;
  },

  async push(ctx, req) {
    if (req.action === "fulfillment") return fulfillOnShopify(ctx, req.entityId);
    if (req.action === "cancel") return cancelOnShopify(ctx, req.entityId);
    if (req.action === "refund") return refundOnShopify(ctx, req.entityId);
    throw new Error(`unknown Shopify push ${req.action}`);
  },

  registerWebhooks: registerShopifyWebhooks,

  recordUrl(settings, recordType, externalId) {
    if (recordType !== "order" || !/^\d+$/.test(externalId)) return null;
    return `${shopBaseUrl(settings)}/admin/orders/${externalId}`;
  },
};
