import type { Selectable } from "kysely";
import { z } from "zod";
import type { Imports } from "../db/schema.js";
import type { Deps } from "../platform/context.js";
import { notFound, validation } from "../platform/errors.js";
import { actorOf, type ZApp } from "../platform/http.js";
import { type ImportFormat, startImport } from "./import.service.js";

const importOut = (r: Selectable<Imports>) => ({
  id: r.id,
  kind: r.kind,
  format: r.format,
  status: r.status,
  filename: r.filename,
  total: r.total,
  imported: r.imported,
  skipped: r.skipped,
  failed: r.failed,
  errors: r.errors,
  createdAt: r.created_at,
  finishedAt: r.finished_at,
});

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
    async (req) => {
      const a = actorOf(req);
      const r = await deps.db
        .selectFrom("imports")
        .selectAll()
        .where("tenant_id", "=", a.tenantId)
        .where("id", "=", req.params.id)
        .executeTakeFirst();
      if (!r) throw notFound("import");
      return importOut(r);
    },
  );
  app.get("/api/v1/imports", { config: { roles: ["admin", "cs", "viewer"] }, schema: { tags: ["orders"] } }, async (req) => {
    const a = actorOf(req);
    const rows = await deps.db
      .selectFrom("imports")
      .selectAll()
      .where("tenant_id", "=", a.tenantId)
      .orderBy("id", "desc")
      .limit(100)
      .execute();
    return {
      items: rows.map((r) => ({ ...importOut(r), errors: undefined, errorCount: (r.errors as unknown[]).length })),
      nextCursor: null,
    };
  });
}
