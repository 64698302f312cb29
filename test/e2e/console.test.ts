import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestCaseRefund } from "../../src/after-sales/case.events.js";
import { ARTIFACTS, hasBrowser, launchBrowser } from "../helpers/browser.js";
import { type Catalog, createDeliveredOrder, setupCatalog } from "../helpers/fixtures.js";
import { startTestApp, TEST_PASSWORD, type TestApp } from "../helpers/harness.js";

// Console screens in the browser: the admin's inbox, the warehouse's receiving screen, the policy
// editor with its try-it panel, and the settings forms with the API's field errors.

describe.runIf(hasBrowser)("console screens in the browser", () => {
  let t: TestApp;
  let cat: Catalog;
  let browser: Browser;
  let base: string;
  const emails: Record<string, string> = {};

  beforeAll(async () => {
    // The server serves web/dist: build it when it is missing or older than its sources.
    execFileSync(process.execPath, [join(process.cwd(), "scripts", "build-web.mjs")], { stdio: "inherit" });
    t = await startTestApp("pglite");
    cat = await setupCatalog(t);
    t.clock.set(new Date());
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
    for (const role of ["admin", "warehouse", "cs"]) {
      emails[role] = (
        await t.deps.db.selectFrom("users").select("email").where("id", "=", t.t.userIds[role]).executeTakeFirstOrThrow()
      ).email;
    }
    browser = await launchBrowser();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function signedIn(role: string, path: string): Promise<Page & { errors: string[] }> {
    const page = (await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage()) as Page & { errors: string[] };
    page.errors = [];
    page.on("pageerror", (e) => page.errors.push(e.message));
    await page.goto(`${base}${path}`);
    await page.getByLabel(/邮箱|Email/).fill(emails[role]);
    await page.getByLabel(/密码|Password/).fill(TEST_PASSWORD);
    await page.getByRole("button", { name: /登\s*录|Sign in/ }).click();
    await page.getByTestId("whoami").waitFor();
    return page;
  }

  async function openCase(order: { id: string; lines: { id: string }[] }) {
    const r = await t.api("POST", "/api/v1/cases", {
      as: "cs",
      body: {
        orderId: order.id,
        type: "return_refund",
        reason: "quality",
        lines: [{ orderLineId: order.lines[0].id, quantity: 1 }],
        description: "seam came open",
        channel: "phone",
      },
    });
    expect(r.status, r.text).toBe(201);
    return r.body;
  }

  const delivered = () =>
    createDeliveredOrder(t, cat, {
      lines: [{ skuCode: "TEE", quantity: 1 }],
      deliveredAt: new Date(Date.now() - 86400_000).toISOString(),
    });

  it("the admin signs in and sees the case inbox, then the dashboard", async () => {
    const c = await openCase(await delivered());
    const page = await signedIn("admin", "/cases");
    const row = page.locator("tr", { hasText: c.caseNo });
    await row.waitFor();
    expect(await row.locator("[data-status=submitted]").count()).toBe(1);
    // Keyboard: j moves to the first row, Enter opens it.
    await page.keyboard.press("j");
    await page.keyboard.press("k");
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/cases\/[0-9a-f-]{36}$/);
    await page.getByTestId("case-actions").waitFor();
    await page.goto(`${base}/cases`);
    await page.locator("tr", { hasText: c.caseNo }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "console-inbox.png"), fullPage: true });
    await page.getByRole("menuitem", { name: "工作台" }).click();
    await page.getByTestId("cases-by-status").locator("canvas").waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "console-dashboard.png"), fullPage: true });
    expect(page.errors).toEqual([]);
  });

  it("the warehouse finds a returned parcel by its tracking number and receives it", async () => {
    const c = await openCase(await delivered());
    for (const [action, body] of [
      ["approve", {}],
      ["ship-return", { carrier: "顺丰", trackingNo: "SF9900112233" }],
    ] as const) {
      const r = await t.api("POST", `/api/v1/cases/${c.id}/actions/${action}`, { as: "cs", body });
      expect(r.status, r.text).toBe(200);
    }
    const page = await signedIn("warehouse", "/warehouse");
    await page.locator("tr", { hasText: c.caseNo }).waitFor();
    await page.getByTestId("parcel-code").locator("input").fill("sf 9900112233");
    await page.getByTestId("parcel-code").locator("input").press("Enter");
    await page.getByTestId("parcel-case").getByText(c.caseNo).waitFor();
    await page.locator("[data-action=receive]").click();
    await page.getByTestId("parcel-case").locator("[data-status=received]").waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "console-warehouse.png"), fullPage: true });
    expect((await t.api("GET", `/api/v1/cases/${c.id}`)).body.status).toBe("received");
    expect(page.errors).toEqual([]);
  });

  it("the policy editor shows the API's field errors and the try-it panel answers for an order", async () => {
    const order = await delivered();
    const page = await signedIn("admin", "/policies");
    // The form: a longer no-reason window and a refund-without-return limit in yuan.
    const shopId = (await t.api("GET", "/api/v1/shops")).body.items[0].id;
    const version = (await t.api("GET", `/api/v1/shops/${shopId}/policy`)).body.version;
    const noReason = page.getByLabel(/七天无理由退货|No-reason return/).first();
    await noReason.waitFor();
    await noReason.fill("15");
    await page.getByLabel(/金额不超过此数时免退货退款|Refund without return up to/).fill("20");
    await page.getByTestId("policy-form-save").click();
    await page
      .getByText(new RegExp(`v${version + 1}`))
      .first()
      .waitFor();
    const saved = (await t.api("GET", `/api/v1/shops/${shopId}/policy`)).body;
    expect(saved.version).toBe(version + 1);
    expect(saved.rules.windows.noReasonReturnDays).toBe(15);
    expect(saved.rules.auto.keepItemUpTo).toBe(2000);
    // Below the legal floor: the API's message sits under the field, and nothing is saved.
    await noReason.fill("3");
    await page.getByTestId("policy-form-save").click();
    await page
      .getByText(/the law requires at least 7 days|法律规定至少 7 天/)
      .first()
      .waitFor();
    expect((await t.api("GET", `/api/v1/shops/${shopId}/policy`)).body.version).toBe(version + 1);
    // The JSON view for what the form does not cover.
    await page.getByRole("tab", { name: /JSON/ }).click();
    const editor = page.getByTestId("policy-json");
    await editor.waitFor();
    const rules = JSON.parse(await editor.inputValue());
    rules.windows.noReasonReturnDays = -1;
    await editor.fill(JSON.stringify(rules, null, 2));
    await page.getByTestId("policy-save").click();
    await page.getByTestId("policy-errors").waitFor();
    expect(await page.getByTestId("policy-errors").textContent()).toContain("windows");
    await page.getByLabel(/订单号|Order number/).click();
    await page.getByTitle(new RegExp(order.platformOrderNo)).click();
    await page.getByRole("button", { name: /试\s*算|Check/ }).click();
    await page
      .locator(".ant-list")
      .getByText(/^(退货退款|Return & refund)$/)
      .first()
      .waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "console-policy.png"), fullPage: true });
    expect(page.errors).toEqual([]);
  });

  it("settings add a user and show a field error from the API", async () => {
    const page = await signedIn("admin", "/settings");
    await page.getByPlaceholder(/邮箱|Email/).fill(emails.warehouse);
    await page.getByPlaceholder(/密码|Password/).fill("long enough password");
    await page.getByRole("button", { name: /添加用户|Add user/ }).click();
    await page
      .getByText(/exists|已存在/)
      .first()
      .waitFor();
    await page.getByPlaceholder(/邮箱|Email/).fill("new.agent@example.test");
    await page.getByRole("button", { name: /添加用户|Add user/ }).click();
    await page.locator("tr", { hasText: "new.agent@example.test" }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "console-settings.png"), fullPage: true });
    expect(page.errors).toEqual([]);
  });

  it("settings switch a shop to route by supplier score, and the audit log shows the change", async () => {
    const page = await signedIn("admin", "/settings");
    const toggle = page.getByRole("switch", { name: /按供应商评分派单|Route by supplier score/ }).first();
    await toggle.waitFor();
    await toggle.click();
    await page
      .getByText(/已保存|Saved/)
      .first()
      .waitFor();
    const shops = (await t.api("GET", "/api/v1/shops")).body.items;
    expect(shops.some((s: { routeBySupplierScore: boolean }) => s.routeBySupplierScore)).toBe(true);
    await page.goto(`${base}/audit`);
    await page.getByPlaceholder(/对象类型|Entity type/).fill("shop");
    await page.getByPlaceholder(/对象类型|Entity type/).press("Enter");
    const row = page.locator("tr.ant-table-row", { has: page.locator('[data-action="shop.update"]') }).first();
    expect(await row.textContent()).toContain("店铺 · 修改");
    await row.waitFor();
    await row.locator(".ant-table-row-expand-icon").click();
    await page.getByText('"routeBySupplierScore": true').first().waitFor();
    expect(await page.getByTestId("audit-changes").first().textContent()).toContain("routeBySupplierScore false → true");
    await page.screenshot({ path: join(ARTIFACTS, "console-audit.png"), fullPage: true });
    expect(page.errors).toEqual([]);
  });

  it("CS logs a complaint about an order, takes it, resolves and closes it; the admin blocks a phone", async () => {
    const order = await delivered();
    const page = await signedIn("cs", "/complaints");
    await page.getByLabel(/订单号或售后单号|Order or case number/).fill(order.platformOrderNo);
    await page.getByLabel(/投诉事由|Subject/).fill("快递员态度差，包裹被扔在门口");
    await page.getByRole("button", { name: /提\s*交|Submit/ }).click();
    const row = page.locator("tr.ant-table-row", { hasText: "快递员态度差" });
    await row.waitFor();
    const [complaint] = (await t.api("GET", "/api/v1/complaints?status=open")).body.items.filter(
      (c: { orderId: string }) => c.orderId === order.id,
    );
    expect(complaint).toMatchObject({ severity: "medium", status: "open", subject: "快递员态度差，包裹被扔在门口" });
    await row.getByRole("button", { name: /我来处理|Take it/ }).click();
    await row.locator("[data-status=assigned]").waitFor();
    await row.getByRole("button", { name: /处理完成|Resolve/ }).click();
    await page.getByLabel(/处理结果|Resolution/).fill("已向快递公司投诉并补偿 10 元优惠券");
    await page.getByRole("button", { name: /确\s*定|OK/ }).click();
    await row.locator("[data-status=resolved]").waitFor();
    await row.getByRole("button", { name: /关\s*闭|Close/ }).click();
    await page
      .locator(".ant-popconfirm")
      .getByRole("button", { name: /确\s*定|OK/ })
      .click();
    await row.locator("[data-status=closed]").waitFor();
    const done = (await t.api("GET", "/api/v1/complaints?status=closed")).body.items.find((c: { id: string }) => c.id === complaint.id);
    expect(done).toMatchObject({ resolution: "已向快递公司投诉并补偿 10 元优惠券", ownerId: t.t.userIds.cs });
    await page.screenshot({ path: join(ARTIFACTS, "console-complaints.png"), fullPage: true });
    expect(page.errors).toEqual([]);

    const admin = await signedIn("admin", "/complaints");
    await admin.getByRole("tab", { name: /黑名单|Blocklist/ }).click();
    await admin.getByLabel(/^(值|Value)$/).fill("13900009999");
    await admin.getByRole("button", { name: /加入黑名单|Block/ }).click();
    await admin.locator("tr.ant-table-row", { hasText: "13900009999" }).waitFor();
    const list = (await t.api("GET", "/api/v1/blocklist")).body.items;
    expect(list.some((b: { kind: string; value: string }) => b.kind === "phone" && b.value === "13900009999")).toBe(true);
    expect(admin.errors).toEqual([]);
  });

  it("the case detail shows the photo, the refund breakdown and translated actions in both languages", async () => {
    const c = await openCase(await delivered());
    // A real 1×1 PNG, so that the evidence viewer has something to draw.
    const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");
    const boundary = "----dropdesk-e2e";
    const up = await t.api("POST", `/api/v1/cases/${c.id}/evidence`, {
      as: "cs",
      headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
      body: Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="seam.png"\r\nContent-Type: image/png\r\n\r\n`),
        png,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]),
    });
    expect(up.status, up.text).toBe(201);
    const page = await signedIn("admin", `/cases/${c.id}`);
    await page
      .locator("[data-action=approve]")
      .getByText(/同\s*意/)
      .waitFor();
    await page.getByTestId("refund-quote").waitFor();
    const img = page.locator(".ant-image img").first();
    await img.waitFor();
    await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, "console-case.png"), fullPage: true });
    await page.getByTestId("lang").click();
    await page.locator("[data-action=approve]").getByText("Approve").waitFor();
    await page.getByText("Refund breakdown").waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "console-case-english.png"), fullPage: true });
    await page.getByTestId("lang").click();
    expect(page.errors).toEqual([]);
  });

  it("the portal loads on a phone without the console's code", async () => {
    const page = await (await browser.newContext({ viewport: { width: 375, height: 780 } })).newPage();
    const scripts: string[] = [];
    page.on("request", (r) => {
      if (r.resourceType() === "script") scripts.push(new URL(r.url()).pathname);
    });
    await page.goto(`${base}/portal`);
    await page.getByRole("button", { name: /查询订单|Find my order/ }).click();
    // The API's and the form's own checks show next to the fields.
    await page.locator(".ant-form-item-explain-error").first().waitFor();
    await page.getByLabel(/订单号|Order number/).fill("NO-SUCH-ORDER");
    await page.getByLabel(/手机号后4位|Last 4/).fill("1234");
    await page.getByRole("button", { name: /查询订单|Find my order/ }).click();
    await page
      .locator(".ant-alert-error")
      .getByText(/没有找到订单/)
      .waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "portal-lookup.png"), fullPage: true });
    // The lookup is a bundle of its own: not even the portal's other pages come with it.
    expect(scripts.some((s) => s.includes("/Lookup-"))).toBe(true);
    expect(scripts.filter((s) => /\/(Console|Supplier|Portal)-/.test(s))).toEqual([]);
    // No horizontal scrolling at 375 px.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
  });

  it("an order's detail gives a goodwill refund that finance then sees", async () => {
    const order = await delivered();
    const page = await signedIn("admin", `/orders/${order.id}`);
    await page.getByText(order.platformOrderNo).first().waitFor();
    await page.locator("[data-action=goodwill-refund]").click();
    await page.getByLabel(/金额|Amount/).fill("5");
    await page.getByLabel(/原因|Reason/).fill("late parcel");
    await page
      .getByRole("dialog")
      .getByRole("button", { name: /确\s*定|OK/ })
      .click();
    await page.getByRole("dialog").waitFor({ state: "hidden" });
    await page.screenshot({ path: join(ARTIFACTS, "console-order.png"), fullPage: true });
    await page.getByRole("menuitem", { name: "财务" }).click();
    await page.locator("tr", { hasText: "¥5.00" }).first().waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "console-finance.png"), fullPage: true });
    const refunds = (await t.api("GET", "/api/v1/refunds?kind=goodwill")).body;
    expect(refunds.items.some((r: { amount: number; orderId: string }) => r.amount === 500 && r.orderId === order.id)).toBe(true);
    expect(page.errors).toEqual([]);
  });

  it("finance's outstanding recoveries open a case's back-to-back recovery view", async () => {
    const c = await openCase(await delivered());
    const steps: [string, Record<string, unknown>, string][] = [
      ["approve", {}, "admin"],
      ["ship-return", { carrier: "SF", trackingNo: "SF5550000001" }, "cs"],
      ["receive", {}, "warehouse"],
      ["inspect", { grade: "scrap", matchesOrder: true, complete: true, disposition: "return_to_supplier" }, "warehouse"],
    ];
    for (const [action, body, as] of steps) {
      const r = await t.api("POST", `/api/v1/cases/${c.id}/actions/${action}`, { as, body });
      expect(r.status, r.text).toBeLessThan(300);
    }
    await requestCaseRefund(t.deps, t.t.actors.finance, c.id, { method: "balance" });
    expect((await t.api("GET", `/api/v1/supplier-claims?caseId=${c.id}`, { as: "finance" })).body.items).toHaveLength(1);
    const page = await signedIn("admin", "/finance");
    const list = page.getByTestId("recoveries");
    await list.locator("tr", { hasText: c.caseNo }).waitFor();
    await list.locator("a", { hasText: c.caseNo }).click();
    const view = page.getByTestId("case-recovery");
    await view.waitFor();
    await view.getByText(/已向供应商索赔|Claimed from the supplier/).waitFor();
    expect(await view.textContent()).toMatch(/已等待 \d+ 天|\d+ days outstanding/);
    expect(page.errors).toEqual([]);
  });
});
