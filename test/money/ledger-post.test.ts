import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { post, trialBalance, UnbalancedPostingError } from "../../src/money/ledger.js";
import { DB_KINDS, startTestApp, type TestApp } from "../helpers/harness.js";

// A posting and its entries are written together (one statement); a posting whose source key was
// posted before returns the first posting and writes nothing more.
describe.each(DB_KINDS)("money: a ledger posting on %s", (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  const entriesOf = (postingId: string) =>
    t.deps.db.selectFrom("ledger_entries").select(["account", "amount"]).where("posting_id", "=", postingId).orderBy("account").execute();

  it("writes the posting with its entries, once per source key", async () => {
    const tenantId = t.t.tenantId;
    const input = {
      tenantId,
      code: "compensation",
      currency: "CNY",
      sourceKey: `test:${crypto.randomUUID()}`,
      entries: [
        { account: "compensation_expense" as const, amount: 1250 },
        { account: "store_credit" as const, amount: -1250 },
        { account: "cash" as const, amount: 0 },
      ],
    };
    const id = await t.deps.db.transaction().execute((tx) => post(tx, input));
    expect(await entriesOf(id)).toEqual([
      { account: "compensation_expense", amount: 1250 },
      { account: "store_credit", amount: -1250 },
    ]);
    const again = await t.deps.db.transaction().execute((tx) => post(tx, { ...input, entries: [...input.entries].reverse() }));
    expect(again).toBe(id);
    const postings = await t.deps.db.selectFrom("ledger_postings").select("id").where("source_key", "=", input.sourceKey).execute();
    expect(postings).toEqual([{ id }]);
    expect(await entriesOf(id)).toHaveLength(2);
    // Without a source key every post is its own posting.
    const { sourceKey: _, ...unkeyed } = input;
    const a = await post(t.deps.db, unkeyed);
    const b = await post(t.deps.db, unkeyed);
    expect(a).not.toBe(b);
    expect(await entriesOf(b)).toHaveLength(2);
    expect((await trialBalance(t.deps.db, tenantId)).balanced).toBe(true);
  });

  it("refuses a posting that does not balance or is not in minor units, writing nothing", async () => {
    const base = { tenantId: t.t.tenantId, code: "compensation", currency: "CNY", sourceKey: `test:${crypto.randomUUID()}` };
    await expect(
      post(t.deps.db, {
        ...base,
        entries: [
          { account: "cash", amount: 100 },
          { account: "revenue", amount: -99 },
        ],
      }),
    ).rejects.toBeInstanceOf(UnbalancedPostingError);
    await expect(
      post(t.deps.db, {
        ...base,
        entries: [
          { account: "cash", amount: 0.5 },
          { account: "revenue", amount: -0.5 },
        ],
      }),
    ).rejects.toBeInstanceOf(UnbalancedPostingError);
    const rows = await t.deps.db.selectFrom("ledger_postings").select("id").where("source_key", "=", base.sourceKey).execute();
    expect(rows).toEqual([]);
  });
});
