import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/harness.js";

describe("demo data", () => {
  let t: TestApp;
  beforeAll(async () => {
    process.env.DROPDESK_DEMO_STRICT = "1";
    t = await startTestApp("pglite", { demo: true });
  });
  afterAll(async () => {
    delete process.env.DROPDESK_DEMO_STRICT;
    await t?.close();
  });

  it("fills an empty tenant with orders in every state, cases and a balanced ledger", async () => {
    const tenant = (await t.deps.db.selectFrom("tenants").select("id").orderBy("id").executeTakeFirstOrThrow()).id;
    const statuses = await t.deps.db.selectFrom("orders").select("status").distinct().where("tenant_id", "=", tenant).execute();
    expect(statuses.map((s) => s.status).sort()).toEqual([
      "cancelled",
      "completed",
      "delivered",
      "forwarded",
      "paid",
      "partially_shipped",
      "pending_payment",
      "shipped",
    ]);
    const cases = await t.deps.db.selectFrom("cases").select("status").where("tenant_id", "=", tenant).execute();
    expect(cases.length).toBe(8);
    expect(new Set(cases.map((c) => c.status)).size).toBeGreaterThanOrEqual(5);
    const sum = await t.deps.db
      .selectFrom("ledger_entries")
      .select((e) => e.fn.sum<number>("amount").as("s"))
      .where("tenant_id", "=", tenant)
      .executeTakeFirstOrThrow();
    expect(Number(sum.s)).toBe(0);
  });
});
