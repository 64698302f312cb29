import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LOCALES, VOCABULARY } from "../../src/domain/vocabulary.js";
import { VOCABULARY_KEYS, vocabularyTexts } from "../../web/src/locales/vocabulary.js";

// The web app's dictionaries: one JSON file per locale for the screens' texts, and the domain
// vocabulary (shared with the server) for the name of every status, type, reason, …

const locale = (name: string): Record<string, string> =>
  JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "web", "src", "locales", `${name}.json`), "utf8"));
const files = Object.fromEntries(LOCALES.map((l) => [l, locale(l)]));
const placeholders = (text: string) => [...text.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]).sort();

describe("the web app's dictionaries", () => {
  it("have the same keys in every locale, each with a text and the same placeholders", () => {
    const keys = Object.keys(files["zh-CN"]).sort();
    expect(keys.length).toBeGreaterThan(100);
    for (const l of LOCALES) {
      expect(Object.keys(files[l]).sort(), l).toEqual(keys);
      for (const k of keys) {
        expect(typeof files[l][k] === "string" && files[l][k].trim().length > 0, `${l} ${k}`).toBe(true);
        expect(placeholders(files[l][k]), `${l} ${k}`).toEqual(placeholders(files["zh-CN"][k]));
      }
    }
  });

  it("name every value of the vocabulary in both languages", () => {
    for (const [list, names] of Object.entries(VOCABULARY)) {
      expect(Object.keys(names).length, list).toBeGreaterThan(0);
      for (const [value, name] of Object.entries(names)) {
        expect(value, list).toMatch(/^[a-z][a-z0-9_]*$/);
        for (const l of LOCALES) expect(name[l]?.trim(), `${list}.${value} in ${l}`).toBeTruthy();
      }
    }
  });

  it("take those names from the vocabulary, never from a copy in the locale files", () => {
    expect(Object.keys(VOCABULARY_KEYS).sort()).toEqual(Object.keys(VOCABULARY).sort());
    for (const l of LOCALES) {
      const names = vocabularyTexts(l);
      expect(Object.keys(names)).toHaveLength(Object.values(VOCABULARY).reduce((n, x) => n + Object.keys(x).length, 0));
      for (const k of Object.keys(files[l])) expect(k in names, `${l}: ${k} is a vocabulary name`).toBe(false);
    }
    expect(vocabularyTexts("zh-CN")["status.submitted"]).toBe("待审核");
    expect(vocabularyTexts("en")["reason.changed_mind"]).toBe("Changed my mind");
  });
});
