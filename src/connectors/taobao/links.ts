import { caseEvent } from "../../after-sales/case.repo.js";
import type { ConnectorContext } from "../kind.js";

/**
 * Links to the seller back office (千牛 / 卖家中心) for what only it can do. The addresses are the
 * connector's settings (`tradeUrl`, `refundUrl`: templates with `{tid}` and `{refundId}`), so
 * Dropdesk names no outside host of its own.
 */
export function tradeLink(settings: Record<string, string | undefined>, tid: string): string | null {
  return settings.tradeUrl ? settings.tradeUrl.replaceAll("{tid}", encodeURIComponent(tid)) : null;
}
export function refundLink(settings: Record<string, string | undefined>, refundId: string): string | null {
  return settings.refundUrl ? settings.refundUrl.replaceAll("{refundId}", encodeURIComponent(refundId)) : null;
}

/** "…请在卖家后台处理：<link>" in both languages, the link when the connector has one. */
export function inBackOffice(settings: Record<string, string | undefined>, refundId: string, zh: string, en: string): string {
  const link = refundLink(settings, refundId);
  return link
    ? `${zh}，请在卖家后台处理：${link} / ${en}; handle it in the seller back office: ${link}`
    : `${zh}，请在卖家后台（千牛）处理 / ${en}; handle it in the seller back office (Qianniu)`;
}

/** A line on the case's timeline from the platform: a buyer's message, or what the platform refused. */
export async function caseNote(
  ctx: ConnectorContext,
  caseId: string,
  action: "platform_message" | "platform_note",
  note: string,
  data: Record<string, unknown> = {},
  at?: Date,
) {
  await caseEvent(ctx.deps.db, {
    tenantId: ctx.connector.tenant_id,
    caseId,
    action,
    actorType: "system",
    actorId: ctx.connector.id,
    note: note.slice(0, 4000),
    data: { connectorId: ctx.connector.id, ...data },
    at: at ?? ctx.deps.clock.now(),
  });
}
