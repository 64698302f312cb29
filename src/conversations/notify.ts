import { signPortalToken } from "../platform/auth.js";
import type { DomainEvent } from "../platform/context.js";
import type { Executor } from "../platform/db.js";

/** How long the portal link in a message to the customer opens their order without the lookup. */
export const MESSAGE_LINK_TTL_SECONDS = 7 * 86400;

/**
 * The variables of a message notification (`message.to_customer`, `message.to_supplier`): the text
 * and a link that opens the thread — for the customer a portal link carrying a token for that order
 * (in the fragment, so it reaches no server log), for the supplier the supplier portal's case page.
 * The token is made when the message is sent, never kept in the event (webhooks receive events).
 */
export async function messageVariables(ex: Executor, event: DomainEvent, baseUrl: string): Promise<Record<string, string>> {
  if (event.type !== "message.to_customer" && event.type !== "message.to_supplier") return {};
  const caseId = (event.data.caseId as string | null) ?? null;
  const message = String(event.data.body ?? "");
  if (event.type === "message.to_supplier") return { message, link: `${baseUrl}/supplier/cases/${caseId}` };
  const tenant = await ex.selectFrom("tenants").select("portal_secret").where("id", "=", event.tenantId).executeTakeFirst();
  const orderId = String(event.data.orderId);
  const token = tenant ? signPortalToken(tenant.portal_secret, event.tenantId, orderId, MESSAGE_LINK_TTL_SECONDS) : "";
  const path = caseId ? `/portal/cases/${caseId}` : "/portal/order";
  return { message, link: `${baseUrl}${path}#t=${token}` };
}
