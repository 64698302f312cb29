import { createHash, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { ServiceError } from "../connectors/http.js";
import type { ConnectorContext, ConnectorKind, WebhookVerdict } from "../connectors/kind.js";
import { carrierOfKey, type Track17Data, track17Entries, track17Sign } from "./track17.js";
import { quota, track17SettingsOf } from "./track17-client.js";
import { applyTrackingUpdate } from "./tracking.js";

/**
 * 17TRACK as a connector kind, for cross-border shops: bound to a shop, that shop's parcels are
 * registered with 17TRACK instead of 快递100 (src/carriers/jobs.ts). Its security key (`apiKey`)
 * is sealed; it is both the `17token` of every call and the key of the webhooks' `sign`. The
 * webhook URL to set in 17TRACK's dashboard is the connector's `/hooks/track17/:connectorId`.
 */
const ConfigSchema = z.strictObject({
  apiKey: z.string().min(8).max(200),
  /** 17TRACK's base URL; unset, `DROPDESK_TRACK17_URL`. */
  endpoint: z.string().url().max(500).optional(),
});

function verify(ctx: ConnectorContext, sign: string | undefined, raw: Buffer): WebhookVerdict {
  const key = ctx.settings.apiKey;
  if (!key) return { ok: false, status: 401, message: "the connector has no security key" };
  const expected = Buffer.from(track17Sign(raw, key));
  const given = Buffer.from(String(sign ?? "").toLowerCase());
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, status: 401, message: "the sign header does not match the body and the security key" };
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(raw.toString("utf8"));
  } catch {
    return { ok: false, status: 400, message: "the body is not JSON" };
  }
  if (!payload || typeof payload !== "object" || Array.isArray(payload)) return { ok: false, status: 400, message: "not an object" };
  // The same push again is the same delivery: the body's digest is its id.
  return { ok: true, deliveryId: createHash("sha256").update(raw).digest("hex"), topic: String(payload.event ?? "unknown"), payload };
}

/** A TRACKING_UPDATED push through the tracking mapping shared with 快递100; TRACKING_STOPPED ends the subscription. */
async function handle(ctx: ConnectorContext, topic: string, payload: Record<string, unknown>) {
  const data = (payload.data ?? {}) as Track17Data;
  const nu = String(data.number ?? "").trim();
  if (!nu) return;
  const { deps, connector } = ctx;
  await deps.db.transaction().execute(async (tx) => {
    const latest = data.track_info?.latest_status;
    if (topic === "TRACKING_UPDATED") {
      const code = carrierOfKey(data.carrier);
      await applyTrackingUpdate(deps, tx, connector, {
        source: "17TRACK",
        trackingNo: nu,
        carrier: code ?? String(data.carrier ?? ""),
        carrierCodes: code ? [code] : null,
        entries: track17Entries(nu, data),
        stateName: latest?.sub_status ?? latest?.status,
      });
    }
    await tx
      .updateTable("carrier_subscriptions")
      .set({
        last_state: latest?.status ?? null,
        last_push_at: deps.clock.now(),
        updated_at: deps.clock.now(),
        ...(topic === "TRACKING_STOPPED" || latest?.status === "Delivered" ? { status: "ended" as const } : {}),
      })
      .where("connector_id", "=", connector.id)
      .where("tracking_no", "=", nu)
      .where("status", "in", ["pending", "subscribed"])
      .execute();
  });
}

export const track17Kind: ConnectorKind = {
  kind: "track17",
  configSchema: ConfigSchema,
  secretFields: ["apiKey"],
  needsShop: false,
  async test(ctx) {
    try {
      const q = await quota(ctx.deps, track17SettingsOf(ctx.settings, ctx.options.timeoutMs));
      return {
        ok: true,
        message: `17TRACK took the key; ${q.remaining ?? "?"} numbers may still be registered; set the webhook to /hooks/track17/${ctx.connector.id}`,
        details: q,
      };
    } catch (e) {
      if (e instanceof ServiceError) return { ok: false, message: e.message };
      throw e;
    }
  },
  async syncPage() {
    return { cursor: null, done: true, records: 0 };
  },
  async verifyWebhook(ctx, req, raw) {
    return verify(ctx, req.headers.sign as string | undefined, raw);
  },
  webhookAnswer: { status: 200, body: { code: 0 } },
  async handleWebhook(ctx, topic, payload) {
    await handle(ctx, topic, payload);
  },
};
