import { z } from "zod";
import { ServiceError } from "../connectors/http.js";
import type { ConnectorKind } from "../connectors/kind.js";
import { settingsOf } from "./client.js";

/**
 * 快递100 as a connector kind: the tenant's account (`customer`, `key`, `salt`; `secret` for
 * courier orders and interceptions) with its secrets sealed by the framework. It pulls no orders;
 * its work is the tracking subscriptions, the pushes at `/hooks/kuaidi100/:connectorId` and the
 * calls of src/carriers.
 */
const ConfigSchema = z.strictObject({
  customer: z.string().min(1).max(100),
  key: z.string().min(1).max(200),
  salt: z.string().min(6).max(64),
  secret: z.string().min(1).max(200).optional(),
  /** The service's base URL (its poll and courier-order APIs); unset, `DROPDESK_KUAIDI100_URL`. */
  endpoint: z.string().url().max(500).optional(),
  /** The base URL of its label API (interception), when it differs from `endpoint`. */
  labelEndpoint: z.string().url().max(500).optional(),
  /** `carrier`: interceptions go to the carrier at once; `supplier` (default): the supplier is asked first. */
  interceptVia: z.enum(["supplier", "carrier"]).optional(),
});

export const kuaidi100Kind: ConnectorKind = {
  kind: "kuaidi100",
  configSchema: ConfigSchema,
  secretFields: ["key", "salt", "secret"],
  needsShop: false,
  async test(ctx) {
    try {
      const s = settingsOf(ctx.settings, ctx.options.timeoutMs);
      return { ok: true, message: `account ${s.customer} is set; pushes arrive at /hooks/kuaidi100/${ctx.connector.id}` };
    } catch (e) {
      if (e instanceof ServiceError) return { ok: false, message: e.message };
      throw e;
    }
  },
  // Nothing to pull: 快递100 pushes.
  async syncPage() {
    return { cursor: null, done: true, records: 0 };
  },
};
