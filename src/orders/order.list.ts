import { type Selectable, sql } from "kysely";
import { z } from "zod";
import type { Orders } from "../db/schema.js";
import type { Actor, Deps } from "../platform/context.js";
import { keysetPage, pageQuery } from "../platform/list.js";
import { ORDER_STATUSES } from "./order.states.js";

// The orders list: filters, a search by order number, phone or name, and each row with its shop's time zone.

export const OrderListQuery = z.strictObject({
  ...pageQuery,
  status: z.enum(ORDER_STATUSES).optional(),
  shopId: z.string().uuid().optional(),
  needsSourcing: z.enum(["true", "false"]).optional(),
  q: z.string().max(100).optional(),
  from: z.string().datetime({ offset: true }).optional(),
  to: z.string().datetime({ offset: true }).optional(),
});

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

export async function listOrders(
  deps: Deps,
  a: Actor,
  f: Omit<z.infer<typeof OrderListQuery>, "cursor" | "limit">,
  cursor: string | undefined,
  limit: number,
) {
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
}
