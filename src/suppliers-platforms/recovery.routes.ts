import { z } from "zod";
import type { Deps } from "../platform/context.js";
import { actorOf, type ZApp } from "../platform/http.js";
import { supplierRecoveries } from "./recovery.view.js";

/** Recovery per supplier for the scorecard (see supplierRecoveries in recovery.view.ts). */
export function recoveryRoutes(app: ZApp, deps: Deps) {
  app.get(
    "/api/v1/recoveries/suppliers",
    {
      config: { roles: ["admin", "finance", "cs", "viewer"] },
      schema: { tags: ["money"], querystring: z.strictObject({ supplierId: z.string().uuid().optional() }) },
    },
    async (req) => supplierRecoveries(deps, actorOf(req).tenantId, req.query.supplierId),
  );
}
