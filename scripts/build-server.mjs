// Compiles the server (src/, TypeScript) into one JavaScript file, dist/dropdesk.mjs, when it is
// missing or older than its sources, so that `npm start` and `npx dropdesk` run plain JavaScript:
// no TypeScript compiler loaded at run time, which starts faster and holds less memory. Packages
// stay in node_modules (not bundled). Tests and `npm run dev` run src/ through tsx as before.
//
//   node scripts/build-server.mjs [--force]
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(import.meta.dirname, "..");
export const SERVER_BUNDLE = join(root, "dist", "dropdesk.mjs");

/**
 * The Node options the server runs with (`npm start` spells them out in package.json; the benches
 * take them from here). A young generation of 4 MB semi-spaces instead of V8's 16 MB: an import's
 * batches and a request's objects die young either way, and the server holds 15–25 MB less at
 * its peak (a 100k-order import 303–322 → 291–294 MB) with no CPU cost the benches can show.
 */
export const SERVER_NODE_OPTIONS = ["--max-semi-space-size=4"];

const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce(
    (m, e) => Math.max(m, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs),
    0,
  );

/** Builds dist/dropdesk.mjs unless it is newer than every file of src/ and package.json. */
export async function buildServer({ force = false, quiet = false } = {}) {
  const srcTime = Math.max(newest(join(root, "src")), statSync(join(root, "package.json")).mtimeMs);
  if (!force && existsSync(SERVER_BUNDLE) && statSync(SERVER_BUNDLE).mtimeMs >= srcTime) return false;
  if (!quiet) console.log("building the server…");
  // Loaded only to build, so a process that merely starts the server never holds it.
  const { build } = await import("esbuild");
  await build({
    entryPoints: [join(root, "src", "cli.ts")],
    outfile: SERVER_BUNDLE,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    logLevel: "warning",
    legalComments: "none",
    banner: { js: "// Built from src/ by scripts/build-server.mjs; do not edit." },
  });
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildServer({ force: process.argv.includes("--force") });
