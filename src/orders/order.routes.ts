import { z } from "zod";
import { shipCsvRoutes } from "../fulfilment/ship-csv.js";
import { listSupplierOrders, SupplierOrderListQuery } from "../fulfilment/supplier-order.list.js";
import { runSupplierOrderAction } from "../fulfilment/supplier-order.service.js";
import { supplierOrderView } from "../fulfilment/supplier-order.view.js";
import { postTrackingEvent } from "../fulfilment/tracking.service.js";
import type { Deps } from "../platform/context.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { sendCsv, wantsCsv } from "../platform/list.js";
import { AddressSchema } from "../shops/shop.schemas.js";
import { listOrders, OrderListQuery } from "./order.list.js";
import { OrderBody, PaymentSchema } from "./order.schemas.js";
import { createOrder, runOrderAction } from "./order.service.js";
import { orderView } from "./order.view.js";

const idParam = z.object({ id: z.string().uuid() });
const ORDER_WRITE = ["admin", "cs"] as const;

export function orderRoutes(app: ZApp, deps: Deps) {
  app.post("/api/v1/orders", { config: { roles: ORDER_WRITE }, schema: { tags: ["orders"], body: OrderBody } }, async (req, reply) => {
    const { order, created } = await createOrder(deps, actorOf(req), req.body);
    return reply.code(created ? 201 : 200).send(order);
  });

  app.get(
    "/api/v1/orders",
    { config: { roles: ROLES.staff }, schema: { tags: ["orders"], querystring: OrderListQuery } },
    async (req, reply) => {
      const fetch = (cursor: string | undefined, limit: number) => listOrders(deps, actorOf(req), req.query, cursor, limit);
      if (wantsCsv(req)) return sendCsv(reply, "orders", fetch);
      return fetch(req.query.cursor, req.query.limit);
    },
  );

  app.get("/api/v1/orders/:id", { config: { roles: ROLES.staff }, schema: { tags: ["orders"], params: idParam } }, async (req) =>
    orderView(deps.db, actorOf(req), req.params.id),
  );

  const action = (name: string, body?: z.ZodType) =>
    app.post(
      `/api/v1/orders/:id/actions/${name}`,
      { config: { roles: ORDER_WRITE }, schema: { tags: ["orders"], params: idParam, ...(body && { body }) } },
      async (req) => runOrderAction(deps, actorOf(req), req.params.id, name, (req.body as Record<string, unknown>) ?? {}),
    );
  action("forward");
  action("cancel", z.strictObject({ reason: z.string().max(500).optional() }).nullish());
  action("change-address", z.strictObject({ address: AddressSchema }));
  action("complete");
  action("confirm-payment", PaymentSchema);

  // Supplier orders (代发单) ------------------------------------------------------------------
  app.get(
    "/api/v1/supplier-orders",
    { config: { roles: ROLES.anyStaffOrSupplier }, schema: { tags: ["supplier-orders"], querystring: SupplierOrderListQuery } },
    async (req, reply) => {
      const fetch = (cursor: string | undefined, limit: number) => listSupplierOrders(deps, actorOf(req), req.query, cursor, limit);
      if (wantsCsv(req)) return sendCsv(reply, "supplier-orders", fetch);
      return fetch(req.query.cursor, req.query.limit);
    },
  );

  app.get(
    "/api/v1/supplier-orders/:id",
    { config: { roles: ROLES.anyStaffOrSupplier }, schema: { tags: ["supplier-orders"], params: idParam } },
    async (req) => supplierOrderView(deps.db, actorOf(req), req.params.id),
  );

  const SO_ROLES = ["admin", "cs", "supplier"] as const;
  const soAction = (name: string, body?: z.ZodType, roles: readonly ("admin" | "cs" | "supplier" | "warehouse")[] = SO_ROLES) =>
    app.post(
      `/api/v1/supplier-orders/:id/actions/${name}`,
      { config: { roles }, schema: { tags: ["supplier-orders"], params: idParam, ...(body && { body }) } },
      async (req) => runSupplierOrderAction(deps, actorOf(req), req.params.id, name, (req.body as Record<string, unknown>) ?? {}),
    );
  const note = z.strictObject({ note: z.string().max(1000).optional() }).nullish();
  soAction("accept", note);
  soAction("reject", z.strictObject({ reason: z.string().min(1).max(500) }));
  soAction(
    "ship",
    z.strictObject({
      carrier: z.string().min(1).max(60),
      trackingNo: z.string().min(3).max(60),
      shippedAt: z.string().datetime({ offset: true }).optional(),
    }),
  );
  soAction("deliver", z.strictObject({ deliveredAt: z.string().datetime({ offset: true }) }), ["admin", "cs"]);
  soAction("request-cancel", note, ["admin", "cs"]);
  soAction("confirm-cancel", note);
  soAction("refuse-cancel", note);
  soAction("request-intercept", note, ["admin", "cs"]);
  soAction("intercept-result", z.strictObject({ outcome: z.enum(["intercepted", "failed"]), note: z.string().max(1000).optional() }));
  soAction("mark-returned", note);

  shipCsvRoutes(app, deps);

  // Tracking ----------------------------------------------------------------------------------
  app.post(
    "/api/v1/tracking-events",
    {
      config: { roles: ["admin", "cs", "supplier"] },
      schema: {
        tags: ["tracking"],
        body: z.strictObject({
          carrier: z.string().min(1).max(60),
          trackingNo: z.string().min(3).max(60),
          status: z.enum(["info", "picked_up", "in_transit", "out_for_delivery", "delivered", "exception", "returned", "refused"]),
          occurredAt: z.string().datetime({ offset: true }),
          description: z.string().max(1000).optional(),
        }),
      },
    },
    async (req, reply) => reply.code(201).send(await postTrackingEvent(deps, actorOf(req), req.body)),
  );
}
