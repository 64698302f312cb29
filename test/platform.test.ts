import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../src/platform/ids.js";
import { DB_KINDS, freshDb, startTestApp, supplierSession, TEST_PASSWORD, type TestApp } from "./helpers/harness.js";

const ROLES = ["admin", "cs", "warehouse", "finance", "viewer"] as const;

describe.each(DB_KINDS)("platform on %s", (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("answers /health, /metrics and the OpenAPI document", async () => {
    expect((await t.api("GET", "/health")).body).toEqual({ status: "ok" });
    const metrics = await t.api("GET", "/metrics");
    expect(metrics.text).toContain("dropdesk_http_request_duration_seconds");
    const doc = (await t.api("GET", "/api/openapi.json")).body;
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toContain("/api/v1/shops");
    expect(doc.paths["/api/v1/shops"].post.requestBody).toBeTruthy();
    expect((await t.app.inject({ url: "/api/docs/" })).statusCode).toBe(200);
  });

  it("signs in with a session cookie, tells who is signed in, and signs out", async () => {
    const email = (await t.deps.db.selectFrom("users").select("email").where("id", "=", t.t.userIds.cs).executeTakeFirstOrThrow()).email;
    const bad = await t.api("POST", "/api/v1/auth/login", { body: { email, password: "wrong password" }, headers: { authorization: "" } });
    expect(bad.status).toBe(401);
    expect(bad.body.error.code).toBe("unauthorized");
    const res = await t.app.inject({ method: "POST", url: "/api/v1/auth/login", payload: { email, password: TEST_PASSWORD } });
    expect(res.statusCode).toBe(200);
    const setCookie = String(res.headers["set-cookie"]);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    const cookie = `dd_session=${res.cookies[0].value}`;
    const me = await t.api("GET", "/api/v1/auth/me", { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(me.body.role).toBe("cs");
    // A cross-site form post with the cookie is refused.
    const csrf = await t.api("POST", "/api/v1/auth/logout", { headers: { cookie, origin: "https://evil.example" } });
    expect(csrf.status).toBe(403);
    expect((await t.api("POST", "/api/v1/auth/logout", { headers: { cookie } })).status).toBe(200);
    expect((await t.api("GET", "/api/v1/auth/me", { headers: { cookie } })).status).toBe(401);
  });

  it("stores only a hash of API tokens and shows the token once", async () => {
    const res = await t.api("POST", "/api/v1/api-tokens", { body: { name: "erp", role: "cs" } });
    expect(res.status).toBe(201);
    expect(res.body.token).toMatch(/^ddt_/);
    const row = await t.deps.db.selectFrom("api_tokens").selectAll().where("id", "=", res.body.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(res.body.token);
    const me = await t.api("GET", "/api/v1/auth/me", { headers: { authorization: `Bearer ${res.body.token}` } });
    expect(me.body.role).toBe("cs");
    expect((await t.api("GET", "/api/v1/api-tokens")).body.items.every((i: Record<string, unknown>) => !("token" in i))).toBe(true);
    await t.api("POST", `/api/v1/api-tokens/${res.body.id}/actions/revoke`);
    expect((await t.api("GET", "/api/v1/auth/me", { headers: { authorization: `Bearer ${res.body.token}` } })).status).toBe(401);
  });

  it("lets each route's roles through and answers 403 to every other role", async () => {
    const supplierId = newId();
    await t.deps.db.insertInto("suppliers").values({ id: supplierId, tenant_id: t.t.tenantId, name: "Matrix supplier" }).execute();
    const supplier = await supplierSession(t.app, t.deps, t.t.tenantId, supplierId);
    const routes = (t.deps.services.routeTable as { method: string; url: string; roles: string[]; public: boolean }[]).filter(
      (r) => !r.public && (r.url.startsWith("/api/v1") || r.url.startsWith("/portal/api")),
    );
    expect(routes.length).toBeGreaterThan(10);
    const failures: string[] = [];
    for (const r of routes) {
      const url = r.url.replace(/:[a-zA-Z]+/g, newId());
      for (const role of [...ROLES, "supplier"]) {
        if (r.url === "/api/v1/auth/logout") continue;
        const headers = role === "supplier" ? { cookie: supplier.cookie } : undefined;
        const res = await t.api(r.method, url, {
          as: role === "supplier" ? "admin" : role,
          headers,
          body: r.method === "GET" || r.method === "DELETE" ? undefined : {},
        });
        const allowed = r.roles.includes(role);
        if (allowed && (res.status === 403 || res.status === 401)) failures.push(`${role} refused on ${r.method} ${r.url}: ${res.status}`);
        if (!allowed && res.status !== 403) failures.push(`${role} not refused on ${r.method} ${r.url}: ${res.status}`);
        if (!allowed && res.status === 403) expect(res.body.error.code).toBe("forbidden");
      }
    }
    expect(failures).toEqual([]);
  });

  it("refuses unauthenticated calls with 401 and the error shape", async () => {
    const res = await t.app.inject({ method: "GET", url: "/api/v1/shops" });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: { code: "unauthorized", message: expect.any(String) } });
  });

  it("never shows or changes another tenant's data", async () => {
    const shop = await t.api("POST", "/api/v1/shops", { body: { name: "Main shop", platform: "taobao" } });
    expect(shop.status).toBe(201);
    expect((await t.api("GET", `/api/v1/shops/${shop.body.id}`, { as: "other:admin" })).status).toBe(404);
    expect((await t.api("PATCH", `/api/v1/shops/${shop.body.id}`, { as: "other:admin", body: { name: "stolen" } })).status).toBe(404);
    expect((await t.api("GET", "/api/v1/shops", { as: "other:admin" })).body.items).toEqual([]);
    expect((await t.api("PATCH", `/api/v1/users/${t.t.userIds.cs}`, { as: "other:admin", body: { active: false } })).status).toBe(404);
    expect((await t.api("GET", `/api/v1/shops/${shop.body.id}`)).body.name).toBe("Main shop");
  });

  describe("validation", () => {
    const count = async () =>
      Number(
        (
          await t.deps.db
            .selectFrom("shops")
            .select((e) => e.fn.countAll().as("n"))
            .executeTakeFirstOrThrow()
        ).n,
      );

    it("refuses malformed JSON, wrong types, unknown fields and bad values with the field named, writing nothing", async () => {
      const before = await count();
      const malformed = await t.app.inject({
        method: "POST",
        url: "/api/v1/shops",
        headers: { authorization: `Bearer ${t.t.tokens.admin}`, "content-type": "application/json" },
        payload: '{"name": "x",',
      });
      expect(malformed.statusCode).toBe(400);
      expect(malformed.json().error.code).toBe("validation_failed");
      const wrongType = await t.api("POST", "/api/v1/shops", { body: { name: 42, platform: "taobao" } });
      expect(wrongType.status).toBe(400);
      expect(wrongType.body.error.details.fields.map((f: { field: string }) => f.field)).toContain("name");
      const unknown = await t.api("POST", "/api/v1/shops", { body: { name: "A", platform: "taobao", colour: "red" } });
      expect(unknown.status).toBe(400);
      expect(JSON.stringify(unknown.body.error.details)).toContain("colour");
      const tz = await t.api("POST", "/api/v1/shops", { body: { name: "A", platform: "taobao", timezone: "Mars/Olympus" } });
      expect(tz.status).toBe(400);
      expect(tz.body.error.details.fields[0].field).toBe("timezone");
      const long = await t.api("POST", "/api/v1/shops", { body: { name: "x".repeat(5000), platform: "taobao" } });
      expect(long.status).toBe(400);
      expect(long.body.error.details.fields[0].field).toBe("name");
      const huge = await t.api("POST", "/api/v1/shops", { body: { name: "A", platform: "p", pad: "x".repeat(2 * 1024 * 1024) } });
      expect(huge.status).toBe(400);
      expect(huge.body.error.code).toBe("validation_failed");
      expect(huge.body.error.details.fields[0].field).toBe("body");
      expect(await count()).toBe(before);
    });
  });

  describe("idempotency", () => {
    it("replays the first response for the same key and body", async () => {
      const key = `k-${newId()}`;
      const a = await t.api("POST", "/api/v1/shops", { body: { name: "Idem", platform: "jd" }, headers: { "idempotency-key": key } });
      const b = await t.api("POST", "/api/v1/shops", { body: { name: "Idem", platform: "jd" }, headers: { "idempotency-key": key } });
      expect(a.status).toBe(201);
      expect(b.status).toBe(201);
      expect(b.body).toEqual(a.body);
      expect(b.headers["idempotent-replayed"]).toBe("true");
    });

    it("refuses the same key with another body", async () => {
      const key = `k-${newId()}`;
      await t.api("POST", "/api/v1/shops", { body: { name: "One", platform: "jd" }, headers: { "idempotency-key": key } });
      const res = await t.api("POST", "/api/v1/shops", { body: { name: "Two", platform: "jd" }, headers: { "idempotency-key": key } });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe("idempotency_key_reuse");
    });

    it("gives 20 concurrent requests with one key one effect", async () => {
      const key = `k-${newId()}`;
      const name = `Concurrent ${key}`;
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          t.api("POST", "/api/v1/shops", { body: { name, platform: "pdd" }, headers: { "idempotency-key": key } }),
        ),
      );
      expect(new Set(results.map((r) => r.status))).toEqual(new Set([201]));
      expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
      const rows = await t.deps.db.selectFrom("shops").select("id").where("name", "=", name).execute();
      expect(rows).toHaveLength(1);
    });
  });

  it("pages lists with a cursor", async () => {
    for (let i = 0; i < 3; i++)
      await t.api("POST", "/api/v1/users", { body: { email: `page${i}@example.test`, password: "longenough1", role: "viewer" } });
    const first = await t.api("GET", "/api/v1/users?limit=2");
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toBeTruthy();
    const second = await t.api("GET", `/api/v1/users?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.items[0].id < first.body.items[1].id).toBe(true);
    const csv = await t.api("GET", "/api/v1/users?format=csv");
    expect(csv.headers["content-type"]).toContain("text/csv");
    expect(csv.text.split("\r\n")[0]).toContain("email");
  });

  it("records who changed what in the audit log", async () => {
    const res = await t.api("PATCH", `/api/v1/users/${t.t.userIds.viewer}`, { body: { name: "Renamed viewer" } });
    expect(res.status).toBe(200);
    const log = await t.api("GET", `/api/v1/audit-log?entityType=user&entityId=${t.t.userIds.viewer}`);
    expect(log.body.items[0]).toMatchObject({
      action: "user.update",
      actorId: expect.any(String),
      after: expect.objectContaining({ name: "Renamed viewer" }),
    });
    // By action, exactly or every action of an entity ("user."), and by who did it.
    const exact = (await t.api("GET", "/api/v1/audit-log?action=user.update")).body.items;
    expect(exact.length).toBeGreaterThan(0);
    expect(exact.every((e: { action: string }) => e.action === "user.update")).toBe(true);
    const prefix = (await t.api("GET", "/api/v1/audit-log?action=user.")).body.items;
    expect(prefix.length).toBeGreaterThanOrEqual(exact.length);
    expect(prefix.every((e: { action: string }) => e.action.startsWith("user."))).toBe(true);
    expect((await t.api("GET", "/api/v1/audit-log?action=user%25")).body.items).toEqual([]);
    const mine = (await t.api("GET", `/api/v1/audit-log?actorId=${log.body.items[0].actorId}`)).body.items;
    expect(mine.every((e: { actorId: string }) => e.actorId === log.body.items[0].actorId)).toBe(true);
    expect((await t.api("GET", "/api/v1/audit-log", { as: "cs" })).status).toBe(403);
  });
});

describe.runIf(DB_KINDS.includes("postgres"))("stateless processes on one PostgreSQL", () => {
  it("serves a session made by one process from another process", async () => {
    const db = (await freshDb("postgres")) as Awaited<ReturnType<typeof freshDb>> & { url: string };
    await db.close();
    const start = (port: number) =>
      new Promise<ReturnType<typeof spawn>>((resolve, reject) => {
        const p = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", "start"], {
          env: {
            ...process.env,
            DATABASE_URL: db.url,
            PORT: String(port),
            DROPDESK_DEMO: "0",
            DROPDESK_ADMIN_EMAIL: "two@procs.test",
            DROPDESK_ADMIN_PASSWORD: TEST_PASSWORD,
            LOG_LEVEL: "warn",
          },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        const timer = setTimeout(() => reject(new Error(`process did not start: ${out}`)), 30_000);
        const onData = (d: Buffer) => {
          out += d.toString();
          if (out.includes("Dropdesk is running")) {
            clearTimeout(timer);
            resolve(p);
          }
        };
        p.stdout?.on("data", onData);
        p.stderr?.on("data", onData);
      });
    const port = 39000 + Math.floor(Math.random() * 900);
    const [a, b] = await Promise.all([start(port), start(port + 1)]);
    try {
      const login = await fetch(`http://127.0.0.1:${port}/api/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "two@procs.test", password: TEST_PASSWORD }),
      });
      expect(login.status).toBe(200);
      const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0];
      const me = await fetch(`http://127.0.0.1:${port + 1}/api/v1/auth/me`, { headers: { cookie } });
      expect(me.status).toBe(200);
      expect((await me.json()).role).toBe("admin");
    } finally {
      a.kill();
      b.kill();
      const drop = await freshDb("pglite");
      await drop.close();
      const pg = await import("pg");
      const c = new pg.default.Client({ connectionString: process.env.DD_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test" });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${new URL(db.url).pathname.slice(1)} WITH (FORCE)`);
      await c.end();
    }
  });
});
