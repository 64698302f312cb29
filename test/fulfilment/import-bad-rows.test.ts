import iconv from "iconv-lite";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Catalog, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, type TestApp } from "../helpers/harness.js";
import { importAndWait } from "../helpers/imports.js";

/** Builds a CSV line by line, remembering the 1-based line each record starts on (header = 1). */
class CsvFile {
  private chunks: Buffer[] = [];
  private next = 1;
  constructor(private encoding: "utf8" | "gbk") {}
  /** Adds one record (its cells already quoted as needed); returns the line it starts on. */
  add(text: string | Buffer): number {
    const line = this.next;
    const buf = typeof text === "string" ? iconv.encode(text, this.encoding) : text;
    this.chunks.push(buf, Buffer.from("\r\n"));
    this.next += 1 + buf.toString("latin1").split("\n").length - 1;
    return line;
  }
  bytes() {
    return Buffer.concat(this.chunks);
  }
}

describe.each(DB_KINDS)("order import with bad rows on %s", (kind) => {
  let t: TestApp;
  let cat: Catalog;
  beforeAll(async () => {
    t = await startTestApp(kind);
    cat = await setupCatalog(t, { stock: 100_000 });
  });
  afterAll(async () => {
    await t?.close();
  });

  const upload = (format: string, filename: string, data: Buffer) => importAndWait(t, cat.shopId, format, filename, data, 1200);

  it("skips and reports each bad row of a 2,100-order GBK file by line and field, and imports every other row", async () => {
    // A constraint the importer's checks do not know of, so one batch fails at the database.
    await sql`ALTER TABLE orders ADD CONSTRAINT test_refuses_order CHECK (platform_order_no <> 'TB-REFUSED')`.execute(t.deps.db);
    const f = new CsvFile("gbk");
    f.add("订单号,买家姓名,手机,市,地址,商家编码,数量,单价,运费,实付");
    const good = (i: number, over: Partial<Record<"no" | "name" | "address" | "qty" | "price" | "paid", string>> = {}) =>
      [
        over.no ?? `TB${i}`,
        over.name ?? `买家${i}`,
        `139${String(i).padStart(8, "0")}`,
        "上海",
        over.address ?? `南京路 ${i} 号`,
        "MUG",
        over.qty ?? "1",
        over.price ?? "39.00",
        "0",
        over.paid ?? "39.00",
      ].join(",");
    const bad: Record<string, number> = {};
    for (let i = 0; i < 2100; i++) {
      if (i === 40) {
        // A quoted newline and an empty line before the bad rows: the lines reported are the file's.
        f.add(good(i, { address: '"南京路 40 号\n3 楼"' }));
        f.add("");
      } else if (i === 300) bad.hugeAmount = f.add(good(i, { price: "99999999999999999999", paid: "99999999999999999999" }));
      else if (i === 700) bad.nul = f.add(good(i, { name: "买家\u0000七百" }));
      else if (i === 1100) bad.tooLong = f.add(good(i, { address: "长".repeat(301) }));
      else if (i === 1500)
        bad.undecodable = f.add(
          Buffer.concat([
            iconv.encode(`TB${i},买家`, "gbk"),
            Buffer.from([0xff]),
            iconv.encode(good(i).slice(`TB${i},买家${i}`.length), "gbk"),
          ]),
        );
      else if (i === 1800) bad.quantity = f.add(good(i, { qty: "100001", paid: "3900039.00" }));
      else if (i === 1900) bad.refused = f.add(good(i, { no: "TB-REFUSED" }));
      else f.add(good(i));
    }
    const s = await upload("generic", "淘宝订单.csv", f.bytes());
    expect(s).toMatchObject({ status: "done", total: 2100, imported: 2094, failed: 6, skipped: 0 });
    expect(s.errors).toHaveLength(7);
    expect(s.errors).toEqual(
      expect.arrayContaining([
        { line: bad.hugeAmount, field: "unitPrice", message: "too large: 99999999999999999999 (at most 1000000000.00)" },
        { line: bad.hugeAmount, field: "paid", message: "too large: 99999999999999999999 (at most 1000000000.00)" },
        { line: bad.nul, field: "customerName", message: "contains a NUL byte" },
        { line: bad.tooLong, field: "address", message: "longer than 300 characters (301)" },
        { line: bad.undecodable, field: "customerName", message: expect.stringContaining("not valid GBK") },
        { line: bad.quantity, field: "quantity", message: "too large: 100001 (at most 100000)" },
        { line: bad.refused, field: "test_refuses_order", message: expect.stringContaining("the database refused the order") },
      ]),
    );
    expect(bad).toMatchObject({ hugeAmount: 304, nul: 704, refused: 1904 });
    // Every good row is in, the neighbours of the bad ones included; none of the bad ones is.
    const count = async (q: string) =>
      Number((await sql<{ n: string }>`SELECT count(*) AS n FROM orders WHERE platform_order_no = ${q}`.execute(t.deps.db)).rows[0].n);
    for (const no of ["TB0", "TB40", "TB299", "TB301", "TB701", "TB1499", "TB1501", "TB1899", "TB1901", "TB2099"])
      expect(await count(no), no).toBe(1);
    for (const no of ["TB300", "TB700", "TB1100", "TB1500", "TB1800", "TB-REFUSED"]) expect(await count(no), no).toBe(0);
    const all = await sql<{ n: string }>`SELECT count(*) AS n FROM orders WHERE platform_order_no LIKE 'TB%'`.execute(t.deps.db);
    expect(Number(all.rows[0].n)).toBe(2094);
    const o = (await t.api("GET", "/api/v1/orders?q=TB1501")).body.items[0];
    expect(o.customerName).toBe("买家1501");
    // No stored order holds a replacement character: nothing garbled got in.
    const garbled = await sql<{ n: string }>`SELECT count(*) AS n FROM orders WHERE customer::text LIKE ${"%\uFFFD%"}`.execute(t.deps.db);
    expect(Number(garbled.rows[0].n)).toBe(0);
  }, 300_000);

  it("stops at an unclosed quote on its line, keeping the orders read before it and the errors so far", async () => {
    const rows = ["platform_order_no,customer_name,phone,address,sku_code,quantity,unit_price,paid_amount"];
    for (let i = 0; i < 10; i++) rows.push(`Q${i},Buyer ${i},1390000${String(i).padStart(4, "0")},Road ${i},MUG,1,39.00,39.00`);
    rows[4] = "Q3,Buyer 3,13900000003,Road 3,MUG,1,99999999999999999999,39.00";
    rows.push('Q10,"Buyer 10,13900000010,Road 10,MUG,1,39.00,39.00', "Q11,Buyer 11,13900000011,Road 11,MUG,1,39.00,39.00");
    const s = await upload("generic", "broken.csv", Buffer.from(rows.join("\n")));
    // Q9's rows might go on past the broken line, so it is reported, not imported.
    expect(s).toMatchObject({ status: "failed", total: 10, imported: 8, failed: 2 });
    expect(s.errors).toEqual([
      { line: 5, field: "unitPrice", message: "too large: 99999999999999999999 (at most 1000000000.00)" },
      { line: 11, field: "file", message: expect.stringContaining("not imported") },
      { line: 13, field: "file", message: expect.stringContaining("Quote Not Closed") },
    ]);
  });

  it("applies the API's limits to a Shopify export and names the column", async () => {
    const header = "Name,Email,Financial Status,Total,Lineitem quantity,Lineitem price,Lineitem sku,Shipping City,Shipping Phone";
    const csv = [
      header,
      `#2001,ann@example.test,paid,39.00,1,39.00,MUG,${"x".repeat(61)},13900001111`,
      "#2002,not-an-email,paid,39.00,1,39.00,MUG,Shanghai,",
      "#2003,joe@example.test,paid,39.00,1,39.00,MUG,Shanghai,13900002222",
    ].join("\n");
    const s = await upload("shopify", "orders_export.csv", Buffer.from(csv));
    expect(s).toMatchObject({ status: "done", total: 3, imported: 1, failed: 2 });
    expect(s.errors).toEqual([
      { line: 2, field: "Shipping City", message: "longer than 60 characters (61)" },
      { line: 3, field: "Email", message: "not an email address: not-an-email" },
    ]);
  });
});
