import { z } from "zod";
import type { Deps } from "../platform/context.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { ShopBody, ShopPatch } from "./shop.schemas.js";
import { createShop, getShop, listShops, updateShop } from "./shop.service.js";

const idParam = z.object({ id: z.string().uuid() });

export function shopRoutes(app: ZApp, deps: Deps) {
  app.get("/api/v1/shops", { config: { roles: ROLES.staff }, schema: { tags: ["shops"] } }, async (req) => listShops(deps, actorOf(req)));
  app.get("/api/v1/shops/:id", { config: { roles: ROLES.staff }, schema: { tags: ["shops"], params: idParam } }, async (req) =>
    getShop(deps, actorOf(req), req.params.id),
  );
  app.post("/api/v1/shops", { config: { roles: ROLES.admin }, schema: { tags: ["shops"], body: ShopBody } }, async (req, reply) =>
    reply.code(201).send(await createShop(deps, actorOf(req), req.body)),
  );
  app.patch(
    "/api/v1/shops/:id",
    { config: { roles: ROLES.admin }, schema: { tags: ["shops"], params: idParam, body: ShopPatch } },
    async (req) => updateShop(deps, actorOf(req), req.params.id, req.body),
  );
}
