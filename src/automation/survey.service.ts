import type { Deps } from "../platform/context.js";
import { AppError, notFound } from "../platform/errors.js";

// Satisfaction surveys, answered once through the link in the closing message (no sign-in: the
// token is the credential).

export async function readSurvey(deps: Deps, token: string) {
  const s = await deps.db
    .selectFrom("surveys as s")
    .innerJoin("cases as c", "c.id", "s.case_id")
    .select(["s.score", "s.comment", "s.answered_at", "c.case_no", "c.type"])
    .where("s.token", "=", token)
    .executeTakeFirst();
  if (!s) throw notFound("survey");
  return { caseNo: s.case_no, type: s.type, answered: Boolean(s.answered_at), score: s.score, comment: s.comment };
}

export async function answerSurvey(deps: Deps, token: string, b: { score: number; comment?: string }) {
  return deps.db.transaction().execute(async (tx) => {
    const s = await tx.selectFrom("surveys").selectAll().where("token", "=", token).forUpdate().executeTakeFirst();
    if (!s) throw notFound("survey");
    if (s.answered_at) throw new AppError("conflict", "this survey was answered already");
    await tx
      .updateTable("surveys")
      .set({ score: b.score, comment: b.comment ?? null, answered_at: deps.clock.now() })
      .where("id", "=", s.id)
      .execute();
    await tx
      .updateTable("cases")
      .set({ csat_score: b.score, csat_comment: b.comment ?? null })
      .where("id", "=", s.case_id)
      .execute();
    return { ok: true, score: b.score };
  });
}
