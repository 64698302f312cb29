import { describe, expect, it } from "vitest";
import { csvCell, csvRow, neutraliseCsvText, restoreCsvCell } from "./csv.js";

describe("CSV cells", () => {
  it("neutralises cells a spreadsheet would run as a formula, and quotes them", () => {
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell("+1")).toBe(`"'+1"`);
    expect(csvCell("@SUM(A1:A9)")).toBe(`"'@SUM(A1:A9)"`);
    expect(csvCell("\tcmd")).toBe(`"'\tcmd"`);
    expect(csvCell("\r=1")).toBe(`"'\r=1"`);
    expect(csvCell("-2+3")).toBe(`"'-2+3"`);
    expect(csvCell("-")).toBe(`"'-"`);
    expect(csvCell("+8613900001111")).toBe(`"'+8613900001111"`);
  });

  it("leaves numbers, negative amounts and ordinary text as they are", () => {
    expect(csvCell("-12.50")).toBe("-12.50");
    expect(csvCell("-1250")).toBe("-1250");
    expect(csvCell(-1250)).toBe("-1250");
    expect(csvCell(0)).toBe("0");
    expect(csvCell(true)).toBe("true");
    expect(csvCell("12.50")).toBe("12.50");
    expect(csvCell("a=b")).toBe("a=b");
    expect(csvCell("张三")).toBe("张三");
    expect(csvCell(null)).toBe("");
    expect(csvCell(undefined)).toBe("");
    // Only a whole number is one: these still start a formula.
    expect(csvCell("-12.50+A1")).toBe(`"'-12.50+A1"`);
    expect(csvCell("-1e3")).toBe(`"'-1e3"`);
  });

  it("quotes commas, quotes and line breaks as before", () => {
    expect(csvCell('say "hi", then\nleave')).toBe(`"say ""hi"", then\nleave"`);
    expect(csvCell({ a: 1 })).toBe(`"{""a"":1}"`);
    expect(csvRow(["=1", "-3.00", "x,y", 5])).toBe(`"'=1",-3.00,"x,y",5`);
    expect(csvRow(["=1", "-3.00", null, 5], { quoteAll: true })).toBe(`"'=1","-3.00","","5"`);
  });

  it("reads a neutralised cell back as what was written, even one that began with a quote", () => {
    for (const s of ["=1+2", "+1", "-2+3", "@x", "\tcmd", "'=already", "''+x", "-12.50", "'plain", "plain", ""]) {
      expect(restoreCsvCell(neutraliseCsvText(s))).toBe(s);
    }
  });
});
