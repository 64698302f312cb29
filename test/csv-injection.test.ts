import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Catalog, setupCatalog } from "./helpers/fixtures.js";
import { DB_KINDS, startTestApp, type TestApp } from "./helpers/harness.js";

/** Rows of a CSV export as a spreadsheet would read its cells (BOM dropped). */
const readCsv = (text: string) => parse(text.replace(/^\ufeff/, ""), { columns: true }) as Record<string, string>[];

describe.each(DB_KINDS)("CSV exports neutralise formulas on %s", (kind) => {
  let t: TestApp;
  let cat: Catalog;
  beforeAll(async () => {
    t = await startTestApp(kind);
    cat = await setupCatalog(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("prefixes customer names a spreadsheet would run with a quote in the orders export; negative numbers stay numbers", async () => {
    const names = ['=HYPERLINK("x")', "+1", "@SUM(A1:A2)", "\tcmd", "-2+3", "-12.50", "Ann"];
    for (const [i, name] of names.entries()) {
      const r = await t.api("POST", "/api/v1/orders", {
        body: {
          shopId: cat.shopId,
          platformOrderNo: `INJ-${i}`,
          customer: { name, phone: `1390000000${i}` },
          address: { name, city: "Shanghai", line1: "1 Road" },
          lines: [{ skuCode: "MUG", quantity: 1, unitPrice: 3900 }],
          paid: { amount: 3900, method: "alipay" },
        },
      });
      expect(r.status, r.text).toBe(201);
    }
    const res = await t.api("GET", "/api/v1/orders?format=csv");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toContain("text/csv");
    const byNo = new Map(readCsv(res.text).map((r) => [r.platformOrderNo, r]));
    expect(names.map((_, i) => byNo.get(`INJ-${i}`)?.customerName)).toEqual([
      `'=HYPERLINK("x")`,
      "'+1",
      "'@SUM(A1:A2)",
      "'\tcmd",
      "'-2+3",
      "-12.50",
      "Ann",
    ]);
    // Quoted as well as prefixed, as OWASP asks; numbers are written as numbers.
    expect(res.text).toContain(`"'=HYPERLINK(""x"")"`);
    expect(res.text).toMatch(/,-12\.50,/);
    expect(byNo.get("INJ-0")?.paidTotal).toBe("3900");
  });

  it("neutralises the catalog export and reads its own export back unchanged", async () => {
    const addr = { name: "Warehouse", phone: "13800000000", province: "Zhejiang", city: "Yiwu", line1: "1 Road" };
    const sup = await t.api("POST", "/api/v1/suppliers", { body: { name: "=Formula Ltd", email: "f@supplier.test", returnAddress: addr } });
    expect(sup.status, sup.text).toBe(201);
    const offer = await t.api("POST", "/api/v1/offers", {
      body: { supplierId: sup.body.id, skuId: cat.skus.TEE.id, supplierSku: "@X1", cost: 3000, stock: 5, leadTimeDays: 2, priority: 0 },
    });
    expect(offer.status, offer.text).toBe(201);
    const res = await t.api("GET", "/api/v1/products/export.csv");
    expect(res.status).toBe(200);
    expect(res.text).toContain(`,"'=Formula Ltd","'@X1",3000,5,`);
    const boundary = "----dropdesk-catalog";
    const payload = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="products.csv"\r\nContent-Type: text/csv\r\n\r\n`,
      ),
      Buffer.from(res.text),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const again = await t.app.inject({
      method: "POST",
      url: "/api/v1/products/import",
      headers: { "content-type": `multipart/form-data; boundary=${boundary}`, authorization: `Bearer ${t.t.tokens.admin}` },
      payload,
    });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ products: 0, skusCreated: 0, skusUpdated: 0, offersCreated: 0, offersUpdated: 0, failed: 0 });
  });
});
