import { type Selectable, sql } from "kysely";
import type { StatementLines, SupplierStatements } from "../db/schema.js";
import { audit } from "../platform/audit.js";
import type { Actor, Deps } from "../platform/context.js";
import { csvRow } from "../platform/csv.js";
import { AppError, invalidTransition, notFound, validation } from "../platform/errors.js";
import { newId } from "../platform/ids.js";
import { settleClaim } from "./claim.service.js";
import { STATEMENT_MACHINE, type StatementStatus } from "./statement.states.js";

// Supplier statements (对账单): a period's supplier-order costs minus accepted claims plus
// adjustments; closing one makes it immutable and settles its claims.

export const statementOut = (s: Selectable<SupplierStatements>, lines?: Selectable<StatementLines>[]) => ({
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

export async function listStatements(deps: Deps, a: Actor) {
  let q = deps.db.selectFrom("supplier_statements").selectAll().where("tenant_id", "=", a.tenantId);
  if (a.role === "supplier") q = q.where("supplier_id", "=", a.supplierId ?? "");
  return { items: (await q.orderBy("id", "desc").limit(500).execute()).map((s) => statementOut(s)), nextCursor: null };
}

/** A statement with its lines, as its supplier or staff may see it. */
export async function loadStatement(deps: Deps, a: Actor, id: string) {
  let q = deps.db.selectFrom("supplier_statements").selectAll().where("tenant_id", "=", a.tenantId).where("id", "=", id);
  if (a.role === "supplier") q = q.where("supplier_id", "=", a.supplierId ?? "");
  const s = await q.executeTakeFirst();
  if (!s) throw notFound("statement");
  return { s, lines: await deps.db.selectFrom("statement_lines").selectAll().where("statement_id", "=", id).orderBy("kind").execute() };
}

/** A statement's day (a DATE column: a Date at local midnight, or already the day) as YYYY-MM-DD. */
const day = (d: Date | string) =>
  typeof d === "string"
    ? d.slice(0, 10)
    : `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

/** The statement as CSV (UTF-8 with BOM for spreadsheet programs) and its file name. */
export function statementCsv(s: Selectable<SupplierStatements>, lines: Selectable<StatementLines>[]) {
  const rows = [
    ["kind", "ref_id", "amount", "memo"],
    ...lines.map((l) => [l.kind, l.ref_id ?? "", String(l.amount), l.memo ?? ""]),
    ["total", "", String((s.totals as { payable: number }).payable), `${day(s.period_from)} – ${day(s.period_to)}`],
  ];
  return { filename: `statement-${day(s.period_from)}.csv`, csv: `\uFEFF${rows.map((r) => csvRow(r)).join("\r\n")}\r\n` };
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
