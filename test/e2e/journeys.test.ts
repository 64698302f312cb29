import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARTIFACTS, chooseOption, hasBrowser, launchBrowser, pressOk } from "../helpers/browser.js";
import { type Catalog, createDeliveredOrder, createOrder, setupCatalog, shipOrder } from "../helpers/fixtures.js";
import { addSupplierUser, startTestApp, TEST_PASSWORD, type TestApp, userEmails } from "../helpers/harness.js";

// With CI=true a missing browser fails the run; on a developer machine without it the journeys are skipped.

describe.runIf(hasBrowser)("browser journeys", () => {
  let t: TestApp;
  let cat: Catalog;
  let browser: Browser;
  let base: string;
  const emails: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestApp("pglite");
    cat = await setupCatalog(t);
    t.clock.set(new Date());
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    const addr = t.app.server.address() as { port: number };
    base = `http://127.0.0.1:${addr.port}`;
    Object.assign(emails, await userEmails(t, ["cs", "warehouse", "finance"]));
    emails.supplier = await addSupplierUser(t.deps, t.t.tenantId, cat.suppliers.a, "Supplier A");
    // Playwright starts Chromium with a fresh temporary profile of its own.
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function signedIn(role: string, path = "/"): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await ctx.newPage();
    page.setDefaultTimeout(60_000);
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${base}${path}`);
    await page.getByLabel(/邮箱|Email/).fill(emails[role]);
    await page.getByLabel(/密码|Password/).fill(TEST_PASSWORD);
    await page.getByRole("button", { name: /登\s*录|Sign in/ }).click();
    (page as unknown as { errors: string[] }).errors = errors;
    return page;
  }

  it("a return from the portal to the refund: customer, CS, warehouse, finance", async () => {
    const order = await createDeliveredOrder(t, cat, {
      lines: [{ skuCode: "TEE", quantity: 1 }],
      phone: "13955556666",
      deliveredAt: new Date(Date.now() - 86400_000).toISOString(),
    });
    // The customer finds the order and asks for a return with a photo, on a phone-sized screen.
    const customer = await (await browser.newContext({ viewport: { width: 375, height: 780 } })).newPage();
    customer.setDefaultTimeout(60_000);
    await customer.goto(`${base}/portal`);
    await customer.getByLabel(/订单号|Order number/).fill(order.platformOrderNo);
    await customer.getByLabel(/手机号后4位|Last 4/).fill("6666");
    await customer.getByRole("button", { name: /查询订单|Find my order/ }).click();
    await customer.getByText(/希望如何处理|What would you like/).waitFor();
    await customer.screenshot({ path: join(ARTIFACTS, "portal-order.png"), fullPage: true });
    // The remedies are choices to tap, the ones the policy refuses greyed with its reason.
    await customer.getByRole("radio", { name: "退货退款", exact: true }).check();
    await customer.getByLabel(/问题描述|Describe/).fill("领口开线");
    const png = Buffer.concat([Buffer.from("89504e470d0a1a0a0000000d49484452", "hex"), Buffer.alloc(64, 1)]);
    await customer.locator("input[type=file]").setInputFiles({ name: "seam.png", mimeType: "image/png", buffer: png });
    await customer.getByTestId("submit-case").click();
    await customer.locator("[data-status=submitted]").first().waitFor();
    const caseId = customer.url().split("/").pop() as string;
    await customer.screenshot({ path: join(ARTIFACTS, "portal-submitted.png"), fullPage: true });

    // CS approves it in the console.
    const cs = await signedIn("cs", `/cases/${caseId}`);
    await cs.locator("[data-action=approve]").click();
    await cs.locator("[data-status=awaiting_return]").first().waitFor();
    await cs.screenshot({ path: join(ARTIFACTS, "console-case-approved.png"), fullPage: true });

    // The customer enters the return tracking number.
    await customer.reload();
    await customer.getByLabel(/快递公司|Carrier/).fill("顺丰");
    await customer.getByLabel(/运单号|Tracking number/).fill("SF7000123456");
    await customer.getByTestId("submit-return").click();
    await customer.locator("[data-status=return_in_transit]").first().waitFor();

    // The warehouse receives and inspects.
    const wh = await signedIn("warehouse", `/cases/${caseId}`);
    await wh.locator("[data-action=receive]").click();
    await wh.locator("[data-status=received]").first().waitFor();
    await wh.locator("[data-action=inspect]").click();
    await chooseOption(wh, /商品成色|Grade/, "可二次销售");
    await chooseOption(wh, /处置方式|Disposition/, "重新入库");
    await pressOk(wh, "action-ok");
    await wh.locator("[data-status=inspected]").first().waitFor();
    await wh.screenshot({ path: join(ARTIFACTS, "console-inspected.png"), fullPage: true });

    // Finance refunds; the sandbox gateway confirms shortly after.
    const fin = await signedIn("finance", `/cases/${caseId}`);
    await fin.locator("[data-action=refund]").click();
    // The refund is confirmed with its amount in front of finance.
    await fin.getByTestId("refund-amount").getByText("¥").waitFor();
    // OK sends the refund at once: no second confirmation, no reload.
    const sent = fin.waitForRequest((r) => r.method() === "POST" && r.url().endsWith(`/cases/${caseId}/actions/refund`), {
      timeout: 10_000,
    });
    await pressOk(fin, "action-ok");
    await sent;
    // The page follows the case by itself, from 退款中 to the gateway's answer.
    await fin.locator("[data-status=refund_pending], [data-status=refunded]").first().waitFor({ timeout: 45_000 });
    await fin.screenshot({ path: join(ARTIFACTS, "console-refund-sent.png"), fullPage: true });

    // The customer sees "refunded" (the gateway's callback comes later on a busy machine: wait up to a minute).
    for (const until = Date.now() + 60_000; Date.now() < until; ) {
      await customer.reload();
      if ((await customer.locator("[data-status=refunded]").count()) > 0) break;
      await customer.waitForTimeout(500);
    }
    expect(await customer.locator("[data-status=refunded]").count()).toBeGreaterThan(0);
    await customer.screenshot({ path: join(ARTIFACTS, "portal-refunded.png"), fullPage: true });

    // CS closes the case; the customer answers the satisfaction survey its closing message links to.
    expect((await t.api("POST", `/api/v1/cases/${caseId}/actions/close`, { as: "cs", body: {} })).status).toBe(200);
    await (t.deps.services.runPendingJobs as () => Promise<number>)();
    const survey = await t.deps.db.selectFrom("surveys").select("token").where("case_id", "=", caseId).executeTakeFirstOrThrow();
    await customer.goto(`${base}/portal/survey/${survey.token}`);
    await customer.getByText("您对这次售后处理满意吗？").waitFor();
    await customer.getByRole("radio").nth(3).click();
    await customer.getByLabel("还有什么想告诉我们的（选填）").fill("退款很快");
    await customer.getByRole("button", { name: /提\s?交|Submit/ }).click();
    await customer.getByText("感谢您的评价").waitFor();
    const closed = await t.deps.db
      .selectFrom("cases")
      .select(["csat_score", "csat_comment"])
      .where("id", "=", caseId)
      .executeTakeFirstOrThrow();
    expect(closed).toEqual({ csat_score: 4, csat_comment: "退款很快" });
    expect((cs as unknown as { errors: string[] }).errors).toEqual([]);
    // Four people in four browsers on a shared 2-core machine: this journey gets more time than the default.
  }, 180_000);

  it("a supplier uploads tracking in the supplier portal", async () => {
    const order = await createOrder(t, cat, { lines: [{ skuCode: "TEE", quantity: 1 }] });
    await t.api("POST", `/api/v1/orders/${order.id}/actions/forward`);
    const page = await signedIn("supplier", "/supplier");
    const row = page.locator("tr", { hasText: order.platformOrderNo });
    await row.getByTestId("carrier").fill("中通");
    await row.getByTestId("tracking").fill("ZT8800112233");
    await row.getByTestId("ship").click();
    await page.locator("tr", { hasText: order.platformOrderNo }).locator("[data-status=shipped]").waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "supplier-shipped.png"), fullPage: true });
    const o = (await t.api("GET", `/api/v1/orders/${order.id}`)).body;
    expect(o.supplierOrders[0]).toMatchObject({ status: "shipped", trackingNo: "ZT8800112233" });
  });

  it("an order import shows its progress and a downloadable error report", async () => {
    const csv = [
      "订单号,买家姓名,手机,省,市,地址,商家编码,数量,单价,运费,实付,支付方式,付款时间",
      "IMP-E2E-1,张三,13911112222,浙江,杭州,文三路 1 号,TEE,1,99.00,0,99.00,支付宝,2026-03-01 10:00:00",
      "IMP-E2E-2,李四,13933334444,浙江,杭州,文三路 2 号,TEE,两个,99.00,0,198.00,微信,2026-03-01 11:00:00",
      "IMP-E2E-3,王五,,浙江,杭州,文三路 3 号,TEE,1,99.00,0,99.00,微信,2026-03-01 12:00:00",
    ].join("\n");
    const page = await signedIn("cs", "/imports");
    await page.locator("input[type=file]").setInputFiles({ name: "orders.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await page.getByTestId("import-start").click();
    await page.locator("[data-testid=import-progress][data-status=done]").waitFor({ timeout: 20_000 });
    await page.locator(".ant-progress").waitFor();
    const totals = (await page.getByTestId("import-totals").textContent()) ?? "";
    expect(totals).toMatch(/共 3 行：导入 1/);
    const download = page.waitForEvent("download");
    await page.getByTestId("import-report").click();
    const report = await (await download).createReadStream();
    const chunks: Buffer[] = [];
    for await (const c of report) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    expect(text).toContain(`"line","field","message"`);
    expect(text).toContain(`"quantity"`);
    expect(text.split("\n").filter((l) => /^"\d+"/.test(l)).length).toBeGreaterThanOrEqual(2);
    await page.screenshot({ path: join(ARTIFACTS, "console-import.png"), fullPage: true });
    expect((page as unknown as { errors: string[] }).errors).toEqual([]);
  });

  it("switches the console to English and back", async () => {
    const order = await createOrder(t, cat);
    await shipOrder(t, order.id);
    const page = await signedIn("cs", "/cases");
    await page.getByTestId("whoami").waitFor();
    expect(await page.getByRole("menuitem", { name: "售后单" }).count()).toBe(1);
    await page.getByTestId("lang").click();
    await page.getByRole("menuitem", { name: "Cases" }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "console-english.png"), fullPage: true });
    await page.reload();
    await page.getByRole("menuitem", { name: "Cases" }).waitFor();
    await page.getByTestId("lang").click();
    await page.getByRole("menuitem", { name: "售后单" }).waitFor();
  });
});
