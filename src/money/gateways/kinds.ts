import { randomBytes } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { z } from "zod";
import type { ConnectorContext, ConnectorKind, SyncPageResult } from "../../connectors/kind.js";
import { outboundPolicy } from "../../platform/outbound.js";
import { AlipayGateway, type AlipaySettings } from "./alipay.js";
import { settleLegFromNotice } from "./route.js";
import { KEY_METADATA, StripeGateway, type StripeSettings, stripeOutcome } from "./stripe.js";
import { GatewayDown, type LegAnswer } from "./types.js";
import { readWechatNotification, WechatPayGateway, type WechatPaySettings, type WechatRefund, wechatOutcome } from "./wechatpay.js";

/**
 * The payment gateways as connector kinds: credentials per shop, their secret fields sealed by the
 * framework, refund notifications at `POST /hooks/<kind>/:connectorId` verified with each
 * service's own scheme and handled by the framework's job, once per delivery. They import no
 * orders: `sync` has nothing to pull.
 */
const pem = (what: string) =>
  z
    .string()
    .min(40)
    .max(10_000)
    .refine((s) => !/BEGIN/.test(s) || /-----BEGIN [A-Z ]+-----/.test(s), `${what} as PEM`);
const url = z.string().url().max(500);

const nothingToSync = async (): Promise<SyncPageResult> => ({ cursor: null, done: true, records: 0 });
const opts = (ctx: ConnectorContext) => ({ policy: outboundPolicy(ctx.deps.config.outboundAllow), timeoutMs: ctx.options.timeoutMs });

async function probe(what: string, run: () => Promise<unknown>) {
  try {
    await run();
    return { ok: true, message: `${what} answered with a verified signature: the credentials work` };
  } catch (e) {
    return { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}

/** A verified notification's refund, recorded against its leg. */
async function recordNotice(ctx: ConnectorContext, key: string | undefined, answer: LegAnswer) {
  if (!key) {
    await ctx.log("warn", "a refund notification without a Dropdesk key was ignored");
    return;
  }
  const r = await settleLegFromNotice(ctx.deps, { tenantId: ctx.connector.tenant_id, connectorId: ctx.connector.id, key, answer });
  await ctx.log(
    r.matched ? "info" : "warn",
    r.matched ? `refund ${key}: ${answer.status}` : `refund ${key} is not one Dropdesk sent through this connector`,
    key,
  );
}

export const alipayKind: ConnectorKind = {
  kind: "alipay",
  configSchema: z.strictObject({
    appId: z.string().regex(/^\d{8,32}$/, "the application's APPID (digits)"),
    privateKey: pem("the application's RSA2 private key"),
    alipayPublicKey: pem("Alipay's public key"),
    gateway: url.optional(),
    referenceIs: z.enum(["trade_no", "out_trade_no"]).optional(),
  }),
  secretFields: ["privateKey"],
  needsShop: true,
  async test(ctx) {
    const gw = new AlipayGateway(ctx.settings as unknown as AlipaySettings, opts(ctx));
    // A query for a trade that cannot exist: Alipay answers ACQ.TRADE_NOT_EXIST, signed.
    return probe("Alipay", () =>
      gw.lookup({
        key: `dd_test_${randomBytes(6).toString("hex")}`,
        payment: { reference: `DDTEST${Date.now()}`, amount: 1, currency: "CNY" },
      }),
    );
  },
  syncPage: nothingToSync,
};

export const wechatpayKind: ConnectorKind = {
  kind: "wechatpay",
  configSchema: z.strictObject({
    mchId: z.string().regex(/^\d{6,32}$/, "the merchant id (商户号)"),
    merchantSerialNo: z.string().min(8).max(64),
    merchantPrivateKey: pem("the merchant API certificate's private key"),
    apiV3Key: z.string().refine((s) => Buffer.byteLength(s, "utf8") === 32, "the APIv3 key is 32 characters"),
    platformPublicKey: pem("the WeChat Pay public key or platform certificate"),
    platformSerial: z.string().min(8).max(80),
    endpoint: url,
    referenceIs: z.enum(["transaction_id", "out_trade_no"]).optional(),
  }),
  secretFields: ["merchantPrivateKey", "apiV3Key"],
  needsShop: true,
  async test(ctx) {
    const gw = new WechatPayGateway(ctx.settings as unknown as WechatPaySettings, opts(ctx));
    // A refund number that cannot exist: WeChat Pay answers 404 RESOURCE_NOT_EXISTS, signed.
    return probe("WeChat Pay", () =>
      gw.lookup({ key: `dd_test_${randomBytes(6).toString("hex")}`, payment: { reference: "", amount: 1, currency: "CNY" } }),
    );
  },
  syncPage: nothingToSync,
  async verifyWebhook(ctx, req, raw) {
    const s = ctx.settings as unknown as WechatPaySettings;
    if (!s.apiV3Key || !s.platformPublicKey) return { ok: false, status: 401, message: "the connector has no APIv3 key or platform key" };
    const n = readWechatNotification(s, req.headers as IncomingHttpHeaders, raw.toString("utf8"));
    if (!n.ok) return n;
    return { ok: true, deliveryId: n.id, topic: n.eventType, payload: n.refund as Record<string, unknown> };
  },
  // WeChat Pay: a 2xx is success; the body is the documented {"code":"SUCCESS"} answer.
  webhookAnswer: { status: 200, body: { code: "SUCCESS", message: "成功" } },
  async handleWebhook(ctx, topic, payload) {
    if (!topic.startsWith("REFUND.")) return ctx.log("info", `notification ${topic} ignored (not a refund)`);
    const refund = payload as WechatRefund;
    return recordNotice(ctx, refund.out_refund_no, wechatOutcome(refund));
  },
};

export const stripeKind: ConnectorKind = {
  kind: "stripe",
  configSchema: z.strictObject({
    secretKey: z.string().regex(/^(sk|rk)_[A-Za-z0-9_]+$/, "a secret or restricted key (sk_… or rk_…)"),
    webhookSecret: z.string().regex(/^whsec_[A-Za-z0-9]+$/, "the endpoint's signing secret (whsec_…)"),
    endpoint: url.optional(),
  }),
  secretFields: ["secretKey", "webhookSecret"],
  needsShop: true,
  async test(ctx) {
    const gw = new StripeGateway(ctx.settings as unknown as StripeSettings, opts(ctx));
    return probe("Stripe", async () => {
      const r = await gw.lookup({
        key: "dd_test",
        payment: { reference: `pi_dd_test_${randomBytes(6).toString("hex")}`, amount: 1, currency: "CNY" },
      });
      if (r.status !== "unknown") throw new GatewayDown("Stripe answered the test query unexpectedly");
    });
  },
  syncPage: nothingToSync,
  async verifyWebhook(ctx, req, raw) {
    const gw = new StripeGateway(ctx.settings as unknown as StripeSettings, opts(ctx));
    const sig = req.headers["stripe-signature"];
    if (typeof sig !== "string") return { ok: false, status: 400, message: "the Stripe-Signature header is missing" };
    try {
      const event = await gw.event(raw, sig);
      return { ok: true, deliveryId: event.id, topic: event.type, payload: event.data.object as unknown as Record<string, unknown> };
    } catch (e) {
      return { ok: false, status: 401, message: `the Stripe-Signature does not verify (${e instanceof Error ? e.message : e})` };
    }
  },
  webhookAnswer: { status: 200, body: { received: true } },
  async handleWebhook(ctx, topic, payload) {
    if (!["refund.created", "refund.updated", "refund.failed", "charge.refund.updated"].includes(topic))
      return ctx.log("info", `event ${topic} ignored (not a refund)`);
    const refund = payload as { id: string; status: string | null; failure_reason?: string | null; metadata?: Record<string, string> };
    return recordNotice(
      ctx,
      refund.metadata?.[KEY_METADATA],
      stripeOutcome({ id: refund.id, status: refund.status, failure_reason: refund.failure_reason ?? null } as never),
    );
  },
};

export const PAYMENT_KINDS = { alipay: alipayKind, wechatpay: wechatpayKind, stripe: stripeKind };

/**
 * Adds the payment kinds to the framework's registry (CONNECTOR_KINDS), before any request. Called
 * by setupMoney; idempotent.
 */
export function registerPaymentKinds(registry: Record<string, ConnectorKind>) {
  for (const [name, kind] of Object.entries(PAYMENT_KINDS)) registry[name] ??= kind;
}
