import { z } from "zod";
import type { Deps } from "../platform/context.js";
import { validation } from "../platform/errors.js";
import { actorOf, type ZApp } from "../platform/http.js";
import { type ImportFormat, startImport } from "./import.service.js";
import { getImport, listImports } from "./import.view.js";

export function importRoutes(app: ZApp, deps: Deps) {
  app.post(
    "/api/v1/orders/import",
    {
      config: { roles: ["admin", "cs"] },
      schema: {
        tags: ["orders"],
        consumes: ["multipart/form-data"],
        querystring: z.strictObject({ format: z.enum(["shopify", "generic"]).optional(), shopId: z.string().uuid().optional() }),
      },
    },
    async (req, reply) => {
      const a = actorOf(req);
      const fields: Record<string, string> = { ...(req.query as Record<string, string>) };
      let started: string | undefined;
      for await (const part of req.parts({ limits: { fileSize: 1024 * 1024 * 1024 } })) {
        if (part.type === "field") fields[part.fieldname] = String(part.value);
        else if (part.fieldname === "file") {
          const format = (fields.format ?? "generic") as ImportFormat;
          if (!["shopify", "generic"].includes(format)) throw validation("format", "shopify or generic");
          if (!fields.shopId) throw validation("shopId", "send the shop's id before the file");
          started = await startImport(deps, a, {
            shopId: fields.shopId,
            format,
            filename: part.filename ?? "orders.csv",
            stream: part.file,
          });
        } else part.file.resume();
      }
      if (!started) throw validation("file", "send the CSV as the multipart field `file`");
      return reply.code(202).send({ id: started, status: "queued" });
    },
  );
  app.get(
    "/api/v1/imports/:id",
    { config: { roles: ["admin", "cs", "viewer"] }, schema: { tags: ["orders"], params: z.object({ id: z.string().uuid() }) } },
    async (req) => getImport(deps.db, actorOf(req), req.params.id),
  );
  app.get("/api/v1/imports", { config: { roles: ["admin", "cs", "viewer"] }, schema: { tags: ["orders"] } }, async (req) =>
    listImports(deps.db, actorOf(req)),
  );
}
