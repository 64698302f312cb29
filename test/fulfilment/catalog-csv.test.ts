import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Catalog, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, type TestApp } from "../helpers/harness.js";

describe.each(DB_KINDS)("products and offers as CSV on %s", (kind) => {
  let t: TestApp;
  let cat: Catalog;
  beforeAll(async () => {
    t = await startTestApp(kind);
    cat = await setupCatalog(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  async function upload(csv: string) {
    const boundary = "----dropdesk-catalog";
    const payload = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="products.csv"\r\nContent-Type: text/csv\r\n\r\n`,
      ),
      Buffer.from(csv),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const r = await t.app.inject({
      method: "POST",
      url: "/api/v1/products/import",
      headers: { "content-type": `multipart/form-data; boundary=${boundary}`, authorization: `Bearer ${t.t.tokens.admin}` },
      payload,
    });
    return { status: r.statusCode, body: r.json() };
  }

  it("exports one row per offer and reads its own export back without changing anything", async () => {
    const res = await t.api("GET", "/api/v1/products/export.csv");
    expect(res.status).toBe(200);
    const lines = res.text
      .replace(/^\ufeff/, "")
      .trim()
      .split("\n");
    expect(lines[0]).toBe(
      "productTitle,category,skuCode,skuTitle,price,returnTo,supplier,supplierSku,cost,stock,leadTimeDays,priority,active",
    );
    expect(lines.filter((l) => l.includes(",MUG,"))).toHaveLength(2);
    expect(lines).toContain("Ceramic mug,home,MUG,Ceramic mug,3900,,Supplier A,A-MUG,1500,1000,2,1,true");
    const again = await upload(res.text);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ products: 0, skusCreated: 0, skusUpdated: 0, offersCreated: 0, offersUpdated: 0, failed: 0 });
  });

  it("creates and updates SKUs and offers, keeps cost history and reports bad rows", async () => {
    const csv = [
      "商品名称,类目,SKU编码,规格,售价,供应商,供应商货号,成本,库存,优先级",
      "Ceramic mug,home,MUG,Ceramic mug,3900,Supplier A,A-MUG,1450,900,1",
      "Canvas bag,bags,BAG-1,Red,4900,Supplier B,B-BAG,1800,50,0",
      "Canvas bag,bags,BAG-2,Blue,4900,Supplier B,B-BAG2,1800,50,0",
      "Ghost,home,GHOST,,100,Nobody Ltd,,10,1,0",
      "Bad price,home,BADP,,12.5,,,,,",
    ].join("\n");
    t.clock.advance(60_000);
    const res = await upload(csv);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ products: 1, skusCreated: 2, offersCreated: 2, offersUpdated: 1, failed: 2 });
    expect(res.body.errors).toEqual([
      { line: 5, field: "supplier", message: "no supplier named Nobody Ltd" },
      { line: 6, field: "price", message: "a whole number ≥ 0" },
    ]);
    const offer = (await t.api("GET", `/api/v1/offers?skuId=${cat.skus.MUG.id}`)).body.items.find((o: any) => o.id === cat.offers["A-MUG"]);
    expect(offer).toMatchObject({ cost: 1450, stock: 900 });
    const history = await t.deps.db
      .selectFrom("offer_history")
      .select(["cost", "reason"])
      .where("offer_id", "=", cat.offers["A-MUG"])
      .orderBy("at")
      .execute();
    expect(history.map((h) => [Number(h.cost), h.reason])).toEqual([
      [1500, "create"],
      [1450, "import"],
    ]);
    const products = (await t.api("GET", "/api/v1/products?limit=100")).body.items;
    const bag = products.find((p: any) => p.title === "Canvas bag");
    expect(bag.skus.map((s: any) => s.skuCode).sort()).toEqual(["BAG-1", "BAG-2"]);
    expect(products.some((p: any) => p.title === "Ghost")).toBe(false);
    // Only the merchant's admins import the catalog.
    const cs = await t.api("POST", "/api/v1/products/import", { as: "cs" });
    expect(cs.status).toBe(403);
  });
});
