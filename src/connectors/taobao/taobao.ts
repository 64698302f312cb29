import { z } from "zod";
import { ServiceError } from "../http.js";
import type { ConnectorContext, ConnectorKind, PushRequest } from "../kind.js";
import { refundLink, tradeLink } from "./links.js";
import { toExternalOrder } from "./map.js";
import { agreeOnTaobao, approveOnTaobao, refuseOnTaobao, shipOnTaobao } from "./push.js";
import { isTmall, pullRefund, TRADE_FIELDS } from "./refunds.js";
import { list, top, topTime } from "./top.js";

/**
 * Taobao and Tmall through the TOP open platform: trades pulled incrementally by modified time
 * (`taobao.trades.sold.increment.get`, then `taobao.trade.fullinfo.get` per trade) into orders;
 * the buyer's refunds (`taobao.refunds.receive.get`, `taobao.refund.get`) into cases; decisions
 * back: agree the refund, agree the return, refuse, ship.
 */
const ConfigSchema = z.strictObject({
  appKey: z.string().regex(/^\d{4,20}$/, "the app's AppKey (digits)"),
  appSecret: z.string().min(8).max(200),
  sessionKey: z.string().min(8).max(500),
  /** The TOP gateway's address (`…/router/rest`): the production, sandbox or a local emulator. */
  gateway: z.string().url().max(500),
  signMethod: z.enum(["hmac-sha256", "md5", "hmac"]).optional(),
  platform: z.enum(["taobao", "tmall"]).optional(),
  /** 卖家地址库编号 of the return address (taobao.rp.returngoods.agree needs it). */
  sellerAddressId: z
    .string()
    .regex(/^\d{1,20}$/)
    .optional(),
  /** Days of trades and refunds the first sync reads back (TOP keeps three months). */
  backfillDays: z.coerce.number().int().min(1).max(90).optional(),
  /** Seller back office pages: templates with {tid} and {refundId}. */
  tradeUrl: z.string().url().max(500).optional(),
  refundUrl: z.string().url().max(500).optional(),
});

/** Trades and refunds a page; TOP allows up to 100. */
export const PAGE_SIZE = 20;
const DAY = 86_400_000;
/** The increment API reads at most one day of modifications a call. */
const WINDOW = DAY;

interface Window {
  start: string;
  end: string;
  page: number;
  /** Trades: the page count of the window, read from the last page back to the first. */
  pages?: number;
}
export interface Cursor {
  phase: "trades" | "refunds";
  trades: string | null;
  refunds: string | null;
  window: Window | null;
}

/** Each pull reads a little before its watermark again: a record the platform wrote late is not lost (repeats change nothing). */
const OVERLAP = 5 * 60_000;

function nextWindow(ctx: ConnectorContext, since: string | null): Window | null {
  const now = ctx.deps.clock.now().getTime();
  const days = Number(ctx.settings.backfillDays ?? 30);
  if (since && new Date(since).getTime() >= now) return null;
  const start = since ? new Date(since).getTime() - OVERLAP : now - days * DAY;
  return { start: new Date(start).toISOString(), end: new Date(Math.min(start + WINDOW, now)).toISOString(), page: 1 };
}

const range = (w: Window) => ({ start_modified: topTime(new Date(w.start)), end_modified: topTime(new Date(w.end)) });

export const taobaoKind: ConnectorKind = {
  kind: "taobao",
  configSchema: ConfigSchema,
  secretFields: ["appSecret", "sessionKey"],
  needsShop: true,

  async test(ctx) {
    try {
      const r = await top(ctx, "taobao.user.seller.get", { fields: "nick,user_id,type" });
      const u = r.user ?? {};
      const tmall = u.type === "B";
      const notes: string[] = [];
      if (tmall !== isTmall(ctx))
        notes.push(
          tmall
            ? "这是天猫店，请把 platform 设为 tmall / this is a Tmall shop: set platform to tmall"
            : "这是淘宝店，请把 platform 设为 taobao / this is a Taobao shop: set platform to taobao",
        );
      if (ctx.shop && ctx.shop.currency !== "CNY")
        notes.push(
          `店铺币种为 ${ctx.shop.currency}，淘宝交易将被拒绝导入 / the shop keeps ${ctx.shop.currency}: Taobao trades will be refused`,
        );
      return {
        ok: notes.length === 0,
        message: `已连接${tmall ? "天猫" : "淘宝"}店铺 ${u.nick} / connected to the ${tmall ? "Tmall" : "Taobao"} shop ${u.nick}${notes.length ? `; ${notes.join("; ")}` : ""}`,
        details: { seller: { nick: u.nick, type: u.type } },
      };
    } catch (e) {
      if (e instanceof ServiceError) return { ok: false, message: e.message };
      throw e;
    }
  },

  async syncPage(ctx, raw, write) {
    const cursor: Cursor = (raw as Cursor | null) ?? { phase: "trades", trades: null, refunds: null, window: null };
    const tmall = isTmall(ctx);
    if (cursor.phase === "trades") {
      const w = cursor.window ?? nextWindow(ctx, cursor.trades);
      if (!w) return { cursor: { ...cursor, phase: "refunds", window: null }, done: false, records: 0 };
      if (w.pages === undefined) {
        // How many pages the window has: read from the last back to the first, as TOP advises, so
        // that a trade modified again meanwhile (it leaves the window) shifts pages already read.
        const count = await top(ctx, "taobao.trades.sold.increment.get", { ...range(w), fields: "tid", page_no: 1, page_size: PAGE_SIZE });
        const pages = Math.ceil(Number(count.total_results ?? 0) / PAGE_SIZE);
        if (pages === 0) return { cursor: { ...cursor, trades: w.end, window: null }, done: false, records: 0 };
        return { cursor: { ...cursor, window: { ...w, pages, page: pages } }, done: false, records: 0 };
      }
      const r = await top(ctx, "taobao.trades.sold.increment.get", {
        ...range(w),
        fields: "tid,modified,status",
        page_no: w.page,
        page_size: PAGE_SIZE,
      });
      const trades = list(r.trades, "trade");
      for (const t of trades) {
        const full = await top(ctx, "taobao.trade.fullinfo.get", { tid: t.tid, fields: TRADE_FIELDS });
        await write(toExternalOrder(full.trade ?? {}, { shopCurrency: ctx.shop?.currency ?? "", tmall }));
      }
      const next: Cursor = w.page > 1 ? { ...cursor, window: { ...w, page: w.page - 1 } } : { ...cursor, trades: w.end, window: null };
      return { cursor: next, done: false, records: trades.length };
    }
    const w = cursor.window ?? nextWindow(ctx, cursor.refunds);
    if (!w) return { cursor: { ...cursor, phase: "trades", window: null }, done: true, records: 0 };
    const r = await top(ctx, "taobao.refunds.receive.get", {
      ...range(w),
      fields: "refund_id,tid,oid,status,refund_fee,modified,sid",
      page_no: w.page,
      page_size: PAGE_SIZE,
      use_has_next: "true",
    });
    const refunds = list(r.refunds, "refund");
    for (const f of refunds) {
      const outcome = await pullRefund(ctx, f);
      await ctx.options.afterRecord?.(ctx.connector.id, `refund:${f.refund_id}`);
      if (outcome === "created") await ctx.log("info", `refund ${f.refund_id} → case`, String(f.refund_id));
    }
    const hasNext = r.has_next === true || r.has_next === "true";
    const next: Cursor = hasNext ? { ...cursor, window: { ...w, page: w.page + 1 } } : { ...cursor, refunds: w.end, window: null };
    return { cursor: next, done: false, records: refunds.length };
  },

  pushEvents: ["case.approved", "case.rejected", "supplier_order.shipped"],
  pushesFor(event) {
    const out: PushRequest[] = [];
    if (event.type === "case.approved")
      out.push({ action: "approve", key: `approve:${event.entityId}`, entityId: event.entityId, data: {} });
    if (event.type === "case.rejected") out.push({ action: "refuse", key: `refuse:${event.entityId}`, entityId: event.entityId, data: {} });
    if (event.type === "supplier_order.shipped" && event.data.purpose === "original")
      out.push({ action: "ship", key: `ship:${event.entityId}`, entityId: event.entityId, data: {} });
    return out;
  },
  async push(ctx, req) {
    if (req.action === "approve") return approveOnTaobao(ctx, req.entityId);
    if (req.action === "refuse") return refuseOnTaobao(ctx, req.entityId);
    if (req.action === "agree") return agreeOnTaobao(ctx, req.entityId);
    if (req.action === "ship") return shipOnTaobao(ctx, req.entityId);
    throw new Error(`unknown Taobao push ${req.action}`);
  },

  recordUrl(settings, recordType, externalId) {
    if (recordType === "refund") return refundLink(settings, externalId);
    return recordType === "order" ? tradeLink(settings, externalId) : null;
  },
};
