import iconv from "iconv-lite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Catalog, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, type TestApp } from "../helpers/harness.js";
import { importAndWait, importMultipart } from "../helpers/imports.js";

const SHOPIFY_HEADER =
  "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,Billing City,Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,Shipping Address1,Shipping Address2,Shipping Company,Shipping City,Shipping Zip,Shipping Province,Shipping Country,Shipping Phone,Notes,Note Attributes,Cancelled at,Payment Method,Payment Reference,Refunded Amount,Vendor,Id,Tags,Risk Level,Source,Lineitem discount,Tax 1 Name,Tax 1 Value,Phone";

describe.each(DB_KINDS)("order import on %s", (kind) => {
  let t: TestApp;
  let cat: Catalog;
  beforeAll(async () => {
    t = await startTestApp(kind);
    cat = await setupCatalog(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  const upload = (format: string, filename: string, data: Buffer) => importAndWait(t, cat.shopId, format, filename, data);

  it("imports a Shopify orders export: one row per line item, order fields on the first row", async () => {
    const blank = SHOPIFY_HEADER.split(",").map(() => "");
    const row = (values: Record<string, string>) => {
      const cols = SHOPIFY_HEADER.split(",");
      const r = [...blank];
      for (const [k, v] of Object.entries(values)) r[cols.indexOf(k)] = /[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
      return r.join(",");
    };
    const csv = [
      SHOPIFY_HEADER,
      row({
        Name: "#1001",
        Email: "ann@example.test",
        "Financial Status": "paid",
        "Paid at": "2026-03-01 10:00:00 +0800",
        Currency: "CNY",
        Subtotal: "177.00",
        Shipping: "8.00",
        Total: "175.00",
        "Discount Code": "SPRING10",
        "Discount Amount": "10.00",
        "Created at": "2026-03-01 09:58:00 +0800",
        "Lineitem quantity": "2",
        "Lineitem name": "Ceramic mug",
        "Lineitem price": "39.00",
        "Lineitem sku": "MUG",
        "Shipping Name": "Ann",
        "Shipping Address1": "1 Main St\nUnit 5",
        "Shipping City": "Shanghai",
        "Shipping Phone": "13900001111",
        "Payment Method": "alipay",
      }),
      row({ Name: "#1001", "Lineitem quantity": "1", "Lineitem name": "Cotton tee", "Lineitem price": "99.00", "Lineitem sku": "TEE" }),
      row({
        Name: "#1002",
        Email: "bob@example.test",
        "Financial Status": "paid",
        Total: "39.00",
        Subtotal: "39.00",
        Shipping: "0.00",
        "Created at": "2026-03-01 11:00:00 +0800",
        "Lineitem quantity": "1",
        "Lineitem price": "39.00",
        "Lineitem sku": "MUG",
      }),
      row({
        Name: "#1003",
        Email: "eve@example.test",
        "Financial Status": "pending",
        Total: "39.00",
        "Lineitem quantity": "1",
        "Lineitem price": "39.00",
        "Lineitem sku": "MUG",
      }),
      row({
        Name: "#1004",
        Email: "joe@example.test",
        "Financial Status": "paid",
        Total: "40.00",
        "Lineitem quantity": "1",
        "Lineitem price": "39.00",
        "Lineitem sku": "MUG",
      }),
    ].join("\n");
    const s = await upload("shopify", "orders_export.csv", Buffer.from(csv));
    // #1001's address holds a quoted newline, so the rows after it start a line later.
    expect(s).toMatchObject({ status: "done", total: 4, imported: 2, failed: 2, skipped: 0 });
    expect(s.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ line: 6, field: "Financial Status" }),
        expect.objectContaining({ line: 7, field: "paid.amount" }),
      ]),
    );
    const list = (await t.api("GET", "/api/v1/orders?q=%231001")).body.items;
    const order = (await t.api("GET", `/api/v1/orders/${list[0].id}`)).body;
    expect(order.lines.map((l: any) => [l.skuCode, l.quantity])).toEqual([
      ["MUG", 2],
      ["TEE", 1],
    ]);
    expect(order.paidTotal).toBe(17500);
    expect(order.discounts[0]).toMatchObject({ kind: "coupon", amount: 1000, code: "SPRING10" });
    expect(order.address.line1).toBe("1 Main St\nUnit 5");
    // The same file again creates nothing new.
    const again = await upload("shopify", "orders_export.csv", Buffer.from(csv));
    expect(again).toMatchObject({ imported: 0, skipped: 2, failed: 2 });
  });

  it("imports a GBK generic file with Chinese headers and reports malformed rows by line and field", async () => {
    const csv = [
      "订单号,买家姓名,手机,省,市,地址,商家编码,数量,单价,运费,实付,支付方式,付款时间",
      "TB9001,张三,13800001234,浙江,杭州,文一路 1 号,MUG,1,39.00,0,138.00,支付宝,2026-03-01 10:00:00",
      "TB9001,张三,13800001234,浙江,杭州,文一路 1 号,TEE,1,99.00,0,138.00,支付宝,2026-03-01 10:00:00",
      "TB9002,李四,13800005678,江苏,南京,中山路 2 号,MUG,两个,39.00,0,78.00,微信,2026-03-01 11:00:00",
      "TB9003,王五,,上海,上海,南京路 3 号,MUG,1,39.00,0,39.00,微信,2026-03-01 12:00:00",
    ].join("\r\n");
    const s = await upload("generic", "淘宝订单.csv", iconv.encode(csv, "gbk"));
    expect(s).toMatchObject({ status: "done", total: 3, imported: 1, failed: 2 });
    expect(s.errors).toEqual(
      expect.arrayContaining([
        { line: 4, field: "quantity", message: "not a positive whole number: 两个" },
        { line: 5, field: "phone", message: "a phone or an email is needed to reach the customer" },
      ]),
    );
    const o = (await t.api("GET", "/api/v1/orders?q=TB9001")).body.items[0];
    expect(o.customerName).toBe("张三");
    expect(o.paidTotal).toBe(13800);
  });
});

// Once, on PostgreSQL when it is there: its data lives in another process, so the test process's
// memory growth is the importer's own. PGlite keeps the whole database in this process's memory.
const BIG_ON = DB_KINDS.includes("postgres") ? "postgres" : "pglite";
describe.runIf(DB_KINDS.length > 0)(`a large import on ${BIG_ON}`, () => {
  it("imports 100,000 rows with bounded memory and shows progress while it runs", async () => {
    const t = await startTestApp(BIG_ON);
    try {
      const cat = await setupCatalog(t, { stock: 1_000_000 });
      const rows = ["platform_order_no,customer_name,phone,city,address,sku_code,quantity,unit_price,shipping_fee,paid_amount"];
      for (let o = 0; o < 25_000; o++) {
        for (let l = 0; l < 4; l++)
          rows.push(
            `BIG${o},Buyer ${o},139${String(o).padStart(8, "0")},Shanghai,Road ${o},${l % 2 ? "TEE" : "MUG"},1,${l % 2 ? "99.00" : "39.00"},0,276.00`,
          );
      }
      const data = Buffer.from(rows.join("\n"));
      rows.length = 0;
      const m = importMultipart({ shopId: cat.shopId, format: "generic" }, "big.csv", data);
      const res = await t.app.inject({
        method: "POST",
        url: "/api/v1/orders/import",
        headers: { ...m.headers, authorization: `Bearer ${t.t.tokens.admin}` },
        payload: m.payload,
      });
      const id = res.json().id as string;
      const rssStart = process.memoryUsage().rss;
      let peak = rssStart;
      let sawProgress = false;
      let s: any;
      for (;;) {
        s = (await t.api("GET", `/api/v1/imports/${id}`)).body;
        peak = Math.max(peak, process.memoryUsage().rss);
        if (s.status === "running" && s.imported > 0 && s.imported < 25_000) sawProgress = true;
        if (s.status === "done" || s.status === "failed") break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(s).toMatchObject({ status: "done", total: 25_000, imported: 25_000, failed: 0 });
      expect(sawProgress).toBe(true);
      // Streaming keeps the importer's own memory small whatever the file's size.
      expect(peak - rssStart).toBeLessThan((BIG_ON === "postgres" ? 200 : 400) * 1024 * 1024);
    } finally {
      await t.close();
    }
  }, 600_000);
});
