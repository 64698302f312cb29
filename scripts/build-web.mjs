// Builds the web app into web/dist when it is missing or older than its sources.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

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
  // Server modules the web app imports as well.
  statSync(join(root, "src", "platform", "csv.ts")).mtimeMs,
  statSync(join(root, "src", "domain", "vocabulary.ts")).mtimeMs,
);
if (!existsSync(dist) || statSync(dist).mtimeMs < srcTime || process.argv.includes("--force")) {
  console.log("building the web app…");
  execFileSync(
    process.execPath,
    [join(root, "node_modules", "vite", "bin", "vite.js"), "build", "--config", join(root, "web", "vite.config.ts"), "--logLevel", "warn"],
    { stdio: "inherit", cwd: root },
  );
}
