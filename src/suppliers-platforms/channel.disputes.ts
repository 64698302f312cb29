import { systemActor } from "../connectors/context.js";
import { ServiceError } from "../connectors/http.js";
import { CLAIM_MACHINE } from "../money/claim.states.js";
import { post } from "../money/ledger.js";
import { audit } from "../platform/audit.js";
import { type Actor, type Deps, emit } from "../platform/context.js";
import { AppError, notFound } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import { lockRows } from "../platform/locks.js";
import { platformContext } from "./channel.repo.js";
import { evidenceLink } from "./evidence-links.js";
import { cdb, type SupplierPlatform } from "./platform.js";

// Disputes and recoveries -----------------------------------------------------------------------

/** Opens the platform's refund dispute for a supplier claim, with the case's evidence as vouchers. */
export async function openDisputeForClaim(
  deps: Deps,
  actor: Actor,
  claimId: string,
  input: { request?: "refund" | "returnRefund"; description?: string },
) {
  const claim = await deps.db
    .selectFrom("supplier_claims")
    .selectAll()
    .where("tenant_id", "=", actor.tenantId)
    .where("id", "=", claimId)
    .executeTakeFirst();
  if (!claim) throw notFound("supplier claim");
  if (!["open", "disputed"].includes(claim.status))
    throw new AppError("conflict", `the claim is ${claim.status}; only an open or disputed claim goes to the platform`);
  if (!claim.case_id) throw new AppError("conflict", "the claim has no case to take the order and evidence from");
  const already = await cdb(deps.db)
    .selectFrom("claim_disputes")
    .select("id")
    .where("claim_id", "=", claimId)
    .where("state", "=", "open")
    .executeTakeFirst();
  if (already) throw new AppError("conflict", "a dispute for this claim is open on the platform already", { disputeId: already.id });
  const c = await deps.db.selectFrom("cases").selectAll().where("id", "=", claim.case_id).executeTakeFirstOrThrow();
  const link = await cdb(deps.db)
    .selectFrom("supplier_order_channel_links as l")
    .innerJoin("supplier_orders as so", "so.id", "l.supplier_order_id")
    .select(["l.connector_id", "l.external_order_id", "so.status", "so.id"])
    .where("so.order_id", "=", c.order_id)
    .where("so.supplier_id", "=", claim.supplier_id)
    .where("so.purpose", "=", "original")
    .where("l.state", "=", "placed")
    .executeTakeFirst();
  if (!link?.external_order_id)
    throw new AppError("conflict", "the case's supplier order was not placed on a platform; settle the claim by statement");
  const { ctx, platform } = await platformContext(deps, link.connector_id);
  const files = await deps.db
    .selectFrom("evidence")
    .selectAll()
    .where("case_id", "=", c.id)
    .where("kind", "=", "image")
    .orderBy("created_at")
    .limit(5)
    .execute();
  const evidence: { data: Buffer; filename: string; mime: string }[] = [];
  const evidenceUrls: string[] = [];
  for (const f of files) {
    const data = await deps.storage.get(f.storage_key);
    if (data) evidence.push({ data, filename: f.filename ?? `${f.id}.jpg`, mime: f.mime });
    if (data) evidenceUrls.push(evidenceLink(deps, f.id));
  }
  const earlier = await cdb(deps.db).selectFrom("claim_disputes").select("id").where("claim_id", "=", claimId).execute();
  const request = input.request ?? (c.type === "return_refund" || c.type === "exchange" ? "returnRefund" : "refund");
  let opened: Awaited<ReturnType<SupplierPlatform["openDispute"]>>;
  try {
    opened = await platform.openDispute(ctx, {
      externalOrderId: link.external_order_id,
      request,
      reason: c.reason,
      amount: Number(claim.amount),
      description: (input.description ?? `${c.case_no} ${c.description ?? c.reason}`).slice(0, 150),
      evidence,
      evidenceUrls,
      businessId: `${claimId}-${earlier.length + 1}`,
      goodsReceived: link.status === "delivered",
    });
  } catch (e) {
    if (e instanceof ServiceError)
      throw new AppError("conflict", `${platform.kind} refused the dispute: ${e.message}`, { platform: platform.kind });
    throw e;
  }
  const id = newId();
  await deps.db.transaction().execute(async (tx) => {
    await lockRows(tx, { claims: [claimId] });
    await cdb(tx)
      .insertInto("claim_disputes")
      .values({
        id,
        tenant_id: actor.tenantId,
        claim_id: claimId,
        connector_id: link.connector_id,
        external_order_id: link.external_order_id as string,
        external_refund_id: opened.refundId,
        request,
        reason_id: opened.reasonId,
        reason: opened.reason,
        external_status: opened.status ?? "waitselleragree",
        state: "open",
        applied_amount: Number(claim.amount),
        vouchers: JSON.stringify(opened.vouchers),
        opened_at: deps.clock.now(),
      })
      .execute();
    // The platform's own timers govern the answer now; the claim is not accepted by ours.
    await tx.updateTable("supplier_claims").set({ due_at: null, updated_at: deps.clock.now() }).where("id", "=", claimId).execute();
    await audit(tx, actor, "claim.dispute_opened", "supplier_claim", claimId, undefined, {
      platform: platform.kind,
      refundId: opened.refundId,
      reason: opened.reason,
    });
  });
  await ctx.log(
    "info",
    `claim ${claimId}: dispute ${opened.refundId} opened (${request}, ${opened.reason}, ${opened.vouchers.length} vouchers)`,
    opened.refundId,
  );
  return disputeOut(await cdb(deps.db).selectFrom("claim_disputes").selectAll().where("id", "=", id).executeTakeFirstOrThrow());
}

export const disputeOut = (d: {
  id: string;
  claim_id: string;
  external_order_id: string;
  external_refund_id: string | null;
  request: string;
  reason: string | null;
  external_status: string | null;
  state: string;
  applied_amount: number;
  refunded_amount: number;
  vouchers: unknown;
  last_error: string | null;
  opened_at: Date;
  closed_at: Date | null;
}) => ({
  id: d.id,
  claimId: d.claim_id,
  externalOrderId: d.external_order_id,
  externalRefundId: d.external_refund_id,
  request: d.request,
  reason: d.reason,
  externalStatus: d.external_status,
  state: d.state,
  appliedAmount: Number(d.applied_amount),
  refundedAmount: Number(d.refunded_amount),
  vouchers: d.vouchers,
  lastError: d.last_error,
  openedAt: d.opened_at,
  closedAt: d.closed_at,
});

/**
 * A dispute's news in the claim and the ledger, in one transaction under the claim's lock:
 * money refunded settles the claim — `claim_recovered` (cash in, receivable out) and, for a
 * partial refund, `claim_written_off` (the rest back to cost) — and a refusal or a closed
 * dispute disputes the claim for finance to pursue or cancel.
 */
export async function applyDisputeState(
  deps: Deps,
  actor: Actor,
  disputeId: string,
  st: { status: string; state: "open" | "refunded" | "closed"; refunded: number; note?: string },
) {
  await deps.db.transaction().execute(async (tx) => {
    const d0 = await cdb(tx).selectFrom("claim_disputes").select("claim_id").where("id", "=", disputeId).executeTakeFirstOrThrow();
    await lockRows(tx, { claims: [d0.claim_id] });
    const d = await cdb(tx).selectFrom("claim_disputes").selectAll().where("id", "=", disputeId).executeTakeFirstOrThrow();
    const now = deps.clock.now();
    await cdb(tx)
      .updateTable("claim_disputes")
      .set({ external_status: st.status, pulled_at: now, updated_at: now, last_error: null })
      .where("id", "=", disputeId)
      .execute();
    if (d.state !== "open") return;
    const claim = await tx.selectFrom("supplier_claims").selectAll().where("id", "=", d.claim_id).executeTakeFirstOrThrow();
    const setClaim = async (to: "accepted" | "disputed" | "settled", note: string | null) => {
      if (!CLAIM_MACHINE.next(claim.status, to === "accepted" ? "accept" : to === "disputed" ? "dispute" : "settle")) return false;
      await tx
        .updateTable("supplier_claims")
        .set({
          status: to,
          updated_at: now,
          ...(to === "settled" ? { settled_at: now } : { answered_at: now }),
          ...(note ? { supplier_note: note.slice(0, 2000) } : {}),
        })
        .where("id", "=", claim.id)
        .execute();
      await audit(
        tx,
        actor,
        `claim.${to === "accepted" ? "accept" : to === "disputed" ? "dispute" : "settle"}`,
        "supplier_claim",
        claim.id,
        { status: claim.status },
        { status: to, via: "platform dispute", note },
      );
      await emit(deps, tx, {
        type: `claim.${to}`,
        tenantId: claim.tenant_id,
        entityId: claim.id,
        data: { supplierId: claim.supplier_id, note, amount: Number(claim.amount), recovered: st.refunded },
        key: `claim.${to}:${claim.id}:${now.getTime()}`,
      });
      claim.status = to;
      return true;
    };
    if (st.state === "open") {
      if (st.note && claim.status === "open") await setClaim("disputed", st.note);
      return;
    }
    if (st.state === "closed" || st.refunded <= 0) {
      await cdb(tx).updateTable("claim_disputes").set({ state: "closed", closed_at: now }).where("id", "=", disputeId).execute();
      if (claim.status === "open") await setClaim("disputed", st.note ?? `the platform closed the dispute without a refund (${st.status})`);
      return;
    }
    // Refunded: all or part of the claim comes back as cash from the platform.
    const amount = Number(claim.amount);
    const got = st.refunded;
    const currency =
      (claim.case_id
        ? (
            await tx
              .selectFrom("cases as c")
              .innerJoin("orders as o", "o.id", "c.order_id")
              .select("o.currency")
              .where("c.id", "=", claim.case_id)
              .executeTakeFirst()
          )?.currency
        : undefined) ?? "CNY";
    const base = { tenantId: claim.tenant_id, currency, supplierId: claim.supplier_id, caseId: claim.case_id, claimId: claim.id, at: now };
    await post(tx, {
      ...base,
      code: "claim_recovered",
      sourceKey: `claim_recovered:${claim.id}:${disputeId}`,
      memo: `refunded by the supplier through the platform (${d.external_refund_id})`,
      entries: [
        { account: "cash", amount: got },
        { account: "supplier_claims_receivable", amount: -Math.min(got, amount) },
        // More than claimed (the platform added freight): the excess lowers the cost further.
        { account: "cost_of_goods", amount: -Math.max(0, got - amount) },
      ],
    });
    if (got < amount)
      await post(tx, {
        ...base,
        code: "claim_written_off",
        sourceKey: `claim_written_off:${claim.id}`,
        memo: "the part of the claim the supplier did not refund",
        entries: [
          { account: "cost_of_goods", amount: amount - got },
          { account: "supplier_claims_receivable", amount: -(amount - got) },
        ],
      });
    await cdb(tx)
      .updateTable("claim_disputes")
      .set({ state: "refunded", refunded_amount: got, closed_at: now })
      .where("id", "=", disputeId)
      .execute();
    // Never left `accepted` between the two steps, so no statement can deduct it a second time.
    if (claim.status === "disputed") await setClaim("accepted", st.note ?? null);
    await setClaim("settled", got < amount ? `partially refunded: ${got} of ${amount}` : null);
  });
}

export async function pullDispute(deps: Deps, disputeId: string) {
  const d = await cdb(deps.db).selectFrom("claim_disputes").selectAll().where("id", "=", disputeId).executeTakeFirstOrThrow();
  if (d.state !== "open" || !d.external_refund_id) return;
  const { row, ctx, platform } = await platformContext(deps, d.connector_id);
  const st = await platform.pullDispute(ctx, d.external_refund_id);
  await applyDisputeState(deps, systemActor(row), disputeId, st);
}

/** Pulls every open dispute of a claim now (the `pull-dispute` action): all of the claim's disputes. */
export async function pullClaimDisputes(deps: Deps, a: Actor, claimId: string) {
  const ds = await cdb(deps.db)
    .selectFrom("claim_disputes")
    .select("id")
    .where("tenant_id", "=", a.tenantId)
    .where("claim_id", "=", claimId)
    .where("state", "=", "open")
    .execute();
  try {
    for (const d of ds) await pullDispute(deps, d.id);
  } catch (e) {
    if (e instanceof ServiceError) throw new AppError("conflict", e.message);
    throw e;
  }
  const all = await cdb(deps.db)
    .selectFrom("claim_disputes")
    .selectAll()
    .where("tenant_id", "=", a.tenantId)
    .where("claim_id", "=", claimId)
    .orderBy("opened_at")
    .execute();
  return { items: all.map(disputeOut) };
}
