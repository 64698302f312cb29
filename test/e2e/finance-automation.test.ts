import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../../src/platform/auth.js";
import { newId } from "../../src/platform/ids.js";
import { Kuaidi100Emulator } from "../carriers/kuaidi100-emulator.js";
import { ARTIFACTS, hasBrowser, launchBrowser, pressOk, signedInPage } from "../helpers/browser.js";
import { type Catalog, createDeliveredOrder, createOrder, setupCatalog } from "../helpers/fixtures.js";
import { startTestApp, TEST_PASSWORD, type TestApp } from "../helpers/harness.js";

describe.runIf(hasBrowser)("finance claims and automation settings in the browser", () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let cat: Catalog;
  let emu: Kuaidi100Emulator;
  beforeAll(async () => {
    emu = await new Kuaidi100Emulator().start();
    t = await startTestApp("pglite", { config: { outboundAllow: "127.0.0.1" } });
    cat = await setupCatalog(t);
    t.clock.set(new Date());
    // A wrong item reshipped: the supplier owes a claim.
    const order = await createDeliveredOrder(t, cat, {
      lines: [{ skuCode: "TEE", quantity: 1 }],
      deliveredAt: new Date(Date.now() - 86400_000).toISOString(),
    });
    const c = (
      await t.api("POST", "/api/v1/cases", {
        body: { orderId: order.id, type: "reship", reason: "wrong_item", lines: [{ orderLineId: order.lines[0].id, quantity: 1 }] },
      })
    ).body;
    await t.api("POST", `/api/v1/cases/${c.id}/actions/approve`, { body: {} });
    await t.api("POST", `/api/v1/cases/${c.id}/actions/resolve`, { body: {} });
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await emu?.stop();
  });

  it("finance answers a supplier claim and the admin edits a message template", async () => {
    const email = async (role: string) =>
      (await t.deps.db.selectFrom("users").select("email").where("id", "=", t.t.userIds[role]).executeTakeFirstOrThrow()).email;
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${base}/claims`);
    await page.getByLabel(/邮箱|Email/).fill(await email("finance"));
    await page.getByLabel(/密码|Password/).fill(TEST_PASSWORD);
    await page.getByRole("button", { name: /登\s*录|Sign in/ }).click();
    const claimRow = page.locator("tr", { hasText: "¥40.00" }).first();
    await claimRow.waitFor();
    await claimRow.getByRole("button", { name: /接\s*受/ }).click();
    // Accepting says what it means for the money before it is done.
    await page
      .getByRole("dialog")
      .getByText(/下期对账单中扣除/)
      .waitFor();
    await pressOk(page);
    await page.locator("tr [data-status=accepted]").first().waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "finance-claims.png"), fullPage: true });
    const claims = (await t.api("GET", "/api/v1/supplier-claims")).body.items;
    expect(claims[0].status).toBe("accepted");

    const admin = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await admin.goto(`${base}/automation`);
    await admin.getByLabel(/邮箱|Email/).fill(await email("admin"));
    await admin.getByLabel(/密码|Password/).fill(TEST_PASSWORD);
    await admin.getByRole("button", { name: /登\s*录|Sign in/ }).click();
    const row = admin.locator("tr", { has: admin.locator('[data-event="case.approved"]') }).first();
    await row.waitFor();
    await row.getByRole("button").click();
    await admin.getByLabel(/正文|Body/).fill("您的售后 {{caseNo}} 已同意，请尽快寄回。");
    await admin.getByRole("button", { name: /OK|确\s*定/ }).click();
    await admin.locator('[data-event="case.approved"]', { hasText: "✎ *" }).first().waitFor();
    await admin.screenshot({ path: join(ARTIFACTS, "automation-settings.png"), fullPage: true });
    const tpl = (await t.api("GET", "/api/v1/notification-templates")).body.items.find(
      (x: any) => x.event === "case.approved" && x.customised,
    );
    expect(tpl.body).toBe("您的售后 {{caseNo}} 已同意，请尽快寄回。");
    expect(errors).toEqual([]);
  });

  it("a supplier ships several parcels from a CSV and sees which rows failed", async () => {
    const email = `supplier.csv.${newId().slice(-6)}@example.test`;
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
    const order = await createOrder(t, cat, { lines: [{ skuCode: "TEE", quantity: 1 }] });
    await t.api("POST", `/api/v1/orders/${order.id}/actions/forward`);
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await page.goto(`${base}/supplier`);
    await page.getByLabel(/邮箱|Email/).fill(email);
    await page.getByLabel(/密码|Password/).fill(TEST_PASSWORD);
    await page.getByRole("button", { name: /登\s*录|Sign in/ }).click();
    const csv = `platformOrderNo,carrier,trackingNo\n${order.platformOrderNo},韵达,YD4400556677\nNO-SUCH-ORDER,韵达,YD4400556678\n`;
    await page.getByTestId("ship-csv").setInputFiles({ name: "ship.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await page.getByTestId("ship-csv-result").waitFor();
    expect(await page.getByTestId("ship-csv-result").textContent()).toContain("✓ 1 · ✗ 1");
    await page.screenshot({ path: join(ARTIFACTS, "supplier-ship-csv.png"), fullPage: true });
    const o = (await t.api("GET", `/api/v1/orders/${order.id}`)).body;
    expect(o.supplierOrders[0]).toMatchObject({ status: "shipped", trackingNo: "YD4400556677" });
    // Its own scorecard: the wrong item reshipped at the start of this file counts against it.
    await page.getByRole("tab", { name: /我的评分|My scorecard/ }).click();
    const card = page.getByTestId("scorecard");
    await card.waitFor();
    expect(await card.textContent()).toContain("发错货率");
    await page.screenshot({ path: join(ARTIFACTS, "supplier-scorecard.png"), fullPage: true });
  });

  it("finance retries a refund the gateway refused from the gateway queue; CS books and cancels a courier pickup on an approved return", async () => {
    // A goodwill refund the sandbox declines: it waits in finance's queue with the reason in words.
    const order = await createDeliveredOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
    (t.deps.services.gateways as Record<string, { failNext: number }>).sandbox.failNext = 1;
    const refund = await t.api("POST", `/api/v1/orders/${order.id}/actions/goodwill-refund`, {
      body: { amount: 1234, reason: "包装破损" },
    });
    expect(refund.body.status).toBe("failed");
    const page = await signedInPage(browser, t, base, "/finance", "finance");
    const row = page.getByTestId("gateway-queue").locator("tr", { hasText: "¥12.34" });
    await row.waitFor();
    expect(await row.getByTestId("gq-reason").textContent()).toBe("支付网关拒绝了这笔退款");
    expect(await row.getByTestId("refund-route").textContent()).toBe("模拟网关（演示）");
    await row.getByRole("button", { name: /重新退款/ }).click();
    await page
      .getByRole("dialog")
      .getByText(/同一退款单号/)
      .waitFor();
    await pressOk(page);
    // Sent again under the same key: no longer refused (processing until the sandbox confirms, then gone).
    await row.locator("[data-status=failed]").waitFor({ state: "detached" });
    await page.screenshot({ path: join(ARTIFACTS, "finance-gateway-queue.png"), fullPage: true });
    expect((await t.api("GET", `/api/v1/refunds/${refund.body.id}`)).body.status).not.toBe("failed");

    // CS books a courier pickup through 快递100 for the customer, then cancels it before the courier comes.
    emu.deliver = async () => ({ status: 200, body: "{}" });
    // The admin connects 快递100 on the integrations screen, with the fields its settings ask for.
    const adm = await signedInPage(browser, t, base, "/connectors", "admin");
    await adm.getByTestId("connector-add").click();
    const form = adm.getByRole("dialog");
    await form.getByLabel("平台").click();
    await adm.getByTitle("快递100（物流跟踪、拦截、上门取件）").click();
    await form.getByLabel("客户编号 (customer)").fill(emu.customer);
    await form.getByLabel("授权 key").fill(emu.key);
    await form.getByLabel("推送签名 salt").fill("salt-for-e2e-01");
    await form.getByLabel("寄件接口 secret").fill(emu.secret);
    await form.getByLabel("接口地址（留空用官方地址）").fill(emu.url);
    await form.getByTestId("connector-save").click();
    await adm.locator("tr", { hasText: "快递100" }).first().waitFor();
    const made = (await t.api("GET", "/api/v1/connectors")).body.items.find((x: { kind: string }) => x.kind === "kuaidi100");
    expect(made?.config).toMatchObject({ customer: emu.customer, endpoint: emu.url });
    expect(JSON.stringify(made.config)).not.toContain(emu.key);
    const delivered = await createDeliveredOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
    const c = (
      await t.api("POST", "/api/v1/cases", {
        body: {
          orderId: delivered.id,
          type: "return_refund",
          reason: "quality",
          lines: [{ orderLineId: delivered.lines[0].id, quantity: 1 }],
        },
      })
    ).body;
    if (c.status !== "awaiting_return") await t.api("POST", `/api/v1/cases/${c.id}/actions/approve`, { body: {} });
    const cs = await signedInPage(browser, t, base, `/cases/${c.id}`, "cs");
    const card = cs.getByTestId("return-pickup");
    await card.waitFor();
    await card.getByTestId("pickup-carrier").fill("顺丰速运");
    await card.getByLabel(/联系人|Contact/).fill("王小明");
    await card.getByLabel(/手机号|Phone/).fill("13912345678");
    await card.getByLabel(/详细地址|Address/).fill("世纪大道 100 号");
    await card.getByTestId("book-pickup").click();
    await card.locator("[data-status=booked]").waitFor();
    const booked = (await t.api("GET", `/api/v1/cases/${c.id}/pickup`)).body.pickup;
    expect(booked).toMatchObject({ status: "booked", carrier: "shunfeng" });
    expect([...emu.orders.values()].some((o) => o.kuaidinum === booked.trackingNo && o.param.sendManName === "王小明")).toBe(true);
    await cs.screenshot({ path: join(ARTIFACTS, "case-pickup-booked.png"), fullPage: true });
    await card.getByTestId("cancel-pickup").click();
    await card.getByTestId("book-pickup").waitFor();
    expect((await t.api("GET", `/api/v1/cases/${c.id}/pickup`)).body.pickup.status).toBe("cancelled");
  });
});
