import { z } from "zod";
import { BLOCKLIST_KINDS } from "../domain/vocabulary.js";
import type { Deps } from "../platform/context.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { addToBlocklist, listBlocklist, removeFromBlocklist } from "./blocklist.service.js";

const idParam = z.object({ id: z.string().uuid() });

export const BlocklistBody = z.strictObject({
  shopId: z.string().uuid().optional(),
  kind: z.enum(BLOCKLIST_KINDS),
  value: z.string().min(1).max(200),
  reason: z.string().max(500).optional(),
});

export function blocklistRoutes(app: ZApp, deps: Deps) {
  app.get("/api/v1/blocklist", { config: { roles: ROLES.staff }, schema: { tags: ["abuse"] } }, async (req) =>
    listBlocklist(deps, actorOf(req)),
  );
  app.post("/api/v1/blocklist", { config: { roles: ROLES.admin }, schema: { tags: ["abuse"], body: BlocklistBody } }, async (req, reply) =>
    reply.code(201).send(await addToBlocklist(deps, actorOf(req), req.body)),
  );
  app.delete("/api/v1/blocklist/:id", { config: { roles: ROLES.admin }, schema: { tags: ["abuse"], params: idParam } }, async (req) =>
    removeFromBlocklist(deps, actorOf(req), req.params.id),
  );
}
