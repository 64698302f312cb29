import type { z } from "zod";
import { ServiceError } from "../connectors/http.js";
import type { ConnectorContext, ConnectorKind } from "../connectors/kind.js";
import type { SupplierPlatform } from "./platform.js";

/**
 * The connector kind of a supplier platform (1688, CJdropshipping): its settings and secrets go
 * through the connector framework (sealed, never returned), `test` asks the platform one cheap
 * question and answers in words, and the sync pulls every open order, linked offer and open
 * dispute through the supplier channels (channels.ts registers that service).
 */
export function supplierPlatformKind(p: {
  platform: SupplierPlatform;
  configSchema: z.ZodObject<z.ZodRawShape>;
  secretFields: readonly string[];
  /** One cheap call proving the credentials; returns what to say when it works. */
  probe(ctx: ConnectorContext): Promise<string>;
}): ConnectorKind {
  return {
    kind: p.platform.kind,
    configSchema: p.configSchema,
    secretFields: p.secretFields,
    needsShop: false,
    async test(ctx) {
      try {
        return { ok: true, message: await p.probe(ctx) };
      } catch (e) {
        if (e instanceof ServiceError) return { ok: false, message: e.message };
        throw e;
      }
    },
    async syncPage(ctx, cursor) {
      const sync = ctx.deps.services.supplierChannelSync as
        | ((
            ctx: ConnectorContext,
            platform: SupplierPlatform,
            cursor: unknown,
          ) => Promise<{ cursor: unknown; done: boolean; records: number }>)
        | undefined;
      if (!sync) return { cursor: null, done: true, records: 0 };
      return sync(ctx, p.platform, cursor);
    },
  };
}

/** Words of each Dropdesk case reason in the platforms' reason lists (1688 in Chinese, CJ in English). */
const REASON_WORDS: Record<string, RegExp> = {
  quality: /质量|quality|defect|not work|fault/i,
  damaged: /破损|损坏|压坏|damag|broken/i,
  wrong_item: /发错|错发|规格.*不符|颜色.*不符|款式.*不符|wrong|incorrect|mismatch/i,
  missing: /少件|漏发|缺件|配件|missing|less than|short/i,
  not_as_described: /描述不符|与描述|不符|not as described|different from/i,
  not_received: /未收到|没收到|not received|never arrived|lost/i,
  late_delivery: /未按约定时间发货|发货慢|延迟|late|delay/i,
};
const OTHER = /其他|other/i;

/** The platform's reason matching the case's, else its "other", else its first. */
export function pickReason<T>(reasons: T[], caseReason: string, nameOf: (r: T) => string): T | undefined {
  const words = REASON_WORDS[caseReason];
  return (words && reasons.find((r) => words.test(nameOf(r)))) || reasons.find((r) => OTHER.test(nameOf(r))) || reasons[0];
}
