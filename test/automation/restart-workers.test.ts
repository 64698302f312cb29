import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import { emit } from "../../src/platform/context.js";
import { newId } from "../../src/platform/ids.js";
import { createDeliveredOrder, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, freshDb, startTestApp, type TestApp } from "../helpers/harness.js";

// Timers and jobs are rows: they outlive the process that made them, and workers share them.
const sweep = (t: TestApp) => (t.deps.services.runSlaSweep as () => Promise<{ fired: string[] }>)();

describe.each(DB_KINDS)("timers across a restart on %s", (kind) => {
  it("fires a deadline set before the restart, once, in the new process", async () => {
    const handle = await freshDb(kind);
    const first = await startTestApp(kind, { handle, keepDb: true });
    const cat = await setupCatalog(first);
    first.clock.set("2026-03-02T04:00:00Z");
    const order = await createDeliveredOrder(first, cat, { deliveredAt: "2026-03-01T10:00:00+08:00" });
    const c = (
      await first.api("POST", "/api/v1/cases", {
        body: { orderId: order.id, type: "return_refund", reason: "quality", lines: [{ orderLineId: order.lines[0].id, quantity: 1 }] },
      })
    ).body;
    await first.app.close();
    const second = await startTestApp(kind, { handle });
    try {
      second.clock.set("2026-03-04T04:00:01Z");
      expect((await sweep(second)).fired).toContain(`approve:${c.id}`);
      expect((await sweep(second)).fired).not.toContain(`approve:${c.id}`);
      const after = await second.deps.db.selectFrom("cases").select("status").where("id", "=", c.id).executeTakeFirstOrThrow();
      expect(after.status).toBe("awaiting_return");
    } finally {
      await second.close();
    }
  });
});

describe.runIf(DB_KINDS.includes("postgres"))("jobs across processes on PostgreSQL", () => {
  it("two workers at once never run one job twice", async () => {
    const db = await freshDb("postgres");
    const url = (db as unknown as { url: string }).url;
    const seen = new Map<string, number>();
    try {
      const { ManualClock } = await import("../../src/platform/clock.js");
      const clock = new ManualClock(new Date("2026-03-02T04:00:00Z"));
      const first = await createApp({
        handle: db,
        clock,
        config: { demo: false, workers: false, databaseUrl: url, dataDir: "memory://" },
        log: () => {},
      });
      const tenantId = first.tenantId;
      // A webhook subscribed to the test events, so that they get jobs (events nobody wants get none).
      await first.deps.db
        .insertInto("webhooks")
        .values({ id: newId(), tenant_id: tenantId, url: "http://127.0.0.1:9/hook", secret: "s", events: ["test.*"], active: true })
        .execute();
      for (let i = 0; i < 40; i++) {
        await first.deps.db
          .transaction()
          .execute((tx) => emit(first.deps, tx, { type: "test.ping", tenantId, entityId: tenantId, data: { i }, key: `ping-${i}` }));
      }
      await first.app.close();
      const workers = await Promise.all(
        [1, 2].map(async () => {
          const h = await (await import("../../src/platform/db.js")).openDb({ databaseUrl: url, poolSize: 4 });
          const w = await createApp({
            handle: h,
            clock,
            config: { demo: false, workers: false, databaseUrl: url, dataDir: "memory://" },
            log: () => {},
          });
          return { w, h };
        }),
      );
      const { runPendingJobs } = await import("../../src/platform/jobs.js");
      const counter = async (_d: unknown, e: { key: string }) => {
        seen.set(e.key, (seen.get(e.key) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 5));
      };
      await Promise.all(workers.map(({ w }) => runPendingJobs(w.deps, [counter as never], (w.deps.services.jobs as { boss: never }).boss)));
      expect(seen.size).toBe(40);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      for (const { w, h } of workers) {
        await w.app.close();
        await h.close();
      }
    } finally {
      await db.drop();
    }
  });
});
