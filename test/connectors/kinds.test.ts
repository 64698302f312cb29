import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DB_KINDS, startTestApp, type TestApp } from "../helpers/harness.js";

describe.each(DB_KINDS)("connector kinds for the console's form on %s", (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("lists every kind with its settings, the secret ones marked, and only to admins", async () => {
    const res = await t.api("GET", "/api/v1/connector-kinds");
    expect(res.status).toBe(200);
    const items = res.body.items as {
      kind: string;
      needsShop: boolean;
      fields: { name: string; secret: boolean; required: boolean; type: string; options?: string[] }[];
    }[];
    const kinds = items.map((k) => k.kind);
    for (const k of ["shopify", "taobao", "kuaidi100", "track17", "alipay", "wechatpay", "stripe", "alibaba1688", "cj"])
      expect(kinds).toContain(k);
    const field = (k: string, f: string) => items.find((x) => x.kind === k)?.fields.find((x) => x.name === f);
    expect(field("kuaidi100", "key")).toMatchObject({ secret: true, required: true, type: "string" });
    expect(field("kuaidi100", "customer")).toMatchObject({ secret: false, required: true });
    expect(field("kuaidi100", "interceptVia")).toMatchObject({ type: "enum", options: ["supplier", "carrier"], required: false });
    expect(field("alipay", "privateKey")?.secret).toBe(true);
    expect(field("cj", "qps")?.type).toBe("integer");
    expect(items.find((x) => x.kind === "shopify")?.needsShop).toBe(true);
    expect((await t.api("GET", "/api/v1/connector-kinds", { as: "cs" })).status).toBe(403);
  });
});
