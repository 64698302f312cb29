import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import { loadConfig } from "../../src/platform/config.js";
import { randomToken } from "../../src/platform/ids.js";
import { createOrder, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, TEST_PASSWORD, type TestApp } from "../helpers/harness.js";

const login = (t: TestApp, email: string, password: string, headers: Record<string, string> = {}) =>
  t.api("POST", "/api/v1/auth/login", { headers: { authorization: "", ...headers }, body: { email, password } });

/** Moves a throttle's last failure into the past, as if that many seconds had gone by. */
const age = (t: TestApp, key: string, seconds: number) =>
  t.deps.h.query("UPDATE rate_limits SET window_start = window_start - make_interval(secs => $2) WHERE key = $1", [key, seconds]);

describe.each(DB_KINDS)("throttles and defaults on %s", (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(() => t.close());

  it("does not let a client choose the address its login throttle counts", async () => {
    let last = 0;
    for (let i = 0; i < 31; i++) {
      const res = await login(t, `nobody${i}@example.test`, "wrong password", { "x-forwarded-for": `203.0.113.${i}` });
      last = res.status;
      if (res.status === 429) break;
    }
    expect(last).toBe(429);
    await t.deps.h.query("DELETE FROM rate_limits WHERE key LIKE 'login-ip:%'");
  });

  it("slows guessing on one account with a short, growing wait that its owner gets through", async () => {
    const email = `admin.${t.t.tenantId.slice(-8)}@example.test`;
    for (let i = 0; i < 6; i++) expect((await login(t, email, `guess ${i}`)).status).toBe(401);
    const blocked = await login(t, email, TEST_PASSWORD);
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe("rate_limited");
    expect(Number(blocked.headers["retry-after"])).toBeLessThanOrEqual(2);
    await age(t, `login-account:${email}`, 3);
    expect((await login(t, email, TEST_PASSWORD)).status).toBe(200);
    // A success forgets the failures: the next wrong password is not delayed.
    expect((await login(t, email, "one more guess")).status).toBe(401);
    await t.deps.h.query("DELETE FROM rate_limits");
  });

  it("never locks the customer out of the portal lookup for more than half a minute", async () => {
    const cat = await setupCatalog(t);
    const order = await createOrder(t, cat, { phone: "13912345678" });
    const lookup = (last4: string) =>
      t.api("POST", "/portal/api/lookup", {
        headers: { authorization: "" },
        body: { platformOrderNo: order.platformOrderNo, phoneLast4: last4 },
      });
    for (let i = 0; i < 6; i++) expect((await lookup(String(1000 + i))).status).toBe(404);
    const slowed = await lookup("5678");
    expect(slowed.status).toBe(429);
    expect(Number(slowed.headers["retry-after"])).toBeLessThanOrEqual(1);
    await age(t, `portal-order:${order.platformOrderNo}`, 2);
    expect((await lookup("5678")).status).toBe(200);
    // However many wrong answers came before, the wait is capped.
    await t.deps.h.query("INSERT INTO rate_limits (key, window_start, count) VALUES ($1, now(), 500)", [
      `portal-order:${order.platformOrderNo}`,
    ]);
    const capped = await lookup("5678");
    expect(capped.status).toBe(429);
    expect(Number(capped.headers["retry-after"])).toBeLessThanOrEqual(30);
    await age(t, `portal-order:${order.platformOrderNo}`, 31);
    expect((await lookup("5678")).status).toBe(200);
  });

  it("refuses short and common passwords, naming the field", async () => {
    for (const password of ["short1", "1234567890", "qwertyuiop", "password123", "aaaaaaaaaaaa"]) {
      const res = await t.api("POST", "/api/v1/users", { body: { email: `weak.${randomToken(4)}@example.test`, password, role: "cs" } });
      expect(res.status, password).toBe(400);
      expect(res.body.error.details.fields[0].field).toBe("password");
    }
    const ok = await t.api("POST", "/api/v1/users", {
      body: { email: `strong.${randomToken(4)}@example.test`, password: "tea kettle on the hill", role: "cs" },
    });
    expect(ok.status).toBe(201);
    const patch = await t.api("PATCH", `/api/v1/users/${ok.body.id}`, { body: { password: "1q2w3e4r5t" } });
    expect(patch.status).toBe(400);
  });

  it("serves metrics to admins and the metrics token only", async () => {
    expect((await t.api("GET", "/metrics", { headers: { authorization: "" } })).status).toBe(401);
    expect((await t.api("GET", "/metrics", { as: "viewer" })).status).toBe(403);
    const admin = await t.api("GET", "/metrics");
    expect(admin.status).toBe(200);
    expect(admin.text).toContain("dropdesk_http_request_duration_seconds");
    // The event-loop delay is still measured (sampled every 100 ms, not prom-client's 10 ms).
    expect(admin.text).toContain("nodejs_eventloop_lag_p99_seconds");
  });

  it("sends pages with a content security policy that forbids framing and sniffing", async () => {
    const page = await t.api("GET", "/", { headers: { authorization: "" } });
    expect(String(page.headers["content-type"])).toContain("text/html");
    expect(page.headers["x-frame-options"]).toBe("DENY");
    expect(page.headers["x-content-type-options"]).toBe("nosniff");
    expect(String(page.headers["content-security-policy"])).toContain("frame-ancestors 'none'");
    expect(String(page.headers["content-security-policy"])).toContain("script-src 'self'");
    const api = await t.api("GET", "/api/v1/auth/me");
    expect(api.headers["x-content-type-options"]).toBe("nosniff");
  });
});

describe("configuration of the edge", () => {
  it("listens on the loopback interface unless HOST says otherwise", () => {
    expect(loadConfig({}).host).toBe("127.0.0.1");
    expect(loadConfig({ HOST: "0.0.0.0" }).host).toBe("0.0.0.0");
  });

  it("trusts no proxy unless configured", () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ DROPDESK_TRUST_PROXY: "10.0.0.0/8, 127.0.0.1" }).trustProxy).toBe("10.0.0.0/8, 127.0.0.1");
  });

  it.runIf(DB_KINDS.includes("pglite"))("counts the forwarded address when the proxy is trusted, and serves metrics by token", async () => {
    const { app } = await createApp({
      config: {
        demo: false,
        workers: false,
        dataDir: "memory://",
        uploadsDir: `/tmp/dd-${randomToken(4)}`,
        trustProxy: "127.0.0.1",
        metricsToken: "scrape-token-for-tests",
      },
      log: () => {},
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 35; i++) {
        const res = await app.inject({
          method: "POST",
          url: "/api/v1/auth/login",
          headers: { "x-forwarded-for": `198.51.100.${i}` },
          payload: { email: `who${i}@example.test`, password: "wrong password" },
        });
        statuses.push(res.statusCode);
      }
      expect(statuses.every((s) => s === 401)).toBe(true);
      const scraped = await app.inject({ method: "GET", url: "/metrics", headers: { authorization: "Bearer scrape-token-for-tests" } });
      expect(scraped.statusCode).toBe(200);
      const wrong = await app.inject({ method: "GET", url: "/metrics", headers: { authorization: "Bearer scrape-token-for-test" } });
      expect(wrong.statusCode).toBe(401);
    } finally {
      await app.close();
    }
  });
});
