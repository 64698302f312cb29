import { createCase } from "../../after-sales/case.create.js";
import { runCaseAction } from "../../after-sales/case.service.js";
import { storeEvidence } from "../../after-sales/evidence.service.js";
import { type PlatformRefundRow, registerPlatformRefunds } from "../../money/gateways/platform.js";
import { settleRefund } from "../../money/refunds.js";
import type { Actor, Deps } from "../../platform/context.js";
import { AppError } from "../../platform/errors.js";
import { sha256 } from "../../platform/ids.js";
import { contextFor, loadConnector } from "../context.js";
import { ServiceError } from "../http.js";
import type { ConnectorContext, ConnectorRow, ExternalOrder } from "../kind.js";
import { fromMinorUnits, toMinorUnits } from "../money.js";
import { recordOnce, upsertExternalOrder } from "../records.js";
import { caseNote, inBackOffice } from "./links.js";
import { caseTypeOf, OPEN_REFUND, REFUND_STATUS_WORDS, reasonOf, toExternalOrder, tradeOrders } from "./map.js";
import { fetchFile, fromTopTime, list, type TopJson, top } from "./top.js";

/**
 * The buyer's refunds on Taobao become Dropdesk cases, through the same createCase as
 * `POST /api/v1/cases` (channel `platform`), keyed on `refund_id` in connector_records. Each later
 * version of the refund moves the case on as far as the platform went: agreed there, return
 * shipped, refunded (which settles Dropdesk's platform refund), closed by the buyer. The
 * platform's deadline (`refund_remind_timeout`, when it agrees by itself) is the case's SLA.
 */
type Json = TopJson;

export const TRADE_FIELDS =
  "tid,status,type,created,modified,pay_time,payment,post_fee,total_fee,discount_fee,buyer_nick,receiver_name,receiver_state,receiver_city,receiver_district,receiver_address,receiver_zip,receiver_mobile,receiver_phone,consign_time,orders";
export const REFUND_FIELDS =
  "refund_id,tid,oid,title,num,status,refund_fee,total_fee,payment,reason,desc,has_good_return,good_status,order_status,created,modified,refund_remind_timeout,refund_phase,refund_version,operation_contraint,company_name,sid,dispute_type,outer_id,sku";

export const isTmall = (ctx: ConnectorContext) => ctx.settings.platform === "tmall";

/** Imports (or finds) the trade of a tid; the same upsert as the trade pull, so it is one order either way. */
export async function ensureTrade(ctx: ConnectorContext, tid: string): Promise<{ orderId: string | null; trade: Json }> {
  const r = await top(ctx, "taobao.trade.fullinfo.get", { tid, fields: TRADE_FIELDS });
  const trade = (r.trade ?? {}) as Json;
  const ext: ExternalOrder = toExternalOrder(trade, { shopCurrency: ctx.shop?.currency ?? "", tmall: isTmall(ctx) });
  await upsertExternalOrder(ctx, ext);
  return { orderId: await orderOfTid(ctx, tid), trade };
}

export async function orderOfTid(ctx: ConnectorContext, tid: string): Promise<string | null> {
  const rec = await ctx.deps.db
    .selectFrom("connector_records")
    .select("entity_id")
    .where("connector_id", "=", ctx.connector.id)
    .where("record_type", "=", "order")
    .where("external_id", "=", tid)
    .executeTakeFirst();
  return (rec?.entity_id as string | null | undefined) ?? null;
}

const customerActor = (ctx: ConnectorContext, orderId: string, nick: unknown): Actor => ({
  kind: "customer",
  id: `taobao:${String(nick ?? "buyer")}`.slice(0, 100),
  tenantId: ctx.connector.tenant_id,
  role: "customer",
  orderId,
  name: String(nick ?? "淘宝买家"),
  locale: "zh-CN",
});

const descriptionOf = (r: Json, asked: string) =>
  `淘宝退款 ${r.refund_id}：${r.reason ?? ""}${r.desc ? ` — ${r.desc}` : ""}（买家申请退款 ¥${asked} / the buyer asks ¥${asked}）`.slice(
    0,
    2000,
  );

async function findCase(ctx: ConnectorContext, orderId: string, refundId: string): Promise<string | null> {
  // A case opened a moment before a crash, whose record was not saved yet: found by its description.
  const c = await ctx.deps.db
    .selectFrom("cases")
    .select("id")
    .where("tenant_id", "=", ctx.connector.tenant_id)
    .where("order_id", "=", orderId)
    .where("channel", "=", "platform")
    .where("description", "like", `淘宝退款 ${refundId}：%`)
    .executeTakeFirst();
  return c?.id ?? null;
}

async function openCase(ctx: ConnectorContext, r: Json): Promise<string | null> {
  const refundId = String(r.refund_id);
  const { orderId, trade } = await ensureTrade(ctx, String(r.tid));
  if (!orderId) {
    await ctx.log(
      "error",
      `退款 ${refundId}：交易 ${r.tid} 未能导入，售后单未建立 / refund ${refundId}: trade ${r.tid} is not imported, so no case was opened`,
      refundId,
    );
    return null;
  }
  const existing = await findCase(ctx, orderId, refundId);
  if (existing) return existing;
  const index = tradeOrders(trade).findIndex((o) => String(o.oid) === String(r.oid));
  const line = await ctx.deps.db
    .selectFrom("order_lines")
    .select(["id", "quantity"])
    .where("order_id", "=", orderId)
    .where("line_no", "=", Math.max(index, 0) + 1)
    .executeTakeFirst();
  if (!line) {
    await ctx.log(
      "error",
      `退款 ${refundId}：找不到子订单 ${r.oid} / refund ${refundId}: sub-order ${r.oid} is not on the order`,
      refundId,
    );
    return null;
  }
  const asked = fromMinorUnits(toMinorUnits(String(r.refund_fee ?? "0"), "CNY"), "CNY");
  try {
    const c = await createCase(ctx.deps, ctx.actor, {
      orderId,
      type: caseTypeOf(r),
      reason: reasonOf(`${r.reason ?? ""} ${r.desc ?? ""}`),
      lines: [{ orderLineId: line.id, quantity: Number(line.quantity) }],
      description: descriptionOf(r, asked),
      channel: "platform",
      at: fromTopTime(r.created)?.toISOString(),
    });
    await ctx.log("info", `退款 ${refundId} 已建售后单 ${c.caseNo} / refund ${refundId} opened case ${c.caseNo}`, refundId);
    return c.id as string;
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    const why = e.code === "policy_refused" ? "店铺的售后政策不允许 / the shop's policy refuses it" : e.message;
    await ctx.log(
      "warn",
      inBackOffice(
        ctx.settings,
        refundId,
        `淘宝退款 ${refundId} 未能建售后单（${why}）`,
        `Taobao refund ${refundId} could not open a case (${e.message})`,
      ),
      refundId,
    );
    return null;
  }
}

/** The buyer's messages on the refund, each once on the case's timeline, and their photos as evidence. */
async function copyMessages(ctx: ConnectorContext, caseId: string, refundId: string) {
  const r = await top(ctx, "taobao.refund.messages.get", {
    refund_id: refundId,
    fields: "id,content,created,owner_nick,owner_role,pic_urls,message_type",
    page_no: 1,
    page_size: 100,
  });
  for (const m of list(r.refund_messages, "refund_message")) {
    if (String(m.owner_role) === "2") continue; // the seller's own words
    const fresh = await recordOnce(ctx, { recordType: "refund_message", externalId: String(m.id), entityId: caseId, externalNo: refundId });
    if (fresh && m.content)
      await caseNote(ctx, caseId, "platform_message", String(m.content), { refundId, from: m.owner_nick ?? null }, fromTopTime(m.created));
    for (const pic of list(m.pic_urls, "pic_url")) {
      const url = String(pic.url ?? "");
      if (!url) continue;
      if (!(await recordOnce(ctx, { recordType: "refund_pic", externalId: sha256(url), entityId: caseId, externalNo: refundId }))) continue;
      try {
        const data = await fetchFile(ctx, url);
        await storeEvidence(ctx.deps, ctx.actor, caseId, { filename: url.split("/").pop() || "taobao.jpg", data });
      } catch (e) {
        await ctx.log(
          "warn",
          `退款 ${refundId} 的凭证图片未能保存 / a photo of refund ${refundId} could not be kept: ${e instanceof Error ? e.message : e}`,
          refundId,
        );
      }
    }
  }
}

/** The platform's deadline — when it agrees, or closes, by itself — is the case's current SLA. */
async function setDeadline(ctx: ConnectorContext, caseId: string, r: Json) {
  const t = r.refund_remind_timeout;
  const at = t && (t.exist_timeout === true || t.exist_timeout === "true") ? fromTopTime(t.timeout) : undefined;
  if (!at) return;
  const column =
    r.status === "WAIT_SELLER_AGREE"
      ? "response_due_at"
      : r.status === "WAIT_BUYER_RETURN_GOODS"
        ? "return_ship_due_at"
        : r.status === "WAIT_SELLER_CONFIRM_GOODS"
          ? "refund_due_at"
          : null;
  if (column)
    await ctx.deps.db
      .updateTable("cases")
      .set({ [column]: at })
      .where("id", "=", caseId)
      .execute();
}

async function platformRefundOf(deps: Deps, caseId: string) {
  return deps.db
    .selectFrom("refunds")
    .select(["id", "status", "amount"])
    .where("case_id", "=", caseId)
    .where("gateway", "=", "platform")
    .orderBy("created_at", "desc")
    .executeTakeFirst();
}

const act = async (ctx: ConnectorContext, actor: Actor, caseId: string, action: Parameters<typeof runCaseAction>[3], input = {}) => {
  try {
    await runCaseAction(ctx.deps, actor, caseId, action, input);
    return true;
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    await ctx.log("warn", `售后单未能随淘宝更新（${action}）/ the case could not follow Taobao (${action}): ${e.message}`);
    return false;
  }
};

/** Moves the case as far as the platform went. */
async function follow(ctx: ConnectorContext, caseId: string, r: Json) {
  const refundId = String(r.refund_id);
  const c = await ctx.deps.db
    .selectFrom("cases")
    .select(["id", "status", "type", "order_id"])
    .where("id", "=", caseId)
    .executeTakeFirstOrThrow();
  await setDeadline(ctx, caseId, r);
  const buyer = customerActor(ctx, c.order_id, r.buyer_nick);
  if (r.status === "WAIT_BUYER_RETURN_GOODS" && (c.status === "submitted" || c.status === "info_requested"))
    await act(ctx, ctx.actor, caseId, "approve", { note: "已在淘宝同意退货 / the return was agreed on Taobao" });
  if (r.status === "WAIT_SELLER_CONFIRM_GOODS" && r.sid) {
    const now = await ctx.deps.db.selectFrom("cases").select("status").where("id", "=", caseId).executeTakeFirstOrThrow();
    if (now.status === "awaiting_return")
      await act(ctx, buyer, caseId, "ship-return", {
        carrier: String(r.company_name ?? "").slice(0, 60) || "unknown",
        trackingNo: String(r.sid).slice(0, 60),
      });
  }
  if (r.status === "SUCCESS") {
    const refund = await platformRefundOf(ctx.deps, caseId);
    if (refund && (refund.status === "processing" || refund.status === "pending")) {
      await settleRefund(ctx.deps, refund.id, "succeeded", `taobao-refund:${refundId}`);
    } else if (!refund && c.type === "refund_only" && ["submitted", "info_requested", "approved"].includes(c.status)) {
      // Agreed on the platform (in the back office, or by its own deadline): Dropdesk records the
      // refund the platform paid, which settles at once because the platform reports it done.
      if (c.status !== "approved")
        await act(ctx, ctx.actor, caseId, "approve", { note: "淘宝已同意退款 / the refund was agreed on Taobao" });
      await act(ctx, ctx.actor, caseId, "refund", { method: "original" });
    } else if (!refund) {
      await caseNote(
        ctx,
        caseId,
        "platform_note",
        `淘宝已退款 ¥${r.refund_fee}：验收退货后在 Dropdesk 退款，将立即按平台已退款结算 / Taobao refunded ¥${r.refund_fee}: once the return is inspected, refund the case in Dropdesk and it settles at once as paid by the platform`,
        { refundId },
      );
    }
  }
  if (r.status === "CLOSED") {
    const refund = await platformRefundOf(ctx.deps, caseId);
    if (refund && refund.status === "processing")
      await settleRefund(ctx.deps, refund.id, "failed", undefined, "买家已在淘宝关闭退款 / the buyer closed the refund on Taobao");
    if (["submitted", "info_requested", "approved", "awaiting_return"].includes(c.status))
      await act(ctx, buyer, caseId, "cancel", { note: "买家已在淘宝撤销退款申请 / the buyer withdrew the refund on Taobao" });
  }
}

/** One refund of `taobao.refunds.receive.get`: opened as a case the first time, followed after. */
export async function pullRefund(ctx: ConnectorContext, brief: Json): Promise<"created" | "updated" | "unchanged" | "skipped"> {
  const refundId = String(brief.refund_id);
  const db = ctx.deps.db;
  const rec = await db
    .selectFrom("connector_records")
    .selectAll()
    .where("connector_id", "=", ctx.connector.id)
    .where("record_type", "=", "refund")
    .where("external_id", "=", refundId)
    .executeTakeFirst();
  const modified = fromTopTime(brief.modified);
  const briefHash = sha256(JSON.stringify([brief.status, brief.refund_fee, brief.modified, brief.sid ?? null]));
  if (rec && rec.content_hash === briefHash) return "unchanged";
  if (rec?.external_updated_at && modified && new Date(rec.external_updated_at) > modified) return "unchanged";
  const full = ((await top(ctx, "taobao.refund.get", { refund_id: refundId, fields: REFUND_FIELDS })).refund ?? {}) as Json;
  let caseId = (rec?.entity_id as string | null | undefined) ?? null;
  let outcome: "created" | "updated" | "skipped" = "updated";
  if (!caseId) {
    if (!OPEN_REFUND.has(String(full.status))) {
      if (!rec)
        await ctx.log(
          "info",
          `淘宝退款 ${refundId} 在 Dropdesk 看到时已是「${REFUND_STATUS_WORDS[full.status] ?? full.status}」，未建售后单 / Taobao refund ${refundId} was already ${full.status} when Dropdesk first saw it; no case opened`,
          refundId,
        );
      outcome = "skipped";
    } else {
      caseId = await openCase(ctx, full);
      outcome = caseId ? "created" : "skipped";
    }
  }
  if (caseId) {
    await copyMessages(ctx, caseId, refundId);
    await follow(ctx, caseId, full);
  }
  const now = ctx.deps.clock.now();
  await db
    .insertInto("connector_records")
    .values({
      tenant_id: ctx.connector.tenant_id,
      connector_id: ctx.connector.id,
      record_type: "refund",
      external_id: refundId,
      entity_id: caseId,
      external_no: String(full.tid ?? brief.tid ?? ""),
      external_updated_at: modified ?? null,
      content_hash: briefHash,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc.columns(["connector_id", "record_type", "external_id"]).doUpdateSet({
        entity_id: caseId,
        external_updated_at: modified ?? null,
        content_hash: briefHash,
        updated_at: now,
      }),
    )
    .execute();
  return outcome;
}

// The platform gateway's side for Taobao: agree the buyer's refund, and read whether it was paid.

async function refundRecordOfCase(deps: Deps, row: PlatformRefundRow) {
  if (!row.case_id) return null;
  const rec = await deps.db
    .selectFrom("connector_records as r")
    .innerJoin("connectors as c", "c.id", "r.connector_id")
    .select(["r.external_id", "r.connector_id"])
    .where("r.tenant_id", "=", row.tenant_id)
    .where("r.record_type", "=", "refund")
    .where("r.entity_id", "=", row.case_id)
    .where("c.kind", "=", "taobao")
    .executeTakeFirst();
  if (!rec) return null;
  const connector = await loadConnector(deps.db, rec.connector_id, row.tenant_id);
  return connector ? { refundId: rec.external_id, connector: connector as ConnectorRow } : null;
}

/** Whether Taobao can agree this refund now, and if not, why, in words; reads the refund first. */
export async function agreeable(ctx: ConnectorContext, refundId: string, amount: number) {
  const r = ((await top(ctx, "taobao.refund.get", { refund_id: refundId, fields: REFUND_FIELDS })).refund ?? {}) as Json;
  const asked = toMinorUnits(String(r.refund_fee ?? "0"), "CNY");
  if (r.status === "SUCCESS") return { done: true as const, refund: r };
  if (r.status === "CLOSED") return { error: "买家已在淘宝关闭这笔退款 / the buyer closed this refund on Taobao", refund: r };
  if (r.operation_contraint === "refund_onweb" || r.operation_contraint === "cannot_refuse_and_agree")
    return {
      error: inBackOffice(
        ctx.settings,
        refundId,
        "淘宝只允许在网页版卖家后台同意这笔退款",
        "Taobao lets this refund be agreed only in the seller back office",
      ),
      refund: r,
    };
  if (asked !== amount)
    return {
      error: inBackOffice(
        ctx.settings,
        refundId,
        `Dropdesk 算出应退 ¥${fromMinorUnits(amount, "CNY")}，买家在淘宝申请 ¥${fromMinorUnits(asked, "CNY")}；淘宝只能同意买家申请的金额，请买家修改申请`,
        `Dropdesk computes ${fromMinorUnits(amount, "CNY")} but the buyer asked ${fromMinorUnits(asked, "CNY")} on Taobao, which agrees only the amount asked: ask the buyer to change the request`,
      ),
      refund: r,
    };
  if (r.status !== "WAIT_SELLER_AGREE" && r.status !== "WAIT_SELLER_CONFIRM_GOODS")
    return {
      error: `淘宝上这笔退款是「${REFUND_STATUS_WORDS[r.status] ?? r.status}」，现在不能同意退款 / the refund is ${r.status} on Taobao and cannot be agreed now`,
      refund: r,
    };
  return { refund: r };
}

registerPlatformRefunds(["taobao", "tmall"], {
  async refund(deps, row) {
    const link = await refundRecordOfCase(deps, row);
    if (!link)
      return {
        status: "failed",
        error:
          "淘宝、天猫订单的钱只能经买家在平台发起的退款退回：请买家在淘宝申请退款，或在卖家后台退款 / money on a Taobao or Tmall order goes back only through a refund the buyer opens on the platform: ask the buyer to open one, or refund in the seller back office",
      };
    const ctx = await contextFor(deps, link.connector);
    const check = await agreeable(ctx, link.refundId, row.amount);
    if (check.done) return { status: "succeeded", reference: `taobao-refund:${link.refundId}` };
    if (check.error) {
      if (row.case_id) await caseNote(ctx, row.case_id, "platform_note", check.error, { refundId: link.refundId });
      return { status: "failed", error: check.error };
    }
    // Agreed in batches within the platform's limits, by the connector's push job.
    const key = `agree:${row.id}`;
    const inserted = await deps.db
      .insertInto("connector_pushes")
      .values({ tenant_id: row.tenant_id, connector_id: link.connector.id, push_key: key, action: "agree", entity_id: row.id })
      .onConflict((oc) => oc.columns(["connector_id", "push_key"]).doUpdateSet({ status: "pending", updated_at: deps.clock.now() }))
      .returning("push_key")
      .executeTakeFirst();
    // Imported here: jobs.ts reads the kind registry, which imports this module, when it loads.
    const { enqueueConnectorJob } = await import("../jobs.js");
    if (inserted) await enqueueConnectorJob(deps, { type: "push", connectorId: link.connector.id, pushKey: key });
    return { status: "processing", reference: `taobao-refund:${link.refundId}` };
  },
  async lookup(deps, row) {
    const link = await refundRecordOfCase(deps, row);
    if (!link) return { status: "unknown" };
    const ctx = await contextFor(deps, link.connector);
    try {
      const r = ((await top(ctx, "taobao.refund.get", { refund_id: link.refundId, fields: "refund_id,status,modified" })).refund ??
        {}) as Json;
      if (r.status === "SUCCESS") return { status: "succeeded", reference: `taobao-refund:${link.refundId}` };
      if (r.status === "CLOSED") return { status: "failed", error: "买家已在淘宝关闭这笔退款 / the buyer closed this refund on Taobao" };
    } catch (e) {
      if (!(e instanceof ServiceError)) throw e;
      return { status: "processing" };
    }
    const push = await deps.db
      .selectFrom("connector_pushes")
      .select("status")
      .where("connector_id", "=", link.connector.id)
      .where("push_key", "=", `agree:${row.id}`)
      .executeTakeFirst();
    // Never handed to the platform (a crash before the push was queued): send it again.
    return { status: push ? "processing" : "unknown" };
  },
});
