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
