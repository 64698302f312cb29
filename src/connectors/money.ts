/**
 * Services send money as decimal strings ("19.99", "1500"); Dropdesk keeps integer minor units.
 * The exponent is the currency's (ISO 4217 through Intl: JPY 0, CNY 2, KWD 3), and the text is read
 * digit by digit, never through a float, so "0.29" is 29 and not 28.999….
 */
export function currencyExponent(currency: string): number {
  return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** "12.30" → 1230 (exponent 2); throws with the reason for text that is not an exact amount. */
export function toMinorUnits(text: string | number | null | undefined, currency: string): number {
  const exp = currencyExponent(currency);
  const s = String(text ?? "0").trim();
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) throw new Error(`"${s}" is not an amount`);
  const [, sign, whole, frac = ""] = m;
  if (frac.length > exp && /[1-9]/.test(frac.slice(exp))) throw new Error(`${s} ${currency} has more decimals than the currency's ${exp}`);
  const digits = `${whole}${frac.slice(0, exp).padEnd(exp, "0")}`;
  const n = Number(digits);
  if (!Number.isSafeInteger(n)) throw new Error(`${s} ${currency} is too large`);
  return sign === "-" ? -n : n;
}

/** 1230 → "12.30" (the service's own notation, for messages and outbound calls). */
export function fromMinorUnits(amount: number, currency: string): string {
  const exp = currencyExponent(currency);
  const sign = amount < 0 ? "-" : "";
  const digits = String(Math.abs(amount)).padStart(exp + 1, "0");
  return exp === 0 ? `${sign}${digits}` : `${sign}${digits.slice(0, -exp)}.${digits.slice(-exp)}`;
}

/**
 * An amount a platform answered (a JSON number or decimal text; empty is zero) in minor units,
 * cut to the currency's decimals as the platforms print them; `fail` makes the platform's error.
 */
export function platformAmount(v: unknown, currency: string, fail: (message: string) => Error): number {
  if (v === null || v === undefined || v === "") return 0;
  const exp = currencyExponent(currency);
  const s = typeof v === "number" ? v.toFixed(exp) : String(v).trim();
  const m = /^(-?\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) throw fail(`"${s}" is not an amount`);
  return toMinorUnits(exp && m[2] ? `${m[1]}.${m[2].slice(0, exp)}` : m[1], currency);
}
