import { expect } from "vitest";
import type { TestApp } from "./harness.js";

/** A multipart body with form fields and one CSV file, as the import upload takes it. */
export function importMultipart(fields: Record<string, string>, filename: string, data: Buffer) {
  const boundary = "----dropdesk-import";
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields))
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  parts.push(
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: text/csv\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return { payload: Buffer.concat(parts), headers: { "content-type": `multipart/form-data; boundary=${boundary}` } };
}

/** Uploads an order file as CS and waits (up to `rounds` × 100 ms) until its import is done or failed. */
export async function importAndWait(t: TestApp, shopId: string, format: string, filename: string, data: Buffer, rounds = 600) {
  const m = importMultipart({ shopId, format }, filename, data);
  const res = await t.app.inject({
    method: "POST",
    url: "/api/v1/orders/import",
    headers: { ...m.headers, authorization: `Bearer ${t.t.tokens.cs}` },
    payload: m.payload,
  });
  expect(res.statusCode).toBe(202);
  const id = res.json().id as string;
  for (let i = 0; i < rounds; i++) {
    const s = (await t.api("GET", `/api/v1/imports/${id}`)).body;
    if (s.status === "done" || s.status === "failed") return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("import did not finish");
}
