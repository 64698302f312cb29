import { ApiVersion } from "@shopify/shopify-api";
import { outboundPolicy } from "../../platform/outbound.js";
import { retryAfterMs, ServiceError, serviceRequest } from "../http.js";
import type { ConnectorContext } from "../kind.js";
import { withRetries } from "../retry.js";

/**
 * The Admin GraphQL API over plain HTTP. The official client (`@shopify/admin-api-client`, which
 * `@shopify/shopify-api` wraps) always rewrites the store URL to `https://<shopDomain>` and calls
 * the global `fetch`, so it can neither be pointed at a local emulator nor go through Dropdesk's
 * outbound guard (public or allowed addresses only, pinned after DNS). The protocol is small: POST
 * `<base>/admin/api/<version>/graphql.json` with `X-Shopify-Access-Token`, answers with `data`,
 * `errors` and `extensions.cost`.
 */
export const SHOPIFY_API_VERSION: string = ApiVersion.January25;

export interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

/** The shop's own address (or the configured endpoint: a sandbox or a local emulator). */
export const shopBaseUrl = (settings: Record<string, string | undefined>) =>
  (settings.endpoint || `https://${settings.shopDomain}`).replace(/\/+$/, "");

// The last throttle figures per connector, so the next call waits for the points it needs instead
// of being refused.
const buckets = new Map<string, { status: ThrottleStatus; cost: number; at: number }>();

async function pace(ctx: ConnectorContext) {
  const b = buckets.get(ctx.connector.id);
  if (!b) return;
  const restored = b.status.currentlyAvailable + ((Date.now() - b.at) / 1000) * b.status.restoreRate;
  const missing = b.cost - restored;
  if (missing > 0) await ctx.options.sleep(Math.min(ctx.options.maxInlineWaitMs, Math.ceil((missing / b.status.restoreRate) * 1000)));
}

async function once<T>(ctx: ConnectorContext, query: string, variables: Record<string, unknown>): Promise<T> {
  await pace(ctx);
  const res = await serviceRequest(`${shopBaseUrl(ctx.settings)}/admin/api/${SHOPIFY_API_VERSION}/graphql.json`, {
    policy: outboundPolicy(ctx.deps.config.outboundAllow),
    headers: {
      "content-type": "application/json",
      accept: "application/json",
      "x-shopify-access-token": ctx.settings.accessToken ?? "",
    },
    body: JSON.stringify({ query, variables }),
    timeoutMs: ctx.options.timeoutMs,
  });
  const s = res.status;
  if (s === 401) throw new ServiceError("auth", "Shopify refused the access token (401): check the token of the custom app", { status: s });
  if (s === 403)
    throw new ServiceError(
      "auth",
      "Shopify refused the call (403): the app lacks an access scope (read_orders, write_fulfillments, write_orders)",
      { status: s },
    );
  if (s === 402) throw new ServiceError("auth", "Shopify answered 402: the shop is frozen (unpaid plan)", { status: s });
  if (s === 423) throw new ServiceError("auth", "Shopify answered 423: the shop is locked", { status: s });
  if (s === 404) throw new ServiceError("refused", "no Admin API at this address (404): check shopDomain", { status: s });
  if (s === 429)
    throw new ServiceError("rate_limited", "Shopify is rate limiting the calls (429)", {
      status: s,
      retryAfterMs: retryAfterMs(res.headers["retry-after"]) ?? 2000,
    });
  if (s >= 500) throw new ServiceError("transient", `Shopify answered ${s}`, { status: s });
  if (s !== 200) throw new ServiceError("refused", `Shopify answered ${s}`, { status: s });
  let body: { data?: T; errors?: { message: string; extensions?: { code?: string } }[]; extensions?: { cost?: Record<string, any> } };
  try {
    body = JSON.parse(res.body);
  } catch {
    throw new ServiceError("transient", "Shopify's answer was not JSON");
  }
  const cost = body.extensions?.cost;
  if (cost?.throttleStatus) {
    buckets.set(ctx.connector.id, { status: cost.throttleStatus, cost: Number(cost.requestedQueryCost ?? 0), at: Date.now() });
  }
  const errors = Array.isArray(body.errors) ? body.errors : [];
  if (errors.length) {
    const codes = errors.map((e) => e.extensions?.code);
    if (codes.includes("THROTTLED")) {
      const t = cost?.throttleStatus as ThrottleStatus | undefined;
      const need = Number(cost?.requestedQueryCost ?? 0) - Number(t?.currentlyAvailable ?? 0);
      const wait = t && t.restoreRate > 0 ? Math.max(1, Math.ceil((need / t.restoreRate) * 1000)) : 1000;
      throw new ServiceError("rate_limited", "Shopify throttled the query (cost above the available points)", { retryAfterMs: wait });
    }
    if (codes.includes("ACCESS_DENIED")) throw new ServiceError("auth", `Shopify denied access: ${errors[0].message}`);
    if (codes.includes("INTERNAL_SERVER_ERROR")) throw new ServiceError("transient", `Shopify failed: ${errors[0].message}`);
    throw new ServiceError("refused", `Shopify refused the query: ${errors.map((e) => e.message).join("; ")}`);
  }
  if (!body.data) throw new ServiceError("transient", "Shopify's answer had no data");
  return body.data;
}

/** One GraphQL call, with the in-job retries and rate-limit waits of the framework. */
export function shopifyGraphql<T>(ctx: ConnectorContext, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  return withRetries(ctx.options, () => once<T>(ctx, query, variables));
}

/**
 * A mutation that must not run twice: rate limits (Shopify ran nothing) are waited out, but a
 * timeout or 5xx — when Shopify may have done it — is not retried here; the push job runs again
 * later and first reads whether the effect is there.
 */
export function shopifyMutation<T>(ctx: ConnectorContext, query: string, variables: Record<string, unknown>): Promise<T> {
  return withRetries({ ...ctx.options, inlineRetries: 0 }, () => once<T>(ctx, query, variables));
}
