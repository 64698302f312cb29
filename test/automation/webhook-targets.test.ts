import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signWebhook } from "../../src/automation/delivery.js";
import { emit } from "../../src/platform/context.js";
import { newId } from "../../src/platform/ids.js";
import { DB_KINDS, startTestApp, type TestApp } from "../helpers/harness.js";
import { closedLoopbackPort, loopbackReceiver } from "../helpers/receiver.js";

type Receiver = Awaited<ReturnType<typeof loopbackReceiver>>;

const run = (t: TestApp) => (t.deps.services.runPendingJobs as () => Promise<number>)();
const ping = (t: TestApp, type: string, key: string) =>
  t.deps.db.transaction().execute((tx) => emit(t.deps, tx, { type, tenantId: t.t.tenantId, entityId: t.t.tenantId, data: {}, key }));

describe.each(DB_KINDS)("webhook targets on %s", (kind) => {
  let open: TestApp;
  let allowed: TestApp;
  let rx: Receiver;
  let inside: Receiver;
  let redirector: Receiver;
  beforeAll(async () => {
    rx = await loopbackReceiver();
    inside = await loopbackReceiver();
    redirector = await loopbackReceiver((res) => void res.writeHead(307, { location: `http://127.0.0.1:${inside.port}/hook` }).end());
    // An installation with no allow-list, as every installation starts.
    open = await startTestApp(kind);
    // One that allows exactly these three local receivers, by configuration.
    allowed = await startTestApp(kind, {
      config: { outboundAllow: [rx, inside, redirector].map((r) => `127.0.0.1:${r.port}`).join(",") },
    });
  });
  afterAll(async () => {
    await open?.close();
    await allowed?.close();
    await Promise.all([rx?.close(), inside?.close(), redirector?.close()]);
  });

  const refusedUrls = [
    "http://127.0.0.1:5432/",
    "http://[::1]/hook",
    "http://0.0.0.0/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://localhost:22/",
    "http://10.0.0.5/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.1/hook",
    "http://100.64.0.1/hook",
    "http://[fe80::1]/hook",
    "http://[fc00::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://2130706433/hook",
  ];

  it("refuses loopback, private, link-local, unspecified and metadata URLs at create and at update, naming the field url", async () => {
    for (const url of refusedUrls) {
      const r = await open.api("POST", "/api/v1/webhooks", { body: { url, events: ["case.*"] } });
      expect(r.status, url).toBe(400);
      expect(r.body.error.code).toBe("validation_failed");
      expect(r.body.error.details.fields[0].field).toBe("url");
    }
    expect(await open.deps.db.selectFrom("webhooks").select("id").where("tenant_id", "=", open.t.tenantId).execute()).toHaveLength(0);
    // A public address is accepted (inactive: nothing is sent to it).
    const ok = await open.api("POST", "/api/v1/webhooks", { body: { url: "https://203.0.113.7/hook", events: ["case.*"], active: false } });
    expect(ok.status).toBe(201);
    for (const url of refusedUrls) {
      const r = await open.api("PATCH", `/api/v1/webhooks/${ok.body.id}`, { body: { url } });
      expect(r.status, url).toBe(400);
      expect(r.body.error.details.fields[0].field).toBe("url");
    }
    expect((await open.api("GET", "/api/v1/webhooks")).body.items[0].url).toBe("https://203.0.113.7/hook");
  });

  it("refuses a host name that resolves to a loopback address, without connecting to it", async () => {
    const before = rx.connections();
    const r = await open.api("POST", "/api/v1/webhooks", { body: { url: `http://localhost:${rx.port}/hook`, events: ["case.*"] } });
    expect(r.status).toBe(400);
    expect(r.body.error.details.fields[0].field).toBe("url");
    expect(rx.connections()).toBe(before);
  });

  it("checks again at delivery: a saved loopback URL is never connected to, and an open port reads like a closed one", async () => {
    const closed = await closedLoopbackPort();
    const hooks = [rx.url, `http://127.0.0.1:${closed}/hook`].map((url) => ({
      id: newId(),
      tenant_id: open.t.tenantId,
      url,
      secret: "a-very-long-webhook-secret",
      events: ["probe.*"],
      active: true,
    }));
    // Saved before URLs were checked (an older version, or a direct database edit).
    await open.deps.db.insertInto("webhooks").values(hooks).execute();
    const before = rx.connections();
    try {
      await ping(open, "probe.sent", `probe-${kind}`);
      await run(open);
      const logs = await Promise.all(hooks.map(async (h) => (await open.api("GET", `/api/v1/webhooks/${h.id}/deliveries`)).body.items));
      for (const items of logs) {
        expect(items).toHaveLength(1);
        expect(items[0]).toMatchObject({ status: "failed", lastStatusCode: null });
        expect(items[0].lastError).toMatch(/^not sent: .*not public/);
      }
      expect(logs[0][0].lastError).toBe(logs[1][0].lastError);
      expect(rx.connections()).toBe(before);
    } finally {
      await open.deps.db
        .updateTable("webhooks")
        .set({ active: false })
        .where(
          "id",
          "in",
          hooks.map((h) => h.id),
        )
        .execute();
    }
  });

  it("delivers to a local receiver the installation allows, and refuses its other local ports", async () => {
    const hook = await allowed.api("POST", "/api/v1/webhooks", {
      body: { url: rx.url, events: ["case.*"], secret: "a-very-long-webhook-secret" },
    });
    expect(hook.status).toBe(201);
    const other = await allowed.api("POST", "/api/v1/webhooks", { body: { url: "http://127.0.0.1:5432/", events: ["case.*"] } });
    expect(other.status).toBe(400);
    try {
      const hitsBefore = rx.hits.length;
      await ping(allowed, "case.escalated", `allowed-${kind}`);
      await run(allowed);
      const items = (await allowed.api("GET", `/api/v1/webhooks/${hook.body.id}/deliveries`)).body.items;
      expect(items[0]).toMatchObject({ status: "delivered", lastStatusCode: 200, lastError: null });
      const hit = rx.hits.slice(hitsBefore).find((h) => h.body.includes("case.escalated"));
      expect(hit).toBeTruthy();
      const [tPart, vPart] = String(hit?.headers["dropdesk-signature"]).split(",");
      expect(vPart.slice(3)).toBe(signWebhook("a-very-long-webhook-secret", Number(tPart.slice(2)), hit?.body ?? ""));
    } finally {
      await allowed.api("DELETE", `/api/v1/webhooks/${hook.body.id}`);
    }
  });

  it("does not follow a redirect, even to an allowed address: the delivery fails with the redirect's status", async () => {
    const hook = await allowed.api("POST", "/api/v1/webhooks", { body: { url: redirector.url, events: ["refund.*"] } });
    expect(hook.status).toBe(201);
    try {
      await ping(allowed, "refund.checked", `redirect-${kind}`);
      await run(allowed);
      const items = (await allowed.api("GET", `/api/v1/webhooks/${hook.body.id}/deliveries`)).body.items;
      expect(items[0]).toMatchObject({ status: "failed", lastStatusCode: 307 });
      expect(items[0].lastError).toContain("redirects are not followed");
      expect(redirector.hits.length).toBeGreaterThan(0);
      expect(inside.connections()).toBe(0);
    } finally {
      await allowed.api("DELETE", `/api/v1/webhooks/${hook.body.id}`);
    }
  });
});
