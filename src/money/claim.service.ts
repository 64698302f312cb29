import type { Selectable } from "kysely";
import type { SupplierClaims } from "../db/schema.js";
import type { ClaimStatus } from "../domain/vocabulary.js";
import { audit } from "../platform/audit.js";
import { type Actor, type Deps, emit, type Role } from "../platform/context.js";
import type { Tx } from "../platform/db.js";
import { invalidTransition, notFound } from "../platform/errors.js";
import { keysetPage } from "../platform/list.js";
import { CLAIM_MACHINE, type ClaimAction } from "./claim.states.js";
import { post } from "./ledger.js";

// Supplier claims (向供应商索赔): what a supplier owes for a case it caused — accepted, disputed,
// settled on a statement or cancelled along CLAIM_MACHINE, each money step a ledger posting.

/** The claim actions this role may take now: the supplier portal and the console show them. */
const claimActions = (status: string, role: string) => CLAIM_MACHINE.allowed(status as ClaimStatus, { role: role as Role });

export const claimOut = (c: Selectable<SupplierClaims> & { case_no?: string | null }, role: string) => ({
  id: c.id,
  supplierId: c.supplier_id,
  caseId: c.case_id,
  caseNo: c.case_no,
  status: c.status,
  amount: Number(c.amount),
  breakdown: c.breakdown,
  note: c.note,
  supplierNote: c.supplier_note,
  statementId: c.statement_id,
  dueAt: c.due_at,
  answeredAt: c.answered_at,
  settledAt: c.settled_at,
  createdAt: c.created_at,
  allowedActions: claimActions(c.status, role),
});

export async function listClaims(
  deps: Deps,
  a: Actor,
  f: { status?: ClaimStatus; supplierId?: string; caseId?: string; cursor?: string; limit: number },
) {
  let q = deps.db
    .selectFrom("supplier_claims as sc")
    .leftJoin("cases as c", "c.id", "sc.case_id")
    .selectAll("sc")
    .select("c.case_no")
    .where("sc.tenant_id", "=", a.tenantId);
  const supplierId = a.role === "supplier" ? a.supplierId : f.supplierId;
  if (supplierId) q = q.where("sc.supplier_id", "=", supplierId);
  if (f.status) q = q.where("sc.status", "=", f.status);
  if (f.caseId) q = q.where("sc.case_id", "=", f.caseId);
  const page = await keysetPage(q, "sc.id", f.cursor, f.limit);
  return { ...page, items: page.items.map((x) => claimOut(x, String(a.role))) };
}

export async function settleClaim(tx: Tx, deps: Deps, _actor: Actor, claim: Selectable<SupplierClaims>, statementId: string | null) {
  const now = deps.clock.now();
  await tx
    .updateTable("supplier_claims")
    .set({ status: "settled", settled_at: now, updated_at: now, statement_id: statementId ?? claim.statement_id })
    .where("id", "=", claim.id)
    .execute();
  const currency = claim.case_id
    ? ((
        await tx
          .selectFrom("cases as c")
          .innerJoin("orders as o", "o.id", "c.order_id")
          .select("o.currency")
          .where("c.id", "=", claim.case_id)
          .executeTakeFirst()
      )?.currency ?? "CNY")
    : "CNY";
  await post(tx, {
    tenantId: claim.tenant_id,
    code: "claim_settled",
    currency,
    supplierId: claim.supplier_id,
    caseId: claim.case_id,
    claimId: claim.id,
    sourceKey: `claim_settled:${claim.id}`,
    memo: "deducted from what we owe the supplier",
    at: now,
    entries: [
      { account: "supplier_payables", amount: Number(claim.amount) },
      { account: "supplier_claims_receivable", amount: -Number(claim.amount) },
    ],
  });
  await emit(deps, tx, {
    type: "claim.settled",
    tenantId: claim.tenant_id,
    entityId: claim.id,
    data: { supplierId: claim.supplier_id, amount: Number(claim.amount) },
    key: `claim.settled:${claim.id}`,
  });
}

/** Runs one claim action (also used by the SLA timers: an unanswered claim is accepted). */
export async function runClaimAction(deps: Deps, actor: Actor, id: string, action: ClaimAction, input: { note?: string }) {
  return deps.db.transaction().execute(async (tx) => {
    let q = tx.selectFrom("supplier_claims").selectAll().where("tenant_id", "=", actor.tenantId).where("id", "=", id);
    if (actor.role === "supplier") q = q.where("supplier_id", "=", actor.supplierId ?? "");
    const c = await q.forUpdate().executeTakeFirst();
    if (!c) throw notFound("supplier claim");
    const role = actor.kind === "system" ? "admin" : String(actor.role);
    const to = CLAIM_MACHINE.next(c.status, action);
    if (!to || CLAIM_MACHINE.refusal(c.status, action, { role: role as Role }))
      throw invalidTransition("supplier claim", action, c.status, claimActions(c.status, role));
    const now = deps.clock.now();
    if (action === "settle") await settleClaim(tx, deps, actor, c, null);
    else {
      await tx
        .updateTable("supplier_claims")
        .set({
          status: to,
          updated_at: now,
          ...(actor.role === "supplier" || action !== "cancel" ? { supplier_note: input.note ?? c.supplier_note, answered_at: now } : {}),
        })
        .where("id", "=", id)
        .execute();
      if (action === "cancel") {
        // A cancelled claim gives back what it booked as recoverable.
        await post(tx, {
          tenantId: c.tenant_id,
          code: "claim_cancelled",
          currency: "CNY",
          supplierId: c.supplier_id,
          caseId: c.case_id,
          claimId: c.id,
          sourceKey: `claim_cancelled:${c.id}`,
          entries: [
            { account: "cost_of_goods", amount: Number(c.amount) },
            { account: "supplier_claims_receivable", amount: -Number(c.amount) },
          ],
        });
      }
      await emit(deps, tx, {
        type: `claim.${to}`,
        tenantId: c.tenant_id,
        entityId: id,
        data: { supplierId: c.supplier_id, note: input.note ?? null },
        key: `claim.${to}:${id}:${now.getTime()}`,
      });
    }
    await audit(tx, actor, `claim.${action}`, "supplier_claim", id, { status: c.status }, { status: to, ...input });
    const after = await tx
      .selectFrom("supplier_claims as sc")
      .leftJoin("cases as c", "c.id", "sc.case_id")
      .selectAll("sc")
      .select("c.case_no")
      .where("sc.id", "=", id)
      .executeTakeFirstOrThrow();
    return claimOut(after, role);
  });
}
