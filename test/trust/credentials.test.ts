import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import { randomToken } from "../../src/platform/ids.js";
import { DB_KINDS, startTestApp, TEST_PASSWORD, type TestApp } from "../helpers/harness.js";

/** Signs in as a staff role of the main tenant and returns the session cookie header. */
async function signIn(t: TestApp, role: string): Promise<string> {
  const res = await t.api("POST", "/api/v1/auth/login", {
    headers: { authorization: "" },
    body: { email: `${role}.${t.t.tenantId.slice(-8)}@example.test`, password: TEST_PASSWORD },
  });
  expect(res.status).toBe(200);
  const set = String(res.headers["set-cookie"]);
  return set.split(";")[0];
}

describe.each(DB_KINDS)("credentials on %s", (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(() => t.close());

  it("never serves one user's session to another who sends the same non-Bearer Authorization header", async () => {
    const proxyHeader = "Basic cHJveHk6c2VjcmV0";
    const admin = await signIn(t, "admin");
    const viewer = await signIn(t, "viewer");
    const asAdmin = await t.api("GET", "/api/v1/auth/me", { headers: { authorization: proxyHeader, cookie: admin } });
    expect(asAdmin.body.role).toBe("admin");
    const asViewer = await t.api("GET", "/api/v1/auth/me", { headers: { authorization: proxyHeader, cookie: viewer } });
    expect(asViewer.body.role).toBe("viewer");
    const create = await t.api("POST", "/api/v1/users", {
      headers: { authorization: proxyHeader, cookie: viewer },
      body: { email: `x.${randomToken(4)}@example.test`, password: "a long enough passphrase", role: "admin" },
    });
    expect(create.status).toBe(403);
    const nobody = await t.api("GET", "/api/v1/auth/me", { headers: { authorization: proxyHeader } });
    expect(nobody.status).toBe(401);
  });

  it("treats a cookie session with a foreign Authorization scheme as a cookie for the origin check", async () => {
    const admin = await signIn(t, "admin");
    const res = await t.api("POST", "/api/v1/api-tokens", {
      headers: { authorization: "Basic eDp5", cookie: admin, origin: "https://evil.example.test" },
      body: { name: "from another site", role: "viewer" },
    });
    expect(res.status).toBe(403);
  });

  it("refuses a revoked API token on the very next request", async () => {
    const created = await t.api("POST", "/api/v1/api-tokens", { body: { name: "short-lived", role: "cs" } });
    const auth = { authorization: `Bearer ${created.body.token}` };
    expect((await t.api("GET", "/api/v1/auth/me", { headers: auth })).status).toBe(200);
    const revoke = await t.api("POST", `/api/v1/api-tokens/${created.body.id}/actions/revoke`);
    expect(revoke.status).toBe(200);
    expect((await t.api("GET", "/api/v1/auth/me", { headers: auth })).status).toBe(401);
  });

  it("takes a role change and a deactivation into effect at once", async () => {
    const email = `demoted.${randomToken(4)}@example.test`;
    const user = await t.api("POST", "/api/v1/users", { body: { email, password: "a long enough passphrase", role: "admin" } });
    expect(user.status).toBe(201);
    const login = await t.api("POST", "/api/v1/auth/login", {
      headers: { authorization: "" },
      body: { email, password: "a long enough passphrase" },
    });
    const cookie = String(login.headers["set-cookie"]).split(";")[0];
    expect((await t.api("GET", "/api/v1/auth/me", { headers: { cookie } })).body.role).toBe("admin");
    expect((await t.api("PATCH", `/api/v1/users/${user.body.id}`, { body: { role: "viewer" } })).status).toBe(200);
    expect((await t.api("GET", "/api/v1/users", { headers: { cookie } })).status).toBe(401);
  });
});

describe.runIf(DB_KINDS.includes("postgres"))("credentials across processes on PostgreSQL", () => {
  it("a token revoked through one process is refused by another that had cached it", async () => {
    const a = await startTestApp("postgres");
    // A second application on the same database, as a second API process would be.
    const url = (a.deps.h.pool?.options as { connectionString?: string } | undefined)?.connectionString;
    const second = await createApp({
      config: { databaseUrl: url, demo: false, workers: false, dataDir: "memory://", uploadsDir: `/tmp/dd-${randomToken(4)}` },
      log: () => {},
    });
    try {
      const created = await a.api("POST", "/api/v1/api-tokens", { body: { name: "shared", role: "cs" } });
      const headers = { authorization: `Bearer ${created.body.token}` };
      expect((await second.app.inject({ method: "GET", url: "/api/v1/auth/me", headers })).statusCode).toBe(200);
      await a.api("POST", `/api/v1/api-tokens/${created.body.id}/actions/revoke`);
      // The notification travels through PostgreSQL; wait for it, bounded well below the 5 s cache.
      let status = 200;
      for (let i = 0; i < 40 && status === 200; i++) {
        await new Promise((r) => setTimeout(r, 25));
        status = (await second.app.inject({ method: "GET", url: "/api/v1/auth/me", headers })).statusCode;
      }
      expect(status).toBe(401);
    } finally {
      await second.app.close();
      await a.close();
    }
  });
});
