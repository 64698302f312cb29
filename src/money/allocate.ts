/**
 * Splits `total` minor units over `weights` in proportion, with largest-remainder rounding: the
 * parts are integers, never negative, and always add up to `total` exactly.
 */
export function allocate(total: number, weights: number[]): number[] {
  if (!Number.isSafeInteger(total) || total < 0) throw new Error(`cannot allocate ${total}`);
  const sum = weights.reduce((s, w) => s + Math.max(0, w), 0);
  if (weights.length === 0) return [];
  if (sum === 0) {
    // No weight anywhere: spread evenly, earlier parts first.
    const base = Math.floor(total / weights.length);
    let rest = total - base * weights.length;
    return weights.map(() => base + (rest-- > 0 ? 1 : 0));
  }
  const exact = weights.map((w) => (Math.max(0, w) * total) / sum);
  const parts = exact.map(Math.floor);
  let rest = total - parts.reduce((s, p) => s + p, 0);
  const order = exact.map((e, i) => ({ i, frac: e - Math.floor(e) })).sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (const { i } of order) {
    if (rest <= 0) break;
    parts[i] += 1;
    rest -= 1;
  }
  return parts;
}
