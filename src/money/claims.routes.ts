import { type Selectable, sql } from "kysely";
import { z } from "zod";
import type { StatementLines, SupplierClaims, SupplierStatements } from "../db/schema.js";
import { CLAIM_STATUSES, type ClaimStatus } from "../domain/vocabulary.js";
import { audit } from "../platform/audit.js";
import { type Actor, type Deps, emit, type Role } from "../platform/context.js";
import { csvRow } from "../platform/csv.js";
import type { Tx } from "../platform/db.js";
import { AppError, invalidTransition, notFound, validation } from "../platform/errors.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { newId } from "../platform/ids.js";
import { keysetPage, pageQuery, sendCsv, wantsCsv } from "../platform/list.js";
import { CLAIM_MACHINE, type ClaimAction } from "./claim.states.js";
import { post } from "./ledger.js";
import { STATEMENT_MACHINE, type StatementStatus } from "./statement.states.js";

const idParam = z.object({ id: z.string().uuid() });
/** The claim actions this role may take now: the supplier portal and the console show them. */
const claimActions = (status: string, role: string) => CLAIM_MACHINE.allowed(status as ClaimStatus, { role: role as Role });

const claimOut = (c: Selectable<SupplierClaims> & { case_no?: string | null }, role: string) => ({
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

async function settleClaim(tx: Tx, deps: Deps, _actor: Actor, claim: Selectable<SupplierClaims>, statementId: string | null) {
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

const statementOut = (s: Selectable<SupplierStatements>, lines?: Selectable<StatementLines>[]) => ({
  id: s.id,
  supplierId: s.supplier_id,
  from: s.period_from,
  to: s.period_to,
  status: s.status,
  totals: s.totals,
  closedAt: s.closed_at,
  createdAt: s.created_at,
  allowedActions: STATEMENT_MACHINE.allowed(s.status),
  ...(lines && { lines: lines.map((l) => ({ kind: l.kind, refId: l.ref_id, amount: Number(l.amount), memo: l.memo })) }),
});

export function claimRoutes(app: ZApp, deps: Deps) {
  app.get(
    "/api/v1/supplier-claims",
    {
      config: { roles: ["admin", "cs", "finance", "viewer", "supplier"] },
      schema: {
        tags: ["claims"],
        querystring: z.strictObject({
          ...pageQuery,
          status: z.enum(CLAIM_STATUSES).optional(),
          supplierId: z.string().uuid().optional(),
          caseId: z.string().uuid().optional(),
        }),
      },
    },
    async (req, reply) => {
      const a = actorOf(req);
      const fetch = async (cursor: string | undefined, limit: number) => {
        let q = deps.db
          .selectFrom("supplier_claims as sc")
          .leftJoin("cases as c", "c.id", "sc.case_id")
          .selectAll("sc")
          .select("c.case_no")
          .where("sc.tenant_id", "=", a.tenantId);
        const supplierId = a.role === "supplier" ? a.supplierId : req.query.supplierId;
        if (supplierId) q = q.where("sc.supplier_id", "=", supplierId);
        if (req.query.status) q = q.where("sc.status", "=", req.query.status);
        if (req.query.caseId) q = q.where("sc.case_id", "=", req.query.caseId);
        const page = await keysetPage(q, "sc.id", cursor, limit);
        return { ...page, items: page.items.map((x) => claimOut(x, String(a.role))) };
      };
      if (wantsCsv(req)) return sendCsv(reply, "supplier-claims", fetch);
      return fetch(req.query.cursor, req.query.limit);
    },
  );
  for (const action of ["accept", "dispute", "settle", "cancel"] as const) {
    app.post(
      `/api/v1/supplier-claims/:id/actions/${action}`,
      {
        config: { roles: CLAIM_MACHINE.roles[action] },
        schema: {
          tags: ["claims"],
          params: idParam,
          body:
            action === "dispute"
              ? z.strictObject({ note: z.string().min(1).max(2000) })
              : z.strictObject({ note: z.string().max(2000).optional() }).nullish(),
        },
      },
      async (req) => runClaimAction(deps, actorOf(req), req.params.id, action, (req.body ?? {}) as { note?: string }),
    );
  }

  // Supplier statements (对账单) ---------------------------------------------------------------
  app.post(
    "/api/v1/supplier-statements",
    {
      config: { roles: ROLES.finance },
      schema: {
        tags: ["claims"],
        body: z.strictObject({
          supplierId: z.string().uuid(),
          from: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
          to: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
          adjustments: z
            .array(z.strictObject({ amount: z.number().int().min(-1e11).max(1e11), memo: z.string().min(1).max(300) }))
            .max(50)
            .default([]),
        }),
      },
    },
    async (req, reply) => {
      const a = actorOf(req);
      const id = await createStatement(deps, a, req.body);
      const s = await deps.db.selectFrom("supplier_statements").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
      const lines = await deps.db.selectFrom("statement_lines").selectAll().where("statement_id", "=", id).execute();
      return reply.code(201).send(statementOut(s, lines));
    },
  );
  app.get(
    "/api/v1/supplier-statements",
    { config: { roles: ["admin", "finance", "viewer", "supplier"] }, schema: { tags: ["claims"] } },
    async (req) => {
      const a = actorOf(req);
      let q = deps.db.selectFrom("supplier_statements").selectAll().where("tenant_id", "=", a.tenantId);
      if (a.role === "supplier") q = q.where("supplier_id", "=", a.supplierId ?? "");
      return { items: (await q.orderBy("id", "desc").limit(500).execute()).map((s) => statementOut(s)), nextCursor: null };
    },
  );
  const loadStatement = async (a: Actor, id: string) => {
    let q = deps.db.selectFrom("supplier_statements").selectAll().where("tenant_id", "=", a.tenantId).where("id", "=", id);
    if (a.role === "supplier") q = q.where("supplier_id", "=", a.supplierId ?? "");
    const s = await q.executeTakeFirst();
    if (!s) throw notFound("statement");
    return { s, lines: await deps.db.selectFrom("statement_lines").selectAll().where("statement_id", "=", id).orderBy("kind").execute() };
  };
  app.get(
    "/api/v1/supplier-statements/:id",
    { config: { roles: ["admin", "finance", "viewer", "supplier"] }, schema: { tags: ["claims"], params: idParam } },
    async (req) => {
      const { s, lines } = await loadStatement(actorOf(req), req.params.id);
      return statementOut(s, lines);
    },
  );
  app.get(
    "/api/v1/supplier-statements/:id/export.csv",
    { config: { roles: ["admin", "finance", "viewer", "supplier"] }, schema: { tags: ["claims"], params: idParam } },
    async (req, reply) => {
      const { s, lines } = await loadStatement(actorOf(req), req.params.id);
      const rows = [
        ["kind", "ref_id", "amount", "memo"],
        ...lines.map((l) => [l.kind, l.ref_id ?? "", String(l.amount), l.memo ?? ""]),
        ["total", "", String((s.totals as { payable: number }).payable), `${s.period_from} – ${s.period_to}`],
      ];
      const csv = `\uFEFF${rows.map((r) => csvRow(r)).join("\r\n")}\r\n`;
      return reply
        .type("text/csv; charset=utf-8")
        .header("content-disposition", `attachment; filename="statement-${s.period_from}.csv"`)
        .send(csv);
    },
  );
  app.post(
    "/api/v1/supplier-statements/:id/actions/close",
    { config: { roles: ROLES.finance }, schema: { tags: ["claims"], params: idParam, body: z.strictObject({}).nullish() } },
    async (req) => {
      const a = actorOf(req);
      await closeStatement(deps, a, req.params.id);
      const { s, lines } = await loadStatement(a, req.params.id);
      return statementOut(s, lines);
    },
  );
}

/**
 * Draws up a supplier's statement for a period: supplier-order costs shipped in it, minus the
 * accepted claims not yet on a statement, plus adjustments. Returns the statement id.
 */
export async function createStatement(
  deps: Deps,
  a: Actor,
  b: { supplierId: string; from: string; to: string; adjustments: { amount: number; memo: string }[] },
): Promise<string> {
  if (b.from > b.to) throw validation("to", "the period ends before it starts");
  return deps.db.transaction().execute(async (tx) => {
    const supplier = await tx
      .selectFrom("suppliers")
      .select("id")
      .where("tenant_id", "=", a.tenantId)
      .where("id", "=", b.supplierId)
      .forUpdate()
      .executeTakeFirst();
    if (!supplier) throw notFound("supplier");
    const overlap = await tx
      .selectFrom("supplier_statements")
      .select("id")
      .where("supplier_id", "=", b.supplierId)
      .where("status", "=", "closed")
      // The days as the request gives them (YYYY-MM-DD), compared as dates by the database.
      .where("period_from", "<=", sql<Date>`${b.to}`)
      .where("period_to", ">=", sql<Date>`${b.from}`)
      .executeTakeFirst();
    if (overlap)
      throw new AppError("conflict", "a closed statement covers part of this period; corrections go to a later period", {
        statementId: overlap.id,
      });
    const end = new Date(`${b.to}T00:00:00+08:00`);
    end.setUTCDate(end.getUTCDate() + 1);
    const sos = await tx
      .selectFrom("supplier_orders")
      .select(["id", "cost_total"])
      .where("supplier_id", "=", b.supplierId)
      .where("shipped_at", ">=", new Date(`${b.from}T00:00:00+08:00`))
      .where("shipped_at", "<", end)
      .execute();
    const claims = await tx
      .selectFrom("supplier_claims")
      .select(["id", "amount"])
      .where("supplier_id", "=", b.supplierId)
      .where("status", "=", "accepted")
      .where("statement_id", "is", null)
      .execute();
    const sid = newId();
    const goods = sos.reduce((s, x) => s + Number(x.cost_total), 0);
    const claimed = claims.reduce((s, x) => s + Number(x.amount), 0);
    const adjust = b.adjustments.reduce((s, x) => s + x.amount, 0);
    await tx
      .insertInto("supplier_statements")
      .values({
        id: sid,
        tenant_id: a.tenantId,
        supplier_id: b.supplierId,
        period_from: b.from,
        period_to: b.to,
        status: "open",
        totals: JSON.stringify({ supplierOrders: goods, claims: claimed, adjustments: adjust, payable: goods - claimed + adjust }),
      })
      .execute();
    const lines = [
      ...sos.map((s) => ({ kind: "supplier_order" as const, ref_id: s.id, amount: Number(s.cost_total), memo: null })),
      ...claims.map((c) => ({ kind: "claim" as const, ref_id: c.id, amount: -Number(c.amount), memo: null })),
      ...b.adjustments.map((x) => ({ kind: "adjustment" as const, ref_id: null, amount: x.amount, memo: x.memo })),
    ];
    if (lines.length)
      await tx
        .insertInto("statement_lines")
        .values(lines.map((l) => ({ id: newId(), tenant_id: a.tenantId, statement_id: sid, ...l })))
        .execute();
    if (claims.length)
      await tx
        .updateTable("supplier_claims")
        .set({ statement_id: sid })
        .where(
          "id",
          "in",
          claims.map((c) => c.id),
        )
        .execute();
    await audit(tx, a, "statement.create", "supplier_statement", sid, undefined, { supplierId: b.supplierId, from: b.from, to: b.to });
    return sid;
  });
}

/** Closes a statement: it becomes immutable and settles its accepted claims. */
export async function closeStatement(deps: Deps, a: Actor, id: string): Promise<void> {
  await deps.db.transaction().execute(async (tx) => {
    const s = await tx
      .selectFrom("supplier_statements")
      .selectAll()
      .where("tenant_id", "=", a.tenantId)
      .where("id", "=", id)
      .forUpdate()
      .executeTakeFirst();
    if (!s) throw notFound("statement");
    const to = STATEMENT_MACHINE.next(s.status as StatementStatus, "close");
    if (!to) throw invalidTransition("statement", "close", s.status, STATEMENT_MACHINE.allowed(s.status as StatementStatus));
    await tx.updateTable("supplier_statements").set({ status: to, closed_at: deps.clock.now() }).where("id", "=", s.id).execute();
    const claims = await tx
      .selectFrom("supplier_claims")
      .selectAll()
      .where("statement_id", "=", s.id)
      .where("status", "=", "accepted")
      .execute();
    for (const c of claims) await settleClaim(tx, deps, a, c, s.id);
    await audit(tx, a, "statement.close", "supplier_statement", s.id, { status: "open" }, { status: "closed" });
  });
}
