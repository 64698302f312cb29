import { describe, expect, it } from "vitest";
import { CODE128_PATTERNS, code128Modules, code128Values, STOP } from "./code128.js";
import { beijingTime, md5Upper, pushSign, statusOfState, toBeijingText } from "./kuaidi100.js";
import { pushEntries } from "./tracking.js";

describe("快递100's protocol", () => {
  it("signs with upper-case hex MD5 of param + salt", () => {
    expect(md5Upper("")).toBe("D41D8CD98F00B204E9800998ECF8427E");
    expect(pushSign('{"a":1}', "salt")).toBe(md5Upper('{"a":1}salt'));
    expect(pushSign('{"a":1}', "salt")).toMatch(/^[0-9A-F]{32}$/);
  });

  it("reads push times as Beijing time", () => {
    expect(beijingTime("2026-03-02 06:00:00")?.toISOString()).toBe("2026-03-01T22:00:00.000Z");
    expect(beijingTime("2026-01-01 00:00:00")?.toISOString()).toBe("2025-12-31T16:00:00.000Z");
    expect(beijingTime("2026-03-02 06:00")?.toISOString()).toBe("2026-03-01T22:00:00.000Z");
    for (const bad of ["", "2026-02-30 10:00:00", "yesterday", "2026/03/02 06:00:00", null, undefined]) expect(beijingTime(bad)).toBeNull();
    expect(toBeijingText(new Date("2026-03-01T22:00:00Z"))).toBe("2026-03-02 06:00:00");
  });

  it("maps parcel states, their sub-states and their words", () => {
    expect(["0", "1", "2", "3", "4", "5", "6", "7", "14"].map(statusOfState)).toEqual([
      "in_transit",
      "picked_up",
      "exception",
      "delivered",
      "returned",
      "out_for_delivery",
      "returned",
      "in_transit",
      "refused",
    ]);
    expect(["301", "304", "103", "201", "501"].map(statusOfState)).toEqual([
      "delivered",
      "delivered",
      "picked_up",
      "exception",
      "out_for_delivery",
    ]);
    expect(["签收", "拒签", "疑难", "揽收"].map(statusOfState)).toEqual(["delivered", "refused", "exception", "picked_up"]);
    expect(statusOfState("99")).toBeNull();
    expect(statusOfState(undefined)).toBeNull();
  });

  it("turns a push's history into events, oldest first, the parcel's state on the newest entry only", () => {
    const entries = pushEntries(
      "SF1",
      [
        { time: "2026-03-02 06:00:00", context: "已签收" },
        { time: "2026-03-01 21:00:00", context: "派送中", status: "派件" },
        { time: "garbled", context: "skipped" },
        { time: "2026-02-28 09:00:00", context: "运输中" },
      ],
      "3",
    );
    expect(entries.map((e) => [e.at.toISOString(), e.status])).toEqual([
      ["2026-02-28T01:00:00.000Z", "in_transit"],
      ["2026-03-01T13:00:00.000Z", "out_for_delivery"],
      ["2026-03-01T22:00:00.000Z", "delivered"],
    ]);
    // The same entry always has the same key; another text at the same time another.
    expect(pushEntries("SF1", [{ time: "2026-03-02 06:00:00", context: "已签收" }], "3")[0].key).toBe(entries[2].key);
    expect(pushEntries("SF1", [{ time: "2026-03-02 06:00:00", context: "已签收，门卫代收" }], "3")[0].key).not.toBe(entries[2].key);
  });
});

describe("Code 128", () => {
  it("has 107 distinct symbols of 11 modules (the stop 13), bars adding to an even width", () => {
    expect(CODE128_PATTERNS).toHaveLength(107);
    expect(new Set(CODE128_PATTERNS).size).toBe(107);
    CODE128_PATTERNS.forEach((p, v) => {
      const w = [...p].map(Number);
      expect(
        w.reduce((a, b) => a + b, 0),
        `symbol ${v}`,
      ).toBe(v === STOP ? 13 : 11);
      expect(w.filter((_, i) => i % 2 === 0).reduce((a, b) => a + b, 0) % 2, `symbol ${v}`).toBe(0);
    });
  });

  it("encodes set B with the modulo-103 check symbol", () => {
    // Start B, "W" … "a", check (104 + Σ value × position) mod 103, stop.
    expect(code128Values("Wikipedia")).toEqual([104, 55, 73, 75, 73, 80, 69, 68, 73, 65, 88, 106]);
    expect(code128Modules("A").length).toBe(6 * 3 + 7);
    expect(() => code128Values("售后")).toThrow(/cannot encode/);
  });
});
