// `npm test`: runs every suite (unit, integration on PGlite and PostgreSQL, browser) with Vitest and
// ends with one plain summary line. With CI=true a missing PostgreSQL or browser fails the suites.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";

mkdirSync(".tmp", { recursive: true });
// The browser journeys drive the built web app.
spawnSync(process.execPath, ["scripts/build-web.mjs"], { stdio: "inherit" });
const args = ["vitest", "run", "--reporter=default", "--reporter=json", "--outputFile.json=.tmp/vitest.json", ...process.argv.slice(2)];
const r = spawnSync("npx", args, { stdio: "inherit", env: process.env });
try {
  const report = JSON.parse(readFileSync(".tmp/vitest.json", "utf8"));
  const skipped = report.numPendingTests + report.numTodoTests;
  console.log(`\ntests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
  if (report.numTotalTests === 0) process.exit(1);
} catch {
  console.log("\ntests: 0 passed, 1 failed");
  process.exit(1);
}
process.exit(r.status ?? 1);
