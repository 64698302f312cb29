import { ServiceError } from "../http.js";
import type { ConnectorContext } from "../kind.js";
import { shopifyGraphql } from "./client.js";

/**
 * The webhook subscriptions Dropdesk needs, registered through the Admin GraphQL API when the
 * connector is created and each time it is tested. Idempotent: the subscriptions to Dropdesk's
 * address are listed first and only the missing topics are created, so a second test creates
 * nothing (Shopify would refuse it anyway: "Address for this topic has already been taken").
 * Shopify signs the deliveries of an app's subscriptions with the app's API secret — the
 * connector's webhook secret. Fulfilments made in Shopify reach Dropdesk as `orders/updated`.
 */
export const SUBSCRIBED_TOPICS = ["ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED", "ORDERS_PAID", "REFUNDS_CREATE"] as const;

const LIST = `query DropdeskWebhooks($callbackUrl: URL, $after: String) {
  webhookSubscriptions(first: 50, after: $after, callbackUrl: $callbackUrl) {
    pageInfo { hasNextPage endCursor }
    nodes { id topic endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } }
  }
}`;
const CREATE = `mutation DropdeskSubscribe($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic }
    userErrors { field message }
  }
}`;

type ListPage = {
  webhookSubscriptions: {
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    nodes: { id: string; topic: string; endpoint: { callbackUrl?: string } }[];
  };
};

async function subscribed(ctx: ConnectorContext, callbackUrl: string): Promise<Set<string>> {
  const topics = new Set<string>();
  let after: string | null = null;
  for (;;) {
    const page: ListPage = await shopifyGraphql<ListPage>(ctx, LIST, { callbackUrl, after });
    for (const n of page.webhookSubscriptions.nodes) if (n.endpoint?.callbackUrl === callbackUrl) topics.add(n.topic);
    if (!page.webhookSubscriptions.pageInfo.hasNextPage) return topics;
    after = page.webhookSubscriptions.pageInfo.endCursor;
  }
}

/** Creates the missing subscriptions; the answer says, in words, what was there and what was made. */
export async function registerShopifyWebhooks(ctx: ConnectorContext, callbackUrl: string): Promise<{ ok: boolean; message: string }> {
  if (!/^https:\/\//.test(callbackUrl))
    return {
      ok: false,
      message: `webhooks not registered: Shopify delivers only to https addresses and Dropdesk's is ${callbackUrl} (set DROPDESK_PUBLIC_URL to its public https address)`,
    };
  try {
    const have = await subscribed(ctx, callbackUrl);
    const missing = SUBSCRIBED_TOPICS.filter((t) => !have.has(t));
    const refused: string[] = [];
    for (const topic of missing) {
      const r = await shopifyGraphql<{
        webhookSubscriptionCreate: { webhookSubscription: { id: string } | null; userErrors: { message: string }[] };
      }>(ctx, CREATE, { topic, webhookSubscription: { callbackUrl, format: "JSON" } });
      const errs = r.webhookSubscriptionCreate.userErrors;
      if (errs.length && !errs.every((e) => /already been taken/i.test(e.message)))
        refused.push(`${topic}: ${errs.map((e) => e.message).join("; ")}`);
    }
    const made = missing.length - refused.length;
    if (refused.length) return { ok: false, message: `Shopify refused webhook subscriptions: ${refused.join(", ")}` };
    return {
      ok: true,
      message: made
        ? `webhooks registered: ${made} subscription${made > 1 ? "s" : ""} created, ${have.size} already there`
        : `webhooks registered already (${SUBSCRIBED_TOPICS.length} topics)`,
    };
  } catch (e) {
    if (e instanceof ServiceError) return { ok: false, message: `webhooks not registered: ${e.message}` };
    throw e;
  }
}
