// Builds the web app into web/dist when it is missing or older than its sources, then writes a
// brotli (.br) and a gzip (.gz) copy of every text asset next to it: the server sends those as they
// are (@fastify/static preCompressed), so nothing is compressed per request.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const root = join(import.meta.dirname, "..");
const dist = join(root, "web", "dist", "index.html");
const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce(
    (m, e) => Math.max(m, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs),
    0,
  );
const srcTime = Math.max(
  newest(join(root, "web", "src")),
  statSync(join(root, "web", "index.html")).mtimeMs,
  statSync(join(root, "web", "vite.config.ts")).mtimeMs,
  statSync(join(root, "web", "public")).mtimeMs,
  // Server modules the web app imports as well.
  statSync(join(root, "src", "platform", "csv.ts")).mtimeMs,
  statSync(join(root, "src", "domain", "vocabulary.ts")).mtimeMs,
);
if (!existsSync(dist) || statSync(dist).mtimeMs < srcTime || process.argv.includes("--force")) {
  console.log("building the web app…");
  execFileSync(
    process.execPath,
    [join(root, "node_modules", "vite", "bin", "vite.js"), "build", "--config", join(root, "web", "vite.config.ts"), "--logLevel", "warn"],
    // Always a production build: run from the test suite, NODE_ENV=test would otherwise make
    // Vite bundle React's and antd's development builds (StrictMode's double effects, warnings, twice the bytes).
    { stdio: "inherit", cwd: root, env: { ...process.env, NODE_ENV: "production" } },
  );
}

/** Brotli (quality 11) and gzip (level 9) copies of the text assets, kept only when they are smaller. */
function precompress(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const file = join(dir, e.name);
    if (e.isDirectory()) {
      precompress(file);
      continue;
    }
    if (!/\.(js|css|html|svg|json|ico|txt|map)$/.test(e.name)) continue;
    if (existsSync(`${file}.br`) && statSync(`${file}.br`).mtimeMs >= statSync(file).mtimeMs) continue;
    const data = readFileSync(file);
    const br = brotliCompressSync(data, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
    });
    const gz = gzipSync(data, { level: 9 });
    if (br.length < data.length) writeFileSync(`${file}.br`, br);
    if (gz.length < data.length) writeFileSync(`${file}.gz`, gz);
  }
}
if (existsSync(dist)) precompress(join(root, "web", "dist"));
