// Notification templates, webhooks and sent notifications as the API answers them. Their services
// import the server's request types, which the web build cannot follow, so the fields are copied
// here from src/automation/notification.service.ts and src/automation/webhook.service.ts.

/** A row of GET /api/v1/notification-templates: the tenant's text or the default. */
export interface Template {
  event: string;
  locale: "zh-CN" | "en";
  channel: "email" | "sms";
  subject: string;
  body: string;
  active: boolean;
  customised: boolean;
}

/** GET /api/v1/notification-templates */
export interface Templates {
  items: Template[];
  nextCursor: null;
  variables: string[];
}

/** A row of GET /api/v1/webhooks (hookOut). */
export interface Webhook {
  id: string;
  url: string;
  events: string[];
  active: boolean;
  createdAt: string;
}

/** POST /api/v1/webhooks: the new webhook, with its secret shown this once. */
export interface CreatedWebhook extends Webhook {
  secret: string;
}

/** A row of GET /api/v1/notifications: a message sent (or to be sent) to a customer. */
export interface Notification {
  id: string;
  event: string;
  channel: "email" | "sms" | "webhook";
  recipient: string;
  locale: string;
  subject: string;
  body: string;
  status: "pending" | "sent" | "failed";
  attempts: number;
  lastError: string | null;
  caseId: string | null;
  orderId: string | null;
  sentAt: string | null;
  createdAt: string;
}
