import { createServer, type IncomingMessage, type Server } from "node:http";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signWebhook } from "../../src/automation/delivery.js";
import { emit } from "../../src/platform/context.js";
import { PRESETS } from "../../src/policies/rules.js";
import { type Catalog, createDeliveredOrder, createOrder, setupCatalog } from "../helpers/fixtures.js";
import { DB_KINDS, startTestApp, type TestApp } from "../helpers/harness.js";

interface Mail {
  to: string;
  raw: string;
  text: string;
}

/** Decodes the parts of a raw message that a test reads: encoded-word headers and the body. */
function decodeMail(raw: string): string {
  const headers = raw.replace(/=\?utf-8\?([BQ])\?([^?]*)\?=/gi, (_, enc: string, data: string) =>
    enc.toUpperCase() === "B"
      ? Buffer.from(data, "base64").toString("utf8")
      : Buffer.from(
          data.replace(/_/g, " ").replace(/=([0-9A-F]{2})/gi, (_m, h) => String.fromCharCode(Number.parseInt(h, 16))),
          "latin1",
        ).toString("utf8"),
  );
  const [, body = ""] = raw.split(/\r?\n\r?\n/, 2);
  const rest = raw.slice(raw.indexOf(body));
  const qp = Buffer.from(
    rest.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/gi, (_m, h) => String.fromCharCode(Number.parseInt(h, 16))),
    "latin1",
  ).toString("utf8");
  let b64 = "";
  try {
    b64 = Buffer.from(rest.replace(/\s+/g, ""), "base64").toString("utf8");
  } catch {}
  return `${headers}\n${qp}\n${b64}`;
}

function smtp(): Promise<{ port: number; mails: Mail[]; close: () => Promise<void> }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    onData(stream, session, cb) {
      let raw = "";
      stream.on("data", (d: Buffer) => {
        raw += d.toString("utf8");
      });
      stream.on("end", () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address).join(","), raw, text: decodeMail(raw) });
        cb();
      });
    },
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const port = (server.server.address() as { port: number }).port;
      resolve({ port, mails, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

function receiver(
  failFirst: number,
): Promise<{ url: string; hits: { headers: IncomingMessage["headers"]; body: string; status: number }[]; close: () => Promise<void> }> {
  const hits: { headers: IncomingMessage["headers"]; body: string; status: number }[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      const status = hits.length < failFirst ? 500 : 200;
      hits.push({ headers: req.headers, body, status });
      res.writeHead(status).end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      resolve({ url: `http://127.0.0.1:${port}/hook`, hits, close: () => new Promise((r) => server.close(() => r())) });
    }),
  );
}

const run = (t: TestApp) => (t.deps.services.runPendingJobs as () => Promise<number>)();
const sweep = (t: TestApp) => (t.deps.services.runSlaSweep as () => Promise<{ fired: string[] }>)();

describe.each(DB_KINDS)("automation on %s", (kind) => {
  let t: TestApp;
  let cat: Catalog;
  let mail: Awaited<ReturnType<typeof smtp>>;
  beforeAll(async () => {
    mail = await smtp();
    process.env.SMTP_URL = `smtp://127.0.0.1:${mail.port}`;
    // The suite's receivers listen on loopback: this installation allows it (no default does).
    t = await startTestApp(kind, { config: { outboundAllow: "127.0.0.1" } });
    delete process.env.SMTP_URL;
    cat = await setupCatalog(t);
    t.clock.set("2026-03-02T04:00:00Z");
  });
  afterAll(async () => {
    await t?.close();
    await mail?.close();
  });

  it("emails the customer when a case is approved, in Chinese and in English", async () => {
    await run(t);
    const order = await createDeliveredOrder(t, cat, { email: "buyer@example.test", deliveredAt: "2026-03-01T10:00:00+08:00" });
    const c = (
      await t.api("POST", "/api/v1/cases", {
        body: { orderId: order.id, type: "return_refund", reason: "quality", lines: [{ orderLineId: order.lines[0].id, quantity: 1 }] },
      })
    ).body;
    await t.api("POST", `/api/v1/cases/${c.id}/actions/approve`, { body: {} });
    mail.mails.length = 0;
    await run(t);
    const zh = mail.mails.find((m) => m.text.includes(`您的售后申请 ${c.caseNo} 已同意`) && m.to === "buyer@example.test");
    expect(zh).toBeTruthy();
    const sent = (await t.api("GET", `/api/v1/notifications?caseId=${c.id}`)).body.items;
    const approved = sent.find((n: any) => n.event === "case.approved" && n.channel === "email");
    expect(approved.status).toBe("sent");
    expect(approved.subject).toBe(`售后申请已同意 ${c.caseNo}`);
    expect(approved.body).toContain("义乌");
    // Running the queue again sends nothing twice.
    const before = mail.mails.length;
    await run(t);
    expect(mail.mails.length).toBe(before);
    // The English template, through a locale override on the event.
    const tx = await t.deps.db.transaction().execute(async (tx) => {
      await emit(t.deps, tx, {
        type: "case.approved",
        tenantId: t.t.tenantId,
        entityId: c.id,
        data: { locale: "en", orderId: order.id },
        key: `test-en:${c.id}`,
      });
    });
    void tx;
    await run(t);
    const en = (await t.api("GET", `/api/v1/notifications?caseId=${c.id}`)).body.items.find(
      (n: any) => n.locale === "en" && n.channel === "email",
    );
    expect(en.subject).toBe(`Your request ${c.caseNo} is approved`);
    expect(mail.mails.some((m) => m.text.includes(`Your request ${c.caseNo} is approved.`))).toBe(true);
  });

  it("signs webhooks, retries a failing receiver, and sends nothing for a rolled-back change", async () => {
    const rx = await receiver(2);
    const hook = (
      await t.api("POST", "/api/v1/webhooks", { body: { url: rx.url, events: ["case.*"], secret: "a-very-long-webhook-secret" } })
    ).body;
    try {
      await run(t);
      rx.hits.length = 0;
      const failBefore = rx.hits.length;
      await t.deps.db.transaction().execute(async (tx) => {
        await emit(t.deps, tx, {
          type: "case.escalated",
          tenantId: t.t.tenantId,
          entityId: "00000000-0000-4000-8000-000000000001",
          data: { n: 1 },
          key: "hook-test-1",
        });
      });
      // First attempt fails, the job is retried; drive retries until the receiver takes it.
      for (let i = 0; i < 30 && !rx.hits.some((h) => h.status === 200); i++) {
        await run(t);
        await new Promise((r) => setTimeout(r, 500));
      }
      const ok = rx.hits.filter((h) => h.body.includes("hook-test") || h.body.includes("case.escalated"));
      expect(ok.length - failBefore).toBe(3);
      expect(ok.map((h) => h.status)).toEqual([500, 500, 200]);
      const last = ok[2];
      const [tPart, vPart] = String(last.headers["dropdesk-signature"]).split(",");
      const ts = Number(tPart.slice(2));
      expect(vPart.slice(3)).toBe(signWebhook("a-very-long-webhook-secret", ts, last.body));
      const deliveries = (await t.api("GET", `/api/v1/webhooks/${hook.id}/deliveries`)).body.items;
      expect(deliveries[0]).toMatchObject({ status: "delivered", attempts: 3 });
      // A change that rolls back queues nothing.
      const hitsBefore = rx.hits.length;
      await t.deps.db
        .transaction()
        .execute(async (tx) => {
          await emit(t.deps, tx, {
            type: "case.escalated",
            tenantId: t.t.tenantId,
            entityId: "00000000-0000-4000-8000-000000000002",
            data: {},
            key: "rolled-back",
          });
          throw new Error("roll back");
        })
        .catch(() => {});
      await run(t);
      expect(rx.hits.length).toBe(hitsBefore);
    } finally {
      await t.api("DELETE", `/api/v1/webhooks/${hook.id}`);
      await rx.close();
    }
  });

  it("queues no job for an event nobody listens to, until a webhook subscribes to it", async () => {
    await run(t);
    const ping = (i: number) =>
      t.deps.db.transaction().execute((tx) =>
        emit(t.deps, tx, {
          type: "inventory.pinged",
          tenantId: t.t.tenantId,
          entityId: t.t.tenantId,
          data: { i },
          key: `ping-${kind}-${i}`,
        }),
      );
    await ping(1);
    expect(await run(t)).toBe(0);
    const hook = await t.api("POST", "/api/v1/webhooks", { body: { url: "http://127.0.0.1:9/hook", events: ["inventory.*"] } });
    expect(hook.status).toBe(201);
    await ping(2);
    expect(await run(t)).toBe(1);
    const deliveries = await t.deps.db.selectFrom("webhook_deliveries").select("event").where("webhook_id", "=", hook.body.id).execute();
    expect(deliveries.map((d) => d.event)).toEqual(["inventory.pinged"]);
    expect((await t.api("DELETE", `/api/v1/webhooks/${hook.body.id}`)).status).toBe(200);
  });

  it("delivers a case action's event to the webhooks its transaction saw subscribed, and to no other", async () => {
    await run(t);
    const approvals = await t.api("POST", "/api/v1/webhooks", { body: { url: "http://127.0.0.1:9/hook", events: ["case.approved"] } });
    const rejections = await t.api("POST", "/api/v1/webhooks", { body: { url: "http://127.0.0.1:9/hook", events: ["case.rejected"] } });
    const open = async () => {
      const order = await createDeliveredOrder(t, cat, { email: "hooks@example.test", deliveredAt: "2026-03-01T10:00:00+08:00" });
      return (
        await t.api("POST", "/api/v1/cases", {
          body: { orderId: order.id, type: "return_refund", reason: "quality", lines: [{ orderLineId: order.lines[0].id, quantity: 1 }] },
        })
      ).body;
    };
    const c = await open();
    // The approval locks the case with the tenant's webhooks (one statement) and its event carries
    // what that read said; the job then delivers to the approvals' webhook only.
    expect((await t.api("POST", `/api/v1/cases/${c.id}/actions/approve`, { body: {} })).status).toBe(200);
    await run(t);
    const deliveries = (id: string) =>
      t.deps.db.selectFrom("webhook_deliveries").select(["event", "event_id"]).where("webhook_id", "=", id).execute();
    expect((await deliveries(approvals.body.id)).map((d) => d.event)).toEqual(["case.approved"]);
    expect(await deliveries(rejections.body.id)).toEqual([]);
    // An approval whose transaction saw no subscribed webhook: a webhook created before its job
    // runs gets nothing of it (webhooks receive the events committed after their creation), while
    // the job still sends the customer's messages.
    await t.api("DELETE", `/api/v1/webhooks/${approvals.body.id}`);
    const d = await open();
    expect((await t.api("POST", `/api/v1/cases/${d.id}/actions/approve`, { body: {} })).status).toBe(200);
    const late = await t.api("POST", "/api/v1/webhooks", { body: { url: "http://127.0.0.1:9/hook", events: ["case.approved"] } });
    await run(t);
    expect(await deliveries(late.body.id)).toEqual([]);
    const notes = await t.deps.db.selectFrom("notifications").select("event").where("case_id", "=", d.id).execute();
    expect(notes.map((n) => n.event)).toContain("case.approved");
    await t.api("DELETE", `/api/v1/webhooks/${late.body.id}`);
    await t.api("DELETE", `/api/v1/webhooks/${rejections.body.id}`);
  });

  it("fires the merchant-response deadline once, at the right time, and a state change cancels it", async () => {
    t.clock.set("2026-03-02T04:00:00Z");
    const order = await createDeliveredOrder(t, cat, { deliveredAt: "2026-03-01T10:00:00+08:00" });
    const open = async () =>
      (
        await t.api("POST", "/api/v1/cases", {
          body: { orderId: order.id, type: "return_refund", reason: "quality", lines: [{ orderLineId: order.lines[0].id, quantity: 1 }] },
        })
      ).body;
    const a = await open();
    const b = await open();
    expect(new Date(a.deadlines.responseDueAt).toISOString()).toBe("2026-03-04T04:00:00.000Z");
    await t.api("POST", `/api/v1/cases/${b.id}/actions/reject`, { body: { note: "handled by phone" } });
    t.clock.set("2026-03-04T03:59:00Z");
    expect((await sweep(t)).fired.filter((f) => f.includes(a.id))).toEqual([]);
    t.clock.set("2026-03-04T04:01:00Z");
    expect((await sweep(t)).fired).toContain(`approve:${a.id}`);
    expect((await sweep(t)).fired.filter((f) => f.includes(a.id) || f.includes(b.id))).toEqual([]);
    expect((await t.api("GET", `/api/v1/cases/${a.id}`)).body.status).toBe("awaiting_return");
    expect((await t.api("GET", `/api/v1/cases/${b.id}`)).body.status).toBe("rejected");
    // The return must ship within 7 days, counted from the approval.
    t.clock.set("2026-03-11T04:02:00Z");
    expect((await sweep(t)).fired).toContain(`close:${a.id}`);
  });

  it("alerts once when a supplier has not shipped by its deadline, and not when it shipped in time", async () => {
    t.clock.set("2026-04-01T02:00:00Z");
    const late = await createOrder(t, cat);
    const onTime = await createOrder(t, cat);
    const forward = async (id: string) => (await t.api("POST", `/api/v1/orders/${id}/actions/forward`)).body.supplierOrders[0].id as string;
    const lateSo = await forward(late.id);
    const onTimeSo = await forward(onTime.id);
    const shipBy = new Date("2026-04-02T10:00:00Z");
    await t.deps.db.updateTable("supplier_orders").set({ ship_by: shipBy }).where("id", "in", [lateSo, onTimeSo]).execute();
    await t.api("POST", `/api/v1/supplier-orders/${onTimeSo}/actions/accept`);
    await t.api("POST", `/api/v1/supplier-orders/${onTimeSo}/actions/ship`, { body: { carrier: "SF", trackingNo: "SF20260401" } });
    t.clock.set("2026-04-02T09:59:00Z");
    expect((await sweep(t)).fired.filter((f) => f.includes(lateSo) || f.includes(onTimeSo))).toEqual([]);
    t.clock.set("2026-04-02T10:01:00Z");
    expect((await sweep(t)).fired.filter((f) => f.includes(lateSo) || f.includes(onTimeSo))).toEqual([`late_ship:${lateSo}`]);
    expect((await sweep(t)).fired.filter((f) => f.includes(lateSo))).toEqual([]);
    const row = await t.deps.db.selectFrom("supplier_orders").select("late_alerted_at").where("id", "=", lateSo).executeTakeFirstOrThrow();
    expect(row.late_alerted_at?.toISOString()).toBe("2026-04-02T10:01:00.000Z");
  });

  it("raises the refund-due alert once, at the deadline set when the return is received", async () => {
    t.clock.set("2026-05-04T02:00:00Z");
    const order = await createDeliveredOrder(t, cat, { deliveredAt: "2026-05-02T10:00:00+08:00" });
    const c = (
      await t.api("POST", "/api/v1/cases", {
        body: { orderId: order.id, type: "return_refund", reason: "quality", lines: [{ orderLineId: order.lines[0].id, quantity: 1 }] },
      })
    ).body;
    const act = async (action: string, body: object) => {
      const r = await t.api("POST", `/api/v1/cases/${c.id}/actions/${action}`, { body });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body;
    };
    await act("approve", {});
    await act("ship-return", { carrier: "SF", trackingNo: "SF3000001" });
    t.clock.set("2026-05-05T02:00:00Z");
    const received = await act("receive", {});
    const due = new Date((await t.api("GET", `/api/v1/cases/${c.id}`)).body.deadlines.refundDueAt ?? received.deadlines?.refundDueAt);
    t.clock.set(new Date(due.getTime() - 60_000).toISOString());
    expect((await sweep(t)).fired.filter((f) => f.includes(c.id))).toEqual([]);
    t.clock.set(new Date(due.getTime() + 60_000).toISOString());
    expect((await sweep(t)).fired.filter((f) => f.includes(c.id))).toEqual([`refund_due:${c.id}`]);
    expect((await sweep(t)).fired.filter((f) => f.includes(c.id))).toEqual([]);
    const row = await t.deps.db.selectFrom("cases").select("sla_fired").where("id", "=", c.id).executeTakeFirstOrThrow();
    expect(row.sla_fired).toHaveProperty("refund_due");
  });

  it("refunds by itself when the policy says so and the refund falls due, then accepts the unanswered claim", async () => {
    // A shop of its own whose policy refunds automatically once the refund is due.
    const shop = (await t.api("POST", "/api/v1/shops", { body: { name: "Auto-refund shop", platform: "douyin" } })).body;
    const own = { ...cat, shopId: shop.id as string };
    const policy = await t.api("GET", `/api/v1/shops/${own.shopId}/policy`);
    const rules = { ...PRESETS.cn_default, sla: { ...PRESETS.cn_default.sla, autoRefundWhenDue: true, supplierClaimAnswerDays: 3 } };
    expect(policy.status).toBe(200);
    expect((await t.api("PUT", `/api/v1/shops/${own.shopId}/policy`, { body: { rules } })).status).toBe(200);
    t.clock.set("2026-06-03T02:00:00Z");
    const order = await createDeliveredOrder(t, own, {
      lines: [{ skuCode: "TEE", quantity: 1 }],
      deliveredAt: "2026-06-02T10:00:00+08:00",
    });
    const c = (
      await t.api("POST", "/api/v1/cases", {
        body: { orderId: order.id, type: "return_refund", reason: "quality", lines: [{ orderLineId: order.lines[0].id, quantity: 1 }] },
      })
    ).body;
    const act = async (action: string, body: object) => {
      const r = await t.api("POST", `/api/v1/cases/${c.id}/actions/${action}`, { body });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body;
    };
    if (c.status === "submitted") await act("approve", {});
    await act("ship-return", { carrier: "SF", trackingNo: "SF6000001" });
    await act("receive", {});
    await act("inspect", { grade: "repairable", matchesOrder: true, complete: true, disposition: "return_to_supplier" });
    const due = new Date((await t.api("GET", `/api/v1/cases/${c.id}`)).body.deadlines.refundDueAt);
    t.clock.set(new Date(due.getTime() - 60_000).toISOString());
    expect((await sweep(t)).fired.filter((f) => f.includes(c.id))).toEqual([]);
    t.clock.set(new Date(due.getTime() + 60_000).toISOString());
    expect((await sweep(t)).fired.filter((f) => f.includes(c.id))).toEqual([`refund_due:${c.id}`, `refund:${c.id}`]);
    expect((await sweep(t)).fired.filter((f) => f.includes(c.id))).toEqual([]);
    // The refund goes back by the original route: the sandbox gateway confirms it shortly after.
    let after = (await t.api("GET", `/api/v1/cases/${c.id}`)).body;
    for (let i = 0; i < 100 && after.status === "refund_pending"; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = (await t.api("GET", `/api/v1/cases/${c.id}`)).body;
    }
    expect(["refunded", "closed"]).toContain(after.status);
    expect(after.refunds.filter((r: { status: string }) => r.status === "succeeded")).toHaveLength(1);
    expect(after.refunds[0].amount).toBe(order.lines[0].paidAmount);
    // The supplier caused it: a claim is open, due in three days; unanswered, it is accepted then.
    const claim = (await t.api("GET", `/api/v1/supplier-claims?caseId=${c.id}`)).body.items[0];
    expect(claim.status).toBe("open");
    const claimDue = new Date(claim.dueAt);
    expect(claimDue.getTime() - (due.getTime() + 60_000)).toBe(3 * 86_400_000);
    t.clock.set(new Date(claimDue.getTime() - 60_000).toISOString());
    expect((await sweep(t)).fired).not.toContain(`claim_accept:${claim.id}`);
    t.clock.set(new Date(claimDue.getTime() + 60_000).toISOString());
    expect((await sweep(t)).fired).toContain(`claim_accept:${claim.id}`);
    expect((await sweep(t)).fired).not.toContain(`claim_accept:${claim.id}`);
    const accepted = (await t.api("GET", `/api/v1/supplier-claims?caseId=${c.id}`)).body.items[0];
    expect(accepted.status).toBe("accepted");
  });

  it("sends a survey link when a case closes and records the answer once", async () => {
    const order = await createDeliveredOrder(t, cat, { deliveredAt: new Date(t.clock.now().getTime() - 86400_000).toISOString() });
    const c = (
      await t.api("POST", "/api/v1/cases", {
        body: {
          orderId: order.id,
          type: "compensation",
          reason: "damaged_in_transit",
          lines: [{ orderLineId: order.lines[0].id, quantity: 1 }],
        },
      })
    ).body;
    await t.api("POST", `/api/v1/cases/${c.id}/actions/offer-compensation`, { body: { kind: "coupon", amount: 300 } });
    await t.api("POST", `/api/v1/cases/${c.id}/actions/accept-offer`, { body: {} });
    await t.api("POST", `/api/v1/cases/${c.id}/actions/close`, { body: {} });
    await run(t);
    const survey = await t.deps.db.selectFrom("surveys").selectAll().where("case_id", "=", c.id).executeTakeFirstOrThrow();
    const n = (await t.api("GET", `/api/v1/notifications?caseId=${c.id}&event=case.closed`)).body.items[0];
    expect(n.body).toContain(`/portal/survey/${survey.token}`);
    const answer = await t.app.inject({
      method: "POST",
      url: `/portal/api/surveys/${survey.token}`,
      payload: { score: 4, comment: "处理很快" },
    });
    expect(answer.statusCode).toBe(200);
    expect((await t.app.inject({ method: "POST", url: `/portal/api/surveys/${survey.token}`, payload: { score: 1 } })).statusCode).toBe(
      409,
    );
    expect((await t.api("GET", `/api/v1/cases/${c.id}`)).body.csat).toEqual({ score: 4, comment: "处理很快" });
  });
});

describe.each(DB_KINDS)("messages for channels not configured on %s", (kind) => {
  let t: TestApp;
  let cat: Catalog;
  beforeAll(async () => {
    delete process.env.SMTP_URL;
    delete process.env.SMS_WEBHOOK_URL;
    t = await startTestApp(kind);
    cat = await setupCatalog(t);
    t.clock.set("2026-03-02T04:00:00Z");
  });
  afterAll(async () => {
    await t?.close();
  });

  it("records each channel's message as waiting, with the setting to fill in, once however often the job runs", async () => {
    await run(t);
    const order = await createDeliveredOrder(t, cat, { deliveredAt: "2026-03-01T10:00:00+08:00" });
    const c = (
      await t.api("POST", "/api/v1/cases", {
        body: { orderId: order.id, type: "return_refund", reason: "quality", lines: [{ orderLineId: order.lines[0].id, quantity: 1 }] },
      })
    ).body;
    await run(t);
    const submitted = async () =>
      (await t.api("GET", `/api/v1/notifications?caseId=${c.id}`)).body.items
        .filter((n: any) => n.event === "case.submitted")
        .sort((a: any, b: any) => a.channel.localeCompare(b.channel));
    const first = await submitted();
    expect(first.map((n: any) => [n.channel, n.status, n.recipient])).toEqual([
      ["email", "pending", "xm@example.test"],
      ["sms", "pending", "13912345678"],
    ]);
    expect(first[0].lastError).toMatch(/SMTP_URL/);
    expect(first[1].lastError).toMatch(/SMS_WEBHOOK_URL/);
    expect(first[0].body).toContain(c.caseNo);
    // The same event again (a retried job): still one message per channel, the reason kept.
    const key = (await t.deps.db.selectFrom("notifications").select("event_key").where("id", "=", first[0].id).executeTakeFirstOrThrow())
      .event_key;
    expect(key).toBeTruthy();
    await t.deps.db.transaction().execute((tx) =>
      emit(t.deps, tx, {
        type: "case.submitted",
        tenantId: t.t.tenantId,
        entityId: c.id,
        data: { orderId: order.id },
        key,
      }),
    );
    expect(await run(t)).toBeGreaterThan(0);
    const again = await submitted();
    expect(again.map((n: any) => n.id)).toEqual(first.map((n: any) => n.id));
    expect(again.map((n: any) => n.lastError)).toEqual(first.map((n: any) => n.lastError));
  });
});
