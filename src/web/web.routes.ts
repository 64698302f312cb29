import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import fastifyStatic from "@fastify/static";
import type { Deps } from "../platform/context.js";
import type { ZApp } from "../platform/http.js";
import { ROOT } from "../platform/paths.js";

const DIST = join(ROOT, "web", "dist");

/**
 * Serves the built web app (web/dist): its assets, and index.html for every page path of the
 * console (/), the customer portal (/portal) and the supplier portal (/supplier). The build
 * (scripts/build-web.mjs) writes a brotli and a gzip copy of every asset; they are sent as they are
 * to a browser that accepts them (Content-Encoding, Vary: Accept-Encoding).
 */
export async function webRoutes(app: ZApp, _deps: Deps) {
  const built = existsSync(join(DIST, "index.html"));
  if (built)
    await app.register(fastifyStatic, {
      root: join(DIST, "assets"),
      prefix: "/assets/",
      decorateReply: false,
      maxAge: "30d",
      immutable: true,
      preCompressed: true,
    });
  // The icon browsers ask for on every page (brotli when they take it, as the assets).
  const icon = join(DIST, "favicon.ico");
  if (built && existsSync(icon))
    app.get("/favicon.ico", { config: { public: true }, schema: { hide: true } }, async (req, reply) => {
      const br = /\bbr\b/.test(String(req.headers["accept-encoding"] ?? "")) && existsSync(`${icon}.br`);
      reply.header("content-type", "image/x-icon").header("cache-control", "public, max-age=86400").header("vary", "accept-encoding");
      if (br) reply.header("content-encoding", "br");
      return reply.send(await readFile(br ? `${icon}.br` : icon));
    });
  let index: string | null = null;
  const page = async (_req: unknown, reply: { type: (t: string) => { send: (b: string) => unknown } }) => {
    index ??= built
      ? await readFile(join(DIST, "index.html"), "utf8")
      : '<!doctype html><meta charset="utf-8"><title>Dropdesk</title><p>The web app is not built yet: run <code>npm run build:web</code>.</p>';
    return reply.type("text/html; charset=utf-8").send(index);
  };
  const opts = { config: { public: true }, schema: { hide: true } };
  for (const path of [
    "/",
    "/login",
    "/cases",
    "/cases/*",
    "/orders",
    "/orders/*",
    "/imports",
    "/warehouse",
    "/to-refund",
    "/policies",
    "/finance",
    "/suppliers",
    "/settings",
    "/claims",
    "/automation",
    "/analytics",
    "/audit",
    "/complaints",
    "/connectors",
    "/portal",
    "/portal/*",
    "/supplier",
    "/supplier/*",
  ]) {
    app.get(path, opts, page);
  }
}
