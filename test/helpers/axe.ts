import { createRequire } from "node:module";
import type { Page } from "playwright-core";

const axeSource: string = createRequire(import.meta.url)("axe-core").source;

export type AxeFinding = { id: string; impact: string; help: string; targets: string[] };

/**
 * Runs axe-core in the page (its source evaluated there, past the app's CSP; nothing fetched) and returns the critical and
 * serious violations, each with the selectors of the elements at fault.
 */
export async function seriousViolations(page: Page): Promise<AxeFinding[]> {
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(axeSource);
  const found = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<any> } }).axe;
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v: any) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 5).map((n: any) => `${n.target.join(" ")} ${n.html.slice(0, 120)}`),
    }));
  });
  return (found as AxeFinding[]).filter((v) => v.impact === "critical" || v.impact === "serious");
}
