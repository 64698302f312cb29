// The web app's first pages as a customer's phone gets them: the portal lookup (`/portal`, order
// number and phone) and the console's sign-in page (`/`), each opened in a fresh browser context
// (no cache) under Lighthouse's "Slow 4G" (150 ms latency, 1.6 Mbit/s down, 750 kbit/s up) with the
// CPU slowed 4×, beside the same page unthrottled in the same run. Time to usable is measured in the
// page, from navigation start to the first frame in which the form's inputs are visible and enabled
// and its submit button is visible and enabled.
//
//   npm run bench -- web            (BENCH_WEB_RUNS sets the runs per page and condition, default 5)
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { launchBrowser } from "../test/helpers/browser.js";
import { fmt, ratio, startServer } from "./lib.js";

/** Lighthouse's mobile "Slow 4G" as the brief names it, in DevTools' units (bytes per second). */
const SLOW_4G = { offline: false, latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8 };
const CPU_SLOWDOWN = 4;

const PAGES = [
  { name: "portal lookup", path: "/portal", targetMs: 3000 },
  { name: "console sign-in", path: "/", targetMs: undefined },
];

// Runs in the page before its scripts: notes the first frame in which the form can be used.
const USABLE_PROBE = `(() => {
  const shown = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== "hidden"; };
  const ready = () => {
    const form = document.querySelector("form");
    if (!form) return false;
    const inputs = [...form.querySelectorAll("input")];
    const submit = form.querySelector("button[type=submit]");
    return inputs.length >= 2 && inputs.every((i) => shown(i) && !i.disabled && !i.readOnly) && !!submit && shown(submit) && !submit.disabled;
  };
  const check = () => {
    if (window.__ddUsable !== undefined || !ready()) return;
    window.__ddUsable = -1;
    requestAnimationFrame(() => { window.__ddUsable = performance.now(); });
    observer.disconnect();
  };
  const observer = new MutationObserver(check);
  observer.observe(document, { childList: true, subtree: true, attributes: true });
})();`;

interface Visit {
  usableMs: number;
  fcpMs: number;
  bytes: number;
  requests: number;
}

async function visit(browser: Browser, url: string, throttled: boolean): Promise<Visit> {
  const context = await browser.newContext({ viewport: { width: 375, height: 780 }, isMobile: true, hasTouch: true });
  try {
    await context.addInitScript(USABLE_PROBE);
    const page = await context.newPage();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    if (throttled) {
      await cdp.send("Network.emulateNetworkConditions", SLOW_4G);
      await cdp.send("Emulation.setCPUThrottlingRate", { rate: CPU_SLOWDOWN });
    }
    let bytes = 0;
    let requests = 0;
    cdp.on("Network.requestWillBeSent", () => {
      requests++;
    });
    cdp.on("Network.loadingFinished", (e: { encodedDataLength: number }) => {
      bytes += e.encodedDataLength;
    });
    await page.goto(url, { waitUntil: "commit", timeout: 60_000 });
    await page.waitForFunction(() => ((window as { __ddUsable?: number }).__ddUsable ?? 0) > 0, undefined, {
      timeout: 60_000,
      polling: 50,
    });
    // Playwright's own check that the first field takes typing.
    await page.locator("form input").first().waitFor({ state: "visible" });
    const usableMs = await page.evaluate(() => (window as { __ddUsable?: number }).__ddUsable ?? 0);
    // Everything the page fetches once open (the who-is-signed-in call, lazy chunks) counts too.
    await page.waitForLoadState("networkidle", { timeout: 60_000 });
    const fcpMs = await page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? 0);
    return { usableMs, fcpMs, bytes, requests };
  } finally {
    await context.close();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const secs = (ms: number) => `${fmt(ms / 1000, 2)} s`;

export async function benchWeb(): Promise<string[]> {
  const runs = Number(process.env.BENCH_WEB_RUNS ?? 5);
  execFileSync(process.execPath, [join(import.meta.dirname, "..", "scripts", "build-web.mjs")], { stdio: "inherit" });
  const server = await startServer({ port: 39890 });
  const browser = await launchBrowser();
  const lines = [
    `${runs} runs per page and condition, each in a fresh browser context (no cache), 375×780 mobile viewport;`,
    `slow = Slow 4G (latency ${SLOW_4G.latency} ms, 1.6 Mbit/s down, 750 kbit/s up) + CPU ${CPU_SLOWDOWN}× slower; fast = the same page unthrottled.`,
    "",
    "| page | condition | usable, median | usable, worst | FCP, median | KB on the wire | requests | usable vs fast | target |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  try {
    for (const p of PAGES) {
      const results: Record<string, Visit[]> = { fast: [], slow: [] };
      // Alternate the conditions so a burst of noise on the machine lands on both.
      for (let i = 0; i < runs; i++) {
        results.fast.push(await visit(browser, `${server.url}${p.path}`, false));
        results.slow.push(await visit(browser, `${server.url}${p.path}`, true));
      }
      const fastMedian = median(results.fast.map((v) => v.usableMs));
      for (const cond of ["fast", "slow"] as const) {
        const v = results[cond];
        const usable = median(v.map((x) => x.usableMs));
        const worst = Math.max(...v.map((x) => x.usableMs));
        const target =
          cond === "slow" && p.targetMs
            ? `≤ ${secs(p.targetMs)}: ${worst <= p.targetMs ? "met" : usable <= p.targetMs ? "median met, worst not" : "not met"}`
            : "";
        lines.push(
          `| ${p.name} (\`${p.path}\`) | ${cond} | ${secs(usable)} | ${secs(worst)} | ${secs(median(v.map((x) => x.fcpMs)))} | ${fmt(median(v.map((x) => x.bytes)) / 1024)} | ${median(v.map((x) => x.requests))} | ${cond === "slow" ? ratio(usable, fastMedian) : "1.00×"} | ${target} |`,
        );
      }
    }
  } finally {
    await browser.close();
    await server.stop();
  }
  return lines;
}
