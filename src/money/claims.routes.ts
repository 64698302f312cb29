import { z } from "zod";
import { CLAIM_STATUSES } from "../domain/vocabulary.js";
import type { Deps } from "../platform/context.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { pageQuery, sendCsv, wantsCsv } from "../platform/list.js";
import { listClaims, runClaimAction } from "./claim.service.js";
import { CLAIM_MACHINE } from "./claim.states.js";
import { closeStatement, createStatement, listStatements, loadStatement, statementCsv, statementOut } from "./statement.service.js";

const idParam = z.object({ id: z.string().uuid() });
const claimQuery = z.strictObject({
  ...pageQuery,
  status: z.enum(CLAIM_STATUSES).optional(),
  supplierId: z.string().uuid().optional(),
  caseId: z.string().uuid().optional(),
});
const StatementBody = z.strictObject({
  supplierId: z.string().uuid(),
  from: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  to: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  adjustments: z
    .array(z.strictObject({ amount: z.number().int().min(-1e11).max(1e11), memo: z.string().min(1).max(300) }))
    .max(50)
    .default([]),
});
const statementRoles = ["admin", "finance", "viewer", "supplier"] as const;

export function claimRoutes(app: ZApp, deps: Deps) {
  app.get(
    "/api/v1/supplier-claims",
    { config: { roles: ["admin", "cs", "finance", "viewer", "supplier"] }, schema: { tags: ["claims"], querystring: claimQuery } },
    async (req, reply) => {
      const fetch = (cursor: string | undefined, limit: number) => listClaims(deps, actorOf(req), { ...req.query, cursor, limit });
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
    { config: { roles: ROLES.finance }, schema: { tags: ["claims"], body: StatementBody } },
    async (req, reply) => {
      const a = actorOf(req);
      const { s, lines } = await loadStatement(deps, a, await createStatement(deps, a, req.body));
      return reply.code(201).send(statementOut(s, lines));
    },
  );
  app.get("/api/v1/supplier-statements", { config: { roles: [...statementRoles] }, schema: { tags: ["claims"] } }, async (req) =>
    listStatements(deps, actorOf(req)),
  );
  app.get(
    "/api/v1/supplier-statements/:id",
    { config: { roles: [...statementRoles] }, schema: { tags: ["claims"], params: idParam } },
    async (req) => {
      const { s, lines } = await loadStatement(deps, actorOf(req), req.params.id);
      return statementOut(s, lines);
    },
  );
  app.get(
    "/api/v1/supplier-statements/:id/export.csv",
    { config: { roles: [...statementRoles] }, schema: { tags: ["claims"], params: idParam } },
    async (req, reply) => {
      const { s, lines } = await loadStatement(deps, actorOf(req), req.params.id);
      const { filename, csv } = statementCsv(s, lines);
      return reply.type("text/csv; charset=utf-8").header("content-disposition", `attachment; filename="${filename}"`).send(csv);
    },
  );
  app.post(
    "/api/v1/supplier-statements/:id/actions/close",
    { config: { roles: ROLES.finance }, schema: { tags: ["claims"], params: idParam, body: z.strictObject({}).nullish() } },
    async (req) => {
      const a = actorOf(req);
      await closeStatement(deps, a, req.params.id);
      const { s, lines } = await loadStatement(deps, a, req.params.id);
      return statementOut(s, lines);
    },
  );
}
