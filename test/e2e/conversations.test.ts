import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../../src/platform/auth.js";
import { newId } from "../../src/platform/ids.js";
import { ARTIFACTS, chooseIn, hasBrowser, launchBrowser, listen, pressOk, signedInPage } from "../helpers/browser.js";
import { type Catalog, createDeliveredOrder, setupCatalog } from "../helpers/fixtures.js";
import { startTestApp, TEST_PASSWORD, type TestApp } from "../helpers/harness.js";

// With CI=true a missing browser fails the run; on a developer machine without it these are skipped.

describe.runIf(hasBrowser)("conversations in the browser", () => {
  let t: TestApp;
  let cat: Catalog;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    t = await startTestApp("pglite");
    cat = await setupCatalog(t);
    t.clock.set(new Date());
    base = await listen(t);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const openCase = async (phone: string) => {
    const order = await createDeliveredOrder(t, cat, {
      lines: [{ skuCode: "MUG", quantity: 1 }],
      phone,
      deliveredAt: new Date(Date.now() - 86400_000).toISOString(),
    });
    const c = await t.api("POST", "/api/v1/cases", {
      body: { orderId: order.id, type: "return_refund", reason: "quality", lines: [{ orderLineId: order.lines[0].id, quantity: 1 }] },
    });
    expect(c.status).toBe(201);
    return { order, c: c.body };
  };
  const phonePage = async () => {
    const page = await (await browser.newContext({ viewport: { width: 375, height: 780 } })).newPage();
    page.setDefaultTimeout(60_000);
    return page;
  };
  const message = (page: Page, text: string) => page.getByTestId("message-body").filter({ hasText: text }).first();
  /** What a finger cannot hit under `selector` (visible controls under 44 × 44 px), and the text boxes' font sizes. */
  const touchCheck = (page: Page, selector: string) =>
    page
      .locator(selector)
      .first()
      .evaluate((root) => {
        const controls = [...root.querySelectorAll("button, [role=button], a[href], input:not([type=file]), textarea")];
        const small = controls
          .map((e) => ({ e, r: e.getBoundingClientRect() }))
          .filter(({ r }) => r.width > 0 && r.height > 0 && (r.width < 44 || r.height < 44))
          .map(({ e, r }) => `${e.tagName} "${(e.textContent ?? "").trim()}" ${Math.round(r.width)}×${Math.round(r.height)}`);
        const fonts = [...root.querySelectorAll("textarea, input:not([type=file])")].map((e) => getComputedStyle(e).fontSize);
        return { small, fonts, controls: controls.length };
      });

  it("a customer asks in the portal, CS answers in the console, the customer reads the answer", async () => {
    const { order, c } = await openCase("13955557777");
    // The customer, on a phone: find the order, open the case, ask.
    const customer = await phonePage();
    await customer.goto(`${base}/portal`);
    await customer.getByLabel(/订单号|Order number/).fill(order.platformOrderNo);
    await customer.getByLabel(/手机号后4位|Last 4/).fill("7777");
    await customer.getByRole("button", { name: /查询订单|Find my order/ }).click();
    await customer.getByText(c.caseNo).click();
    await customer.getByTestId("portal-thread").waitFor();
    // On a 375 px phone: every control of the thread a finger's size, the text box at 16 px (no zoom on focus).
    const portalTouch = await touchCheck(customer, "[data-testid=portal-thread]");
    expect(portalTouch.controls).toBeGreaterThanOrEqual(3);
    expect(portalTouch.small).toEqual([]);
    expect(portalTouch.fonts).toEqual(["16px"]);
    const back = await customer.getByRole("button", { name: /返\s*回|Back/ }).boundingBox();
    expect(back?.height).toBeGreaterThanOrEqual(44);
    await customer.getByTestId("composer").fill("杯子有裂纹，可以换一个吗？");
    await customer.getByTestId("send").click();
    await message(customer, "杯子有裂纹，可以换一个吗？").waitFor();

    // CS sees the unread badge and the message on the case, answers with a quick reply.
    await t.api("POST", "/api/v1/quick-replies", {
      as: "cs",
      body: { title: "换货", body: "{{customerName}}您好，{{caseNo}} 可以换货，请按页面地址寄回。" },
    });
    // Another case, with nothing unread, for the inbox's toggle to leave out.
    const quiet = await openCase("13955556666");
    const cs = await signedInPage(browser, t, base, "/cases", "cs");
    cs.setDefaultTimeout(60_000);
    const rows = cs.locator("[data-testid=case-inbox] tr.ant-table-row");
    await rows.filter({ hasText: quiet.c.caseNo }).waitFor();
    // The inbox: "unread only" lists the case and not the quiet one; its row carries the unread count.
    await cs.getByTestId("filter-unread").click();
    await cs.waitForURL(/unread=true/);
    const listed = (await t.api("GET", "/api/v1/cases?unread=true&limit=200", { as: "cs" })).body.items.map((x: any) => x.caseNo);
    expect(listed).toContain(c.caseNo);
    expect(listed).not.toContain(quiet.c.caseNo);
    await expect.poll(() => rows.filter({ hasText: quiet.c.caseNo }).count(), { timeout: 30_000 }).toBe(0);
    await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(listed.length);
    const row = rows.filter({ hasText: c.caseNo });
    expect(await row.getByTestId("row-unread").textContent()).toBe("1");
    await row.getByText(c.caseNo, { exact: true }).click();
    await cs.getByTestId("conversation").waitFor();
    await message(cs, "杯子有裂纹，可以换一个吗？").waitFor();
    await chooseIn(cs, cs.getByTestId("quick-reply").first(), "换货");
    await expect
      .poll(() => cs.getByTestId("composer").first().inputValue(), { timeout: 30_000 })
      .toBe(`王小明您好，${c.caseNo} 可以换货，请按页面地址寄回。`);
    await cs.getByTestId("send").first().click();
    await message(cs, `王小明您好，${c.caseNo} 可以换货`).waitFor();
    // An internal note, apart from the customer's thread.
    await cs.getByTestId("tab-internal").click();
    await cs.getByTestId("internal-hint").waitFor();
    await cs.getByTestId("thread-internal").getByTestId("composer").fill("仓库确认有货");
    await cs.getByTestId("thread-internal").getByTestId("send").click();
    await message(cs, "仓库确认有货").waitFor();
    await cs.screenshot({ path: join(ARTIFACTS, "console-conversation.png"), fullPage: true });
    // The staff member opened the thread: nothing unread for staff now.
    expect((await t.api("GET", `/api/v1/cases/${c.id}`)).body.unreadMessages).toBe(0);

    // Asking for more information starts from a request-info quick reply, rendered for this case.
    await t.api("POST", "/api/v1/quick-replies", {
      as: "cs",
      body: { title: "补拍照片", body: "{{customerName}}您好，请补拍 {{caseNo}} 裂纹处的照片", purpose: "request_info" },
    });
    await cs.locator("[data-action=request-info]").click();
    await chooseIn(cs, cs.getByTestId("note-quick-reply"), "补拍照片");
    const asked = `王小明您好，请补拍 ${c.caseNo} 裂纹处的照片`;
    await expect.poll(() => cs.locator("textarea[data-field=note]").inputValue(), { timeout: 30_000 }).toBe(asked);
    await pressOk(cs, "action-ok");
    await expect.poll(async () => (await t.api("GET", `/api/v1/cases/${c.id}`)).body.status, { timeout: 30_000 }).toBe("info_requested");
    const timeline = (await t.api("GET", `/api/v1/cases/${c.id}`)).body.timeline;
    expect(timeline.some((e: any) => e.action === "request-info" && e.note === asked)).toBe(true);

    // The analytics screen's message-response tab: the answered message, and the same figures as CSV.
    await cs.goto(`${base}/analytics?tab=firstResponse`);
    await cs.getByTestId("first-response-chart").waitFor();
    const report = (await t.api("GET", "/api/v1/analytics/first-response")).body;
    expect(report.answered).toBeGreaterThanOrEqual(1);
    const shown = cs.getByTestId("fr-figures").locator(".ant-statistic-content-value").first();
    expect(await shown.textContent()).toBe(String(report.customerMessages));
    expect(await cs.getByTestId("fr-table").locator("tr.ant-table-row").count()).toBe(report.items.length);
    const href = (await cs.getByTestId("fr-csv").getAttribute("href")) ?? "";
    expect(href).toContain("format=csv");
    const csv = await cs.request.get(`${base}${href}`);
    expect(csv.headers()["content-type"]).toContain("text/csv");
    expect((await csv.text()).split("\r\n")[0]).toContain("customerMessages");

    // Rejecting starts from a reject quick reply the same way, and the dialog still says what rejecting does.
    await t.api("POST", "/api/v1/quick-replies", {
      as: "cs",
      body: { title: "不符合条件", body: "{{customerName}}您好，{{caseNo}} 不符合售后条件", purpose: "reject" },
    });
    await cs.goto(`${base}/cases/${quiet.c.id}`);
    await cs.locator("[data-action=reject]").click();
    await chooseIn(cs, cs.getByTestId("note-quick-reply"), "不符合条件");
    const refusal = `王小明您好，${quiet.c.caseNo} 不符合售后条件`;
    await expect.poll(() => cs.locator("textarea[data-field=note]").inputValue(), { timeout: 30_000 }).toBe(refusal);
    await pressOk(cs, "action-ok");
    await expect.poll(async () => (await t.api("GET", `/api/v1/cases/${quiet.c.id}`)).body.status, { timeout: 30_000 }).toBe("rejected");
    const rejected = (await t.api("GET", `/api/v1/cases/${quiet.c.id}`)).body.timeline;
    expect(rejected.some((e: any) => e.action === "reject" && e.note === refusal)).toBe(true);

    // The customer reads the answer (the thread refreshes by itself), never the internal note.
    await message(customer, `王小明您好，${c.caseNo} 可以换货`).waitFor();
    expect(await customer.getByText("仓库确认有货").count()).toBe(0);
    await customer.screenshot({ path: join(ARTIFACTS, "portal-conversation.png"), fullPage: true });
    const width = await customer.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(375);
  }, 240_000);

  it("CS writes to the supplier in the console, the supplier answers in the supplier portal", async () => {
    const { c } = await openCase("13955558888");
    expect(c.supplierId).toBe(cat.suppliers.a);
    const email = `supplier.conv.${newId().slice(-6)}@example.test`;
    await t.deps.db
      .insertInto("users")
      .values({
        id: newId(),
        tenant_id: t.t.tenantId,
        email,
        name: "Supplier A",
        role: "supplier",
        supplier_id: cat.suppliers.a,
        password_hash: await hashPassword(TEST_PASSWORD),
      })
      .execute();

    const cs = await signedInPage(browser, t, base, `/cases/${c.id}`, "cs");
    cs.setDefaultTimeout(60_000);
    await cs.getByTestId("tab-supplier").click();
    const thread = cs.getByTestId("thread-supplier");
    await thread.getByTestId("composer").fill("请确认这批杯子的包装批次");
    await thread.getByTestId("send").click();
    await message(cs, "请确认这批杯子的包装批次").waitFor();

    // The supplier, on a phone, opens the case's thread from the cases tab.
    const supplier = await phonePage();
    await supplier.goto(`${base}/supplier/cases/${c.id}`);
    await supplier.getByLabel(/邮箱|Email/).fill(email);
    await supplier.getByLabel(/密码|Password/).fill(TEST_PASSWORD);
    await supplier.getByRole("button", { name: /登\s*录|Sign in/ }).click();
    // The e-mail's link opens the thread over the portal.
    await message(supplier, "请确认这批杯子的包装批次").waitFor();
    // A finger's size for every control of the drawer (its close button too), the text box at 16 px.
    const drawerTouch = await touchCheck(supplier, ".ant-drawer-body");
    expect(drawerTouch.controls).toBeGreaterThanOrEqual(2);
    expect(drawerTouch.small).toEqual([]);
    expect(drawerTouch.fonts).toEqual(["16px"]);
    const closeBox = await supplier.getByTestId("close-thread").boundingBox();
    expect(Math.min(closeBox?.width ?? 0, closeBox?.height ?? 0)).toBeGreaterThanOrEqual(44);
    const drawerBox = await supplier.locator(".ant-drawer-body").boundingBox();
    expect(Math.round(drawerBox?.width ?? 999)).toBeLessThanOrEqual(375);
    await supplier.getByTestId("composer").fill("批次 B-0301，已安排补发");
    await supplier.getByTestId("send").click();
    await message(supplier, "批次 B-0301，已安排补发").waitFor();
    await supplier.screenshot({ path: join(ARTIFACTS, "supplier-conversation.png"), fullPage: true });
    // Closed, the thread opens again from the case's row of the cases tab, by a button a finger can hit.
    await supplier.getByTestId("close-thread").click();
    await supplier.getByRole("tab", { name: /售后单|Cases/ }).click();
    const reopen = supplier.getByTestId(`open-thread-${c.caseNo}`);
    expect((await reopen.boundingBox())?.height).toBeGreaterThanOrEqual(44);
    await reopen.click();
    await message(supplier, "批次 B-0301，已安排补发").waitFor();
    // The portal's tables scroll inside themselves: the page does not scroll sideways on the phone.
    expect(await supplier.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    // It reads only the supplier thread: nothing the customer or staff wrote elsewhere.
    expect(await supplier.getByTestId("thread-customer").count()).toBe(0);

    // CS reads the supplier's answer in the console.
    await message(cs, "批次 B-0301，已安排补发").waitFor();
    const seen = (await t.api("GET", `/api/v1/cases/${c.id}/messages?visibility=supplier`)).body.items;
    expect(seen.map((m: any) => m.author.kind)).toEqual(["staff", "supplier"]);
  }, 240_000);
});
