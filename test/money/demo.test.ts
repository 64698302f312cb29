import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/harness.js";

describe("money demo data", () => {
  let t: TestApp;
  beforeAll(async () => {
    process.env.DROPDESK_DEMO_STRICT = "1";
    t = await startTestApp("pglite", { demo: true });
  });
  afterAll(async () => {
    delete process.env.DROPDESK_DEMO_STRICT;
    await t?.close();
  });

  it("has refunds in every state, settled claims, a closed statement and a balanced ledger", async () => {
    const tenant = (await t.deps.db.selectFrom("tenants").select("id").orderBy("id").executeTakeFirstOrThrow()).id;
    const refunds = await t.deps.db.selectFrom("refunds").select(["status", "gateway"]).where("tenant_id", "=", tenant).execute();
    const states = new Set(refunds.map((r) => r.status));
    for (const s of ["succeeded", "processing", "failed", "pending"]) expect(states).toContain(s);
    expect(refunds.some((r) => r.status === "processing" && r.gateway === "manual")).toBe(true);
    const statements = await t.deps.db.selectFrom("supplier_statements").selectAll().where("tenant_id", "=", tenant).execute();
    expect(statements.filter((s) => s.status === "closed")).toHaveLength(1);
    const claims = await t.deps.db
      .selectFrom("supplier_claims")
      .select(["status", "statement_id"])
      .where("tenant_id", "=", tenant)
      .execute();
    expect(claims.length).toBeGreaterThan(0);
    expect(claims.every((c) => c.status === "settled" && c.statement_id === statements[0].id)).toBe(true);
    const sum = await t.deps.db
      .selectFrom("ledger_entries")
      .select((e) => e.fn.sum<number>("amount").as("s"))
      .where("tenant_id", "=", tenant)
      .executeTakeFirstOrThrow();
    expect(Number(sum.s)).toBe(0);
  });
});
