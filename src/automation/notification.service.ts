import { audit } from "../platform/audit.js";
import type { Actor, Deps } from "../platform/context.js";
import { newId } from "../platform/ids.js";
import { keysetPage } from "../platform/list.js";
import { DEFAULT_TEMPLATES } from "./templates.js";

// Notification templates (the defaults and the tenant's overrides) and the notifications sent.

/** The variables a template may use. */
export const TEMPLATE_VARIABLES = [
  "orderNo",
  "caseNo",
  "amount",
  "deadline",
  "returnAddress",
  "returnInstructions",
  "trackingNo",
  "carrier",
  "note",
  "surveyUrl",
] as const;

/** Every event × locale × channel with its message: the tenant's override where it has one, else the default. */
export async function listTemplates(deps: Deps, a: Actor) {
  const overrides = await deps.db.selectFrom("notification_templates").selectAll().where("tenant_id", "=", a.tenantId).execute();
  const items = [];
  for (const [event, byLocale] of Object.entries(DEFAULT_TEMPLATES)) {
    for (const [locale, t] of Object.entries(byLocale)) {
      for (const channel of ["email", "sms"] as const) {
        const o = overrides.find((x) => x.event === event && x.locale === locale && x.channel === channel);
        items.push({
          event,
          locale,
          channel,
          subject: o?.subject ?? t.subject,
          body: o?.body ?? t.body,
          active: o?.active ?? true,
          customised: Boolean(o),
        });
      }
    }
  }
  return { items, nextCursor: null, variables: [...TEMPLATE_VARIABLES] };
}

export type TemplateInput = {
  event: string;
  locale: "zh-CN" | "en";
  channel: "email" | "sms";
  subject: string;
  body: string;
  active: boolean;
};

export async function saveTemplate(deps: Deps, a: Actor, b: TemplateInput) {
  await deps.db
    .insertInto("notification_templates")
    .values({ id: newId(), tenant_id: a.tenantId, ...b })
    .onConflict((oc) =>
      oc
        .columns(["tenant_id", "event", "locale", "channel"])
        .doUpdateSet({ subject: b.subject, body: b.body, active: b.active, updated_at: new Date() }),
    )
    .execute();
  await audit(deps.db, a, "notification_template.update", "notification_template", `${b.event}/${b.locale}/${b.channel}`, undefined, b);
  return { ...b, customised: true };
}

export async function listNotifications(
  deps: Deps,
  a: Actor,
  f: { status?: "pending" | "sent" | "failed"; caseId?: string; event?: string; cursor?: string; limit: number },
) {
  let q = deps.db.selectFrom("notifications").selectAll().where("tenant_id", "=", a.tenantId);
  if (f.status) q = q.where("status", "=", f.status);
  if (f.caseId) q = q.where("case_id", "=", f.caseId);
  if (f.event) q = q.where("event", "=", f.event);
  const page = await keysetPage(q, "id", f.cursor, f.limit);
  return {
    ...page,
    items: page.items.map((n) => ({
      id: n.id,
      event: n.event,
      channel: n.channel,
      recipient: n.recipient,
      locale: n.locale,
      subject: n.subject,
      body: n.body,
      status: n.status,
      attempts: n.attempts,
      lastError: n.last_error,
      caseId: n.case_id,
      orderId: n.order_id,
      sentAt: n.sent_at,
      createdAt: n.created_at,
    })),
  };
}
