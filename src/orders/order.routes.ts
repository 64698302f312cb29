import { type Selectable, sql } from "kysely";
import { z } from "zod";
import type { Orders } from "../db/schema.js";
import { shipCsvRoutes } from "../fulfilment/ship-csv.js";
import { runSupplierOrderAction } from "../fulfilment/supplier-order.service.js";
import { supplierOrderOut, supplierOrderView } from "../fulfilment/supplier-order.view.js";
import { recordTrackingEvent } from "../fulfilment/tracking.service.js";
import type { Deps } from "../platform/context.js";
import { AppError } from "../platform/errors.js";
import { actorOf, ROLES, type ZApp } from "../platform/http.js";
import { keysetPage, pageQuery, sendCsv, wantsCsv } from "../platform/list.js";
import { AddressSchema } from "../shops/shop.routes.js";
import { OrderBody, PaymentSchema } from "./order.schemas.js";
import { createOrder, runOrderAction } from "./order.service.js";
import { ORDER_STATUSES, SUPPLIER_ORDER_STATUSES } from "./order.states.js";
import { orderView } from "./order.view.js";

const idParam = z.object({ id: z.string().uuid() });
const ORDER_WRITE = ["admin", "cs"] as const;

const orderListItem = (o: Selectable<Orders> & { shop_timezone: string }) => {
  const customer = o.customer as { name?: string; phone?: string } | null;
  return {
    id: o.id,
    shopId: o.shop_id,
    /** The shop's IANA time zone: the console shows the order's times in it. */
    shopTimezone: o.shop_timezone,
    platformOrderNo: o.platform_order_no,
    status: o.status,
    needsSourcing: o.needs_sourcing,
    customerName: customer?.name ?? null,
    customerPhone: customer?.phone ?? null,
    currency: o.currency,
    paidTotal: Number(o.paid_total),
    refundedTotal: Number(o.refunded_total),
    placedAt: o.placed_at,
    deliveredAt: o.delivered_at,
    createdAt: o.created_at,
  };
};

type Address = { name?: string; phone?: string; province?: string; city?: string; district?: string; line1?: string; line2?: string };
/** The consignee of a supplier order (收货人): name, phone and the address as one line. */
function consignee(address: unknown, customer: unknown) {
  const ad = (address ?? {}) as Address;
  const cu = (customer ?? {}) as { name?: string; phone?: string };
  return {
    name: ad.name ?? cu.name ?? null,
    phone: ad.phone ?? cu.phone ?? null,
    address: [ad.province, ad.city, ad.district, ad.line1, ad.line2].filter(Boolean).join(" ") || null,
  };
}

export function orderRoutes(app: ZApp, deps: Deps) {
  app.post("/api/v1/orders", { config: { roles: ORDER_WRITE }, schema: { tags: ["orders"], body: OrderBody } }, async (req, reply) => {
    const { order, created } = await createOrder(deps, actorOf(req), req.body);
    return reply.code(created ? 201 : 200).send(order);
  });

  const listQuery = z.strictObject({
    ...pageQuery,
    status: z.enum(ORDER_STATUSES).optional(),
    shopId: z.string().uuid().optional(),
    needsSourcing: z.enum(["true", "false"]).optional(),
    q: z.string().max(100).optional(),
    from: z.string().datetime({ offset: true }).optional(),
    to: z.string().datetime({ offset: true }).optional(),
  });
  app.get(
    "/api/v1/orders",
    { config: { roles: ROLES.staff }, schema: { tags: ["orders"], querystring: listQuery } },
    async (req, reply) => {
      const a = actorOf(req);
      const f = req.query;
      const fetch = async (cursor: string | undefined, limit: number) => {
        let q = deps.db
          .selectFrom("orders")
          .selectAll()
          .select(sql<string>`(SELECT sh.timezone FROM shops sh WHERE sh.id = orders.shop_id)`.as("shop_timezone"))
          .where("tenant_id", "=", a.tenantId);
        if (f.status) q = q.where("status", "=", f.status);
        if (f.shopId) q = q.where("shop_id", "=", f.shopId);
        if (f.needsSourcing) q = q.where("needs_sourcing", "=", f.needsSourcing === "true");
        if (f.from) q = q.where("placed_at", ">=", new Date(f.from));
        if (f.to) q = q.where("placed_at", "<", new Date(f.to));
        if (f.q) {
          const term = f.q;
          q = q.where((eb) =>
            eb.or([eb("platform_order_no", "=", term), eb(sql`customer->>'phone'`, "=", term), eb(sql`customer->>'name'`, "=", term)]),
          );
        }
        const page = await keysetPage(q, "id", cursor, limit);
        return { ...page, items: page.items.map(orderListItem) };
      };
      if (wantsCsv(req)) return sendCsv(reply, "orders", fetch);
      return fetch(f.cursor, f.limit);
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
  const soQuery = z.strictObject({
    ...pageQuery,
    status: z.enum(SUPPLIER_ORDER_STATUSES).optional(),
    supplierId: z.string().uuid().optional(),
    orderId: z.string().uuid().optional(),
    purpose: z.enum(["original", "exchange", "reship", "repair"]).optional(),
    late: z.enum(["true", "false"]).optional(),
  });
  app.get(
    "/api/v1/supplier-orders",
    { config: { roles: ROLES.anyStaffOrSupplier }, schema: { tags: ["supplier-orders"], querystring: soQuery } },
    async (req, reply) => {
      const a = actorOf(req);
      const f = req.query;
      const fetch = async (cursor: string | undefined, limit: number) => {
        let q = deps.db
          .selectFrom("supplier_orders as so")
          .innerJoin("suppliers as s", "s.id", "so.supplier_id")
          .innerJoin("orders as o", "o.id", "so.order_id")
          .innerJoin("shops as sh", "sh.id", "o.shop_id")
          .selectAll("so")
          .select(["s.name as supplier_name", "o.platform_order_no", "o.address", "o.customer", "sh.timezone as shop_timezone"])
          .where("so.tenant_id", "=", a.tenantId);
        const supplierId = a.role === "supplier" ? a.supplierId : f.supplierId;
        if (supplierId) q = q.where("so.supplier_id", "=", supplierId);
        if (f.status) q = q.where("so.status", "=", f.status);
        if (f.orderId) q = q.where("so.order_id", "=", f.orderId);
        if (f.purpose) q = q.where("so.purpose", "=", f.purpose);
        if (f.late === "true") q = q.where("so.status", "in", ["pending", "accepted"]).where("so.ship_by", "<", deps.clock.now());
        const page = await keysetPage(q, "so.id", cursor, limit);
        const ids = page.items.map((s) => s.id);
        const lines = ids.length
          ? await deps.db
              .selectFrom("supplier_order_lines as l")
              .innerJoin("order_lines as ol", "ol.id", "l.order_line_id")
              .select(["l.supplier_order_id", "l.order_line_id", "l.quantity", "l.unit_cost", "ol.sku_code", "ol.title"])
              .where("l.supplier_order_id", "in", ids)
              .execute()
          : [];
        return {
          ...page,
          items: page.items.map((s) => ({
            ...supplierOrderOut(
              s,
              lines.filter((l) => l.supplier_order_id === s.id),
              a,
              deps.clock.now(),
            ),
            // Who the supplier ships to: the order's consignee, falling back to the customer's name and phone.
            shipTo: consignee(s.address, s.customer),
          })),
        };
      };
      if (wantsCsv(req)) return sendCsv(reply, "supplier-orders", fetch);
      return fetch(f.cursor, f.limit);
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
    async (req, reply) => {
      const a = actorOf(req);
      if (a.role === "supplier") {
        const own = await deps.db
          .selectFrom("supplier_orders")
          .select("id")
          .where("tenant_id", "=", a.tenantId)
          .where("supplier_id", "=", a.supplierId ?? "")
          .where("tracking_no", "=", req.body.trackingNo)
          .executeTakeFirst();
        if (!own) throw new AppError("not_found", "no parcel of yours has this tracking number");
      }
      return reply.code(201).send(await recordTrackingEvent(deps, a, req.body));
    },
  );
}
