import { z } from "zod";
import { SUPPLIER_ORDER_STATUSES } from "../orders/order.states.js";
import type { Actor, Deps } from "../platform/context.js";
import { keysetPage, pageQuery } from "../platform/list.js";
import { scopeSupplier } from "../platform/scope.js";
import { supplierOrderOut, supplierOrderRows } from "./supplier-order.view.js";

// The supplier orders list (代发单): a supplier sees only its own; each row with its lines and consignee.

export const SupplierOrderListQuery = z.strictObject({
  ...pageQuery,
  status: z.enum(SUPPLIER_ORDER_STATUSES).optional(),
  supplierId: z.string().uuid().optional(),
  orderId: z.string().uuid().optional(),
  purpose: z.enum(["original", "exchange", "reship", "repair"]).optional(),
  late: z.enum(["true", "false"]).optional(),
});

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

export async function listSupplierOrders(
  deps: Deps,
  a: Actor,
  f: Omit<z.infer<typeof SupplierOrderListQuery>, "cursor" | "limit">,
  cursor: string | undefined,
  limit: number,
) {
  let q = supplierOrderRows(deps.db).where("so.tenant_id", "=", a.tenantId);
  const supplierId = scopeSupplier(a, f.supplierId);
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
}
