import type { ExternalOrder } from "../kind.js";
import { fromMinorUnits, toMinorUnits } from "../money.js";

/**
 * Shopify orders arrive in two shapes — the REST JSON of webhooks (`line_items`, `total_price`) and
 * the Admin GraphQL API's nodes (`lineItems`, `totalPriceSet`) — and are read into one plain form,
 * then mapped once to what `POST /api/v1/orders` takes.
 */
export interface ShopifyOrderData {
  id: string;
  name: string;
  currency: string;
  createdAt?: string;
  processedAt?: string;
  updatedAt?: string;
  cancelledAt?: string | null;
  financialStatus?: string;
  totalPrice: string;
  totalTax?: string;
  taxesIncluded?: boolean;
  gateways: string[];
  email?: string | null;
  phone?: string | null;
  customer?: { firstName?: string | null; lastName?: string | null; email?: string | null; phone?: string | null } | null;
  shippingAddress?: Record<string, string | null | undefined> | null;
  lines: { sku?: string | null; title?: string | null; price: string; quantity: number; discounts: string[] }[];
  shippingLines: { price: string; discounts: string[] }[];
}

type Json = Record<string, any>;
const numericId = (gid: unknown) => String(gid ?? "").replace(/^gid:\/\/shopify\/\w+\//, "");

/** A webhook's (REST) order. */
export function fromRest(o: Json): ShopifyOrderData {
  const a = o.shipping_address as Json | null | undefined;
  return {
    id: String(o.id),
    name: String(o.name ?? ""),
    currency: String(o.currency ?? ""),
    createdAt: o.created_at,
    processedAt: o.processed_at,
    updatedAt: o.updated_at,
    cancelledAt: o.cancelled_at ?? null,
    financialStatus: o.financial_status,
    totalPrice: String(o.total_price ?? "0"),
    totalTax: o.total_tax === undefined ? undefined : String(o.total_tax),
    taxesIncluded: o.taxes_included,
    gateways: (o.payment_gateway_names as string[] | undefined) ?? [],
    email: o.email ?? o.contact_email,
    phone: o.phone,
    customer: o.customer
      ? { firstName: o.customer.first_name, lastName: o.customer.last_name, email: o.customer.email, phone: o.customer.phone }
      : null,
    shippingAddress: a
      ? {
          name: a.name ?? [a.first_name, a.last_name].filter(Boolean).join(" "),
          phone: a.phone,
          address1: a.address1,
          address2: a.address2,
          city: a.city,
          province: a.province,
          provinceCode: a.province_code,
          country: a.country,
          countryCode: a.country_code,
          zip: a.zip,
        }
      : null,
    lines: ((o.line_items as Json[] | undefined) ?? []).map((l) => ({
      sku: l.sku,
      title: l.title,
      price: String(l.price),
      quantity: Number(l.quantity),
      discounts: ((l.discount_allocations as Json[] | undefined) ?? []).map((d) => String(d.amount)),
    })),
    shippingLines: ((o.shipping_lines as Json[] | undefined) ?? []).map((s) => ({
      price: String(s.price),
      discounts: ((s.discount_allocations as Json[] | undefined) ?? []).map((d) => String(d.amount)),
    })),
  };
}

const shopMoney = (set: Json | null | undefined) => String(set?.shopMoney?.amount ?? "0");

/** An Admin GraphQL API `Order` node (the fields ORDER_FIELDS selects). */
export function fromGraphql(o: Json): ShopifyOrderData {
  const a = o.shippingAddress as Json | null | undefined;
  return {
    id: numericId(o.legacyResourceId ?? o.id),
    name: String(o.name ?? ""),
    currency: String(o.currencyCode ?? ""),
    createdAt: o.createdAt,
    processedAt: o.processedAt,
    updatedAt: o.updatedAt,
    cancelledAt: o.cancelledAt ?? null,
    financialStatus: String(o.displayFinancialStatus ?? "").toLowerCase(),
    totalPrice: shopMoney(o.totalPriceSet),
    totalTax: o.totalTaxSet ? shopMoney(o.totalTaxSet) : undefined,
    taxesIncluded: o.taxesIncluded,
    gateways: (o.paymentGatewayNames as string[] | undefined) ?? [],
    email: o.email,
    phone: o.phone,
    customer: o.customer ?? null,
    shippingAddress: a
      ? {
          name: a.name ?? [a.firstName, a.lastName].filter(Boolean).join(" "),
          phone: a.phone,
          address1: a.address1,
          address2: a.address2,
          city: a.city,
          province: a.province,
          provinceCode: a.provinceCode,
          country: a.country,
          countryCode: a.countryCodeV2,
          zip: a.zip,
        }
      : null,
    lines: ((o.lineItems?.nodes as Json[] | undefined) ?? []).map((l) => ({
      sku: l.sku,
      title: l.title,
      price: shopMoney(l.originalUnitPriceSet),
      quantity: Number(l.quantity),
      discounts: ((l.discountAllocations as Json[] | undefined) ?? []).map((d) => shopMoney(d.allocatedAmountSet)),
    })),
    shippingLines: ((o.shippingLines?.nodes as Json[] | undefined) ?? []).map((s) => ({
      price: shopMoney(s.originalPriceSet),
      discounts: ((s.discountAllocations as Json[] | undefined) ?? []).map((d) => shopMoney(d.allocatedAmountSet)),
    })),
  };
}

const PAID = new Set(["paid", "partially_refunded", "refunded"]);
const clip = (v: string | null | undefined, max: number) => (v ? v.slice(0, max) : undefined);

/**
 * Maps an order to Dropdesk's. Shopify's `discount_allocations` already spread order-level
 * discounts over the lines, so each line's allocations are its discount and the order carries no
 * order-level discount; `total_price` must then equal Σ lines − discounts + shipping, or the order
 * is refused with the reason (never half-imported).
 */
export function toExternalOrder(d: ShopifyOrderData, opts: { shopCurrency: string }): ExternalOrder {
  const base = {
    externalId: d.id,
    platformOrderNo: d.name,
    updatedAt: d.updatedAt ? new Date(d.updatedAt) : undefined,
    cancelled: Boolean(d.cancelledAt),
  };
  const refuse = (refusal: string): ExternalOrder => ({ ...base, refusal });
  const cur = d.currency;
  if (!d.name) return refuse("the order has no name");
  if (cur !== opts.shopCurrency) return refuse(`the order is in ${cur || "no currency"} but the shop keeps ${opts.shopCurrency}`);
  try {
    const m = (v: string) => toMinorUnits(v, cur);
    const lines = d.lines.map((l, i) => {
      if (!l.sku) throw new Error(`line ${i + 1} (${l.title ?? "untitled"}) has no SKU`);
      if (!Number.isInteger(l.quantity) || l.quantity < 1) throw new Error(`line ${i + 1} has quantity ${l.quantity}`);
      return {
        skuCode: l.sku,
        title: clip(l.title, 300),
        quantity: l.quantity,
        unitPrice: m(l.price),
        discount: l.discounts.reduce((s, x) => s + m(x), 0),
      };
    });
    if (!lines.length) throw new Error("the order has no lines");
    const shippingFee = d.shippingLines.reduce((s, x) => s + m(x.price) - x.discounts.reduce((t, y) => t + m(y), 0), 0);
    if (shippingFee < 0) throw new Error("the shipping discounts exceed the shipping price");
    const paid = m(d.totalPrice);
    const expected = lines.reduce((s, l) => s + l.quantity * l.unitPrice - l.discount, 0) + shippingFee;
    const tax = d.totalTax ? m(d.totalTax) : 0;
    if (paid !== expected) {
      const taxNote =
        tax > 0 && d.taxesIncluded === false
          ? ` (of which tax ${fromMinorUnits(tax, cur)} charged on top of the prices, which Dropdesk does not model yet)`
          : "";
      throw new Error(
        `the money does not add up: lines − discounts + shipping = ${fromMinorUnits(expected, cur)} ${cur} but total_price = ${fromMinorUnits(paid, cur)} ${cur}${taxNote}`,
      );
    }
    const c = d.customer;
    const name = [c?.firstName, c?.lastName].filter(Boolean).join(" ") || undefined;
    const a = d.shippingAddress;
    const email = c?.email ?? d.email ?? undefined;
    const placedAt = d.processedAt ?? d.createdAt;
    const isPaid = PAID.has(String(d.financialStatus ?? "").toLowerCase());
    return {
      ...base,
      order: {
        platformOrderNo: d.name,
        customer: { name: clip(name ?? a?.name, 100), phone: clip(c?.phone ?? d.phone ?? a?.phone, 40), email: email || undefined },
        address: {
          name: clip(a?.name, 100),
          phone: clip(a?.phone, 40),
          country: clip(a?.countryCode ?? a?.country, 60),
          province: clip(a?.provinceCode ?? a?.province, 60),
          city: clip(a?.city, 60),
          line1: clip(a?.address1, 300),
          line2: clip(a?.address2, 300),
          postalCode: clip(a?.zip, 20),
        },
        lines: lines.map((l) => ({ ...l, isGift: false, giftPrice: 0, noReasonReturnWaived: false })),
        discounts: [],
        shippingFee,
        ...(isPaid
          ? {
              paid: {
                amount: paid,
                method: clip(d.gateways.join("+") || "shopify", 40) as string,
                reference: `shopify:${d.id}`,
                paidAt: placedAt ? new Date(placedAt).toISOString() : undefined,
              },
            }
          : {}),
        placedAt: placedAt ? new Date(placedAt).toISOString() : undefined,
      },
    };
  } catch (e) {
    return refuse(e instanceof Error ? e.message : String(e));
  }
}
