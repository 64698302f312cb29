import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Catalog, setupCatalog } from "../helpers/fixtures.js";
import type { TestApp } from "../helpers/harness.js";
import { importAndWait } from "../helpers/imports.js";

const HEADER = "platform_order_no,customer_name,phone,city,address,sku_code,title,quantity,unit_price,shipping_fee,paid_amount";

// The import's batches, checked row by row: the suites in import-batch.test.ts (both databases)
// and import-batch-plain-role.test.ts (PostgreSQL as a role that may not switch triggers off) run them.
export function importBatchSuite(name: string, start: () => Promise<TestApp>) {
  describe(name, () => {
    let t: TestApp;
    let cat: Catalog;
    beforeAll(async () => {
      t = await start();
      cat = await setupCatalog(t);
    });
    afterAll(async () => {
      await t?.close();
    });

    const upload = (csv: string) => importAndWait(t, cat.shopId, "generic", "orders.csv", Buffer.from(csv));
    const rows = async <R>(q: ReturnType<typeof sql<R>>) => (await q.execute(t.deps.db)).rows;

    it("writes a batch with a bad row and duplicates: lines, SKUs, customers, payments and a balanced ledger", async () => {
      const csv = [
        HEADER,
        "C1,Ann,13900000001,Shanghai,Road 1,MUG,,1,39.00,0,138.00", // 2
        "C1,Ann,13900000001,Shanghai,Road 1,TEE,,1,99.00,0,138.00", // 3
        "C2,Bob,13900000002,Shanghai,Road 2,NOPE,Mystery box,2,10.00,5.00,25.00", // 4: unknown SKU, titled
        "C3,Cat,13900000003,Shanghai,Road 3,XYZ,,1,10.00,0,10.00", // 5: unknown SKU, untitled
        "C1,Ann,13900000001,Shanghai,Road 1,MUG,,1,39.00,0,138.00", // 6: C1 again, same content
        "C1,Ann,13900000001,Shanghai,Road 1,TEE,,1,99.00,0,138.00", // 7
        "C2,Bob,13900000002,Shanghai,Road 2,MUG,,1,39.00,0,39.00", // 8: C2 again, other content
        "C4,Dan,13900000004,Shanghai,Road 4,MUG,,x,39.00,0,39.00", // 9: bad quantity
        "C5,Ann Smith,13900000001,Shanghai,Road 1,MUG,,1,39.00,0,39.00", // 10: Ann's phone
      ].join("\n");
      const s = await upload(csv);
      expect(s).toMatchObject({ status: "done", total: 7, imported: 4, skipped: 1, failed: 2 });
      expect(s.errors).toEqual([
        { line: 9, field: "quantity", message: "not a positive whole number: x" },
        { line: 8, field: "platformOrderNo", message: "order C2 exists with different content" },
      ]);

      const orders = await rows(
        sql<{
          no: string;
          paid_total: number;
          goods_total: number;
          shipping_fee: number;
          status: string;
          source: string;
          customer: string;
        }>`
        SELECT o.platform_order_no AS no, o.paid_total, o.goods_total, o.shipping_fee, o.status, o.source, c.name AS customer
        FROM orders o LEFT JOIN customers c ON c.id = o.customer_id
        WHERE o.tenant_id = ${t.t.tenantId} ORDER BY o.platform_order_no`,
      );
      expect(orders).toEqual([
        { no: "C1", paid_total: 13800, goods_total: 13800, shipping_fee: 0, status: "paid", source: "import", customer: "Ann" },
        { no: "C2", paid_total: 2500, goods_total: 2000, shipping_fee: 500, status: "paid", source: "import", customer: "Bob" },
        { no: "C3", paid_total: 1000, goods_total: 1000, shipping_fee: 0, status: "paid", source: "import", customer: "Cat" },
        // The batch's first order of a customer gives the customer's details.
        { no: "C5", paid_total: 3900, goods_total: 3900, shipping_fee: 0, status: "paid", source: "import", customer: "Ann" },
      ]);
      const lines = await rows(
        sql<{ no: string; line_no: number; sku_code: string; sku: string | null; title: string; category: string; quantity: number }>`
        SELECT o.platform_order_no AS no, l.line_no, l.sku_code, s.sku_code AS sku, l.title, l.category, l.quantity
        FROM order_lines l JOIN orders o ON o.id = l.order_id LEFT JOIN skus s ON s.id = l.sku_id
        WHERE o.tenant_id = ${t.t.tenantId} ORDER BY o.platform_order_no, l.line_no`,
      );
      expect(lines.map((l) => [l.no, l.line_no, l.sku_code, l.sku, l.title, l.category, l.quantity])).toEqual([
        ["C1", 1, "MUG", "MUG", "Ceramic mug", "home", 1],
        ["C1", 2, "TEE", "TEE", "Cotton tee", "apparel", 1],
        ["C2", 1, "NOPE", null, "Mystery box", "general", 2],
        ["C3", 1, "XYZ", null, "XYZ", "general", 1],
        ["C5", 1, "MUG", "MUG", "Ceramic mug", "home", 1],
      ]);
      const customers = await rows(
        sql<{ key: string; n: number }>`SELECT c.key, count(o.id)::int AS n FROM customers c JOIN orders o ON o.customer_id = c.id
        WHERE c.tenant_id = ${t.t.tenantId} GROUP BY c.key ORDER BY c.key`,
      );
      expect(customers).toEqual([
        { key: "phone:13900000001", n: 2 },
        { key: "phone:13900000002", n: 1 },
        { key: "phone:13900000003", n: 1 },
      ]);
      const payments = await rows(
        sql<{ no: string; amount: number }>`SELECT o.platform_order_no AS no, p.amount FROM payments p JOIN orders o ON o.id = p.order_id
        WHERE o.tenant_id = ${t.t.tenantId} ORDER BY 1`,
      );
      expect(payments).toEqual([
        { no: "C1", amount: 13800 },
        { no: "C2", amount: 2500 },
        { no: "C3", amount: 1000 },
        { no: "C5", amount: 3900 },
      ]);
      // One payment posting per paid order, cash against revenue, each balanced.
      const ledger = await rows(
        sql<{ no: string; source_key: string; cash: number; revenue: number; n: number }>`
        SELECT o.platform_order_no AS no, lp.source_key,
          sum(e.amount) FILTER (WHERE e.account = 'cash')::int AS cash,
          sum(e.amount) FILTER (WHERE e.account = 'revenue')::int AS revenue, count(e.id)::int AS n
        FROM ledger_postings lp JOIN orders o ON o.id = lp.order_id JOIN ledger_entries e ON e.posting_id = lp.id
        WHERE lp.tenant_id = ${t.t.tenantId} AND lp.code = 'payment' GROUP BY o.platform_order_no, o.id, lp.source_key ORDER BY 1`,
      );
      expect(ledger.map((l) => [l.no, l.cash, l.revenue, l.n])).toEqual([
        ["C1", 13800, -13800, 2],
        ["C2", 2500, -2500, 2],
        ["C3", 1000, -1000, 2],
        ["C5", 3900, -3900, 2],
      ]);
      for (const l of ledger) expect(l.source_key).toMatch(/^payment:[0-9a-f-]{36}$/);
      const unbalanced = await rows(
        sql<{ posting_id: string }>`SELECT posting_id FROM ledger_entries WHERE tenant_id = ${t.t.tenantId}
        GROUP BY posting_id HAVING sum(amount) <> 0`,
      );
      expect(unbalanced).toEqual([]);
      if (t.deps.h.kind === "postgres") {
        // The import's staging tables went with it.
        const staging = await rows(sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE 'dd\\_import\\_%'`);
        expect(staging[0].n).toBe(0);
      }

      // Again, with a known customer under a new name: the orders already in are skipped, the
      // customer is renamed by the first order that brings the new name.
      const again = await upload(
        [
          HEADER,
          "C1,Ann,13900000001,Shanghai,Road 1,MUG,,1,39.00,0,138.00",
          "C1,Ann,13900000001,Shanghai,Road 1,TEE,,1,99.00,0,138.00",
          "C6,Ann Smith,13900000001,Shanghai,Road 1,TEE,,1,99.00,0,99.00",
        ].join("\n"),
      );
      expect(again).toMatchObject({ status: "done", total: 2, imported: 1, skipped: 1, failed: 0, errors: [] });
      const ann = await rows(
        sql<{ name: string; n: number }>`SELECT c.name, count(o.id)::int AS n FROM customers c JOIN orders o ON o.customer_id = c.id
        WHERE c.tenant_id = ${t.t.tenantId} AND c.key = 'phone:13900000001' GROUP BY c.name`,
      );
      expect(ann).toEqual([{ name: "Ann Smith", n: 3 }]);
    });
  });
}
