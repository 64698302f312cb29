import { spawn } from "node:child_process";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { createOrder, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, freshDb, PG_ADMIN_URL, startTestApp, TEST_PASSWORD } from "../helpers/harness.js";

// A retry of an idempotent request whose first attempt died after committing must replay what was
// committed, never run it again: the marker is written in the same transaction as the effect.

afterEach(() => {
  delete process.env.DROPDESK_TEST_HOLD_AFTER_COMMIT;
  delete process.env.DROPDESK_IDEMPOTENCY_LEASE_MS;
});

describe.each(DB_KINDS)("idempotent retry after the first attempt stalled past its commit on %s", (kind) => {
  it("makes exactly one goodwill refund and answers the retry with it", async () => {
    const t = await startTestApp(kind);
    try {
      const cat = await setupCatalog(t);
      const order = await createOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
      process.env.DROPDESK_IDEMPOTENCY_LEASE_MS = "300";
      process.env.DROPDESK_TEST_HOLD_AFTER_COMMIT = "goodwill-refund";
      const request = {
        as: "finance",
        body: { amount: 1500, reason: "late delivery" },
        headers: { "idempotency-key": "goodwill-once" },
      };
      // The first attempt commits its refund and then never answers, as a killed process would not.
      void t.api("POST", `/api/v1/orders/${order.id}/actions/goodwill-refund`, request);
      const committed = async () =>
        (await t.deps.db.selectFrom("refunds").select("id").where("tenant_id", "=", t.t.tenantId).execute()).length;
      for (let i = 0; i < 200 && (await committed()) === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(await committed()).toBe(1);
      delete process.env.DROPDESK_TEST_HOLD_AFTER_COMMIT;

      const retry = await t.api("POST", `/api/v1/orders/${order.id}/actions/goodwill-refund`, request);
      expect(retry.status).toBe(200);
      const refunds = await t.deps.db.selectFrom("refunds").selectAll().where("tenant_id", "=", t.t.tenantId).execute();
      expect(refunds).toHaveLength(1);
      expect(retry.body.id).toBe(refunds[0].id);
      expect(retry.body.amount).toBe(1500);

      const again = await t.api("POST", `/api/v1/orders/${order.id}/actions/goodwill-refund`, request);
      expect(again.headers["idempotent-replayed"]).toBe("true");
      expect(again.body.id).toBe(refunds[0].id);
      const audits = await t.deps.db
        .selectFrom("audit_log")
        .select("id")
        .where("tenant_id", "=", t.t.tenantId)
        .where("action", "=", "order.goodwill-refund")
        .execute();
      expect(audits).toHaveLength(1);
    } finally {
      await t.close();
    }
  });

  it("refuses to let a stalled first attempt commit after a retry took its place", async () => {
    const t = await startTestApp(kind);
    try {
      process.env.DROPDESK_IDEMPOTENCY_LEASE_MS = "1";
      const body = { name: "Stalled shop", platform: "jd" };
      const headers = { "idempotency-key": "shop-once" };
      // Two attempts with an expired lease race; whichever loses the lease cannot write.
      const [a, b] = await Promise.all([
        t.api("POST", "/api/v1/shops", { body, headers }),
        t.api("POST", "/api/v1/shops", { body, headers }),
      ]);
      const made = await t.deps.db
        .selectFrom("shops")
        .select("id")
        .where("tenant_id", "=", t.t.tenantId)
        .where("name", "=", "Stalled shop")
        .execute();
      expect(made).toHaveLength(1);
      expect([a.status, b.status].filter((s) => s === 201).length).toBeGreaterThanOrEqual(1);
    } finally {
      await t.close();
    }
  });
});

describe.runIf(DB_KINDS.includes("postgres"))("idempotent retry after a real crash on PostgreSQL", () => {
  it("a process killed after committing a goodwill refund is retried into the same single refund", async () => {
    const db = (await freshDb("postgres")) as Awaited<ReturnType<typeof freshDb>> & { url: string };
    await db.close();
    const port = 38000 + Math.floor(Math.random() * 900);
    const start = (hold: boolean) =>
      new Promise<{ proc: ReturnType<typeof spawn>; output: () => string }>((resolve, reject) => {
        const proc = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", "start"], {
          env: {
            ...process.env,
            DATABASE_URL: db.url,
            PORT: String(port),
            DROPDESK_DEMO: "0",
            DROPDESK_WORKER: "0",
            DROPDESK_ADMIN_EMAIL: "crash@retry.test",
            DROPDESK_ADMIN_PASSWORD: TEST_PASSWORD,
            DROPDESK_IDEMPOTENCY_LEASE_MS: "500",
            ...(hold ? { DROPDESK_TEST_HOLD_AFTER_COMMIT: "goodwill-refund" } : {}),
          },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        const timer = setTimeout(() => reject(new Error(`process did not start: ${out}`)), 30_000);
        const onData = (d: Buffer) => {
          out += d.toString();
          if (out.includes("Dropdesk is running")) {
            clearTimeout(timer);
            resolve({ proc, output: () => out });
          }
        };
        proc.stdout?.on("data", onData);
        proc.stderr?.on("data", onData);
      });
    const base = `http://127.0.0.1:${port}`;
    const client = new pg.Client({ connectionString: db.url });
    let first = await start(true);
    try {
      const login = await fetch(`${base}/api/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "crash@retry.test", password: TEST_PASSWORD }),
      });
      const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0];
      const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
        fetch(`${base}${path}`, {
          method,
          headers: { cookie, ...(body ? { "content-type": "application/json" } : {}), ...headers },
          body: body ? JSON.stringify(body) : undefined,
        });
      const shop = await (await call("POST", "/api/v1/shops", { name: "Crash shop", platform: "jd" })).json();
      await call("POST", "/api/v1/products", {
        title: "Crash mug",
        category: "home",
        skus: [{ skuCode: "CRASH-MUG", title: "Crash mug", price: 3000 }],
      });
      const order = await (
        await call("POST", "/api/v1/orders", {
          shopId: shop.id,
          platformOrderNo: "CRASH-1",
          customer: { name: "王小明", phone: "13912345678" },
          address: { name: "王小明", phone: "13912345678", province: "上海", city: "上海", district: "浦东", line1: "世纪大道 100 号" },
          lines: [{ skuCode: "CRASH-MUG", quantity: 1, unitPrice: 3000 }],
          paid: { amount: 3000, method: "alipay", reference: "P-CRASH-1" },
        })
      ).json();
      expect(order.id, JSON.stringify(order)).toBeTruthy();
      const refund = (h: Record<string, string>) =>
        call("POST", `/api/v1/orders/${order.id}/actions/goodwill-refund`, { amount: 900, reason: "late" }, h);
      const headers = { "idempotency-key": "crash-once" };
      void refund(headers).catch(() => {});
      for (let i = 0; i < 300 && !first.output().includes("held after commit"); i++) await new Promise((r) => setTimeout(r, 10));
      expect(first.output()).toContain("held after commit");
      first.proc.kill("SIGKILL");
      await new Promise((r) => first.proc.once("exit", r));

      first = await start(false);
      const retried = await refund(headers);
      expect(retried.status).toBe(200);
      const body = await retried.json();
      await client.connect();
      const rows = (await client.query("SELECT id, amount, status FROM refunds")).rows;
      expect(rows).toHaveLength(1);
      expect(body.id).toBe(rows[0].id);
      const cases = (await client.query("SELECT count(*)::int AS n FROM audit_log WHERE action = 'order.goodwill-refund'")).rows;
      expect(cases[0].n).toBe(1);
      const balance = (await client.query("SELECT coalesce(sum(amount), 0)::int AS n FROM ledger_entries")).rows;
      expect(balance[0].n).toBe(0);
    } finally {
      first.proc.kill("SIGKILL");
      await client.end().catch(() => {});
      const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${new URL(db.url).pathname.slice(1)} WITH (FORCE)`);
      await admin.end();
    }
  });
});
