import { z } from "zod";
import type { Deps } from "../platform/context.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { openDisputeForClaim, pullClaimDisputes } from "./channel.disputes.js";
import { acknowledgePrice, linkOffer, offerLink, syncOfferNow } from "./channel.offers.js";
import { cancelNow, forwardNow, pullNow, setSupplierChannel, supplierChannel, supplierOrderChannel } from "./channel.service.js";
import { evidenceLinkRoutes } from "./evidence-links.js";
import { CHANNEL_KINDS } from "./platform.js";
import { recoveryRoutes } from "./recovery.routes.js";
import { listRecoveries, recoveryOf } from "./recovery.view.js";

const idParam = z.object({ id: z.string().uuid() });

export function supplierChannelRoutes(app: ZApp, deps: Deps) {
  evidenceLinkRoutes(app, deps);
  recoveryRoutes(app, deps);
  const ChannelBody = z.strictObject({
    kind: z.enum(CHANNEL_KINDS as [string, ...string[]]),
    connectorId: z.string().uuid().nullish(),
    autoForward: z.boolean().default(true),
  });
  app.put(
    "/api/v1/suppliers/:id/channel",
    { config: { roles: ROLES.admin }, schema: { tags: ["suppliers"], params: idParam, body: ChannelBody } },
    async (req) => setSupplierChannel(deps, actorOf(req), req.params.id, req.body),
  );
  app.get(
    "/api/v1/suppliers/:id/channel",
    { config: { roles: ROLES.staff }, schema: { tags: ["suppliers"], params: idParam } },
    async (req) => supplierChannel(deps, actorOf(req), req.params.id),
  );

  // Offers bound to the platform's offer and spec -------------------------------------------------
  app.put(
    "/api/v1/offers/:id/channel-link",
    {
      config: { roles: ROLES.admin },
      schema: {
        tags: ["catalog"],
        params: idParam,
        body: z.strictObject({ externalOfferId: z.string().min(1).max(64), externalSpecId: z.string().min(1).max(128).nullish() }),
      },
    },
    async (req) => linkOffer(deps, actorOf(req), req.params.id, req.body),
  );
  app.get(
    "/api/v1/offers/:id/channel-link",
    { config: { roles: ROLES.staff }, schema: { tags: ["catalog"], params: idParam } },
    async (req) => offerLink(deps, actorOf(req), req.params.id),
  );
  app.post(
    "/api/v1/offers/:id/actions/channel-sync",
    { config: { roles: ROLES.staffWrite }, schema: { tags: ["catalog"], params: idParam } },
    async (req) => syncOfferNow(deps, actorOf(req), req.params.id),
  );
  app.post(
    "/api/v1/offers/:id/actions/acknowledge-price",
    { config: { roles: ROLES.admin }, schema: { tags: ["catalog"], params: idParam } },
    async (req) => acknowledgePrice(deps, actorOf(req), req.params.id),
  );

  // Supplier orders on a platform -----------------------------------------------------------------
  app.get(
    "/api/v1/supplier-orders/:id/channel",
    { config: { roles: ROLES.staff }, schema: { tags: ["orders"], params: idParam } },
    async (req) => supplierOrderChannel(deps, actorOf(req).tenantId, req.params.id),
  );
  app.post(
    "/api/v1/supplier-orders/:id/actions/channel-forward",
    { config: { roles: ROLES.staffWrite }, schema: { tags: ["orders"], params: idParam } },
    async (req) => forwardNow(deps, actorOf(req), req.params.id),
  );
  app.post(
    "/api/v1/supplier-orders/:id/actions/channel-pull",
    { config: { roles: ROLES.staffWrite }, schema: { tags: ["orders"], params: idParam } },
    async (req) => pullNow(deps, actorOf(req), req.params.id),
  );
  app.post(
    "/api/v1/supplier-orders/:id/actions/channel-cancel",
    {
      config: { roles: ROLES.staffWrite },
      schema: { tags: ["orders"], params: idParam, body: z.strictObject({ reason: z.string().max(500).optional() }).nullish() },
    },
    async (req) => cancelNow(deps, actorOf(req), req.params.id, req.body?.reason),
  );

  // Claims as platform disputes, and what they recovered ------------------------------------------
  app.post(
    "/api/v1/supplier-claims/:id/actions/open-dispute",
    {
      config: { roles: ROLES.finance },
      schema: {
        tags: ["claims"],
        params: idParam,
        body: z
          .strictObject({ request: z.enum(["refund", "returnRefund"]).optional(), description: z.string().min(2).max(150).optional() })
          .nullish(),
      },
    },
    async (req, reply) => reply.code(201).send(await openDisputeForClaim(deps, actorOf(req), req.params.id, req.body ?? {})),
  );
  app.post(
    "/api/v1/supplier-claims/:id/actions/pull-dispute",
    { config: { roles: ROLES.finance }, schema: { tags: ["claims"], params: idParam } },
    async (req) => pullClaimDisputes(deps, actorOf(req), req.params.id),
  );
  app.get(
    "/api/v1/cases/:id/recovery",
    { config: { roles: ["admin", "finance", "cs", "viewer"] }, schema: { tags: ["money"], params: idParam } },
    async (req) => recoveryOf(deps, actorOf(req).tenantId, req.params.id),
  );
  app.get(
    "/api/v1/recoveries",
    {
      config: { roles: ["admin", "finance", "viewer"] },
      schema: {
        tags: ["money"],
        querystring: z.strictObject({
          supplierId: z.string().uuid().optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
      },
    },
    async (req) => listRecoveries(deps, actorOf(req).tenantId, req.query),
  );
}
