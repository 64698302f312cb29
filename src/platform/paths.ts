import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The checkout's root (the folder with package.json), found from this module's own place, so the
 * migrations and the built web app are found both from src/ (tsx, tests) and from the compiled
 * server in dist/ (`npm start`).
 */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find Dropdesk's package.json above the server's code");
    dir = up;
  }
}

export const ROOT = findRoot();
