import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VOCABULARY } from "../../src/domain/vocabulary.js";
import { type AxeFinding, seriousViolations } from "../helpers/axe.js";
import { ARTIFACTS, hasBrowser, launchBrowser, pressOk } from "../helpers/browser.js";
import { type Catalog, createDeliveredOrder, createOrder, setupCatalog } from "../helpers/fixtures.js";
import { addSupplierUser, startTestApp, TEST_PASSWORD, type TestApp, userEmails } from "../helpers/harness.js";

// The console and the portals as their users work: words instead of codes on every console
// screen, money and destructive actions confirmed with what they do, the supplier answering a
// cancel request, and a portal that stays light on the wire.

/** Entities whose audit actions and events read `<entity>.<verb>`; such a code on a screen is a code, not a word. */
const DOTTED =
  /\b(?:case|order|supplier_order|refund|claim|statement|user|shop|webhook|connector|api_token|offer|supplier|product|sku|notification_template|compensation|tracking|complaint|blocklist|analytics)\.[a-z_*-]+/g;
const SNAKE = /\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b/g;
/** Bare codes of the vocabulary and of claim and statement actions that have a name to show instead. */
const BARE = new Set([
  ...Object.entries(VOCABULARY)
    .filter(([list]) => list !== "role" && list !== "carrier")
    .flatMap(([, names]) => Object.keys(names))
    .filter((v) => /^[a-z]+$/.test(v)),
  "accept",
  "dispute",
  "settle",
  "close",
  "risk",
  "period",
]);

/** What a person sees of an element: its rendered text, without hidden elements (hence not textContent). */
const visibleText = (l: { innerText(): Promise<string> }) => l.innerText();

/**
 * The codes in a screen's visible text (emails and addresses taken out first). Bare words are
 * looked for in `labels` only — tags, buttons, headers, field labels — since prose (an English
 * notification template says "received") may use them as words.
 */
function codesIn(text: string, labels = text): string[] {
  // Template variables ({{carrier}}) and API token prefixes (ddt_…) are what people type and recognise.
  const clean = text
    .replace(/\S+@\S+/g, " ")
    .replace(/\bhttps?:\/\/\S+/g, " ")
    .replace(/\{\{[^}]*\}\}/g, " ")
    .replace(/\bddt_\S+/g, " ");
  const found = [...(clean.match(SNAKE) ?? []), ...(clean.match(DOTTED) ?? [])];
  for (const w of labels.match(/\b[a-z]+\b/g) ?? []) if (BARE.has(w)) found.push(w);
  return [...new Set(found)];
}

describe.runIf(hasBrowser)("the console and the portals as their users work", () => {
  let t: TestApp;
  let cat: Catalog;
  let browser: Browser;
  let base: string;
  const emails: Record<string, string> = {};
  let refunded: { caseId: string; orderId: string };
  let toRefund: string;
  let toInspect: string;

  async function ok(p: Promise<{ status: number; body: any; text: string }>) {
    const r = await p;
    expect(r.status, r.text).toBeLessThan(300);
    return r.body;
  }

  /** A delivered order and a return-and-refund case on it, with a photo, approved, sent back, received and (unless `received`) inspected. */
  async function inspectedCase(until: "ship" | "receive" | "inspect" = "inspect") {
    const order = await createDeliveredOrder(t, cat, {
      lines: [{ skuCode: "TEE", quantity: 1 }],
      deliveredAt: new Date(Date.now() - 86400_000).toISOString(),
    });
    const c = await ok(
      t.api("POST", "/api/v1/cases", {
        as: "cs",
        body: {
          orderId: order.id,
          type: "return_refund",
          reason: "quality",
          lines: [{ orderLineId: order.lines[0].id, quantity: 1 }],
          description: "线头开了",
          channel: "phone",
        },
      }),
    );
    const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");
    const boundary = "----dropdesk-e2e";
    await ok(
      t.api("POST", `/api/v1/cases/${c.id}/evidence`, {
        as: "cs",
        headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
        body: Buffer.concat([
          Buffer.from(
            `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="damage.png"\r\nContent-Type: image/png\r\n\r\n`,
          ),
          png,
          Buffer.from(`\r\n--${boundary}--\r\n`),
        ]),
      }),
    );
    const trackingNo = `SF${Date.now()}`;
    for (const [action, body] of [
      ["approve", {}],
      ["set-responsibility", { responsibility: "supplier", note: "seam defect" }],
      ["ship-return", { carrier: "shunfeng", trackingNo }],
      ["receive", {}],
      ["inspect", { grade: "resellable", matchesOrder: true, complete: true, disposition: "return_to_supplier" }],
    ] as const) {
      if ((until === "receive" && action === "inspect") || (until === "ship" && action === "receive")) break;
      await ok(
        t.api("POST", `/api/v1/cases/${c.id}/actions/${action}`, {
          as: action === "receive" || action === "inspect" ? "warehouse" : "cs",
          body,
        }),
      );
    }
    return { caseId: c.id as string, orderId: order.id as string, trackingNo };
  }

  async function signedIn(role: string, path: string, width = 1280): Promise<Page & { errors: string[] }> {
    const page = (await (await browser.newContext({ viewport: { width, height: 900 } })).newPage()) as Page & { errors: string[] };
    page.setDefaultTimeout(60_000);
    page.errors = [];
    page.on("pageerror", (e) => page.errors.push(e.message));
    // Console errors count too, but for antd's notices about components it will retire.
    page.on("console", (m) => {
      if (m.type() === "error" && !m.text().startsWith("Warning: [antd:")) page.errors.push(m.text());
    });
    await page.goto(`${base}${path}`);
    await page.getByLabel(/邮箱|Email/).fill(emails[role]);
    await page.getByLabel(/密码|Password/).fill(TEST_PASSWORD);
    await page.getByRole("button", { name: /登\s*录|Sign in/ }).click();
    await page
      .locator(role === "supplier" ? ".ant-tabs" : "[data-testid=whoami]")
      .first()
      .waitFor();
    return page;
  }

  /** Waits until a screen has loaded: no request in flight and no spinner. */
  async function settled(page: Page) {
    await page.waitForLoadState("networkidle");
    await page.waitForFunction(() => !document.querySelector(".ant-spin-spinning"), undefined, { timeout: 20_000 });
  }

  beforeAll(async () => {
    execFileSync(process.execPath, [join(process.cwd(), "scripts", "build-web.mjs")], { stdio: "inherit" });
    t = await startTestApp("pglite");
    cat = await setupCatalog(t);
    t.clock.set(new Date());
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
    Object.assign(emails, await userEmails(t, ["admin", "cs", "finance", "warehouse"]));
    emails.supplier = await addSupplierUser(t.deps, t.t.tenantId, cat.suppliers.a, "Supplier A");
    // Something on every screen: a refunded case (timeline, ledger, claim, audit), one waiting for its refund.
    refunded = await inspectedCase();
    await ok(t.api("POST", `/api/v1/cases/${refunded.caseId}/actions/refund`, { as: "finance", body: {} }));
    toRefund = (await inspectedCase()).caseId;
    toInspect = (await inspectedCase("receive")).caseId;
    await ok(t.api("POST", "/api/v1/complaints", { as: "cs", body: { orderId: refunded.orderId, subject: "包裹破损", severity: "high" } }));
    browser = await launchBrowser();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("every console screen shows names, never codes, in Chinese", async () => {
    const page = await signedIn("admin", "/");
    const screens = [
      "/",
      "/analytics",
      "/cases",
      "/complaints",
      "/orders",
      `/orders/${refunded.orderId}`,
      `/cases/${refunded.caseId}`,
      `/cases/${toRefund}`,
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
    const found: Record<string, string[]> = {};
    for (const path of screens) {
      await page.goto(`${base}${path}`);
      await page.getByTestId("whoami").waitFor();
      await settled(page);
      const labels = await page
        .locator(
          ".ant-tag, .ant-btn, th, .ant-descriptions-item-label, .ant-form-item-label, .ant-select-selection-item, .ant-statistic-title, .ant-timeline-item b",
        )
        .allInnerTexts();
      const codes = codesIn(await visibleText(page.locator("body")), labels.join(" "));
      if (codes.length) found[path] = codes;
      await page.screenshot({
        path: join(ARTIFACTS, `words${path.replaceAll("/", "-").replace(/-[0-9a-f-]{36}/, "-detail") || "-home"}.png`),
        fullPage: true,
      });
    }
    // The inspect dialog: its labels and options by name, and its required-field messages too.
    await page.goto(`${base}/cases/${toInspect}`);
    await page.locator("[data-action=inspect]").click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("商品成色").waitFor();
    await page.getByTestId("action-ok").click();
    await dialog.getByText("请输入商品成色").waitFor();
    await dialog.getByLabel("商品成色").click();
    await page.locator(".ant-select-dropdown:visible").getByText("可二次销售").waitFor();
    found.inspect = codesIn(
      `${await visibleText(dialog)} ${(await page.locator(".ant-select-dropdown:visible .ant-select-item-option-content").allTextContents()).join(" ")}`,
    );
    await page.screenshot({ path: join(ARTIFACTS, "words-inspect.png") });
    expect(Object.fromEntries(Object.entries(found).filter(([, v]) => v.length))).toEqual({});
    expect(codesIn("grade resellable case.approve 退回 cost_of_goods")).toEqual(
      expect.arrayContaining(["cost_of_goods", "case.approve", "resellable"]),
    );
    expect(page.errors).toEqual([]);
  }, 180_000);

  it("a refund is confirmed with its amount and route, then the case follows it to 已退款", async () => {
    const quote = await ok(t.api("GET", `/api/v1/cases/${toRefund}/refund-quote`, { as: "finance" }));
    const amount = `¥${(quote.total / 100).toLocaleString("en-US", { minimumFractionDigits: 2 })}`;
    const page = await signedIn("finance", `/cases/${toRefund}`);
    await page.locator("[data-action=refund]").click();
    // Nothing has moved yet: the dialog shows the amount, the route and who is told.
    await page.getByTestId("refund-amount").getByText(amount).waitFor();
    expect(await visibleText(page.getByTestId("refund-preview"))).toContain("支付宝");
    expect((await t.api("GET", `/api/v1/refunds?caseId=${toRefund}`)).body.items).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, "refund-confirm.png"), fullPage: true });
    await pressOk(page, "action-ok");
    await page.locator(".ant-message").getByText(`已发起退款 ${amount}`).waitFor();
    // The page refreshes itself until the gateway's answer: no reload.
    await page.locator("[data-status=refunded]").first().waitFor({ timeout: 60_000 });
    const refunds = (await t.api("GET", `/api/v1/refunds?caseId=${toRefund}`)).body.items;
    expect(refunds.map((r: { amount: number }) => r.amount)).toEqual([quote.total]);
    expect(page.errors).toEqual([]);
  }, 120_000);

  it("the console asks a supplier to cancel; the supplier sees the consignee and agrees", async () => {
    const order = await createOrder(t, cat, { lines: [{ skuCode: "TEE", quantity: 1 }], phone: "13700001111" });
    const forwarded = await ok(t.api("POST", `/api/v1/orders/${order.id}/actions/forward`));
    const so = forwarded.supplierOrders[0];
    // A second order whose ship-by date has passed.
    const late = await createOrder(t, cat, { lines: [{ skuCode: "TEE", quantity: 1 }] });
    const lateSo = (await ok(t.api("POST", `/api/v1/orders/${late.id}/actions/forward`))).supplierOrders[0];
    await t.deps.db
      .updateTable("supplier_orders")
      .set({ ship_by: new Date(Date.now() - 3600_000) })
      .where("id", "=", lateSo.id)
      .execute();

    const cs = await signedIn("cs", `/orders/${order.id}`);
    await cs.locator("[data-action=request-cancel]").click();
    await cs
      .getByRole("dialog")
      .getByText(/Supplier A/)
      .waitFor();
    await pressOk(cs);
    await cs.locator("[data-status=cancel_requested]").waitFor();
    expect(cs.errors).toEqual([]);

    const page = await signedIn("supplier", "/supplier");
    const row = page.locator("tr", { hasText: order.platformOrderNo });
    await row.getByTestId("consignee").getByText("13700001111").waitFor();
    expect(await visibleText(row.getByTestId("consignee"))).toMatch(/王小明[\s\S]*上海 上海 浦东 世纪大道 100 号/);
    await row.getByTestId("cancel-request").waitFor();
    expect(await row.getByTestId("ship").count()).toBe(0);
    await page.locator("tr", { hasText: late.platformOrderNo }).getByTestId("late").waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "supplier-cancel-request.png"), fullPage: true });
    await row.locator("[data-action=confirm-cancel]").click();
    await page
      .getByRole("dialog")
      .getByText(/不再发货/)
      .waitFor();
    await pressOk(page);
    await page.locator("tr", { hasText: order.platformOrderNo }).locator("[data-status=cancelled]").waitFor();
    expect((await t.api("GET", `/api/v1/supplier-orders/${so.id}`)).body.status).toBe("cancelled");
    expect(codesIn(await visibleText(page.locator("body")))).toEqual([]);
    expect(page.errors).toEqual([]);
  }, 120_000);

  it("the case list works as queues: counts per status, customer, amount, SLA colours, phone search and the menu badge", async () => {
    const counts = await ok(t.api("GET", "/api/v1/case-queue/counts", { as: "cs" }));
    expect(counts.byStatus.received).toBeGreaterThanOrEqual(1);
    expect((await t.api("GET", "/api/v1/case-queue/by-phone?phone=12", { as: "cs" })).body.error.details.fields[0].field).toBe("phone");
    // Counts are the tenant's own.
    expect((await t.api("GET", "/api/v1/case-queue/counts", { as: "other:cs" })).body.total).toBe(0);
    const page = await signedIn("cs", "/cases");
    // The menu's badge counts the new and the overdue cases.
    if (counts.new + counts.overdue > 0)
      await page
        .getByTestId("cases-badge")
        .getByText(String(counts.new + counts.overdue))
        .first()
        .waitFor();
    await page.getByTestId("queue-tabs").locator("[data-queue=received]").click();
    await page.getByTestId("queue-total").getByText(`共 ${counts.byStatus.received} 条`).waitFor();
    const inbox = page.getByTestId("case-inbox");
    await inbox.locator("tbody [data-status=received]").first().waitFor();
    await settled(page);
    expect(new Set(await inbox.locator("tbody [data-status]").evaluateAll((es) => es.map((e) => e.getAttribute("data-status"))))).toEqual(
      new Set(["received"]),
    );
    const row = inbox.locator("tbody tr", { hasText: "13912345678" }).first();
    expect(await visibleText(row)).toMatch(/王小明[\s\S]*¥\d{1,3}(,\d{3})*\.\d{2}[\s\S]*(剩|超时) \d+[hd]/);
    expect(await row.locator("[data-sla]").getAttribute("data-sla")).toMatch(/^(red|orange|green)$/);
    // A customer's phone number finds their cases, whatever their status.
    await page.getByTestId("search-phone").locator("input").fill("5678");
    await page.getByTestId("search-phone").locator("input").press("Enter");
    await page.waitForURL(/phone=5678/);
    await settled(page);
    const byPhone = (await t.api("GET", "/api/v1/case-queue/by-phone?phone=5678", { as: "cs" })).body.items;
    expect(byPhone.length).toBeGreaterThan(1);
    await inbox
      .locator("tbody tr[data-row-key]")
      .nth(byPhone.length - 1)
      .waitFor();
    expect(await inbox.locator("tbody tr[data-row-key]").count()).toBe(byPhone.length);
    await page.getByTestId("queue-total").getByText(`共 ${byPhone.length} 条`).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "case-queues.png"), fullPage: true });
    expect(page.errors).toEqual([]);
  }, 60_000);

  it("the case shows its customer, address, channel and description on top, the usual next step first and the ending actions apart", async () => {
    const page = await signedIn("admin", `/cases/${toInspect}`);
    const ctx = page.getByTestId("case-context");
    await ctx.getByText("13912345678").waitFor();
    expect(await visibleText(ctx)).toMatch(/王小明[\s\S]*上海 上海 浦东 世纪大道 100 号[\s\S]*电话[\s\S]*线头开了/);
    const main = await page.locator("[data-group=main] [data-action]").evaluateAll((es) => es.map((e) => e.getAttribute("data-action")));
    const ending = await page
      .locator("[data-group=ending] [data-action]")
      .evaluateAll((es) => es.map((e) => e.getAttribute("data-action")));
    expect(main[0]).toBe("inspect");
    for (const a of ending) expect(["reject", "cancel", "close"]).toContain(a);
    expect(main.filter((a) => ["reject", "cancel", "close"].includes(a as string))).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, "case-context.png"), fullPage: true });
    expect(page.errors).toEqual([]);
  }, 60_000);

  it("each role lands on its work: the warehouse on its returns with tracking and bulk receive, finance on the refunds to make", async () => {
    const arriving = await inspectedCase("ship");
    const wh = await signedIn("warehouse", "/");
    await wh.waitForURL(/\/warehouse$/);
    const row = wh.locator("tr", { hasText: arriving.trackingNo });
    await row.getByTestId("tracking").getByText(`顺丰速运 ${arriving.trackingNo}`).waitFor();
    await row.locator(".ant-checkbox-input").check();
    await wh.getByTestId("bulk-receive").click();
    await wh
      .getByRole("dialog")
      .getByText(/签收选中的 1 个退货包裹/)
      .waitFor();
    await pressOk(wh);
    await wh.locator(".ant-message").getByText("已签收 1 个，未成功 0 个").waitFor();
    expect((await t.api("GET", `/api/v1/cases/${arriving.caseId}`)).body.status).toBe("received");
    await wh.screenshot({ path: join(ARTIFACTS, "landing-warehouse.png"), fullPage: true });
    expect(wh.errors).toEqual([]);

    await inspectedCase();
    const fin = await signedIn("finance", "/");
    await fin.waitForURL(/\/to-refund$/);
    const waiting = (await t.api("GET", "/api/v1/cases?status=inspected&limit=100", { as: "finance" })).body.items;
    expect(waiting.length).toBeGreaterThan(0);
    const list = fin.getByTestId("to-refund");
    await list.getByText(waiting[0].caseNo).waitFor();
    await fin.getByTestId("to-refund-search").locator("input").fill(waiting[0].platformOrderNo);
    await fin.getByTestId("to-refund-search").locator("input").press("Enter");
    await fin.getByTestId("to-refund-total").getByText("共 1 条").waitFor();
    expect(await visibleText(list.locator("tbody tr[data-row-key]"))).toMatch(/AS\S+\s+T\S+[\s\S]*¥\d/);
    await fin.screenshot({ path: join(ARTIFACTS, "landing-finance.png"), fullPage: true });
    expect(fin.errors).toEqual([]);
  }, 90_000);

  it("the audit log names cases and orders by their numbers", async () => {
    // The newest case entry on the log's first page, as the screen lists it.
    const entries = (await t.api("GET", "/api/v1/audit-log?limit=50", { as: "admin" })).body.items;
    const entry = entries.find((e: { entityType: string }) => e.entityType === "case");
    const c = (await t.api("GET", `/api/v1/cases/${entry.entityId}`)).body;
    const page = await signedIn("admin", "/audit");
    await page.getByText(`售后单 ${c.caseNo}`).first().waitFor();
    expect(await visibleText(page.locator("body"))).not.toContain(`售后单 ${c.id.slice(0, 8)}`);
    expect(page.errors).toEqual([]);
  }, 60_000);

  it("has no critical or serious axe-core violation on the portal, the case list, a case, the warehouse and finance", async () => {
    const found: Record<string, AxeFinding[]> = {};
    const check = async (page: Page, name: string) => {
      await settled(page);
      const v = await seriousViolations(page);
      if (v.length) found[name] = v;
      const h1 = await page.locator("h1").count();
      if (h1 !== 1) found[name] = [...(found[name] ?? []), { id: "one-h1", impact: "serious", help: `${h1} h1`, targets: [] }];
    };
    const phone = await (await browser.newContext({ viewport: { width: 375, height: 780 } })).newPage();
    await phone.goto(`${base}/portal`);
    await phone.getByRole("button", { name: /查询订单/ }).waitFor();
    await check(phone, "portal lookup");
    const order = (await t.api("GET", `/api/v1/orders/${refunded.orderId}`)).body;
    await phone.getByLabel(/订单号/).fill(order.platformOrderNo);
    await phone.getByLabel(/手机号后4位/).fill("5678");
    await phone.getByRole("button", { name: /查询订单/ }).click();
    await phone
      .getByText(/希望如何处理/)
      .first()
      .waitFor();
    await check(phone, "portal order");
    await phone.goto(`${base}/portal/cases/${refunded.caseId}`);
    await phone.locator("[data-status]").first().waitFor();
    // The customer's case says what they got back and how, what comes next, and the parcel they sent.
    const quote = (await t.api("GET", `/api/v1/refunds?caseId=${refunded.caseId}`, { as: "finance" })).body.items[0];
    await phone
      .getByTestId("portal-refund")
      .getByText(`¥${(quote.amount / 100).toFixed(2)}`)
      .waitFor();
    expect(await visibleText(phone.getByTestId("portal-summary"))).toMatch(
      /已退款[\s\S]*退回方式[\s\S]*(支付宝|原路退回) ¥[\s\S]*下一步[\s\S]*退货运单号[\s\S]*顺丰速运 SF\d+[\s\S]*退货地址/,
    );
    const small = await phone
      .locator(".dd-portal .ant-btn:visible")
      .evaluateAll((es) => es.filter((e) => e.getBoundingClientRect().height < 44).length);
    expect(small).toBe(0);
    await phone.screenshot({ path: join(ARTIFACTS, "portal-case-summary.png"), fullPage: true });
    await check(phone, "portal case");
    const page = await signedIn("admin", "/cases");
    for (const path of ["/cases", `/cases/${toInspect}`, "/warehouse", "/finance"]) {
      await page.goto(`${base}${path}`);
      await page.getByTestId("whoami").waitFor();
      await check(page, path.replace(/[0-9a-f-]{36}/, ":id"));
    }
    expect(found).toEqual({});
  }, 120_000);

  it("serves precompressed assets, the icon, and a portal lookup under 300 KB on the wire", async () => {
    const html = await (await fetch(`${base}/portal`)).text();
    const entry = html.match(/src="(\/assets\/[^"]+\.js)"/)?.[1] as string;
    for (const enc of ["br", "gzip"]) {
      const r = await fetch(`${base}${entry}`, { headers: { "accept-encoding": enc } });
      expect(r.status).toBe(200);
      expect(r.headers.get("content-encoding")).toBe(enc);
      expect(r.headers.get("vary")?.toLowerCase()).toContain("accept-encoding");
    }
    const icon = await fetch(`${base}/favicon.ico`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get("content-type")).toBe("image/x-icon");

    const onTheWire = async (path: string, ready: (p: Page) => Promise<unknown>) => {
      const page = await (await browser.newContext({ viewport: { width: 375, height: 780 } })).newPage();
      const errors: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      const cdp = await page.context().newCDPSession(page);
      await cdp.send("Network.enable");
      let bytes = 0;
      cdp.on("Network.loadingFinished", (e: { encodedDataLength: number }) => {
        bytes += e.encodedDataLength;
      });
      await page.goto(`${base}${path}`);
      await ready(page);
      await page.waitForLoadState("networkidle");
      return { bytes, errors };
    };
    const portal = await onTheWire("/portal", (p) => p.getByRole("button", { name: /查询订单/ }).waitFor());
    const signIn = await onTheWire("/", (p) => p.getByRole("button", { name: /登\s*录/ }).waitFor());
    console.info(`on the wire: portal lookup ${Math.round(portal.bytes / 1024)} KB, console sign-in ${Math.round(signIn.bytes / 1024)} KB`);
    expect(portal.bytes).toBeLessThan(300 * 1024);
    expect(signIn.bytes).toBeLessThan(800 * 1024);
    // Signed out, the sign-in page asks who is signed in without a failed request.
    expect(signIn.errors).toEqual([]);
    expect(portal.errors).toEqual([]);
  }, 60_000);
});
