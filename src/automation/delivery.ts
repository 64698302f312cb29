import { createHash, createHmac } from "node:crypto";
import { type Insertable, sql } from "kysely";
import nodemailer from "nodemailer";
import { messageVariables } from "../conversations/notify.js";
import type { Notifications } from "../db/schema.js";
import type { Deps, DomainEvent } from "../platform/context.js";
import { type Executor, jsonColumn, type Tx } from "../platform/db.js";
import { newId, randomToken } from "../platform/ids.js";
import { readWithLock } from "../platform/locks.js";
import { OutboundRefused, outboundPolicy, outboundRequest, UNREACHABLE } from "../platform/outbound.js";
import { activeWebhooksKey, setTxMemo, txMemo } from "../platform/tx-memo.js";
import { DEFAULT_TEMPLATES, formatAmount, type Locale, render } from "./templates.js";

/** A stable UUID for a domain event, so a redelivered job finds the rows it made before. */
export function eventUuid(key: string): string {
  const h = createHash("sha256").update(key).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface Channels {
  email?: (to: string, subject: string, body: string) => Promise<void>;
  sms?: (to: string, body: string) => Promise<void>;
}

/**
 * Email over SMTP (SMTP_URL) and SMS through an HTTP provider (SMS_WEBHOOK_URL); either may be
 * absent. The SMS provider is called like a webhook: public addresses only unless `outboundAllow`
 * lets it reach a private one, and a redirect is a failure.
 */
export function channelsFromEnv(env = process.env, outboundAllow = env.DROPDESK_OUTBOUND_ALLOW): Channels {
  const c: Channels = {};
  if (env.SMTP_URL) {
    const transport = nodemailer.createTransport(env.SMTP_URL);
    const from = env.SMTP_FROM ?? "Dropdesk <no-reply@dropdesk.local>";
    c.email = async (to, subject, text) => {
      await transport.sendMail({ from, to, subject, text });
    };
  }
  if (env.SMS_WEBHOOK_URL) {
    const url = env.SMS_WEBHOOK_URL;
    c.sms = async (to, text) => {
      const r = await outboundRequest(url, {
        policy: outboundPolicy(outboundAllow),
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ to, text }),
        timeoutMs: 10_000,
      });
      if (r.status < 200 || r.status > 299) throw new Error(`SMS provider answered ${r.status}`);
    };
  }
  return c;
}

/** What a message about one event reads of its case, order and shop, in one statement. */
interface EventFacts {
  found_case: string | null;
  found_order: string | null;
  case_no: string | null;
  return_address: unknown;
  response_due_at: Date | null;
  return_ship_due_at: Date | null;
  return_tracking_no: string | null;
  customer: unknown;
  platform_order_no: string | null;
  currency: string | null;
  timezone: string | null;
  last_note: string | null;
  refund_amount: number | null;
  survey_token: string | null;
  overrides: unknown;
}

/**
 * Everything a template may use about the event's case or order, with the tenant's own templates
 * for the event in `locale`: the case, its order (or the event's order), the shop's time zone, the
 * case's last note, its refund and survey, read together.
 */
async function variables(ex: Executor, event: DomainEvent, baseUrl: string, locale: Locale) {
  const caseId = event.type.startsWith("case.") ? event.entityId : ((event.data.caseId as string | undefined) ?? null);
  const orderId = (event.data.orderId as string | undefined) ?? (event.type.startsWith("order.") ? event.entityId : null);
  const facts = (
    await sql<EventFacts>`SELECT c.id AS found_case, o.id AS found_order, c.case_no, c.return_address, c.response_due_at, c.return_ship_due_at, c.return_tracking_no,
        o.customer, o.platform_order_no, o.currency, sh.timezone,
        -- A message's excerpt is not an action's note (and may be an internal one).
        (SELECT e.note FROM case_events e WHERE e.case_id = c.id AND e.action <> 'message'
          ORDER BY e.at DESC, e.id DESC LIMIT 1) AS last_note,
        (SELECT r.amount FROM refunds r WHERE r.case_id = c.id AND r.status = 'succeeded' LIMIT 1) AS refund_amount,
        (SELECT v.token FROM surveys v WHERE v.case_id = c.id LIMIT 1) AS survey_token,
        (SELECT coalesce(json_agg(json_build_object('channel', t.channel, 'active', t.active, 'subject', t.subject, 'body', t.body)), '[]')
          FROM notification_templates t WHERE t.tenant_id = ${event.tenantId} AND t.event = ${event.type} AND t.locale = ${locale}) AS overrides
      FROM (SELECT ${caseId}::uuid AS case_id, ${orderId}::uuid AS order_id) p
      LEFT JOIN cases c ON c.id = p.case_id
      LEFT JOIN orders o ON o.id = coalesce(c.order_id, p.order_id)
      LEFT JOIN shops sh ON sh.id = o.shop_id`.execute(ex)
  ).rows[0];
  const c = facts.found_case === null ? undefined : facts;
  const o = facts.found_order === null ? undefined : facts;
  // A claim's message says what the claim row says, the amount the supplier portal lists too; the
  // case's refund to the customer is another amount.
  const claim = event.type.startsWith("claim.")
    ? await ex
        .selectFrom("supplier_claims")
        .select(["amount", "due_at"])
        .where("tenant_id", "=", event.tenantId)
        .where("id", "=", event.entityId)
        .executeTakeFirst()
    : undefined;
  const surveyToken = c && event.type === "case.closed" ? facts.survey_token : null;
  const addr = c?.return_address as Record<string, string> | null;
  const addrText = addr ? [addr.province, addr.city, addr.district, addr.line1, addr.name, addr.phone].filter(Boolean).join(" ") : "";
  const deadline = claim
    ? claim.due_at
    : event.type === "case.submitted"
      ? c?.response_due_at
      : event.type === "case.approved"
        ? c?.return_ship_due_at
        : (event.data.dueAt ?? c?.return_ship_due_at ?? c?.response_due_at);
  const localTime = (at: unknown) => shortFormat(facts.timezone ?? "Asia/Shanghai").format(new Date(at as string));
  const amount = Number(claim ? claim.amount : (facts.refund_amount ?? event.data.amount ?? 0));
  return {
    overrides: jsonColumn<{ channel: string; active: boolean; subject: string; body: string }[]>(facts.overrides),
    customer: o?.customer as { name?: string; phone?: string; email?: string } | undefined,
    vars: {
      caseNo: c?.case_no,
      orderNo: o?.platform_order_no,
      amount: formatAmount(amount, o?.currency ?? undefined),
      deadline: deadline ? localTime(deadline) : "",
      returnAddress: addrText,
      returnInstructions: addrText ? `请在 7 天内将商品寄回：${addrText}，并填写退货运单号。` : "",
      returnInstructionsEn: addrText
        ? `Please send the goods back within 7 days to: ${addrText}, and enter the return tracking number.`
        : "",
      trackingNo: (event.data.trackingNo as string) ?? c?.return_tracking_no,
      carrier: (event.data.carrier as string) ?? "",
      note: facts.last_note ?? "",
      surveyUrl: surveyToken ? `${baseUrl}/portal/survey/${surveyToken}` : "",
      ...(await messageVariables(ex, event, baseUrl)),
    },
  };
}

/** A date and time as messages show them, in a shop's zone; a formatter costs more to make than to use. */
const shortFormats = new Map<string, Intl.DateTimeFormat>();
function shortFormat(timeZone: string): Intl.DateTimeFormat {
  let f = shortFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("sv-SE", { timeZone, dateStyle: "short", timeStyle: "short" });
    shortFormats.set(timeZone, f);
  }
  return f;
}

/**
 * Sends the customer (or supplier) notifications of one event: one row per channel, unique per
 * event, so a retried job sends only what has not gone out yet. Throws when a send failed, so
 * the job is retried with backoff.
 */
export async function notify(deps: Deps, event: DomainEvent, channels: Channels): Promise<void> {
  const known = DEFAULT_TEMPLATES[event.type];
  if (!known) return;
  const baseUrl = process.env.DROPDESK_PUBLIC_URL ?? `http://localhost:${deps.config.port}`;
  const locale: Locale = (event.data.locale as Locale) ?? "zh-CN";
  const { customer, vars, overrides } = await variables(deps.db, event, baseUrl, locale);
  let recipients: { channel: "email" | "sms"; to: string }[] = [];
  if (event.type === "claim.opened" || event.type === "message.to_supplier") {
    const s = await deps.db
      .selectFrom("suppliers")
      .select(["email", "phone"])
      .where("id", "=", String(event.data.supplierId))
      .executeTakeFirst();
    if (s?.email) recipients.push({ channel: "email", to: s.email });
  } else {
    if (customer?.email) recipients.push({ channel: "email", to: customer.email });
    if (customer?.phone) recipients.push({ channel: "sms", to: customer.phone });
  }
  recipients = recipients.filter((r) => r.to);
  const failures: string[] = [];
  // Messages for channels not configured wait, saying why; all of an event's go in one statement.
  const waitingRows: Insertable<Notifications>[] = [];
  for (const r of recipients) {
    const o = overrides.find((t) => t.channel === r.channel);
    if (o && !o.active) continue;
    const tpl = o ? { subject: o.subject, body: o.body } : known[locale];
    const subject = render(tpl.subject, vars);
    const body = render(tpl.body, vars);
    const send =
      r.channel === "email"
        ? channels.email && (() => channels.email?.(r.to, subject, body))
        : channels.sms && (() => channels.sms?.(r.to, body));
    // Without a configured channel the message waits, saying why, in the same statement that
    // records it (a retry only refreshes the reason on a message not sent yet).
    const waiting = send
      ? null
      : r.channel === "email"
        ? "SMTP_URL is not set; the message waits here"
        : "SMS_WEBHOOK_URL is not set; the message waits here";
    const values = {
      id: newId(),
      tenant_id: event.tenantId,
      event: event.type,
      event_key: event.key,
      channel: r.channel,
      recipient: r.to,
      locale,
      subject,
      body,
      status: "pending" as const,
      last_error: waiting,
      case_id: event.type.startsWith("case.") ? event.entityId : ((event.data.caseId as string) ?? null),
      order_id: (event.data.orderId as string) ?? null,
    };
    if (!send) {
      waitingRows.push(values);
      continue;
    }
    const row = await deps.db
      .insertInto("notifications")
      .values(values)
      .onConflict((oc) => oc.columns(["tenant_id", "event_key", "channel"]).doNothing())
      .returningAll()
      .executeTakeFirst();
    const current =
      row ??
      (await deps.db
        .selectFrom("notifications")
        .selectAll()
        .where("tenant_id", "=", event.tenantId)
        .where("event_key", "=", event.key)
        .where("channel", "=", r.channel)
        .executeTakeFirstOrThrow());
    if (current.status === "sent") continue;
    try {
      await send();
      await deps.db
        .updateTable("notifications")
        .set((eb) => ({ status: "sent", sent_at: new Date(), attempts: eb("attempts", "+", 1), last_error: null }))
        .where("id", "=", current.id)
        .execute();
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      await deps.db
        .updateTable("notifications")
        .set((eb) => ({ status: "failed", attempts: eb("attempts", "+", 1), last_error: msg.slice(0, 500) }))
        .where("id", "=", current.id)
        .execute();
      failures.push(`${r.channel}: ${msg}`);
    }
  }
  if (waitingRows.length) {
    await deps.db
      .insertInto("notifications")
      .values(waitingRows)
      .onConflict((oc) =>
        oc
          .columns(["tenant_id", "event_key", "channel"])
          .doUpdateSet((eb) => ({ last_error: eb.ref("excluded.last_error") }))
          .where("notifications.status", "<>", "sent"),
      )
      .execute();
  }
  if (failures.length) throw new Error(`notification not sent (${failures.join("; ")}); it will be retried`);
}

export const matches = (patterns: string[], type: string) =>
  patterns.some((p) => p === type || p === "*" || (p.endsWith(".*") && type.startsWith(p.slice(0, -1))));

// Every case and supplier-order action reads the tenant's webhooks with its lock (one statement).
readWithLock({
  key: (tenantId) => activeWebhooksKey(tenantId),
  select: (tenantId) => sql`SELECT coalesce(json_agg(w.events), '[]') FROM webhooks w WHERE w.tenant_id = ${tenantId} AND w.active`,
  parse: (v) => jsonColumn<string[][]>(v),
});

/**
 * Whether an event needs a job at all: a message template or the survey listens to its type, or
 * an active webhook of the tenant subscribes to it. Read in the transaction that emits the event,
 * so a webhook receives every event committed after it was created; once per transaction (a
 * request that emits three events asks once), or not at all when a statement of the transaction
 * already read it (`lockWithOrder` does, src/platform/locks.ts). `webhooks` says whether a webhook
 * subscribes, when that is known, for the job to skip asking again.
 */
export async function eventWanted(tx: Tx, event: DomainEvent): Promise<{ wanted: boolean; webhooks?: boolean }> {
  const key = activeWebhooksKey(event.tenantId);
  let hooks = txMemo<string[][]>(tx, key);
  if (DEFAULT_TEMPLATES[event.type] || event.type === "case.closed") {
    // Messages want it anyway; whether a webhook does is told to the job only when already read.
    return { wanted: true, webhooks: hooks?.some((events) => matches(events, event.type)) };
  }
  if (!hooks) {
    hooks = (
      await tx.selectFrom("webhooks").select("events").where("tenant_id", "=", event.tenantId).where("active", "=", true).execute()
    ).map((h) => h.events as string[]);
    setTxMemo(tx, key, hooks);
  }
  const webhooks = hooks.some((events) => matches(events, event.type));
  return { wanted: webhooks, webhooks };
}

export function signWebhook(secret: string, timestamp: number, body: string): string {
  return createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
}

/**
 * Sends one delivery and records the answer; returns whether the receiver took it. The URL is
 * checked again here (an address may have changed since the webhook was saved); a refused one is
 * never connected to, a redirect is not followed, and every network failure reads the same.
 */
export async function sendDelivery(deps: Deps, deliveryId: string): Promise<boolean> {
  const d = await deps.db
    .selectFrom("webhook_deliveries as d")
    .innerJoin("webhooks as w", "w.id", "d.webhook_id")
    .select(["d.id", "d.event", "d.event_id", "d.payload", "w.url", "w.secret"])
    .where("d.id", "=", deliveryId)
    .executeTakeFirstOrThrow();
  const body = JSON.stringify(d.payload);
  const ts = Math.floor(Date.now() / 1000);
  let status = 0;
  let error: string | null = null;
  try {
    const r = await outboundRequest(d.url, {
      policy: outboundPolicy(deps.config.outboundAllow),
      headers: {
        "content-type": "application/json",
        "dropdesk-event": d.event,
        "dropdesk-delivery": d.event_id,
        "dropdesk-signature": `t=${ts},v1=${signWebhook(d.secret, ts, body)}`,
      },
      body,
      timeoutMs: 10_000,
    });
    status = r.status;
    if (r.status >= 300 && r.status <= 399) error = `receiver answered ${r.status}; redirects are not followed`;
    else if (r.status < 200 || r.status > 299) error = `receiver answered ${r.status}`;
  } catch (e) {
    error = e instanceof OutboundRefused ? `not sent: ${e.message}` : UNREACHABLE;
  }
  await deps.db
    .updateTable("webhook_deliveries")
    .set((eb) => ({
      status: error ? "failed" : "delivered",
      attempts: eb("attempts", "+", 1),
      last_status_code: status || null,
      last_error: error,
      delivered_at: error ? null : new Date(),
    }))
    .where("id", "=", deliveryId)
    .execute();
  return !error;
}

/** Fans an event out to the tenant's webhook subscriptions; throws if one failed, for a retry. */
export async function deliverWebhooks(deps: Deps, event: DomainEvent): Promise<void> {
  // The emitting transaction saw no subscribed webhook (a webhook gets the events after its creation).
  if (event.webhooks === false) return;
  const hooks = await deps.db
    .selectFrom("webhooks")
    .selectAll()
    .where("tenant_id", "=", event.tenantId)
    .where("active", "=", true)
    .execute();
  const eventId = eventUuid(event.key);
  const failed: string[] = [];
  for (const w of hooks.filter((h) => matches(h.events, event.type))) {
    const payload = { id: eventId, type: event.type, entityId: event.entityId, data: event.data, createdAt: new Date().toISOString() };
    await deps.db
      .insertInto("webhook_deliveries")
      .values({
        id: newId(),
        tenant_id: event.tenantId,
        webhook_id: w.id,
        event: event.type,
        event_id: eventId,
        payload: JSON.stringify(payload),
        status: "pending",
      })
      .onConflict((oc) => oc.columns(["webhook_id", "event_id"]).doNothing())
      .execute();
    const d = await deps.db
      .selectFrom("webhook_deliveries")
      .select(["id", "status"])
      .where("webhook_id", "=", w.id)
      .where("event_id", "=", eventId)
      .executeTakeFirstOrThrow();
    if (d.status === "delivered") continue;
    if (!(await sendDelivery(deps, d.id))) failed.push(w.url);
  }
  if (failed.length) throw new Error(`webhook delivery failed for ${failed.length} receiver(s); it will be retried`);
}

/** When a case closes, the customer gets a survey link (made once per case). */
export async function createSurvey(deps: Deps, event: DomainEvent): Promise<void> {
  if (event.type !== "case.closed") return;
  await deps.db
    .insertInto("surveys")
    .values({ id: newId(), tenant_id: event.tenantId, case_id: event.entityId, token: randomToken(24) })
    .onConflict((oc) => oc.column("case_id").doNothing())
    .execute();
}
