import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { secretKey } from "../connectors/context.js";
import type { Deps } from "../platform/context.js";
import { AppError, notFound } from "../platform/errors.js";
import type { ZApp } from "../platform/http.js";

/**
 * A case's photo as a link a supplier platform can fetch without an account (CJ takes dispute
 * evidence as image URLs and copies the pictures): `/public/evidence/:id?e=<expiry ms>&s=<sig>`,
 * the signature an HMAC-SHA256 of the evidence id and the expiry under a key derived from the
 * installation's secret key. A link answers only until it expires (a day) and only for that file;
 * a changed id, expiry or signature answers 403 and shows nothing.
 */
const TTL_MS = 86_400_000;
const keyOf = (deps: Deps) => createHmac("sha256", secretKey(deps)).update("dropdesk evidence links v1").digest();
const sigOf = (deps: Deps, id: string, expires: number) => createHmac("sha256", keyOf(deps)).update(`${id}.${expires}`).digest("base64url");

function publicBase(deps: Deps) {
  return (process.env.DROPDESK_PUBLIC_URL ?? `http://localhost:${deps.config.port}`).replace(/\/+$/, "");
}

export function evidenceLink(deps: Deps, evidenceId: string): string {
  const expires = deps.clock.now().getTime() + TTL_MS;
  return `${publicBase(deps)}/public/evidence/${evidenceId}?e=${expires}&s=${sigOf(deps, evidenceId, expires)}`;
}

export function evidenceLinkRoutes(app: ZApp, deps: Deps) {
  app.get(
    "/public/evidence/:id",
    {
      config: { public: true },
      schema: {
        hide: true,
        params: z.object({ id: z.string().uuid() }),
        querystring: z.object({ e: z.coerce.number().int(), s: z.string().min(10).max(100) }),
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      const { e, s } = req.query;
      const want = Buffer.from(sigOf(deps, id, e));
      const got = Buffer.from(s);
      if (want.length !== got.length || !timingSafeEqual(want, got) || e < deps.clock.now().getTime())
        throw new AppError("forbidden", "this evidence link is not valid or has expired");
      const f = await deps.db.selectFrom("evidence").select(["storage_key", "mime"]).where("id", "=", id).executeTakeFirst();
      const data = f && (await deps.storage.get(f.storage_key));
      if (!f || !data) throw notFound("evidence");
      return reply.header("content-type", f.mime).header("cache-control", "private, max-age=300").send(data);
    },
  );
}
