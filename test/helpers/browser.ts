import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";
import { TEST_PASSWORD, type TestApp } from "./harness.js";

/** Debian's Chromium (installed by scripts/setup-machine.sh); browser tests skip without it outside CI. */
export const CHROMIUM = "/usr/bin/chromium";
export const ARTIFACTS = join(process.cwd(), "test-artifacts");
export const hasBrowser = existsSync(CHROMIUM) || process.env.CI === "true";

/** Starts headless Chromium for a browser test and makes sure the screenshot folder exists. */
export async function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** Serves the test app on a free port and returns its base URL. */
export async function listen(t: TestApp): Promise<string> {
  await t.app.listen({ port: 0, host: "127.0.0.1" });
  return `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
}

/**
 * Picks an option of an Ant Design select found by its label, and waits until the field shows it.
 * A busy machine sometimes drops the click on the drop-down while it animates: it tries again.
 */
export async function chooseOption(page: Page, label: string | RegExp, option: string) {
  await chooseIn(page, page.locator(".ant-select", { has: page.getByLabel(label) }).first(), option, page.getByLabel(label));
}

/**
 * Picks `option` in the Ant Design select `field` (opened by clicking `opener`, the field itself
 * unless told), and waits until the field shows it as chosen. A click a busy machine dropped while
 * the drop-down was still opening leaves the field empty, and is tried again; a pick that landed
 * is never repeated (the field shows it).
 */
export async function chooseIn(page: Page, field: Locator, option: string, opener: Locator = field) {
  const chosen = field.getByTitle(option, { exact: true }).first();
  for (let attempt = 1; ; attempt++) {
    try {
      await opener.click({ timeout: 10_000 });
      await page.locator(".ant-select-dropdown:visible").getByTitle(option, { exact: true }).first().click({ timeout: 10_000 });
      await chosen.waitFor({ state: "attached", timeout: 5_000 });
      return;
    } catch (e) {
      if (attempt >= 5) throw e;
      if (await chosen.count()) return;
      await page.keyboard.press("Escape").catch(() => {});
    }
  }
}

/**
 * Presses a dialog's OK button and waits until the dialog has closed. A press a busy machine
 * dropped while the dialog was still opening is pressed again; a press that landed is not sent
 * twice (the button ignores presses while its request is on its way, and the dialog then closes).
 */
export async function pressOk(page: Page, testId: "confirm-ok" | "action-ok" = "confirm-ok") {
  const ok = page.getByTestId(testId);
  await ok.click();
  for (let attempt = 1; ; attempt++) {
    try {
      await ok.waitFor({ state: "hidden", timeout: 10_000 });
      return;
    } catch (e) {
      if (attempt >= 5) throw e;
    }
    await ok.click({ timeout: 5_000 }).catch(() => {});
  }
}

/** Opens `path` in a new page and signs in there as the test user of `role`. */
export async function signedInPage(browser: Browser, t: TestApp, base: string, path: string, role: string): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  const user = await t.deps.db.selectFrom("users").select("email").where("id", "=", t.t.userIds[role]).executeTakeFirstOrThrow();
  await page.goto(`${base}${path}`);
  await page.getByLabel(/邮箱|Email/).fill(user.email);
  await page.getByLabel(/密码|Password/).fill(TEST_PASSWORD);
  await page.getByRole("button", { name: /登\s*录|Sign in/ }).click();
  return page;
}
