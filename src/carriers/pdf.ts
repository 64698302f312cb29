import { code128Modules } from "./code128.js";

/**
 * A small PDF written by hand (PDF is text): one A5 page of lines of text and a Code 128 barcode
 * drawn as filled rectangles. Chinese text uses the standard CJK font STSong-Light with the
 * UniGB-UCS2-H encoding, which PDF readers provide, so no font is embedded.
 */
export interface SlipPage {
  title: string;
  lines: { text: string; size?: number; gap?: number }[];
  barcode: string;
}

const utf16Hex = (text: string) => {
  let out = "";
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 63;
    // UCS-2 only: anything beyond the BMP prints as a question mark.
    out += (c > 0xffff ? 0x3f : c).toString(16).padStart(4, "0").toUpperCase();
  }
  return `<${out}>`;
};

const A5 = { w: 420, h: 595 };

export function slipPdf(page: SlipPage): Buffer {
  const ops: string[] = [];
  let y = A5.h - 50;
  const text = (t: string, size: number, x = 36) => {
    ops.push(`BT /F1 ${size} Tf ${x} ${y.toFixed(1)} Td ${utf16Hex(t)} Tj ET`);
  };
  text(page.title, 18);
  y -= 30;
  // The barcode: bars as rectangles, one module 1.1 pt wide, under the title.
  const modules = code128Modules(page.barcode);
  const unit = 1.1;
  const total = modules.reduce((a, b) => a + b, 0) * unit;
  let x = (A5.w - total) / 2;
  const barTop = y;
  ops.push("0 0 0 rg");
  modules.forEach((m, i) => {
    if (i % 2 === 0) ops.push(`${x.toFixed(2)} ${(barTop - 60).toFixed(1)} ${(m * unit).toFixed(2)} 60 re f`);
    x += m * unit;
  });
  y = barTop - 76;
  text(page.barcode, 11, (A5.w - page.barcode.length * 6.6) / 2);
  y -= 28;
  for (const l of page.lines) {
    const size = l.size ?? 11;
    text(l.text, size);
    y -= l.gap ?? size + 7;
    if (y < 40) break;
  }
  const content = ops.join("\n");
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${A5.w} ${A5.h}] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>`,
    `<< /Length ${Buffer.byteLength(content, "latin1")} >>\nstream\n${content}\nendstream`,
    "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [6 0 R] >>",
    "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 7 0 R /DW 1000 /W [1 95 500] >>",
    "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
  ];
  let body = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(Buffer.byteLength(body, "latin1"));
    body += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(body, "latin1");
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) body += `${String(off).padStart(10, "0")} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, "latin1");
}
