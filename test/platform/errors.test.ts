import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERRORS, localeOf } from "../../src/platform/errors.js";
import { DB_KINDS, startTestApp, type TestApp } from "../helpers/harness.js";

describe("the error catalogue", () => {
  it("gives every code a status and its meaning in both languages", () => {
    for (const [code, e] of Object.entries(ERRORS)) {
      expect(e.status, code).toBeGreaterThanOrEqual(400);
      expect(e["zh-CN"], code).toMatch(/[\u4e00-\u9fff]/);
      expect(e.en.length, code).toBeGreaterThan(3);
    }
  });

  it("reads the language a request asks for", () => {
    expect(localeOf(undefined)).toBe("en");
    expect(localeOf("zh-CN,zh;q=0.9,en;q=0.8")).toBe("zh-CN");
    expect(localeOf("zh-TW")).toBe("zh-CN");
    expect(localeOf("en-US,en;q=0.9")).toBe("en");
  });
});

describe.each(DB_KINDS)("errors in the caller's language on %s", (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(() => t.close());

  it("answers a schema failure in Chinese when asked, and in English otherwise, with the same code and field", async () => {
    const body = { name: "", platform: "jd" };
    const en = await t.api("POST", "/api/v1/shops", { body });
    const zh = await t.api("POST", "/api/v1/shops", { body, headers: { "accept-language": "zh-CN" } });
    expect(en.status).toBe(400);
    expect(zh.status).toBe(400);
    expect(zh.body.error.code).toBe(en.body.error.code);
    expect(zh.body.error.details.fields.map((f: { field: string }) => f.field)).toEqual(
      en.body.error.details.fields.map((f: { field: string }) => f.field),
    );
    expect(en.body.error.message).not.toMatch(/[\u4e00-\u9fff]/);
    expect(zh.body.error.message).toMatch(/[\u4e00-\u9fff]/);
    expect(zh.body.error.details.fields[0].message).toMatch(/[\u4e00-\u9fff]/);
  });

  it("answers a refusal written in both languages in the caller's, and never leaks the other", async () => {
    const login = (lang?: string) =>
      t.api("POST", "/api/v1/auth/login", {
        headers: { authorization: "", ...(lang ? { "accept-language": lang } : {}) },
        body: { email: "nobody@example.test", password: "not the password" },
      });
    expect((await login()).body.error.message).toBe("email or password is wrong");
    expect((await login("zh-CN")).body.error.message).toBe("邮箱或密码不正确");
    const empty = await t.api("PATCH", `/api/v1/users/${t.t.userIds.cs}`, { body: {}, headers: { "accept-language": "zh-CN" } });
    expect(empty.status).toBe(400);
    expect(empty.body.error.details.fields).toEqual([{ field: "body", message: "没有要修改的内容" }]);
    const emptyEn = await t.api("PATCH", `/api/v1/users/${t.t.userIds.cs}`, { body: {} });
    expect(emptyEn.body.error.details.fields).toEqual([{ field: "body", message: "nothing to change" }]);
  });

  it("falls back to the code's meaning in Chinese when a message was written in English only", async () => {
    const res = await t.api("GET", "/api/v1/orders/01a23333-0000-7000-8000-000000000000", { headers: { "accept-language": "zh-CN" } });
    expect(res.status).toBe(404);
    expect(res.body.error.message).toBe(ERRORS.not_found["zh-CN"]);
  });
});
