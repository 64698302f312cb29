import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Channels } from "../../src/automation/delivery.js";
import { slaOverdueCounts } from "../../src/automation/sla-overdue.js";
import { type Catalog, createDeliveredOrder, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, supplierSession, type TestApp } from "../helpers/harness.js";

const PNG = Buffer.concat([Buffer.from("89504e470d0a1a0a0000000d49484452", "hex"), Buffer.alloc(64, 1)]);

function multipart(filename: string, data: Buffer) {
  const boundary = "----dropdesk-conv";
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: image/png\r\n\r\n`),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, headers: { "content-type": `multipart/form-data; boundary=${boundary}` } };
}

interface Sent {
  channel: "email" | "sms";
  to: string;
  subject?: string;
  body: string;
}

describe.each(DB_KINDS)("conversations on %s", (kind) => {
  let t: TestApp;
  let cat: Catalog;
  const sent: Sent[] = [];
  let failEmails = 0;
  let order: any;
  let otherOrder: any;
  let caseId: string;
  let caseNo: string;
  let customer: Record<string, string>;
  let otherCustomer: Record<string, string>;
  let supplierA: Record<string, string>;
  let supplierB: Record<string, string>;

  const run = () => (t.deps.services.runPendingJobs as () => Promise<number>)();
  const sweep = () => (t.deps.services.runSlaSweep as () => Promise<{ fired: string[] }>)();
  const countMessages = async () =>
    Number((await t.deps.h.query("SELECT count(*) AS n FROM messages WHERE tenant_id = $1", [t.t.tenantId])).rows[0].n);
  const lookup = async (platformOrderNo: string) => {
    const r = await t.api("POST", "/portal/api/lookup", { body: { platformOrderNo, phoneLast4: "5678" } });
    expect(r.status).toBe(200);
    return { authorization: `Bearer ${r.body.token}` };
  };
  const openCase = async (o: any) => {
    const r = await t.api("POST", "/api/v1/cases", {
      body: { orderId: o.id, type: "return_refund", reason: "quality", lines: [{ orderLineId: o.lines[0].id, quantity: 1 }] },
    });
    expect(r.status).toBe(201);
    return r.body;
  };

  beforeAll(async () => {
    t = await startTestApp(kind);
    // The message channels record what would go out; a failing e-mail throws like a refused SMTP send.
    const channels: Channels = {
      email: async (to, subject, body) => {
        if (failEmails > 0) {
          failEmails -= 1;
          throw new Error("SMTP refused");
        }
        sent.push({ channel: "email", to, subject, body });
      },
      sms: async (to, body) => {
        sent.push({ channel: "sms", to, body });
      },
    };
    t.deps.services.channels = channels;
    cat = await setupCatalog(t);
    t.clock.set("2026-03-02T04:00:00Z");
    order = await createDeliveredOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }], email: "buyer@example.test" });
    otherOrder = await createDeliveredOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
    const c = await openCase(order);
    caseId = c.id;
    caseNo = c.caseNo;
    expect(c.supplierId).toBe(cat.suppliers.a);
    customer = await lookup(order.platformOrderNo);
    otherCustomer = await lookup(otherOrder.platformOrderNo);
    supplierA = await supplierSession(t.app, t.deps, t.t.tenantId, cat.suppliers.a);
    supplierB = await supplierSession(t.app, t.deps, t.t.tenantId, cat.suppliers.b);
    await run();
    sent.length = 0;
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = (who: { as?: string; headers?: Record<string, string> }, url: string, body: unknown) => t.api("POST", url, { ...who, body });

  it("lets staff, the case's supplier and the order's customer see and write exactly their threads", async () => {
    const url = `/api/v1/cases/${caseId}/messages`;
    const portal = `/portal/api/cases/${caseId}/messages`;
    for (const visibility of ["internal", "customer", "supplier"])
      expect((await post({ as: "cs" }, url, { body: `staff ${visibility}`, visibility })).status).toBe(201);
    // The customer of this order: the customer thread only, and writes there only.
    const mine = (await t.api("GET", portal, { headers: customer })).body.items;
    expect(mine.map((m: any) => m.body)).toEqual(["staff customer"]);
    // Staff sign with their name (an API token with its own).
    expect(mine[0].author).toEqual({ kind: "staff", name: "cs token" });
    const before = await countMessages();
    for (const visibility of ["internal", "supplier"]) {
      const r = await post({ headers: customer }, portal, { body: "let me in", visibility });
      expect(r.status).toBe(403);
      expect(r.body.error.details.fields[0].field).toBe("visibility");
    }
    expect(await countMessages()).toBe(before);
    const asked = await post({ headers: customer }, portal, { body: "杯子有裂纹，怎么办？" });
    expect(asked.status).toBe(201);
    expect(asked.body).toMatchObject({ visibility: "customer", author: { kind: "customer", name: "王小明" } });
    // The customer of another order reaches nothing of this case.
    expect((await t.api("GET", portal, { headers: otherCustomer })).status).toBe(404);
    expect((await post({ headers: otherCustomer }, portal, { body: "hello" })).status).toBe(404);
    // The case's supplier: the supplier thread only.
    const sup = (await t.api("GET", url, { headers: supplierA })).body.items;
    expect(sup.map((m: any) => m.body)).toEqual(["staff supplier"]);
    expect((await post({ headers: supplierA }, url, { body: "not for you", visibility: "customer" })).status).toBe(403);
    expect((await post({ headers: supplierA }, url, { body: "not for you", visibility: "internal" })).status).toBe(403);
    const answered = await post({ headers: supplierA }, url, { body: "已确认是我方发错货" });
    expect(answered.status).toBe(201);
    expect(answered.body).toMatchObject({ visibility: "supplier", author: { kind: "supplier", name: "Supplier A" } });
    // Another supplier does not see the case at all; a supplier has no order threads.
    expect((await t.api("GET", url, { headers: supplierB })).status).toBe(404);
    expect((await post({ headers: supplierB }, url, { body: "hi" })).status).toBe(404);
    expect((await t.api("GET", `/api/v1/orders/${order.id}/messages`, { headers: supplierA })).status).toBe(403);
    // Staff see all three threads, oldest first; a viewer reads but does not write.
    const all = (await t.api("GET", url, { as: "viewer" })).body.items;
    expect(all.map((m: any) => `${m.visibility}:${m.author.kind}`)).toEqual([
      "internal:staff",
      "customer:staff",
      "supplier:staff",
      "customer:customer",
      "supplier:supplier",
    ]);
    expect((await post({ as: "viewer" }, url, { body: "x", visibility: "internal" })).status).toBe(403);
    // Another tenant's staff do not find the case.
    expect((await t.api("GET", url, { as: "other:admin" })).status).toBe(404);
  });

  it("keeps an order's own thread for questions before any case, with the customer and internal notes", async () => {
    const r = await post({ headers: otherCustomer }, "/portal/api/messages", { body: "还没收到货，能查一下吗？" });
    expect(r.status).toBe(201);
    expect(r.body.caseId).toBeNull();
    const staffView = (await t.api("GET", `/api/v1/orders/${otherOrder.id}/messages`)).body.items;
    expect(staffView.map((m: any) => m.body)).toEqual(["还没收到货，能查一下吗？"]);
    expect((await post({ as: "cs" }, `/api/v1/orders/${otherOrder.id}/messages`, { body: "x", visibility: "supplier" })).status).toBe(400);
    expect(
      (await post({ as: "cs" }, `/api/v1/orders/${otherOrder.id}/messages`, { body: "已查询，明天送达", visibility: "customer" })).status,
    ).toBe(201);
    const seen = (await t.api("GET", "/portal/api/messages", { headers: otherCustomer })).body.items;
    expect(seen.map((m: any) => m.body)).toEqual(["还没收到货，能查一下吗？", "已查询，明天送达"]);
    expect(seen[1].unread).toBe(true);
    // The other order's customer cannot read this one's thread through the staff route.
    expect((await t.api("GET", `/api/v1/orders/${otherOrder.id}/messages`, { headers: customer })).status).toBe(403);
  });

  it("counts unread messages for staff, the customer and the supplier through a round trip", async () => {
    const c = await openCase(otherOrder);
    const staffUnread = async () => (await t.api("GET", `/api/v1/cases/${c.id}`)).body.unreadMessages;
    const inUnreadList = async () => (await t.api("GET", "/api/v1/cases?unread=true&limit=200")).body.items.some((x: any) => x.id === c.id);
    expect(await staffUnread()).toBe(0);
    expect(await inUnreadList()).toBe(false);
    await post({ headers: otherCustomer }, `/portal/api/cases/${c.id}/messages`, { body: "图片已上传" });
    await post({ headers: otherCustomer }, `/portal/api/cases/${c.id}/messages`, { body: "请尽快处理" });
    expect(await staffUnread()).toBe(2);
    expect(await inUnreadList()).toBe(true);
    const item = (await t.api("GET", `/api/v1/cases?orderId=${otherOrder.id}`)).body.items.find((x: any) => x.id === c.id);
    expect(item.unreadMessages).toBe(2);
    // A staff member opens the thread: read for all staff.
    expect((await post({ as: "cs" }, `/api/v1/cases/${c.id}/messages/actions/read`, {})).body.marked).toBe(2);
    expect(await staffUnread()).toBe(0);
    expect(await inUnreadList()).toBe(false);
    expect((await t.api("GET", `/api/v1/cases/${c.id}/messages`)).body.items.every((m: any) => m.readAt)).toBe(true);
    // Staff answer: the customer has one unread, until they open it.
    await post({ as: "cs" }, `/api/v1/cases/${c.id}/messages`, { body: "已收到，马上处理", visibility: "customer" });
    const summary = (await t.api("GET", "/portal/api/messages/unread", { headers: otherCustomer })).body;
    expect(summary.byCase[c.id]).toBe(1);
    expect((await post({ headers: otherCustomer }, `/portal/api/cases/${c.id}/messages/actions/read`, {})).body.marked).toBe(1);
    expect((await t.api("GET", "/portal/api/messages/unread", { headers: otherCustomer })).body.byCase[c.id]).toBeUndefined();
    // The supplier sees its own count, in the case list and the summary; an internal note counts for nobody.
    await post({ as: "cs" }, `/api/v1/cases/${caseId}/messages`, { body: "内部：先别退款", visibility: "internal" });
    await post({ as: "cs" }, `/api/v1/cases/${caseId}/messages`, { body: "请确认发货批次", visibility: "supplier" });
    const supList = (await t.api("GET", "/api/v1/cases?unread=true", { headers: supplierA })).body.items;
    expect(supList.map((x: any) => x.id)).toEqual([caseId]);
    // Supplier A answered the first supplier message earlier, which read it; the new one is unread.
    expect(supList[0].unreadMessages).toBe(1);
    expect((await t.api("GET", "/api/v1/messages/unread", { headers: supplierA })).body.total).toBe(1);
    expect((await t.api("GET", "/api/v1/messages/unread", { headers: supplierB })).body.total).toBe(0);
    await post({ headers: supplierA }, `/api/v1/cases/${caseId}/messages/actions/read`, {});
    expect((await t.api("GET", "/api/v1/messages/unread", { headers: supplierA })).body.total).toBe(0);
  });

  it("sends each staff message once by the customer's channels and the supplier's e-mail, retrying a failure", async () => {
    await run();
    sent.length = 0;
    const toCustomer = await post({ as: "cs" }, `/api/v1/cases/${caseId}/messages`, { body: "请拍一张裂纹的照片", visibility: "customer" });
    await post({ as: "cs" }, `/api/v1/cases/${caseId}/messages`, { body: "仅内部可见", visibility: "internal" });
    await run();
    const mail = sent.filter((s) => s.channel === "email" && s.body.includes("请拍一张裂纹的照片"));
    const sms = sent.filter((s) => s.channel === "sms" && s.body.includes("请拍一张裂纹的照片"));
    expect(mail.map((m) => m.to)).toEqual(["buyer@example.test"]);
    expect(mail[0].subject).toBe(`客服回复了您 ${caseNo}`);
    expect(sms.map((m) => m.to)).toEqual(["13912345678"]);
    expect(sent.some((s) => s.body.includes("仅内部可见"))).toBe(false);
    // The link opens this case in the portal with its own token.
    const link = /(\S*\/portal\/cases\/[0-9a-f-]+)#t=(\S+)/.exec(mail[0].body);
    expect(link?.[1]).toMatch(new RegExp(`/portal/cases/${caseId}$`));
    const viaLink = await t.api("GET", `/portal/api/cases/${caseId}/messages`, { headers: { authorization: `Bearer ${link?.[2]}` } });
    expect(viaLink.status).toBe(200);
    expect(viaLink.body.items.some((m: any) => m.id === toCustomer.body.id)).toBe(true);
    const rows = (await t.api("GET", `/api/v1/notifications?caseId=${caseId}&event=message.to_customer`)).body.items;
    expect(
      rows
        .filter((n: any) => n.body.includes("请拍一张裂纹的照片"))
        .map((n: any) => `${n.channel}:${n.status}`)
        .sort(),
    ).toEqual(["email:sent", "sms:sent"]);
    await run();
    expect(sent.filter((s) => s.body.includes("请拍一张裂纹的照片")).length).toBe(2);

    // To the supplier: one e-mail to its contact with the supplier portal's link; the first send fails and is retried.
    failEmails = 1;
    await post({ as: "cs" }, `/api/v1/cases/${caseId}/messages`, { body: "请提供补发单号", visibility: "supplier" });
    await run();
    const failed = (await t.api("GET", `/api/v1/notifications?caseId=${caseId}&event=message.to_supplier`)).body.items.find((n: any) =>
      n.body.includes("请提供补发单号"),
    );
    expect(failed).toMatchObject({ status: "failed", recipient: "a@supplier.test", lastError: "SMTP refused" });
    for (let i = 0; i < 40 && !sent.some((s) => s.body.includes("请提供补发单号")); i++) {
      await run();
      await new Promise((r) => setTimeout(r, 500));
    }
    const toSupplier = sent.filter((s) => s.body.includes("请提供补发单号"));
    expect(toSupplier.map((s) => `${s.channel}:${s.to}`)).toEqual(["email:a@supplier.test"]);
    expect(toSupplier[0].body).toContain(`/supplier/cases/${caseId}`);
    const after = (await t.api("GET", `/api/v1/notifications?caseId=${caseId}&event=message.to_supplier`)).body.items.find((n: any) =>
      n.body.includes("请提供补发单号"),
    );
    expect(after).toMatchObject({ status: "sent", attempts: 2 });
    await run();
    expect(sent.filter((s) => s.body.includes("请提供补发单号")).length).toBe(1);
  });

  it("renders quick replies with the case's variables, in the composer and when sent", async () => {
    await t.api("POST", `/api/v1/cases/${caseId}/actions/approve`, { body: {} });
    const qr = await post({ as: "cs" }, "/api/v1/quick-replies", {
      title: "退货地址",
      body: "{{customerName}}您好，售后单 {{caseNo}} 已同意，请寄回：{{returnAddress}}，{{deadline}} 前寄出，预计退款 {{refundAmount}}。{{unknown}}",
    });
    expect(qr.status).toBe(201);
    expect((await post({ as: "cs" }, "/api/v1/quick-replies", { title: "退货地址", body: "again" })).status).toBe(409);
    expect((await post({ as: "viewer" }, "/api/v1/quick-replies", { title: "x", body: "y" })).status).toBe(403);
    const rendered = await post({ as: "cs" }, `/api/v1/quick-replies/${qr.body.id}/actions/render`, { caseId });
    expect(rendered.status).toBe(200);
    expect(rendered.body.body).toMatch(
      new RegExp(
        `^王小明您好，售后单 ${caseNo} 已同意，请寄回：浙江 义乌 福田路 1 号 退货仓 13800000000，2026-03-\\d\\d \\d\\d:\\d\\d 前寄出，预计退款 ¥39\\.00。$`,
      ),
    );
    // Sent with the quick reply and no text: the server renders it for this case.
    const m = await post({ as: "cs" }, `/api/v1/cases/${caseId}/messages`, { visibility: "customer", quickReplyId: qr.body.id });
    expect(m.status).toBe(201);
    expect(m.body.body).toBe(rendered.body.body);
    expect(m.body.quickReplyId).toBe(qr.body.id);
    // Edited text with variables left in is rendered too; the customer may not use quick replies.
    const edited = await post({ as: "cs" }, `/api/v1/cases/${caseId}/messages`, {
      visibility: "customer",
      quickReplyId: qr.body.id,
      body: "{{customerName}}，补充一句",
    });
    expect(edited.body.body).toBe("王小明，补充一句");
    const refused = await post({ headers: customer }, `/portal/api/cases/${caseId}/messages`, {
      body: "{{caseNo}}",
      quickReplyId: qr.body.id,
    });
    expect(refused.status).toBe(403);
    // Reject and request-info notes come from the same list, by purpose.
    const reason = await post({ as: "cs" }, "/api/v1/quick-replies", {
      title: "超出时限",
      body: "很抱歉，{{caseNo}} 已超出售后时限",
      purpose: "reject",
    });
    const rejects = (await t.api("GET", "/api/v1/quick-replies?purpose=reject")).body;
    expect(rejects.items.map((x: any) => x.id)).toEqual([reason.body.id]);
    expect(rejects.variables).toEqual(["customerName", "caseNo", "refundAmount", "returnAddress", "deadline"]);
    const patched = await t.api("PATCH", `/api/v1/quick-replies/${reason.body.id}`, { as: "cs", body: { body: "{{caseNo}} 不符合条件" } });
    expect(patched.body.body).toBe("{{caseNo}} 不符合条件");
    expect((await t.api("DELETE", `/api/v1/quick-replies/${reason.body.id}`, { as: "cs" })).status).toBe(200);
    expect((await t.api("GET", "/api/v1/quick-replies?purpose=reject")).body.items).toEqual([]);
    expect((await t.api("DELETE", `/api/v1/quick-replies/${reason.body.id}`, { as: "cs" })).status).toBe(404);
  });

  it("checks attachments by their content and size like evidence, and shows them only where their message is", async () => {
    const upload = (headers: Record<string, string> | undefined, url: string, name: string, data: Buffer) => {
      const mp = multipart(name, data);
      return t.api("POST", url, { headers: { ...mp.headers, ...(headers ?? {}) }, body: mp.body });
    };
    const staffUrl = `/api/v1/cases/${caseId}/messages/attachments`;
    const fake = await upload(undefined, staffUrl, "photo.png", Buffer.from("%PDF-1.7 not a photo at all"));
    expect(fake.status).toBe(415);
    expect(fake.body.error.message).toMatch(/^file:/);
    const script = await upload(undefined, staffUrl, "x.jpg", Buffer.from("<script>alert(1)</script>"));
    expect(script.status).toBe(415);
    const big = await upload(undefined, staffUrl, "big.png", Buffer.concat([PNG, Buffer.alloc(10 * 1024 * 1024)]));
    expect(big.status).toBe(413);
    const photo = await upload(undefined, staffUrl, "裂纹.png", PNG);
    expect(photo.status).toBe(201);
    expect(photo.body).toMatchObject({ kind: "image", mime: "image/png" });
    // Before it is sent only its uploader reaches it.
    expect((await t.api("GET", `/portal/api/message-attachments/${photo.body.id}`, { headers: customer })).status).toBe(404);
    const note = await post({ as: "admin" }, `/api/v1/cases/${caseId}/messages`, {
      body: "内部：照片见附件",
      visibility: "internal",
      attachments: [photo.body.id],
    });
    expect(note.status).toBe(201);
    expect(note.body.attachments).toEqual([
      expect.objectContaining({ id: photo.body.id, kind: "image", url: `/api/v1/message-attachments/${photo.body.id}` }),
    ]);
    const served = await t.api("GET", `/api/v1/message-attachments/${photo.body.id}`, { as: "viewer" });
    expect(served.status).toBe(200);
    expect(served.headers["content-type"]).toBe("image/png");
    expect(served.headers["x-content-type-options"]).toBe("nosniff");
    expect(String(served.headers["content-disposition"])).toContain("inline");
    // An internal note's file is not the customer's nor the supplier's; a file is sent once.
    expect((await t.api("GET", `/portal/api/message-attachments/${photo.body.id}`, { headers: customer })).status).toBe(404);
    expect((await t.api("GET", `/api/v1/message-attachments/${photo.body.id}`, { headers: supplierA })).status).toBe(404);
    const again = await post({ as: "admin" }, `/api/v1/cases/${caseId}/messages`, {
      body: "again",
      visibility: "customer",
      attachments: [photo.body.id],
    });
    expect(again.status).toBe(400);
    expect(again.body.error.details.fields[0].field).toBe("attachments.0");
    // The customer's own photo, in their thread, is seen by staff and the customer.
    const mine = await upload(customer, `/portal/api/cases/${caseId}/messages/attachments`, "crack.png", PNG);
    expect(mine.status).toBe(201);
    expect(
      (await post({ as: "cs" }, `/api/v1/cases/${caseId}/messages`, { body: "steal", visibility: "customer", attachments: [mine.body.id] }))
        .status,
    ).toBe(400);
    const sentMine = await post({ headers: customer }, `/portal/api/cases/${caseId}/messages`, {
      body: "照片",
      attachments: [mine.body.id],
    });
    expect(sentMine.body.attachments[0].url).toBe(`/portal/api/message-attachments/${mine.body.id}`);
    expect((await t.api("GET", `/portal/api/message-attachments/${mine.body.id}`, { headers: customer })).status).toBe(200);
    expect((await t.api("GET", `/api/v1/message-attachments/${mine.body.id}`, { as: "cs" })).status).toBe(200);
    expect((await t.api("GET", `/portal/api/message-attachments/${mine.body.id}`, { headers: otherCustomer })).status).toBe(404);
  });

  it("refuses bad input naming the field and writes nothing", async () => {
    const url = `/api/v1/cases/${caseId}/messages`;
    const before = await countMessages();
    const field = async (body: unknown, status = 400, who: { as?: string; headers?: Record<string, string> } = { as: "cs" }, u = url) => {
      const r = await post(who, u, body);
      expect(r.status).toBe(status);
      return r.body.error.details.fields[0].field;
    };
    expect(await field({ body: "", visibility: "customer" })).toBe("body");
    expect(await field({ body: "   \n ", visibility: "customer" })).toBe("body");
    expect(await field({ body: "字".repeat(20_001), visibility: "customer" })).toBe("body");
    expect(await field({ body: "hello" })).toBe("visibility");
    expect(await field({ body: "hello", visibility: "public" })).toBe("visibility");
    expect(await field({ body: "hello", visibility: "customer", attachments: ["not-a-uuid"] })).toBe("attachments.0");
    expect(await field({ body: "hello", visibility: "customer", quickReplyId: "00000000-0000-4000-8000-000000000000" })).toBe(
      "quickReplyId",
    );
    expect(await field({ body: "", visibility: "customer" }, 400, { headers: customer }, `/portal/api/cases/${caseId}/messages`)).toBe(
      "body",
    );
    expect((await post({ as: "cs" }, url, { body: "字".repeat(20_000), visibility: "internal" })).status).toBe(201);
    expect(await countMessages()).toBe(before + 1);

    // A case that ended takes messages within the policy's reopen window (15 days), then only internal notes.
    const ended = await createDeliveredOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }] });
    const c = await openCase(ended);
    expect((await t.api("POST", `/api/v1/cases/${c.id}/actions/reject`, { body: { note: "超出时限" } })).status).toBe(200);
    t.clock.advance(14 * 86400_000);
    const endedCustomer = await lookup(ended.platformOrderNo);
    expect((await post({ headers: endedCustomer }, `/portal/api/cases/${c.id}/messages`, { body: "为什么拒绝？" })).status).toBe(201);
    t.clock.advance(2 * 86400_000);
    const n = await countMessages();
    const late = await post({ headers: endedCustomer }, `/portal/api/cases/${c.id}/messages`, { body: "还在吗？" });
    expect(late.status).toBe(409);
    expect(late.body.error.details.fields[0].field).toBe("caseId");
    expect((await post({ as: "cs" }, `/api/v1/cases/${c.id}/messages`, { body: "已回复", visibility: "customer" })).status).toBe(409);
    expect(await countMessages()).toBe(n);
    expect((await post({ as: "cs" }, `/api/v1/cases/${c.id}/messages`, { body: "归档备注", visibility: "internal" })).status).toBe(201);
  });

  it("puts messages on staff's timeline only, and alerts once on a customer message left unanswered past the SLA", async () => {
    const o = await createDeliveredOrder(t, cat, { lines: [{ skuCode: "MUG", quantity: 1 }], platformOrderNo: `SLA${Date.now()}` });
    const c = await openCase(o);
    const who = await lookup(o.platformOrderNo);
    await post({ as: "cs" }, `/api/v1/cases/${c.id}/messages`, { body: "内部备注", visibility: "internal" });
    const asked = await post({ headers: who }, `/portal/api/cases/${c.id}/messages`, { body: "什么时候处理？" });
    expect(asked.body.responseDueAt).toBeUndefined();
    const staffTimeline = (await t.api("GET", `/api/v1/cases/${c.id}`)).body.timeline;
    expect(staffTimeline.filter((e: any) => e.action === "message").map((e: any) => e.data.visibility)).toEqual(["internal", "customer"]);
    const portalTimeline = (await t.api("GET", `/portal/api/cases/${c.id}`, { headers: who })).body.timeline;
    expect(portalTimeline.some((e: any) => e.action === "message")).toBe(false);
    const staffMsg = (await t.api("GET", `/api/v1/cases/${c.id}/messages?visibility=customer`)).body.items[0];
    expect(new Date(staffMsg.responseDueAt).getTime() - new Date(staffMsg.createdAt).getTime()).toBe(24 * 3600_000);

    const overdueIds = async () => (await t.api("GET", "/api/v1/cases?overdue=true&limit=200")).body.items.map((x: any) => x.id);
    t.clock.advance(23 * 3600_000);
    expect((await sweep()).fired).not.toContain(`message_overdue:${asked.body.id}`);
    t.clock.advance(2 * 3600_000);
    expect((await sweep()).fired).toContain(`message_overdue:${asked.body.id}`);
    expect((await sweep()).fired).not.toContain(`message_overdue:${asked.body.id}`);
    expect(await overdueIds()).toContain(c.id);
    const view = (await t.api("GET", `/api/v1/cases/${c.id}`)).body;
    expect(view.replyOverdue).toBe(true);
    // The overdue counts agree with the inbox: every case the filter lists for a late reply is counted.
    const counts = await slaOverdueCounts(t.deps, t.t.tenantId);
    const late = Number(
      (
        await t.deps.h.query(
          "SELECT count(DISTINCT case_id) AS n FROM messages WHERE tenant_id = $1 AND answered_at IS NULL AND response_due_at < $2 AND case_id IS NOT NULL",
          [t.t.tenantId, t.clock.now()],
        )
      ).rows[0].n,
    );
    expect(late).toBeGreaterThanOrEqual(1);
    expect(counts.customerMessageResponse).toBe(late);
    expect((await slaOverdueCounts(t.deps, t.other.tenantId)).customerMessageResponse).toBe(0);
    // The reply answers it: no longer overdue, and the first-response time is counted.
    await post({ as: "cs" }, `/api/v1/cases/${c.id}/messages`, { body: "今天处理", visibility: "customer" });
    expect((await t.api("GET", `/api/v1/cases/${c.id}`)).body.replyOverdue).toBe(false);
    expect((await slaOverdueCounts(t.deps, t.t.tenantId)).customerMessageResponse).toBe(late - 1);
    const report = (await t.api("GET", "/api/v1/analytics/first-response?from=2026-03-01&to=2026-04-30")).body;
    expect(report.customerMessages).toBeGreaterThanOrEqual(1);
    expect(report.sla.breached).toBeGreaterThanOrEqual(1);
    expect(report.medianHours).not.toBeNull();
    // Per day of the shop's time zone, adding up to the total; the same figures as CSV with a total row.
    expect(report.groupBy).toBe("day");
    expect(report.items.reduce((n: number, x: any) => n + x.customerMessages, 0)).toBe(report.customerMessages);
    expect(report.items.reduce((n: number, x: any) => n + x.sla.breached, 0)).toBe(report.sla.breached);
    const answeredDay = report.items.find((x: any) => x.sla.breached > 0);
    expect(answeredDay.period).toMatch(/^2026-0[34]-\d\d$/);
    const monthly = (await t.api("GET", "/api/v1/analytics/first-response?from=2026-03-01&to=2026-04-30&groupBy=month")).body;
    expect(monthly.items.map((x: any) => x.period)).toEqual(expect.arrayContaining(["2026-03-01"]));
    const csv = await t.api("GET", "/api/v1/analytics/first-response?from=2026-03-01&to=2026-04-30&format=csv", { as: "viewer" });
    expect(csv.status).toBe(200);
    expect(String(csv.headers["content-type"])).toContain("text/csv");
    const lines = csv.text
      .replace(/^\uFEFF/, "")
      .trim()
      .split("\r\n");
    expect(lines[0].split(",")).toEqual(
      expect.arrayContaining(["period", "customerMessages", "medianHours", "sla.breached", "sla.compliance"]),
    );
    expect(lines).toHaveLength(report.items.length + 2);
    const header = lines[0].split(",");
    const totalRow = lines[lines.length - 1].split(",");
    expect(totalRow[header.indexOf("period")]).toBe("2026-03-01..2026-04-30");
    expect(Number(totalRow[header.indexOf("customerMessages")])).toBe(report.customerMessages);
    expect((await t.api("GET", "/api/v1/analytics/first-response?groupBy=hour")).body.error.details.fields[0].field).toBe(
      "querystring.groupBy",
    );
    const timings = (await t.api("GET", "/api/v1/analytics/timings?from=2026-03-01&to=2026-04-30")).body.items;
    expect(timings[0].firstResponse.count).toBeGreaterThanOrEqual(1);
  });
});
