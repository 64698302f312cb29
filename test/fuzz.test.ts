import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../src/platform/ids.js";
import { type Catalog, createDeliveredOrder, createOrder, setupCatalog } from "./helpers/fixtures.js";
import { DB_KINDS, startTestApp, type TestApp } from "./helpers/harness.js";

/**
 * Walks every mutating route of the OpenAPI document (and the hidden public ones of the route
 * table) with generated bad bodies, and every read route with bad query strings and path
 * parameters. Bad input is the caller's mistake: never a 5xx, and a refused request writes nothing.
 */

// Tables a request may change without being accepted: the idempotency, rate-limit and session
// bookkeeping. Every other table must keep its row count across a refused request.
const VOLATILE = /^(idempotency|rate_limit|sessions$|schema_migrations$)/;

type Schema = Record<string, any>;
interface Probe {
  label: string;
  /** The JSON value to send, or `raw` text with its content type. */
  json?: unknown;
  raw?: string | Buffer;
  contentType?: string;
  /** true: the request is not valid for the route and must be refused (4xx), writing nothing. */
  bad: boolean;
  /** When set, the refusal must be `validation_failed` naming this field. */
  field?: string;
}

const NUL = "a\u0000b";
const LONE = "a\ud800b";

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** Whether `v` conforms to the JSON schema, for the keywords the API's schemas use. */
function conforms(s: Schema | undefined, v: unknown): boolean {
  if (!s || Object.keys(s).length === 0) return true;
  if (s.anyOf) return (s.anyOf as Schema[]).some((b) => conforms(b, v));
  if (s.enum && !(s.enum as unknown[]).includes(v)) return false;
  if (s.const !== undefined && s.const !== v) return false;
  const t = typeOf(v);
  const types: string[] = s.type ? (Array.isArray(s.type) ? s.type : [s.type]) : [];
  if (types.length && !types.some((ty) => ty === t || (ty === "number" && t === "integer"))) return false;
  if (typeof v === "string") {
    if (s.minLength !== undefined && [...v].length < s.minLength) return false;
    if (s.maxLength !== undefined && [...v].length > s.maxLength) return false;
    if (s.pattern && !new RegExp(s.pattern, "u").test(v)) return false;
  }
  if (typeof v === "number") {
    if (s.minimum !== undefined && v < s.minimum) return false;
    if (s.maximum !== undefined && v > s.maximum) return false;
    if (s.exclusiveMinimum !== undefined && v <= s.exclusiveMinimum) return false;
    if (s.exclusiveMaximum !== undefined && v >= s.exclusiveMaximum) return false;
  }
  if (Array.isArray(v)) {
    if (s.minItems !== undefined && v.length < s.minItems) return false;
    if (s.maxItems !== undefined && v.length > s.maxItems) return false;
    if (s.items && !v.every((x) => conforms(s.items, x))) return false;
  }
  if (t === "object") {
    const o = v as Record<string, unknown>;
    for (const r of (s.required as string[]) ?? []) if (!(r in o)) return false;
    const props = (s.properties ?? {}) as Record<string, Schema>;
    for (const [k, x] of Object.entries(o)) {
      if (props[k]) {
        if (!conforms(props[k], x)) return false;
      } else if (s.additionalProperties === false) return false;
      else if (typeof s.additionalProperties === "object" && !conforms(s.additionalProperties, x)) return false;
      else if (s.propertyNames && !conforms(s.propertyNames, k)) return false;
    }
  }
  return true;
}

/** A plausible valid value for a schema, with real ids for the id fields the fixtures have. */
function example(s: Schema | undefined, key: string, ids: Record<string, string>, depth = 0): unknown {
  if (!s || depth > 6) return undefined;
  if (s.anyOf) return example((s.anyOf as Schema[]).find((b) => b.type !== "null") ?? s.anyOf[0], key, ids, depth);
  if (s.default !== undefined) return s.default;
  if (s.enum) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type.find((x: string) => x !== "null") : s.type;
  switch (type) {
    case "string": {
      if (s.format === "uuid") return ids[key] ?? newId();
      if (s.format === "date-time") return "2026-03-01T04:00:00.000Z";
      if (s.format === "email" || key === "email") return "fuzz@example.test";
      if (s.format === "uri" || key === "url") return "https://203.0.113.7/fuzz";
      const candidates = ["fuzz value", "CNY", "1234", "13800000000", "https://203.0.113.7/fuzz", "fuzz"];
      const fit = candidates.find((c) => conforms(s, c));
      return fit ?? "x".repeat(Math.max(1, s.minLength ?? 1));
    }
    case "integer":
    case "number":
      return Math.min(Math.max(1, s.minimum ?? 1), s.maximum ?? 1);
    case "boolean":
      return true;
    case "array": {
      const item = example(s.items, key, ids, depth + 1);
      return item === undefined ? [] : Array.from({ length: Math.max(1, s.minItems ?? 1) }, () => item);
    }
    case "object": {
      const out: Record<string, unknown> = {};
      for (const [k, p] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) {
        const v = example(p, k, ids, depth + 1);
        if (v !== undefined) out[k] = v;
      }
      return out;
    }
    default:
      return undefined;
  }
}

/** The leaves of a value with their dotted paths (the API's field names). */
function leaves(v: unknown, path: string[] = [], out: { path: string[]; value: unknown }[] = []) {
  if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) leaves(x, [...path, k], out);
    if (path.length) out.push({ path, value: v });
  } else if (path.length) out.push({ path, value: v });
  return out;
}

function setAt(root: unknown, path: string[], value: unknown): unknown {
  const copy = structuredClone(root) as Record<string, any>;
  let at: any = copy;
  for (const k of path.slice(0, -1)) at = at[k];
  at[path[path.length - 1]] = value;
  return copy;
}

function mapStrings(v: unknown, f: (s: string) => string): unknown {
  if (typeof v === "string") return f(v);
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, f));
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapStrings(x, f)]));
  return v;
}
function mapNumbers(v: unknown, f: (n: number) => number): unknown {
  if (typeof v === "number") return f(v);
  if (Array.isArray(v)) return v.map((x) => mapNumbers(x, f));
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapNumbers(x, f)]));
  return v;
}

/** Whether a value holds text PostgreSQL cannot store or that is not Unicode, in a key or a string. */
function hasBadText(v: unknown): boolean {
  const bad = (x: string) => x.includes("\u0000") || /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(x);
  if (typeof v === "string") return bad(v);
  if (Array.isArray(v)) return v.some(hasBadText);
  if (v && typeof v === "object") return Object.entries(v).some(([k, x]) => bad(k) || hasBadText(x));
  return false;
}

/** Bad bodies for a JSON route: generic shapes, then mutations of a plausible body. */
function jsonProbes(schema: Schema | undefined, ids: Record<string, string>): Probe[] {
  const s = schema ?? {};
  const p = (label: string, json: unknown, field?: string): Probe => ({
    label,
    json,
    bad: !schema ? hasBadText(json) : !conforms(s, json) || hasBadText(json),
    field,
  });
  const base = example(s, "", ids);
  const probes: Probe[] = [
    { label: "empty body with a JSON content type", raw: "", contentType: "application/json", bad: true },
    { label: "no body", bad: schema ? !conforms(s, null) : false },
    p("null", null),
    p("empty object", {}),
    p("empty array", []),
    p("a string", "text"),
    p("a number", 42),
    p("true", true),
    { label: "not JSON", raw: "{not json", contentType: "application/json", bad: true },
    { label: "truncated JSON", raw: '{"a": [1, 2', contentType: "application/json", bad: true },
    // Fastify reads text/plain as a string: refused by a route with a body schema, ignored by one without.
    { label: "text/plain", raw: "hello", contentType: "text/plain", bad: Boolean(schema) },
    { label: "JSON with a NUL escape", raw: '{"name":"a\\u0000b"}', contentType: "application/json", bad: true },
    { label: "JSON with a lone surrogate escape", raw: '{"name":"a\\ud800b"}', contentType: "application/json", bad: true },
    {
      label: "nested 5000 deep",
      raw: `${'{"x":'.repeat(5000)}1${"}".repeat(5000)}`,
      contentType: "application/json",
      bad: schema ? !conforms(s, { x: {} }) : false,
    },
    p(
      "20000-item array",
      Array.from({ length: 20000 }, () => 0),
    ),
    { label: "multipart without boundary", raw: "--x\r\n", contentType: "multipart/form-data", bad: schema ? !conforms(s, null) : false },
  ];
  if (base && typeof base === "object" && !Array.isArray(base)) {
    probes.push(p("a NUL in a key", { ...(base as object), "\u0000": 1 }, "\\u0000"));
    probes.push(p("an unknown property", { ...(base as object), fuzzExtra: 1 }));
  }
  if (base !== undefined) {
    probes.push(
      p(
        "a NUL in every string",
        mapStrings(base, () => NUL),
      ),
    );
    probes.push(
      p(
        "a lone surrogate in every string",
        mapStrings(base, () => LONE),
      ),
    );
    probes.push(
      p(
        "every number 2^31",
        mapNumbers(base, () => 2 ** 31),
      ),
    );
    probes.push(
      p(
        "every number 1e308",
        mapNumbers(base, () => 1e308),
      ),
    );
    probes.push(
      p(
        "every number negative",
        mapNumbers(base, () => -1),
      ),
    );
    probes.push(
      p(
        "every number fractional",
        mapNumbers(base, (n) => n + 0.5),
      ),
    );
    probes.push(
      p(
        "every number 2^53+2",
        mapNumbers(base, () => 2 ** 53 + 2),
      ),
    );
    probes.push(
      p(
        "every string 100k long",
        mapStrings(base, () => "x".repeat(100_000)),
      ),
    );
  }
  const ls = leaves(base);
  const strings = ls.filter((l) => typeof l.value === "string");
  // A NUL or a lone surrogate in one field is refused naming that field.
  for (const l of strings.slice(0, 3)) probes.push(p(`NUL in ${l.path.join(".")}`, setAt(base, l.path, NUL), l.path.join(".")));
  for (const l of strings.slice(3, 5)) probes.push(p(`lone surrogate in ${l.path.join(".")}`, setAt(base, l.path, LONE), l.path.join(".")));
  const wrong = (v: unknown) => (typeof v === "string" ? 12345 : typeof v === "object" ? "not an object" : "not a number");
  for (const l of ls.slice(0, 8)) {
    probes.push(p(`${l.path.join(".")} of the wrong type`, setAt(base, l.path, wrong(l.value))));
    probes.push(p(`${l.path.join(".")} null`, setAt(base, l.path, null)));
  }
  // Each body once, and never the plausible body itself (it may well be valid).
  const seen = new Set([JSON.stringify(base)]);
  return probes.filter((pr) => {
    const key = pr.label === "no body" ? "(none)" : pr.raw !== undefined ? `${pr.contentType} ${pr.raw}` : JSON.stringify(pr.json);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const BOUNDARY = "fuzzboundary";
const part = (name: string, filename: string, data: string | Buffer) =>
  Buffer.concat([
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: text/csv\r\n\r\n`,
    ),
    Buffer.isBuffer(data) ? data : Buffer.from(data),
  ]);
const mp = `multipart/form-data; boundary=${BOUNDARY}`;

/** Bad uploads for a multipart route. */
function multipartProbes(ids: Record<string, string>): Probe[] {
  // A well-formed CSV for any of the CSV routes whose cells hold NULs and a stock too big for its column.
  const csv =
    "productTitle,skuCode,price,stock,supplierOrderId,carrier,trackingNo\n" +
    `M\u0000ug,S\u0000KU,3900,99999999999,${ids["supplier-orders"]},S\u0000F,SF\u00001234\n` +
    `Mug,SKU2,3900,99999999999,${ids["supplier-orders"]},SF,SF1234\n`;
  return [
    {
      label: "multipart, a CSV of NUL cells and huge numbers",
      raw: Buffer.concat([
        Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="shopId"\r\n\r\n${ids.shopId}\r\n`),
        part("file", "a.csv", csv),
        Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
      ]),
      contentType: mp,
      bad: false,
    },
    { label: "JSON to an upload route", json: { file: "x" }, bad: true },
    { label: "no body", bad: true },
    { label: "text/plain to an upload route", raw: "a,b\n1,2\n", contentType: "text/plain", bad: true },
    { label: "multipart without boundary", raw: part("file", "a.csv", "a,b\n"), contentType: "multipart/form-data", bad: true },
    { label: "multipart, empty body", raw: "", contentType: mp, bad: true },
    { label: "multipart, only the closing boundary", raw: `--${BOUNDARY}--\r\n`, contentType: mp, bad: true },
    { label: "multipart, truncated in the headers", raw: `--${BOUNDARY}\r\nContent-Disposition: form-da`, contentType: mp, bad: true },
    { label: "multipart, truncated in the file", raw: part("file", "a.csv", "a,b\n1,"), contentType: mp, bad: true },
    {
      label: "multipart, another boundary",
      raw: Buffer.concat([part("file", "a.csv", "a,b\n"), Buffer.from(`\r\n--${BOUNDARY}--\r\n`)]),
      contentType: "multipart/form-data; boundary=somethingelse",
      bad: true,
    },
    {
      label: "multipart without the file field",
      raw: Buffer.concat([part("other", "a.csv", "a,b\n1,2\n"), Buffer.from(`\r\n--${BOUNDARY}--\r\n`)]),
      contentType: mp,
      bad: true,
    },
    {
      label: "multipart, a file of NULs and invalid UTF-8",
      raw: Buffer.concat([
        part("file", "a\u0000.csv", Buffer.from([0x61, 0x00, 0x2c, 0xed, 0xa0, 0x80, 0x0a, 0x00, 0x2c, 0xff, 0x0a])),
        Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
      ]),
      contentType: mp,
      bad: false,
    },
  ];
}

describe.each(DB_KINDS)("bad input on %s", (kind) => {
  let t: TestApp;
  let cat: Catalog;
  let doc: any;
  let portalToken: string;
  const ids: Record<string, string> = {};
  let countRows: () => Promise<Map<string, number>>;

  const confirmMs = process.env.DROPDESK_SANDBOX_CONFIRM_MS;
  beforeAll(async () => {
    // The sandbox gateway confirms a refund at once, so an accepted request's work is over before
    // the next request is measured.
    process.env.DROPDESK_SANDBOX_CONFIRM_MS = "0";
    t = await startTestApp(kind);
    cat = await setupCatalog(t);
    t.clock.set("2026-03-02T04:00:00Z");
    const order = await createDeliveredOrder(t, cat, { phone: "13900001357", deliveredAt: "2026-03-01T10:00:00+08:00" });
    const must = async (what: string, r: Promise<{ status: number; body: any; text: string }>) => {
      const res = await r;
      if (res.status >= 300) throw new Error(`${what}: ${res.status} ${res.text}`);
      return res.body;
    };
    const c = await must(
      "case",
      t.api("POST", "/api/v1/cases", {
        body: { orderId: order.id, type: "return_refund", reason: "quality", lines: [{ orderLineId: order.lines[0].id, quantity: 1 }] },
      }),
    );
    const complaint = await must("complaint", t.api("POST", "/api/v1/complaints", { body: { subject: "fuzz", orderId: order.id } }));
    const hook = await must(
      "webhook",
      t.api("POST", "/api/v1/webhooks", { body: { url: "https://203.0.113.7/in", events: ["case.created"], active: false } }),
    );
    portalToken = (
      await must(
        "portal lookup",
        t.api("POST", "/portal/api/lookup", {
          body: { platformOrderNo: order.platformOrderNo, phoneLast4: "1357" },
          headers: { authorization: "" },
        }),
      )
    ).token;
    Object.assign(ids, {
      users: t.t.userIds.cs,
      shops: cat.shopId,
      suppliers: cat.suppliers.a,
      offers: cat.offers["A-MUG"],
      orders: order.id,
      "supplier-orders": order.supplierOrders[0].id,
      cases: c.id,
      complaints: complaint.id,
      webhooks: hook.id,
      // Body fields by name.
      shopId: cat.shopId,
      supplierId: cat.suppliers.a,
      skuId: cat.skus.MUG.id,
      orderId: order.id,
      orderLineId: order.lines[0].id,
      caseId: c.id,
    });
    doc = (await t.api("GET", "/api/openapi.json")).body;
    const tables = (
      await sql<{ s: string; n: string }>`SELECT table_schema AS s, table_name AS n FROM information_schema.tables
        WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`.execute(t.deps.db)
    ).rows.filter((r) => !VOLATILE.test(r.n));
    expect(tables.map((r) => r.n)).toEqual(expect.arrayContaining(["cases", "audit_log", "users", "evidence", "imports"]));
    const q = sql.raw(tables.map((r) => `SELECT '${r.s}.${r.n}' AS t, count(*)::int AS c FROM "${r.s}"."${r.n}"`).join(" UNION ALL "));
    countRows = async () => new Map((await sql<{ t: string; c: number }>`${q}`.execute(t.deps.db)).rows.map((r) => [r.t, Number(r.c)]));
  });
  afterAll(async () => {
    await t?.close();
    if (confirmMs === undefined) delete process.env.DROPDESK_SANDBOX_CONFIRM_MS;
    else process.env.DROPDESK_SANDBOX_CONFIRM_MS = confirmMs;
  });

  /** The row counts once they have stood still for 100 ms (at most 3 s). */
  const settled = async () => {
    let last = await countRows();
    let still = 0;
    for (let i = 0; i < 120 && still < 4; i++) {
      await new Promise((r) => setTimeout(r, 25));
      const now = await countRows();
      still = changed(last, now).length === 0 ? still + 1 : 0;
      last = now;
    }
    return last;
  };
  const changed = (a: Map<string, number>, b: Map<string, number>) =>
    [...b].filter(([k, v]) => a.get(k) !== v).map(([k, v]) => `${k} ${a.get(k)}→${v}`);

  const send = async (method: string, url: string, probe: Probe, auth: Record<string, string>) => {
    const headers: Record<string, string> = { ...auth };
    let payload: string | Buffer | undefined;
    if (probe.raw !== undefined) {
      payload = probe.raw;
      if (probe.contentType) headers["content-type"] = probe.contentType;
    } else if (probe.label !== "no body") {
      payload = JSON.stringify(probe.json);
      headers["content-type"] = "application/json";
    }
    return t.app.inject({ method: method as "POST", url, headers, ...(payload !== undefined && { payload }) });
  };

  it("names the field of text no column can hold, of an empty PATCH and of a broken upload", async () => {
    const before = await countRows();
    const refused = async (method: string, url: string, body: unknown, field: string, status = 400) => {
      const r = await t.api(method, url, { body });
      expect(r.status, `${method} ${url}: ${r.text}`).toBe(status);
      expect(r.body.error.code).toBe("validation_failed");
      expect(r.body.error.details.fields[0].field).toBe(field);
      return r.body.error;
    };
    // U+0000 (PostgreSQL 22021) and a lone surrogate (22P02 in the audit log's JSON), at any depth.
    const nul = await refused("POST", "/api/v1/shops", { name: "a\u0000b", platform: "taobao" }, "name");
    expect(nul.message).toBe("name: contains a NUL character (U+0000), which cannot be stored");
    const addr = { name: "仓\ud800", phone: "13800000000", province: "浙江", city: "义乌", line1: "1 号" };
    await refused("POST", "/api/v1/suppliers", { name: "S", email: "s@supplier.test", returnAddress: addr }, "returnAddress.name");
    const line = { skuCode: "MUG", quantity: 1, unitPrice: 3900 };
    await refused("POST", "/api/v1/orders", { shopId: cat.shopId, lines: [line, { ...line, skuCode: "\udc00" }] }, "lines.1.skuCode");
    await refused("POST", "/api/v1/shops", { name: "x", platform: "taobao", "bad\u0000key": 1 }, "bad\\u0000key");
    await refused("GET", "/api/v1/suppliers?q=%00", undefined, "querystring.q");
    await refused("GET", "/api/v1/orders?q=a%00b", undefined, "querystring.q");
    await refused("POST", "/portal/api/surveys/a%00b", { score: 5 }, "params.token");
    let deep: unknown = "x";
    for (let i = 0; i < 40; i++) deep = { x: deep };
    await refused("POST", "/api/v1/shops", deep, "body");
    // A PATCH that changes nothing would be `UPDATE … SET WHERE` (42601).
    for (const url of [
      `/api/v1/users/${t.t.userIds.viewer}`,
      `/api/v1/shops/${cat.shopId}`,
      `/api/v1/webhooks/${ids.webhooks}`,
      `/api/v1/suppliers/${cat.suppliers.b}`,
      `/api/v1/offers/${cat.offers["B-MUG"]}`,
    ]) {
      const e = await refused("PATCH", url, {}, "body");
      expect(e.message).toBe("body: nothing to change");
    }
    // Uploads: not multipart → 415, cut short or without a boundary → 400, each naming `file`.
    const upload = (url: string, contentType: string, payload: string) =>
      t.app.inject({ method: "POST", url, headers: { authorization: `Bearer ${t.t.tokens.admin}`, "content-type": contentType }, payload });
    for (const url of [
      "/api/v1/products/import",
      "/api/v1/orders/import",
      "/api/v1/supplier-orders/ship-csv",
      `/api/v1/cases/${ids.cases}/evidence`,
    ]) {
      const json = await upload(url, "application/json", "{}");
      expect(json.statusCode, `${url} ${json.body}`).toBe(415);
      expect(json.json().error.code).toBe("unsupported_media_type");
      expect(json.json().error.details.field).toBe("file");
      for (const [contentType, payload] of [
        [
          mp,
          `--${BOUNDARY}\r\nContent-Disposition: form-data; name="shopId"\r\n\r\n${cat.shopId}\r\n` +
            `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\na,b\n1,`,
        ],
        ["multipart/form-data", "--x\r\n"],
      ]) {
        const r = await upload(url, contentType, payload);
        expect(r.statusCode, `${url} ${r.body}`).toBe(400);
        expect(r.json().error.code).toBe("validation_failed");
        expect(r.json().error.details.fields[0].field).toBe("file");
      }
    }
    expect(changed(before, await countRows())).toEqual([]);
  });

  it("reports CSV lines whose cells hold a NUL or a number too big for its column, instead of failing the file", async () => {
    const order = await createOrder(t, cat, { lines: [{ skuCode: "TEE", quantity: 1 }] });
    const fwd = (await t.api("POST", `/api/v1/orders/${order.id}/actions/forward`)).body;
    const so = fwd.supplierOrders[0].id;
    expect((await t.api("POST", `/api/v1/supplier-orders/${so}/actions/accept`)).status).toBe(200);
    const upload = (url: string, csv: string) =>
      t.app.inject({
        method: "POST",
        url,
        headers: { authorization: `Bearer ${t.t.tokens.admin}`, "content-type": mp },
        payload: Buffer.concat([part("file", "a.csv", csv), Buffer.from(`\r\n--${BOUNDARY}--\r\n`)]),
      });
    const ship = await upload("/api/v1/supplier-orders/ship-csv", `supplierOrderId,carrier,trackingNo\n${so},S\u0000F,SF12345\n`);
    expect(ship.statusCode, ship.body).toBe(200);
    expect(ship.json().results).toEqual([
      expect.objectContaining({ line: 2, ok: false, field: "carrier", message: "contains a NUL byte" }),
    ]);
    const byNo = await upload("/api/v1/supplier-orders/ship-csv", "platformOrderNo,carrier,trackingNo\nT\u00001,SF,SF12345\n");
    expect(byNo.statusCode, byNo.body).toBe(200);
    expect(byNo.json().results[0]).toMatchObject({ ok: false, field: "platformOrderNo", message: "contains a NUL byte" });
    expect((await t.api("GET", `/api/v1/supplier-orders/${so}`)).body.status).toBe("accepted");

    const catalog = await upload(
      "/api/v1/products/import",
      "productTitle,skuCode,price,supplier,cost,stock\nMu\u0000g,FZ1,3900,,,\nMug,FZ2,3900,Supplier A,100,99999999999\n",
    );
    expect(catalog.statusCode, catalog.body).toBe(200);
    expect(catalog.json().errors).toEqual([
      { line: 2, field: "productTitle", message: "contains a NUL byte" },
      { line: 3, field: "stock", message: "at most 1000000000" },
    ]);
    expect(catalog.json()).toMatchObject({ products: 0, skusCreated: 0, offersCreated: 0, failed: 2 });
  });

  it("answers every mutating route's bad bodies with a 4xx that writes nothing", { timeout: 240_000 }, async () => {
    const fromDoc: { method: string; url: string; op: any }[] = [];
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>))
      for (const [m, op] of Object.entries(ops))
        if (["post", "put", "patch", "delete"].includes(m)) fromDoc.push({ method: m.toUpperCase(), url: path, op });
    // The hidden public routes (gateway callbacks) are walked as well.
    const known = new Set(fromDoc.map((r) => `${r.method} ${r.url.replace(/\{(\w+)\}/g, ":$1")}`));
    const hidden = (t.deps.services.routeTable as { method: string; url: string; public: boolean }[])
      .filter((r) => ["POST", "PUT", "PATCH", "DELETE"].includes(r.method) && !known.has(`${r.method} ${r.url}`))
      .map((r) => ({ method: r.method, url: r.url.replace(/:(\w+)/g, "{$1}"), op: {} }));
    const routes = [...fromDoc, ...hidden];
    expect(routes.length).toBeGreaterThan(80);
    expect(hidden.map((r) => r.url)).toContain("/api/v1/gateways/sandbox/callback");

    const failures: string[] = [];
    let requests = 0;
    let before = await countRows();
    for (const r of routes) {
      // "/api/v1/<resource>/…" and "/portal/api/<resource>/…"
      const resource = r.url.split("/")[3];
      // Real ids where the fixtures have one, so the bodies reach the handlers; deletions get a
      // random one, so that a fixture survives the walk.
      const url = r.url.replace(/\{(\w+)\}/g, (_m, name) =>
        r.method !== "DELETE" && name === "id" && ids[resource] ? ids[resource] : name === "token" ? "no-such-token" : newId(),
      );
      const portal = r.url.startsWith("/portal/api") && !r.url.endsWith("/lookup");
      const auth = { authorization: `Bearer ${portal ? portalToken : t.t.tokens.admin}` };
      const content = r.op.requestBody?.content ?? {};
      const probes = /\/(evidence|import|ship-csv)$/.test(r.url)
        ? multipartProbes(ids)
        : jsonProbes(content["application/json"]?.schema, ids);
      for (const probe of probes) {
        const res = await send(r.method, url, probe, auth);
        requests++;
        const what = `${r.method} ${r.url} [${probe.label}] → ${res.statusCode}`;
        if (res.statusCode >= 500) {
          failures.push(`${what} ${res.body.slice(0, 200)}`);
          before = await countRows();
          continue;
        }
        if (res.statusCode < 400) {
          if (probe.bad) failures.push(`${what}: accepted a bad body`);
          // An accepted request may finish its work after the response (a gateway call): wait
          // until the counts stand still before the next request is measured.
          before = await settled();
          continue;
        }
        const after = await countRows();
        const diff = changed(before, after);
        if (diff.length) failures.push(`${what}: a refused request wrote ${diff.join(", ")}`);
        if (probe.field && res.statusCode === 400) {
          const body = res.json();
          if (body.error?.code !== "validation_failed" || body.error.details?.fields?.[0]?.field !== probe.field)
            failures.push(`${what}: expected validation_failed on ${probe.field}, got ${res.body.slice(0, 200)}`);
        }
        before = after;
      }
    }
    expect(requests).toBeGreaterThan(1500);
    expect(failures).toEqual([]);
  });

  it("answers bad query strings and path parameters on every read route with a 4xx", { timeout: 120_000 }, async () => {
    const failures: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      const op = ops.get;
      if (!op) continue;
      const portal = path.startsWith("/portal/api");
      const auth = { authorization: `Bearer ${portal ? portalToken : t.t.tokens.admin}` };
      const resource = path.split("/")[3];
      const params = (op.parameters ?? []) as { name: string; in: string }[];
      const real = path.replace(/\{(\w+)\}/g, (_m, name) => (name === "id" && ids[resource] ? ids[resource] : newId()));
      const urls: string[] = [];
      for (const pp of params.filter((x) => x.in === "path")) {
        for (const bad of ["%00", "a%00b", "%ED%A0%80", "%F0%9F", "x".repeat(3000)])
          urls.push(path.replace(`{${pp.name}}`, bad).replace(/\{(\w+)\}/g, () => newId()));
      }
      for (const qp of params.filter((x) => x.in === "query")) {
        for (const bad of ["%00", "a%00b", "%ED%A0%80", "%C0", "99999999999999999999999", "-1", "1e400", "x".repeat(5000)])
          urls.push(`${real}?${qp.name}=${bad}`);
        urls.push(`${real}?${qp.name}=a&${qp.name}=b`);
      }
      for (const url of urls) {
        const res = await t.app.inject({ method: "GET", url, headers: auth });
        if (res.statusCode >= 500) failures.push(`GET ${url.slice(0, 120)} → ${res.statusCode} ${res.body.slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
