import { afterEach, describe, expect, it, vi } from "vitest";
import { newId } from "../../src/platform/ids.js";

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const msOf = (id: string) => Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16);

describe("new ids", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("are UUID version 7 with the current time, unique and in the order they were made", () => {
    const before = Date.now();
    const ids = Array.from({ length: 20_000 }, () => newId());
    const after = Date.now();
    for (const id of ids) expect(id).toMatch(V7);
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < ids.length; i++) expect(ids[i] > ids[i - 1]).toBe(true);
    expect(msOf(ids[0])).toBeGreaterThanOrEqual(before);
    // A millisecond's count running out moves on to the next millisecond, so allow one or two.
    expect(msOf(ids[ids.length - 1])).toBeLessThanOrEqual(after + 2);
    // PostgreSQL reads them as uuids and orders them the same way: the bytes carry the order.
    const hex = ids.map((id) => id.replaceAll("-", ""));
    expect([...hex].sort()).toEqual(hex);
  });

  it("encode a known time exactly, and keep their order when the clock steps back", () => {
    // Ahead of any id made so far in this process (a later time starts a new millisecond).
    const t = Date.now() + 10 * 86_400_000 + 123;
    vi.spyOn(Date, "now").mockReturnValue(t);
    const a = newId();
    expect(msOf(a)).toBe(t);
    expect(a.slice(0, 13)).toBe(`${t.toString(16).padStart(12, "0").slice(0, 8)}-${t.toString(16).padStart(12, "0").slice(8)}`);
    vi.spyOn(Date, "now").mockReturnValue(t - 5_000);
    const b = newId();
    const c = newId();
    expect(msOf(b)).toBe(t);
    expect(b > a && c > b).toBe(true);
    vi.spyOn(Date, "now").mockReturnValue(t + 1);
    const d = newId();
    expect(msOf(d)).toBe(t + 1);
    expect(d > c).toBe(true);
  });

  it("spread their random part: no two ids of different milliseconds share it", () => {
    const tails = new Set<string>();
    let ms = Date.now() + 20 * 86_400_000;
    const now = vi.spyOn(Date, "now");
    for (let i = 0; i < 5_000; i++) {
      now.mockReturnValue(ms++);
      tails.add(newId().slice(14));
    }
    expect(tails.size).toBe(5_000);
  });
});
