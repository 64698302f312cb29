import { z } from "zod";
import type { Deps } from "../platform/context.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { EligibilityQuery, PolicyBody, PolicyPreviewBody } from "./policy.schemas.js";
import { currentPolicy, eligibility, policyVersions, previewPolicy, savePolicy } from "./policy.service.js";

const shopParam = z.object({ id: z.string().uuid() });
const tags = ["policies"];

export function policyRoutes(app: ZApp, deps: Deps) {
  app.get("/api/v1/shops/:id/policy", { config: { roles: ROLES.staff }, schema: { tags, params: shopParam } }, async (req) =>
    currentPolicy(deps, actorOf(req), req.params.id),
  );
  app.get("/api/v1/shops/:id/policy/versions", { config: { roles: ROLES.staff }, schema: { tags, params: shopParam } }, async (req) =>
    policyVersions(deps, actorOf(req), req.params.id),
  );
  app.put(
    "/api/v1/shops/:id/policy",
    { config: { roles: ROLES.admin }, schema: { tags, params: shopParam, body: PolicyBody } },
    async (req) => savePolicy(deps, actorOf(req), req.params.id, req.body),
  );
  app.get(
    "/api/v1/orders/:id/eligibility",
    { config: { roles: ROLES.staff }, schema: { tags, params: z.object({ id: z.string().uuid() }), querystring: EligibilityQuery } },
    async (req) => eligibility(deps, actorOf(req), req.params.id, req.query),
  );
  // Try a draft policy on a real order before saving it: nothing is written.
  app.post(
    "/api/v1/shops/:id/policy/preview",
    { config: { roles: ROLES.admin }, schema: { tags, params: shopParam, body: PolicyPreviewBody } },
    async (req) => previewPolicy(deps, actorOf(req), req.params.id, req.body),
  );
}
