// One way to write a CSV cell, for every CSV Dropdesk exports (lists, reports, the catalog,
// supplier statements, the console's import error report). No imports: the web console uses it too.

/**
 * A spreadsheet reads a cell starting with one of these as a formula (CSV injection, OWASP).
 * Leading quotes are included so that `restoreCsvCell` undoes `neutraliseCsvText` exactly.
 */
const FORMULA_START = /^'*[=+\-@\t\r]/;
/** A negative number such as `-12.50` is a number, not a formula: it stays as it is. */
const NEGATIVE_NUMBER = /^-\d+(\.\d+)?$/;

/**
 * Prefixes text a spreadsheet would run as a formula with `'`, as OWASP recommends: `=1+2`,
 * `+1`, `-2+3`, `@SUM(A1)`, a leading tab or CR. Numbers and negative amounts (`-12.50`) stay.
 */
export function neutraliseCsvText(s: string): string {
  return FORMULA_START.test(s) && !NEGATIVE_NUMBER.test(s) ? `'${s}` : s;
}

/** Undoes `neutraliseCsvText` for a cell read back from a file Dropdesk exported. */
export function restoreCsvCell(s: string): string {
  return /^'+[=+\-@\t\r]/.test(s) ? s.slice(1) : s;
}

/**
 * One CSV cell: empty for null, JSON for objects, a would-be formula neutralised, and quoted
 * when it holds a quote, comma or line break, or was neutralised (or always, with `quoteAll`).
 */
export function csvCell(v: unknown, opts: { quoteAll?: boolean } = {}): string {
  const quote = (s: string) => `"${s.replaceAll('"', '""')}"`;
  if (v === null || v === undefined) return opts.quoteAll ? '""' : "";
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return opts.quoteAll ? quote(String(v)) : String(v);
  const raw = typeof v === "object" ? JSON.stringify(v) : String(v);
  const s = neutraliseCsvText(raw);
  return opts.quoteAll || s !== raw || /[",\n\r]/.test(s) ? quote(s) : s;
}

/** One CSV line (without its line break). */
export function csvRow(cells: readonly unknown[], opts: { quoteAll?: boolean } = {}): string {
  return cells.map((c) => csvCell(c, opts)).join(",");
}
