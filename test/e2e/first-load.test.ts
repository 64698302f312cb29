import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type { Browser, BrowserContext, BrowserContextOptions, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARTIFACTS, hasBrowser, launchBrowser } from "../helpers/browser.js";
import { type Catalog, createDeliveredOrder, setupCatalog } from "../helpers/fixtures.js";
import { addSupplierUser, startTestApp, TEST_PASSWORD, type TestApp, userEmails } from "../helpers/harness.js";

// The console and the portals as people open them: every screen's first load, signed out and
// signed in, without a console error or warning (antd's deprecation notices included); times in
// the shop's time zone with the zone named when the viewer is elsewhere; the case list sorted by
// the API when a column header is clicked.

const SHOP_ZONE = "Asia/Shanghai";
const VIEWER_ZONE = "America/New_York";

describe.runIf(hasBrowser)("first loads, shop times and server sorting in the browser", () => {
  let t: TestApp;
  let cat: Catalog;
  let browser: Browser;
  let base: string;
  const emails: Record<string, string> = {};
  const contexts: BrowserContext[] = [];
  let inspected: { caseId: string; orderId: string; platformOrderNo: string };
  let portalToken: string;

  async function ok(p: Promise<{ status: number; body: any; text: string }>) {
    const r = await p;
    expect(r.status, r.text).toBeLessThan(300);
    return r.body;
  }

  /** A delivered order and a return-and-refund case on it, moved as far as `until`. */
  async function caseOn(until: "open" | "approve" | "inspect", quantity = 1) {
    const order = await createDeliveredOrder(t, cat, {
      lines: [{ skuCode: "TEE", quantity: 2 }],
      deliveredAt: new Date(Date.now() - 86400_000).toISOString(),
    });
    const c = await ok(
      t.api("POST", "/api/v1/cases", {
        as: "cs",
        body: {
          orderId: order.id,
          type: "return_refund",
          reason: "quality",
          lines: [{ orderLineId: order.lines[0].id, quantity }],
          description: "线头开了",
          channel: "phone",
        },
      }),
    );
    const steps = [
      ["approve", {}, "cs"],
      ["ship-return", { carrier: "shunfeng", trackingNo: `SF${Date.now()}` }, "cs"],
      ["receive", {}, "warehouse"],
      ["inspect", { grade: "resellable", matchesOrder: true, complete: true, disposition: "return_to_supplier" }, "warehouse"],
    ] as const;
    for (const [action, body, as] of steps) {
      if (until === "open" || (until === "approve" && action !== "approve")) break;
      await ok(t.api("POST", `/api/v1/cases/${c.id}/actions/${action}`, { as, body }));
    }
    return { caseId: c.id as string, orderId: order.id as string, platformOrderNo: order.platformOrderNo as string };
  }

  /** A fresh context and page that records every console error and warning and every uncaught error. */
  async function fresh(opts: BrowserContextOptions = {}): Promise<Page & { errors: string[] }> {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "zh-CN", ...opts });
    contexts.push(ctx);
    const page = (await ctx.newPage()) as Page & { errors: string[] };
    page.setDefaultTimeout(60_000);
    page.errors = [];
    page.on("pageerror", (e) => page.errors.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") page.errors.push(`${m.type()}: ${m.text()}`);
    });
    return page;
  }

  /** Signs in through the form and returns what a fresh context needs to start signed in (errors on the way into `errors`). */
  async function session(role: string, path = "/", errors?: string[]): Promise<BrowserContextOptions["storageState"]> {
    const page = await fresh();
    await page.goto(`${base}${path}`);
    await page.getByLabel(/邮箱|Email/).fill(emails[role]);
    await page.getByLabel(/密码|Password/).fill(TEST_PASSWORD);
    await page.getByRole("button", { name: /登\s*录|Sign in/ }).click();
    await page
      .locator(role === "supplier" ? ".ant-tabs" : "[data-testid=whoami]")
      .first()
      .waitFor();
    const state = await page.context().storageState();
    if (errors) errors.push(...page.errors);
    else expect(page.errors).toEqual([]);
    return state;
  }

  /** Waits until a screen has loaded: no request in flight and no spinner. */
  async function settled(page: Page) {
    await page.waitForLoadState("networkidle");
    await page.waitForFunction(() => !document.querySelector(".ant-spin-spinning"), undefined, { timeout: 20_000 });
  }

  beforeAll(async () => {
    execFileSync(process.execPath, [join(process.cwd(), "scripts", "build-web.mjs")], { stdio: "inherit" });
    t = await startTestApp("pglite");
    cat = await setupCatalog(t, { timezone: SHOP_ZONE });
    t.clock.set(new Date());
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
    Object.assign(emails, await userEmails(t, ["admin", "cs"]));
    emails.supplier = await addSupplierUser(t.deps, t.t.tenantId, cat.suppliers.a, "Supplier A");
    // Cases claiming one and two tees, one inspected (to refund), and one waiting for review.
    inspected = await caseOn("inspect");
    await caseOn("approve", 2);
    await caseOn("open");
    portalToken = (
      await ok(t.api("POST", "/portal/api/lookup", { body: { platformOrderNo: inspected.platformOrderNo, phoneLast4: "5678" } }))
    ).token;
    browser = await launchBrowser();
  }, 180_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await t?.close();
  });

  const CONSOLE = [
    "/",
    "/analytics",
    "/cases",
    "/to-refund",
    "/complaints",
    "/orders",
    "/imports",
    "/warehouse",
    "/finance",
    "/claims",
    "/suppliers",
    "/policies",
    "/settings",
    "/automation",
    "/connectors",
    "/audit",
  ];

  it("opens every screen fresh, signed out and signed in, without a console error or warning", async () => {
    const found: Record<string, string[]> = {};
    const visit = async (name: string, url: string, ready: (p: Page) => Promise<unknown>, opts: BrowserContextOptions = {}) => {
      const page = await fresh(opts);
      await page.goto(`${base}${url}`);
      try {
        await ready(page);
        await settled(page);
      } catch (e) {
        page.errors.push(`did not load: ${(e as Error).message.split("\n")[0]}`);
        await page.screenshot({ path: join(ARTIFACTS, `first-load-failed${url.replace(/[^a-z0-9]+/gi, "-")}.png`), fullPage: true });
      }
      if (page.errors.length) found[name] = page.errors;
      await page.context().close();
    };
    const signInForm = (p: Page) => p.getByLabel(/密码|Password/).waitFor();
    // Signed out: the console's sign-in form on every screen, the portal lookup, the supplier's sign-in.
    for (const path of ["/", "/cases", `/cases/${inspected.caseId}`, "/finance"]) await visit(`signed out ${path}`, path, signInForm);
    await visit("portal lookup", "/portal", (p) => p.getByRole("button", { name: /查询订单/ }).waitFor());
    await visit("supplier signed out", "/supplier", signInForm);
    // The portal opened from a message's link, with its token in the fragment.
    await visit("portal with a token", `/portal/cases/${inspected.caseId}#t=${portalToken}`, (p) =>
      p.locator("[data-status]").first().waitFor(),
    );
    await visit("portal order with a token", `/portal/order#t=${portalToken}`, (p) =>
      p
        .getByText(/希望如何处理|售后/)
        .first()
        .waitFor(),
    );
    // Signed in: each console screen in its own fresh context, and the supplier's portal.
    const signingIn: string[] = [];
    const admin = { storageState: await session("admin", "/", signingIn) };
    for (const path of [...CONSOLE, `/cases/${inspected.caseId}`, `/orders/${inspected.orderId}`])
      await visit(`signed in ${path}`, path, (p) => p.getByTestId("whoami").waitFor(), admin);
    const supplier = { storageState: await session("supplier", "/supplier", signingIn) };
    if (signingIn.length) found["signing in"] = signingIn;
    await visit("supplier signed in", "/supplier", (p) => p.locator(".ant-tabs").first().waitFor(), supplier);
    expect(found).toEqual({});
  }, 300_000);

  it("shows times in the shop's time zone, naming it when the viewer's browser is elsewhere", async () => {
    const c = (await t.api("GET", `/api/v1/cases/${inspected.caseId}`)).body;
    expect(c.shopTimezone).toBe(SHOP_ZONE);
    const shopTime = (at: string) => new Date(at).toLocaleString("zh-CN", { timeZone: SHOP_ZONE });
    const expected = `${shopTime(c.createdAt)}（北京时间 GMT+8）`;
    // A viewer in New York sees Beijing's wall clock and its name.
    const away = await fresh({ timezoneId: VIEWER_ZONE, storageState: await session("cs") });
    expect(await away.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone)).toBe(VIEWER_ZONE);
    await away.goto(`${base}/cases/${inspected.caseId}`);
    await away.getByTestId("case-created").getByText(expected).waitFor();
    expect(expected).not.toContain(new Date(c.createdAt).toLocaleString("zh-CN", { timeZone: VIEWER_ZONE }));
    await away.screenshot({ path: join(ARTIFACTS, "shop-time-case.png"), fullPage: true });
    await away.goto(`${base}/cases`);
    await away.locator("tr", { hasText: c.caseNo }).getByTestId("case-created").getByText(expected).waitFor();
    const order = (await t.api("GET", `/api/v1/orders/${inspected.orderId}`)).body;
    expect(order.shopTimezone).toBe(SHOP_ZONE);
    await away.goto(`${base}/orders/${inspected.orderId}`);
    await away
      .getByTestId("order-placed")
      .getByText(`${shopTime(order.placedAt ?? order.createdAt)}（北京时间 GMT+8）`)
      .waitFor();
    await away.goto(`${base}/orders`);
    await away
      .locator("tr", { hasText: order.platformOrderNo })
      .getByText(`${shopTime(order.placedAt)}（北京时间 GMT+8）`)
      .waitFor();
    await away.goto(`${base}/to-refund`);
    await away.getByTestId("to-refund").locator("tr", { hasText: c.caseNo }).waitFor();
    await away.screenshot({ path: join(ARTIFACTS, "shop-time-to-refund.png"), fullPage: true });
    expect(await away.getByTestId("to-refund").locator("tr", { hasText: c.caseNo }).textContent()).toContain(
      `${shopTime(c.createdAt)}（北京时间 GMT+8）`,
    );
    // In English the zone is named in English.
    await away.goto(`${base}/cases/${inspected.caseId}`);
    await away.evaluate(() => localStorage.setItem("dd_lang", "en"));
    await away.reload();
    await away
      .getByTestId("case-created")
      .getByText(`${shopTime(c.createdAt)} (Beijing time GMT+8)`)
      .waitFor();
    expect(away.errors).toEqual([]);
    // A viewer in Shanghai sees the same time with no zone added.
    const home = await fresh({ timezoneId: SHOP_ZONE, storageState: await session("cs") });
    await home.goto(`${base}/cases/${inspected.caseId}`);
    await home.getByTestId("case-created").getByText(shopTime(c.createdAt), { exact: true }).waitFor();
    expect(await home.getByTestId("case-created").textContent()).toBe(shopTime(c.createdAt));
    expect(home.errors).toEqual([]);
  }, 180_000);

  it("sorts the case list through the API when a column header is clicked", async () => {
    const page = await fresh({ storageState: await session("cs") });
    const asked: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes("/api/v1/cases?")) asked.push(new URL(r.url()).searchParams.get("sort") ?? "");
    });
    await page.goto(`${base}/cases`);
    const inbox = page.getByTestId("case-inbox");
    await inbox.locator("tbody tr[data-row-key]").first().waitFor();
    const rowIds = () => inbox.locator("tbody tr[data-row-key]").evaluateAll((rs) => rs.map((r) => r.getAttribute("data-row-key")));
    const apiIds = async (sort: string) =>
      (await t.api("GET", `/api/v1/cases?limit=100&sort=${sort}`, { as: "cs" })).body.items.map((x: { id: string }) => x.id);
    const header = inbox.locator("th", { hasText: /^金额$/ });
    await header.click();
    await page.waitForURL(/sort=amount/);
    await expect.poll(() => asked).toContain("amount");
    await settled(page);
    await expect.poll(rowIds).toEqual(await apiIds("amount"));
    await expect.poll(() => header.getAttribute("aria-sort")).toBe("ascending");
    await header.click();
    await page.waitForURL(/sort=-amount/);
    await expect.poll(() => asked).toContain("-amount");
    await settled(page);
    await expect.poll(rowIds).toEqual(await apiIds("-amount"));
    // The SLA column sorts by the deadline, soonest first; the sort survives a reload.
    await inbox.locator("th", { hasText: /^时限$/ }).click();
    await page.waitForURL(/sort=deadline/);
    await page.reload();
    await inbox.locator("tbody tr[data-row-key]").first().waitFor();
    await settled(page);
    await expect.poll(rowIds).toEqual(await apiIds("deadline"));
    await page.screenshot({ path: join(ARTIFACTS, "case-list-sorted.png"), fullPage: true });
    expect(page.errors).toEqual([]);
  }, 120_000);
});
