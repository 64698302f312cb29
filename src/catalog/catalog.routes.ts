import { z } from "zod";
import type { Deps } from "../platform/context.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { pageQuery, sendCsv, wantsCsv } from "../platform/list.js";
import { OfferBody, OfferPatch, ProductBody, SupplierBody, SupplierPatch } from "./catalog.schemas.js";
import { catalogCsvRoutes } from "./catalog-csv.js";
import { createOffer, listOffers, offerHistory, updateOffer } from "./offer.service.js";
import { createProduct, getProduct, listProducts } from "./product.service.js";
import { createSupplier, getSupplier, listSuppliers, updateSupplier } from "./supplier.service.js";

const idParam = z.object({ id: z.string().uuid() });
const boolQuery = z.enum(["true", "false"]).optional();

export function catalogRoutes(app: ZApp, deps: Deps) {
  catalogCsvRoutes(app, deps);
  // Suppliers ---------------------------------------------------------------------------------
  const supplierQuery = z.strictObject({ ...pageQuery, active: boolQuery, q: z.string().max(100).optional() });
  app.get(
    "/api/v1/suppliers",
    { config: { roles: ROLES.anyStaffOrSupplier }, schema: { tags: ["suppliers"], querystring: supplierQuery } },
    async (req, reply) => {
      const fetch = (cursor: string | undefined, limit: number) => listSuppliers(deps, actorOf(req), { ...req.query, cursor, limit });
      if (wantsCsv(req)) return sendCsv(reply, "suppliers", fetch);
      return fetch(req.query.cursor, req.query.limit);
    },
  );
  app.get(
    "/api/v1/suppliers/:id",
    { config: { roles: ROLES.anyStaffOrSupplier }, schema: { tags: ["suppliers"], params: idParam } },
    async (req) => getSupplier(deps, actorOf(req), req.params.id),
  );
  app.post(
    "/api/v1/suppliers",
    { config: { roles: ROLES.admin }, schema: { tags: ["suppliers"], body: SupplierBody } },
    async (req, reply) => reply.code(201).send(await createSupplier(deps, actorOf(req), req.body)),
  );
  app.patch(
    "/api/v1/suppliers/:id",
    { config: { roles: ROLES.admin }, schema: { tags: ["suppliers"], params: idParam, body: SupplierPatch } },
    async (req) => updateSupplier(deps, actorOf(req), req.params.id, req.body),
  );

  // Products and SKUs --------------------------------------------------------------------------
  const productQuery = z.strictObject({ ...pageQuery, q: z.string().max(100).optional(), category: z.string().max(60).optional() });
  app.get(
    "/api/v1/products",
    { config: { roles: ROLES.staff }, schema: { tags: ["catalog"], querystring: productQuery } },
    async (req, reply) => {
      const fetch = (cursor: string | undefined, limit: number) => listProducts(deps, actorOf(req), { ...req.query, cursor, limit });
      if (wantsCsv(req)) return sendCsv(reply, "products", fetch);
      return fetch(req.query.cursor, req.query.limit);
    },
  );
  app.get("/api/v1/products/:id", { config: { roles: ROLES.staff }, schema: { tags: ["catalog"], params: idParam } }, async (req) =>
    getProduct(deps, actorOf(req), req.params.id),
  );
  app.post("/api/v1/products", { config: { roles: ROLES.admin }, schema: { tags: ["catalog"], body: ProductBody } }, async (req, reply) =>
    reply.code(201).send(await createProduct(deps, actorOf(req), req.body)),
  );

  // Offers (货源) ------------------------------------------------------------------------------
  const offerQuery = z.strictObject({
    ...pageQuery,
    supplierId: z.string().uuid().optional(),
    skuId: z.string().uuid().optional(),
    active: boolQuery,
  });
  app.get(
    "/api/v1/offers",
    { config: { roles: ROLES.anyStaffOrSupplier }, schema: { tags: ["catalog"], querystring: offerQuery } },
    async (req, reply) => {
      const fetch = (cursor: string | undefined, limit: number) => listOffers(deps, actorOf(req), { ...req.query, cursor, limit });
      if (wantsCsv(req)) return sendCsv(reply, "offers", fetch);
      return fetch(req.query.cursor, req.query.limit);
    },
  );
  app.get(
    "/api/v1/offers/:id/history",
    { config: { roles: ROLES.anyStaffOrSupplier }, schema: { tags: ["catalog"], params: idParam } },
    async (req) => offerHistory(deps, actorOf(req), req.params.id),
  );
  app.post("/api/v1/offers", { config: { roles: ROLES.admin }, schema: { tags: ["catalog"], body: OfferBody } }, async (req, reply) =>
    reply.code(201).send(await createOffer(deps, actorOf(req), req.body)),
  );
  app.patch(
    "/api/v1/offers/:id",
    { config: { roles: ["admin", "supplier"] }, schema: { tags: ["catalog"], params: idParam, body: OfferPatch } },
    async (req) => updateOffer(deps, actorOf(req), req.params.id, req.body),
  );
}
