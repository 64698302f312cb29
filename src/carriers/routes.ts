import type { FastifyReply } from "fastify";
import { z } from "zod";
import { loadConnector, readSecrets } from "../connectors/context.js";
import type { ConnectorRow } from "../connectors/kind.js";
import { CARRIER_ALIASES, CARRIER_NAMES, CARRIERS } from "../domain/vocabulary.js";
import type { Deps, Role } from "../platform/context.js";
import { actorOf, type ZApp } from "../platform/http.js";
import { applyInterceptCallback, carrierInterceptState, requestCarrierIntercept } from "./intercepts.js";
import { formFields, PUSH_OK, type PushParam, pushRefused, pushSign, signMatches } from "./kuaidi100.js";
import { applyPickupCallback, bookPickup, cancelBookedPickup, currentPickup, PickupBody } from "./pickups.js";
import { returnSlip } from "./return-slip.js";
import { applyPush } from "./tracking.js";

const idParam = z.object({ id: z.string().uuid() });
const hookParams = z.object({ connectorId: z.string().max(100) });
type Roles = { roles: readonly (Role | "customer")[] };
const STAFF: Roles = { roles: ["admin", "cs"] };
const ANY_STAFF: Roles = { roles: ["admin", "cs", "warehouse", "finance", "viewer"] };
const CUSTOMER: Roles = { roles: ["customer"] };

const sendPdf = (reply: FastifyReply, r: { filename: string; pdf: Buffer }) =>
  reply
    .header("content-type", "application/pdf")
    .header("content-disposition", `inline; filename="${r.filename}"`)
    .header("cache-control", "private")
    .send(r.pdf);

export function carrierRoutes(app: ZApp, deps: Deps) {
  app.get("/api/v1/carriers", { config: { public: true }, schema: { tags: ["carriers"] } }, async () => ({
    items: CARRIERS.map((code) => ({ code, names: CARRIER_NAMES[code], aliases: CARRIER_ALIASES[code] ?? [] })),
  }));

  // 快递100's pushes and callbacks: form posts of `param` and `sign` = MD5(param + salt).
  app.register(async (hooks) => {
    if (!hooks.hasContentTypeParser("application/x-www-form-urlencoded"))
      hooks.addContentTypeParser(
        "application/x-www-form-urlencoded",
        { parseAs: "string", bodyLimit: 2 * 1024 * 1024 },
        (_req, body, done) => done(null, body),
      );

    const verified = async (connectorId: string, body: unknown) => {
      const row = /^[0-9a-f-]{36}$/.test(connectorId) ? await loadConnector(deps.db, connectorId) : undefined;
      if (row?.kind !== "kuaidi100") return { status: 404, answer: pushRefused("no such connector") } as const;
      const fields = formFields(body);
      let salt: string | undefined;
      try {
        salt = readSecrets(deps, row).salt;
      } catch {
        salt = undefined;
      }
      if (!salt || !fields.param || !signMatches(fields.sign, pushSign(fields.param, salt)))
        return { status: 400, answer: pushRefused("签名错误 / bad sign") } as const;
      let param: Record<string, unknown>;
      try {
        param = JSON.parse(fields.param);
      } catch {
        return { status: 400, answer: pushRefused("param is not JSON") } as const;
      }
      if (!param || typeof param !== "object" || Array.isArray(param))
        return { status: 400, answer: pushRefused("param is not an object") } as const;
      if (row.status === "paused") return { status: 503, answer: pushRefused("the connector is paused; push again later") } as const;
      return { row: row as ConnectorRow, param };
    };

    const hook = (path: string, handle: (row: ConnectorRow, param: Record<string, unknown>) => Promise<unknown>) =>
      hooks.post(
        `/hooks/kuaidi100/:connectorId${path}`,
        { config: { public: true }, schema: { hide: true, params: hookParams } },
        async (req, reply) => {
          const v = await verified((req.params as { connectorId: string }).connectorId, req.body);
          if (!("row" in v) || !v.row) return reply.code(v.status ?? 400).send(v.answer);
          try {
            await handle(v.row, v.param);
          } catch (e) {
            req.log.error({ err: e }, "kuaidi100 push not applied");
            if (process.env.DD_DEBUG_CARRIERS) console.error(e);
            return reply.code(500).send(pushRefused("not applied; push again later"));
          }
          return PUSH_OK;
        },
      );

    hook("", (row, param) => deps.db.transaction().execute((tx) => applyPush(deps, tx, row, param as PushParam)));
    hook("/intercept", (row, param) => deps.db.transaction().execute((tx) => applyInterceptCallback(deps, tx, row, param)));
    hook("/pickup", (row, param) => deps.db.transaction().execute((tx) => applyPickupCallback(deps, tx, row, param)));
  });

  app.post(
    "/api/v1/supplier-orders/:id/actions/carrier-intercept",
    {
      config: STAFF,
      schema: { tags: ["carriers"], params: idParam, body: z.strictObject({ note: z.string().max(200).optional() }).nullish() },
    },
    async (req) => requestCarrierIntercept(deps, actorOf(req), req.params.id, req.body?.note),
  );
  app.get(
    "/api/v1/supplier-orders/:id/carrier-intercept",
    { config: ANY_STAFF, schema: { tags: ["carriers"], params: idParam } },
    async (req) => carrierInterceptState(deps, actorOf(req), req.params.id),
  );

  // Return pickups and the return slip, for CS and for the customer in the portal.
  for (const [prefix, read, write] of [
    ["/api/v1", ANY_STAFF, STAFF],
    ["/portal/api", CUSTOMER, CUSTOMER],
  ] as const) {
    const tags = [prefix === "/api/v1" ? "carriers" : "portal"];
    app.get(`${prefix}/cases/:id/pickup`, { config: read, schema: { tags, params: idParam } }, async (req) => ({
      pickup: await currentPickup(deps, actorOf(req), req.params.id),
    }));
    app.post(`${prefix}/cases/:id/pickup`, { config: write, schema: { tags, params: idParam, body: PickupBody } }, async (req, reply) =>
      reply.code(201).send({ pickup: await bookPickup(deps, actorOf(req), req.params.id, req.body) }),
    );
    app.post(
      `${prefix}/cases/:id/pickup/cancel`,
      { config: write, schema: { tags, params: idParam, body: z.strictObject({}).nullish() } },
      async (req) => ({
        pickup: await cancelBookedPickup(deps, actorOf(req), req.params.id),
      }),
    );
    app.get(`${prefix}/cases/:id/return-slip.pdf`, { config: read, schema: { tags, params: idParam } }, async (req, reply) =>
      sendPdf(reply, await returnSlip(deps, actorOf(req), req.params.id)),
    );
  }
}
