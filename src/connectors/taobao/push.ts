import { settleRefund } from "../../money/refunds.js";
import { ServiceError } from "../http.js";
import type { ConnectorContext } from "../kind.js";
import { fromMinorUnits } from "../money.js";
import { caseNote, inBackOffice } from "./links.js";
import { tradeOrders } from "./map.js";
import { agreeable, isTmall, REFUND_FIELDS, TRADE_FIELDS } from "./refunds.js";
import { TopError, type TopJson, top } from "./top.js";

/**
 * Decisions made in Dropdesk, sent back to Taobao by the framework's push jobs. Each reads the
 * platform's state first and does nothing when the effect is already there, so a retry after a
 * lost answer never agrees, refuses or ships twice. What the platform refuses — and what only
 * the seller back office may do — is written on the case, in words, with the back office's link.
 */
type Json = TopJson;

/** taobao.rp.refunds.agree takes at most 20 refunds and ¥6,000 a call on Taobao, 30 and ¥10,000 on Tmall. */
export const AGREE_LIMITS = { taobao: { count: 20, amount: 600_000 }, tmall: { count: 30, amount: 1_000_000 } };

async function refundOfCase(ctx: ConnectorContext, caseId: string) {
  const rec = await ctx.deps.db
    .selectFrom("connector_records")
    .select("external_id")
    .where("connector_id", "=", ctx.connector.id)
    .where("record_type", "=", "refund")
    .where("entity_id", "=", caseId)
    .executeTakeFirst();
  return rec?.external_id ?? null;
}

const getRefund = async (ctx: ConnectorContext, refundId: string) =>
  ((await top(ctx, "taobao.refund.get", { refund_id: refundId, fields: REFUND_FIELDS })).refund ?? {}) as Json;

/** What the platform refused, on the case too; then the push fails with the same words. */
async function refusedOnCase(ctx: ConnectorContext, caseId: string, refundId: string, message: string): Promise<never> {
  await caseNote(ctx, caseId, "platform_note", message, { refundId });
  throw new ServiceError("refused", message);
}

const topWords = (e: TopError) => `${e.top.sub_msg ?? e.top.msg ?? ""}${e.top.sub_code ? `（${e.top.sub_code}）` : ""}`;

/** An approved return goes back as taobao.rp.returngoods.agree with the case's return address. */
export async function approveOnTaobao(ctx: ConnectorContext, caseId: string) {
  const refundId = await refundOfCase(ctx, caseId);
  if (!refundId) return { note: "not a Taobao refund" };
  const c = await ctx.deps.db.selectFrom("cases").select(["type", "return_address"]).where("id", "=", caseId).executeTakeFirstOrThrow();
  if (c.type === "refund_only")
    return { externalId: refundId, note: "refund only: the money goes back with the case's refund (taobao.rp.refunds.agree)" };
  const r = await getRefund(ctx, refundId);
  if (r.status !== "WAIT_SELLER_AGREE") return { externalId: refundId, note: `already ${r.status} on Taobao` };
  if (c.type === "exchange")
    return refusedOnCase(
      ctx,
      caseId,
      refundId,
      inBackOffice(ctx.settings, refundId, "换货需在卖家后台同意", "Exchanges are agreed in the seller back office for now"),
    );
  const a = (c.return_address ?? null) as Record<string, string | undefined> | null;
  if (!a?.line1)
    return refusedOnCase(
      ctx,
      caseId,
      refundId,
      "售后单没有退货地址，淘宝同意退货需要它 / the case has no return address, which Taobao needs to agree a return",
    );
  const tmall = isTmall(ctx);
  try {
    await top(ctx, "taobao.rp.returngoods.agree", {
      refund_id: refundId,
      name: a.name,
      address: [a.province, a.city, a.district, a.line1, a.line2].filter(Boolean).join(""),
      post: a.postalCode,
      tel: a.phone,
      mobile: a.phone,
      remark: "请按此地址退货并填写运单号 / please send the return to this address and enter its tracking number",
      refund_phase: tmall ? r.refund_phase : undefined,
      refund_version: tmall ? r.refund_version : undefined,
      seller_address_id: ctx.settings.sellerAddressId,
    });
  } catch (e) {
    if (e instanceof TopError && e.kind === "refused")
      return refusedOnCase(
        ctx,
        caseId,
        refundId,
        inBackOffice(ctx.settings, refundId, `淘宝拒绝同意退货：${topWords(e)}`, `Taobao refused to agree the return: ${topWords(e)}`),
      );
    throw e;
  }
  return { externalId: refundId };
}

/** A rejected case goes back as taobao.refund.refuse with the rejection's words and a staff photo as proof. */
export async function refuseOnTaobao(ctx: ConnectorContext, caseId: string) {
  const refundId = await refundOfCase(ctx, caseId);
  if (!refundId) return { note: "not a Taobao refund" };
  const r = await getRefund(ctx, refundId);
  if (r.status === "SELLER_REFUSE_BUYER" || r.status === "CLOSED" || r.status === "SUCCESS")
    return { externalId: refundId, note: `already ${r.status} on Taobao` };
  if (r.operation_contraint === "cannot_refuse")
    return refusedOnCase(
      ctx,
      caseId,
      refundId,
      inBackOffice(
        ctx.settings,
        refundId,
        "淘宝不允许拒绝这笔退款（如未发货或七天无理由）",
        "Taobao does not allow refusing this refund (e.g. not shipped yet, or a no-reason return)",
      ),
    );
  const db = ctx.deps.db;
  const rejected = await db
    .selectFrom("case_events")
    .select("note")
    .where("case_id", "=", caseId)
    .where("action", "=", "reject")
    .orderBy("at", "desc")
    .executeTakeFirst();
  const message = String(rejected?.note ?? "")
    .slice(0, 200)
    .padEnd(2, "。");
  // The proof is a photo staff put on the case (not one the buyer sent through the platform).
  const proof = await db
    .selectFrom("evidence")
    .select(["storage_key", "mime", "filename", "size_bytes"])
    .where("case_id", "=", caseId)
    .where("kind", "=", "image")
    .where("uploaded_by", "not like", "system:%")
    .where("size_bytes", "<=", 130_000)
    .orderBy("created_at", "desc")
    .executeTakeFirst();
  const tmall = isTmall(ctx);
  if (tmall && !proof)
    return refusedOnCase(
      ctx,
      caseId,
      refundId,
      "天猫拒绝退款必须附凭证：请在售后单上传一张 130KB 以内的图片后重试，或在卖家后台拒绝 / Tmall needs a proof to refuse a refund: upload a photo under 130 KB on the case and try again, or refuse in the seller back office",
    );
  const data = proof ? await ctx.deps.storage.get(proof.storage_key) : null;
  try {
    const out = await top(
      ctx,
      "taobao.refund.refuse",
      {
        refund_id: refundId,
        refuse_message: message,
        refund_phase: tmall ? r.refund_phase : undefined,
        refund_version: tmall ? r.refund_version : undefined,
      },
      proof && data ? { refuse_proof: { filename: proof.filename || "proof.jpg", mime: proof.mime, data: Buffer.from(data) } } : {},
    );
    if (out.is_success === false) throw new ServiceError("refused", "淘宝未能拒绝退款 / Taobao did not refuse the refund");
  } catch (e) {
    if (e instanceof TopError && e.kind === "refused")
      return refusedOnCase(
        ctx,
        caseId,
        refundId,
        inBackOffice(ctx.settings, refundId, `淘宝拒绝了“拒绝退款”：${topWords(e)}`, `Taobao did not accept the refusal: ${topWords(e)}`),
      );
    throw e;
  }
  return { externalId: refundId };
}

/**
 * Agrees every refund waiting for the platform on this connector, in batches within the
 * platform's limits (this push and the others pending with it). Each refund is read first: one the
 * platform has paid already is settled, one it cannot agree fails with the reason on its case.
 */
export async function agreeOnTaobao(ctx: ConnectorContext, refundRowId: string) {
  const db = ctx.deps.db;
  const pending = await db
    .selectFrom("connector_pushes as p")
    .innerJoin("refunds as f", "f.id", "p.entity_id")
    .innerJoin("connector_records as r", (j) => j.onRef("r.entity_id", "=", "f.case_id").on("r.record_type", "=", "refund"))
    .select(["p.push_key", "f.id", "f.amount", "f.case_id", "f.status", "r.external_id"])
    .where("p.connector_id", "=", ctx.connector.id)
    .where("r.connector_id", "=", ctx.connector.id)
    .where("p.action", "=", "agree")
    .where((eb) => eb.or([eb("p.status", "=", "pending"), eb("p.entity_id", "=", refundRowId)]))
    .orderBy("p.created_at")
    .execute();
  const limits = isTmall(ctx) ? AGREE_LIMITS.tmall : AGREE_LIMITS.taobao;
  const finish = (key: string, status: "done" | "failed", error?: string) =>
    db
      .updateTable("connector_pushes")
      .set({ status, last_error: error ?? null, attempts: 1, updated_at: ctx.deps.clock.now() })
      .where("connector_id", "=", ctx.connector.id)
      .where("push_key", "=", key)
      .where("push_key", "!=", `agree:${refundRowId}`)
      .execute();
  let mine: { error?: string; note?: string } = {};
  const fail = async (p: (typeof pending)[number], error: string) => {
    await finish(p.push_key, "failed", error);
    if (p.case_id) await caseNote(ctx, p.case_id, "platform_note", error, { refundId: p.external_id });
    await settleRefund(ctx.deps, p.id, "failed", undefined, error);
    if (p.id === refundRowId) mine = { error };
  };
  const batch: { p: (typeof pending)[number]; info: string; amount: number }[] = [];
  for (const p of pending) {
    if (p.status !== "processing") {
      await finish(p.push_key, "done");
      continue;
    }
    const check = await agreeable(ctx, p.external_id, Number(p.amount));
    if (check.done) {
      await settleRefund(ctx.deps, p.id, "succeeded", `taobao-refund:${p.external_id}`);
      await finish(p.push_key, "done");
      if (p.id === refundRowId) mine = { note: "already refunded on Taobao" };
      continue;
    }
    if (check.error) {
      await fail(p, check.error);
      continue;
    }
    const r = check.refund;
    const version = r.refund_version ?? "";
    const info = [p.external_id, String(Number(p.amount)), version, isTmall(ctx) ? (r.refund_phase ?? "") : ""]
      .join("|")
      .replace(/\|+$/, "");
    batch.push({ p, info, amount: Number(p.amount) });
  }
  // Chunks within the count and amount limits; a refund above the amount limit alone goes in its own call.
  const chunks: (typeof batch)[] = [];
  for (const b of batch) {
    const last = chunks[chunks.length - 1];
    if (last && last.length < limits.count && last.reduce((s, x) => s + x.amount, 0) + b.amount <= limits.amount) last.push(b);
    else chunks.push([b]);
  }
  for (const chunk of chunks) {
    let out: Json;
    try {
      out = await top(ctx, "taobao.rp.refunds.agree", { refund_infos: chunk.map((b) => b.info).join(",") });
    } catch (e) {
      if (e instanceof TopError && e.kind === "refused") {
        const words = inBackOffice(
          ctx.settings,
          chunk[0].p.external_id,
          `淘宝拒绝同意退款：${topWords(e)}`,
          `Taobao refused to agree the refund: ${topWords(e)}`,
        );
        for (const b of chunk) await fail(b.p, words);
        continue;
      }
      throw e;
    }
    const results = (out.results?.refund_mapping_result ?? []) as Json[];
    for (const b of chunk) {
      const res = results.find((x) => String(x.refund_id) === b.p.external_id);
      if (res && (res.succ === true || res.succ === "true")) {
        await finish(b.p.push_key, "done");
        await ctx.log(
          "info",
          `淘宝已同意退款 ${b.p.external_id}（¥${fromMinorUnits(b.amount, "CNY")}），等待平台退款到账 / refund ${b.p.external_id} agreed on Taobao, waiting for the platform to pay it`,
          b.p.external_id,
        );
      } else {
        const why = String(res?.message ?? out.message ?? "unknown");
        await fail(b.p, inBackOffice(ctx.settings, b.p.external_id, `淘宝未能同意退款：${why}`, `Taobao did not agree the refund: ${why}`));
      }
    }
  }
  if (mine.error) throw new ServiceError("refused", mine.error);
  return {
    externalId: pending.find((p) => p.id === refundRowId)?.external_id,
    note: mine.note ?? `${batch.length} refund(s) in ${chunks.length} call(s)`,
  };
}

/** Taobao's logistics company codes for the carriers Dropdesk's users write. */
const COMPANY: [RegExp, string][] = [
  [/^(sf|shunfeng|顺丰)/i, "SF"],
  [/^(yto|yuantong|圆通)/i, "YTO"],
  [/^(zto|zhongtong|中通)/i, "ZTO"],
  [/^(yunda|yd|韵达)/i, "YUNDA"],
  [/^(sto|shentong|申通)/i, "STO"],
  [/^(jt|j&t|jtexpress|极兔)/i, "JTSD"],
  [/^(ems)/i, "EMS"],
  [/^(youzheng|chinapost|邮政)/i, "POSTB"],
  [/^(jd|京东)/i, "JD"],
  [/^(debang|deppon|德邦)/i, "DBKD"],
  [/^(best|huitong|百世)/i, "HTKY"],
];
export function companyCode(carrier: string | null | undefined): string | null {
  const c = (carrier ?? "").trim().replace(/\s+/g, "");
  for (const [re, code] of COMPANY) if (re.test(c)) return code;
  return /^[A-Z]{2,10}$/.test(c) ? c : null;
}

/** A supplier's shipment → taobao.logistics.offline.send for the sub-orders it carries. */
export async function shipOnTaobao(ctx: ConnectorContext, supplierOrderId: string) {
  const db = ctx.deps.db;
  const so = await db
    .selectFrom("supplier_orders")
    .select(["id", "order_id", "carrier", "tracking_no"])
    .where("id", "=", supplierOrderId)
    .where("tenant_id", "=", ctx.connector.tenant_id)
    .executeTakeFirstOrThrow();
  const rec = await db
    .selectFrom("connector_records")
    .select("external_id")
    .where("connector_id", "=", ctx.connector.id)
    .where("record_type", "=", "order")
    .where("entity_id", "=", so.order_id)
    .executeTakeFirst();
  if (!rec) throw new ServiceError("refused", "the order did not come from this Taobao shop");
  const tid = rec.external_id;
  const code = companyCode(so.carrier);
  if (!code)
    throw new ServiceError(
      "refused",
      `淘宝不认识快递公司“${so.carrier}”，请用常见快递名称或淘宝物流公司编码 / Taobao has no logistics company code for "${so.carrier}"`,
    );
  const trade = ((await top(ctx, "taobao.trade.fullinfo.get", { tid, fields: TRADE_FIELDS })).trade ?? {}) as Json;
  const subs = tradeOrders(trade);
  const lines = await db
    .selectFrom("supplier_order_lines as l")
    .innerJoin("order_lines as ol", "ol.id", "l.order_line_id")
    .select("ol.line_no")
    .where("l.supplier_order_id", "=", supplierOrderId)
    .execute();
  const oids = lines
    .map((l) => subs[Number(l.line_no) - 1]?.oid)
    .filter((o) => o !== undefined)
    .map(String);
  const mine = subs.filter((o) => oids.includes(String(o.oid)));
  if (mine.length && mine.every((o) => o.invoice_no === so.tracking_no)) return { externalId: tid, note: "already shipped on Taobao" };
  const split = oids.length > 0 && oids.length < subs.length;
  const out = await top(ctx, "taobao.logistics.offline.send", {
    tid,
    out_sid: so.tracking_no,
    company_code: code,
    is_split: split ? 1 : undefined,
    sub_tid: split ? oids.join(",") : undefined,
  });
  if (out.shipping?.is_success === false) throw new ServiceError("refused", "淘宝未能发货 / Taobao did not record the shipment");
  return { externalId: tid };
}
