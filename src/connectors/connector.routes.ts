import { z } from "zod";
import type { Deps } from "../platform/context.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { ConnectorBody, ConnectorListQuery, ConnectorPatch } from "./connector.schemas.js";
import {
  CONNECTOR_ACTION_NAMES,
  casePlatformLinks,
  connectorDetail,
  createConnector,
  deleteConnector,
  listConnectors,
  orderPlatformLinks,
  runConnectorAction,
  updateConnector,
} from "./connector.service.js";
import { receiveWebhook } from "./connector.webhooks.js";

const idParam = z.object({ id: z.string().uuid() });
const tags = ["connectors"];

export function connectorRoutes(app: ZApp, deps: Deps) {
  app.post("/api/v1/connectors", { config: { roles: ROLES.admin }, schema: { tags, body: ConnectorBody } }, async (req, reply) =>
    reply.code(201).send(await createConnector(deps, actorOf(req), req.body)),
  );
  app.get("/api/v1/connectors", { config: { roles: ROLES.admin }, schema: { tags, querystring: ConnectorListQuery } }, async (req) =>
    listConnectors(deps, actorOf(req), req.query),
  );
  app.get("/api/v1/connectors/:id", { config: { roles: ROLES.admin }, schema: { tags, params: idParam } }, async (req) =>
    connectorDetail(deps, actorOf(req), req.params.id),
  );
  app.patch(
    "/api/v1/connectors/:id",
    { config: { roles: ROLES.admin }, schema: { tags, params: idParam, body: ConnectorPatch } },
    async (req) => updateConnector(deps, actorOf(req), req.params.id, req.body),
  );
  app.delete("/api/v1/connectors/:id", { config: { roles: ROLES.admin }, schema: { tags, params: idParam } }, async (req, reply) => {
    await deleteConnector(deps, actorOf(req), req.params.id);
    return reply.code(204).send();
  });
  for (const name of CONNECTOR_ACTION_NAMES)
    app.post(`/api/v1/connectors/:id/actions/${name}`, { config: { roles: ROLES.admin }, schema: { tags, params: idParam } }, async (req) =>
      runConnectorAction(deps, actorOf(req), req.params.id, name),
    );

  // Per order and per case: where it lives on its platform (a case: its platform refund, and its order).
  app.get("/api/v1/orders/:id/platform-links", { config: { roles: ROLES.staff }, schema: { tags, params: idParam } }, async (req) =>
    orderPlatformLinks(deps, actorOf(req), req.params.id),
  );
  app.get("/api/v1/cases/:id/platform-links", { config: { roles: ROLES.staff }, schema: { tags, params: idParam } }, async (req) =>
    casePlatformLinks(deps, actorOf(req), req.params.id),
  );

  // Inbound webhooks: public, verified by each service's own signature over the raw body.
  app.register(async (hooks) => {
    hooks.removeAllContentTypeParsers();
    hooks.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: 5 * 1024 * 1024 }, (_req, body, done) => done(null, body));
    hooks.post(
      "/hooks/:kind/:connectorId",
      {
        config: { public: true },
        schema: { hide: true, params: z.object({ kind: z.string().max(40), connectorId: z.string().max(100) }) },
      },
      async (req, reply) => {
        const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const answer = await receiveWebhook(deps, req.params as { kind: string; connectorId: string }, req, raw, reply);
        return reply.code(answer.status).send(answer.body);
      },
    );
  });
}
