import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARTIFACTS, hasBrowser, launchBrowser, listen, signedInPage } from "../helpers/browser.js";
import { type Catalog, createDeliveredOrder, setupCatalog } from "../helpers/fixtures.js";
import { startTestApp, type TestApp } from "../helpers/harness.js";

describe.runIf(hasBrowser)("analytics screens in the browser", () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let cat: Catalog;
  const caseIds: Record<string, string[]> = { quality: [], wrong_item: [] };
  beforeAll(async () => {
    t = await startTestApp("pglite");
    cat = await setupCatalog(t);
    t.clock.set(new Date());
    // Two quality complaints about mugs (supplier A) and one wrong tee (supplier A too).
    const open = async (sku: string, type: string, reason: string) => {
      const order = await createDeliveredOrder(t, cat, {
        lines: [{ skuCode: sku, quantity: 1 }],
        deliveredAt: new Date(Date.now() - 86400_000).toISOString(),
      });
      const res = await t.api("POST", "/api/v1/cases", {
        body: { orderId: order.id, type, reason, description: "e2e", lines: [{ orderLineId: order.lines[0].id, quantity: 1 }] },
      });
      expect(res.status).toBe(201);
      caseIds[reason].push(res.body.id);
    };
    await open("MUG", "return_refund", "quality");
    await open("MUG", "return_refund", "quality");
    await open("TEE", "reship", "wrong_item");
    base = await listen(t);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("shows the Pareto, opens the cases behind a bar, and shows supplier scorecards with drill-down", async () => {
    const page = await signedInPage(browser, t, base, "/analytics?tab=reasons", "viewer");
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const chart = page.getByTestId("pareto-chart");
    await chart.locator("canvas").waitFor();
    await page.locator("tr", { hasText: "质量问题" }).getByText("66.7 %").first().waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "analytics-reasons.png"), fullPage: true });
    // The first bar (quality, 2 cases) sits in the first half of the plot; a click opens its cases.
    const box = await chart.boundingBox();
    if (!box) throw new Error("no chart");
    const plotLeft = box.x + 50;
    const plotWidth = box.width - 100;
    await page.mouse.click(plotLeft + plotWidth / 4, box.y + box.height - 80);
    await page.waitForURL(/\/cases\?.*reason=quality/);
    const url = new URL(page.url());
    expect(url.searchParams.get("createdFrom")).toBeTruthy();
    await page.locator("tr.ant-table-row", { hasText: "质量问题" }).nth(1).waitFor();
    const shown = (await t.api("GET", `/api/v1/cases?${url.searchParams}`)).body.items.map((c: { id: string }) => c.id).sort();
    expect(shown).toEqual([...caseIds.quality].sort());
    expect(await page.locator("tr.ant-table-row").count()).toBe(2);

    // Supplier scorecards: Supplier A's wrong-item rate opens its wrong-item case.
    await page.goto(`${base}/analytics?tab=suppliers`);
    const row = page.locator("tr", { hasText: "Supplier A" });
    await row.waitFor();
    await page.getByTestId("suppliers-chart").locator("canvas").waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "analytics-suppliers.png"), fullPage: true });
    await row.getByText(/\(1\)/).first().click();
    await page.waitForURL(/reason=wrong_item/);
    await page.locator("tr.ant-table-row", { hasText: "发错货" }).first().waitFor();
    expect(await page.locator("tr.ant-table-row").count()).toBe(1);

    // Returns by SKU, then in English, then timings and cost render.
    await page.goto(`${base}/analytics?tab=returns&groupBy=sku`);
    const mug = page.locator("tr", { hasText: "MUG" });
    await mug.waitFor();
    expect(await mug.locator("td").nth(3).textContent()).toBe("2");
    await page.getByRole("button", { name: "English" }).click();
    await page.getByRole("tab", { name: "Timings" }).click();
    await page.getByTestId("timings-chart").locator("canvas").waitFor();
    await page.getByText("Response SLA met").first().waitFor();
    await page.getByRole("tab", { name: "Cost & satisfaction" }).click();
    await page.getByTestId("cost-chart").locator("canvas").waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "analytics-cost-en.png"), fullPage: true });
    expect(errors).toEqual([]);

    // The period is antd's range picker with presets (the page is in English by now): the last 7
    // days put a 7-day range in the address.
    await page.getByTestId("analytics-range").first().click();
    await page.getByText("Last 7 days", { exact: true }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get("from"), { timeout: 10_000 }).toBeTruthy();
    const picked = new URL(page.url()).searchParams;
    expect((Date.parse(picked.get("to") as string) - Date.parse(picked.get("from") as string)) / 86_400_000).toBe(6);
  });
});
