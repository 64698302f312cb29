import type { Kysely, Transaction } from "kysely";
import type { SupplierTerms } from "../catalog/catalog.schemas.js";
import type { ConnectorContext } from "../connectors/kind.js";
import type { DB, Generated, JsonColumn, Timestamp } from "../db/schema.js";
import type { Executor } from "../platform/db.js";

/**
 * A supplier platform (1688, CJdropshipping) as the supplier channels use it. Each one speaks its
 * own protocol and answers in Dropdesk's terms; what an answer does to a supplier order, an offer
 * or a claim is decided once, in channels.ts, through those rows' own state tables.
 */
export type ChannelKind = "portal" | "alibaba1688" | "cj" | "email_csv";
export const CHANNEL_KINDS: readonly ChannelKind[] = ["portal", "alibaba1688", "cj", "email_csv"];
/** The channels that are platforms reached through a connector. */
export const PLATFORM_KINDS: readonly ChannelKind[] = ["alibaba1688", "cj"];

/** Where a platform order stands, in the supplier-order state table's words. */
export type PlatformOrderStage =
  | "placed" // on the platform, not paid or not taken yet
  | "accepted" // paid and waiting for the seller to ship
  | "shipped"
  | "delivered"
  | "closed"; // cancelled, refunded in full or closed by the seller

export interface PlatformOrderState {
  status: string;
  stage: PlatformOrderStage;
  carrier?: string;
  trackingNo?: string;
  shippedAt?: Date;
  deliveredAt?: Date;
  closeReason?: string;
  /** A refund (a cancellation of a paid order) the platform is working on or has finished. */
  refundStatus?: string;
  chargedTotal?: number;
}

export interface ForwardLine {
  externalOfferId: string;
  externalSpecId: string | null;
  quantity: number;
  /** What the offer cost in Dropdesk (minor units), to spread the platform's price over the lines. */
  unitCost: number;
}

export interface ForwardRequest {
  outOrderId: string;
  lines: ForwardLine[];
  address: {
    name: string;
    phone: string;
    province: string;
    city: string;
    district?: string;
    town?: string;
    line1: string;
    postalCode?: string;
    /** ISO country code (CJ ships abroad); 1688 ships within China only. */
    countryCode?: string;
    country?: string;
  };
  message?: string;
}

export interface DisputeRequest {
  externalOrderId: string;
  /** refund (仅退款) or returnRefund (退货退款). */
  request: "refund" | "returnRefund";
  /** Dropdesk's case reason (quality, damaged, wrong_item …) chosen from the platform's list. */
  reason: string;
  amount: number;
  description: string;
  evidence: { data: Buffer; filename: string; mime: string }[];
  /** The same photos as short-lived signed links, for platforms that fetch evidence by URL (CJ). */
  evidenceUrls?: string[];
  /** Our idempotency key for the dispute (CJ's businessDisputeId). */
  businessId?: string;
  /** Shipped and not yet received (售中), or received (售后). */
  goodsReceived: boolean;
}

export interface DisputeState {
  status: string;
  state: "open" | "refunded" | "closed";
  refunded: number;
  note?: string;
}

export interface SupplierPlatform {
  kind: ChannelKind;
  placeOrder(
    ctx: ConnectorContext,
    req: ForwardRequest,
  ): Promise<{ externalOrderId: string; chargedGoods: number; chargedShipping: number; chargedTotal: number }>;
  /** Finds an order placed earlier under our idempotency key (a call that timed out may have gone through). */
  findOrder(ctx: ConnectorContext, outOrderId: string): Promise<string | null>;
  pullOrders(ctx: ConnectorContext, externalOrderIds: string[]): Promise<Map<string, PlatformOrderState>>;
  /** Cancels before shipping: `done` at once (unpaid), or a refund the platform works on. */
  cancelOrder(ctx: ConnectorContext, externalOrderId: string, state: PlatformOrderState): Promise<{ done: boolean; refundId?: string }>;
  pullOffer(
    ctx: ConnectorContext,
    externalOfferId: string,
    externalSpecId: string | null,
  ): Promise<{ price: number; stock: number; title?: string }>;
  openDispute(
    ctx: ConnectorContext,
    req: DisputeRequest,
  ): Promise<{ refundId: string; reasonId: string; reason: string; vouchers: string[]; status?: string }>;
  pullDispute(ctx: ConnectorContext, refundId: string): Promise<DisputeState>;
  /** The platform's own after-sales terms toward the buyer account (window, evidence, return freight). */
  terms?(settings: Record<string, string | undefined>): Partial<SupplierTerms>;
}

// The tables of migration 0097, typed here so this capability stands on its own.
export interface SupplierChannels {
  tenant_id: string;
  supplier_id: string;
  kind: ChannelKind;
  connector_id: string | null;
  auto_forward: Generated<boolean>;
  created_at: Generated<Timestamp>;
  updated_at: Generated<Timestamp>;
}
export interface OfferChannelLinks {
  offer_id: string;
  tenant_id: string;
  connector_id: string;
  external_offer_id: string;
  external_spec_id: string | null;
  last_price: number | null;
  last_stock: number | null;
  synced_at: Timestamp | null;
  price_warning: JsonColumn | null;
  last_error: string | null;
  created_at: Generated<Timestamp>;
  updated_at: Generated<Timestamp>;
}
export interface SupplierOrderChannelLinks {
  supplier_order_id: string;
  tenant_id: string;
  connector_id: string;
  state: Generated<"queued" | "placed" | "failed">;
  out_order_id: string;
  external_order_id: string | null;
  external_status: string | null;
  charged_goods: number | null;
  charged_shipping: number | null;
  charged_total: number | null;
  cancel_refund_id: string | null;
  attempts: Generated<number>;
  last_error: string | null;
  placed_at: Timestamp | null;
  pulled_at: Timestamp | null;
  created_at: Generated<Timestamp>;
  updated_at: Generated<Timestamp>;
}
export interface ClaimDisputes {
  id: string;
  tenant_id: string;
  claim_id: string;
  connector_id: string;
  external_order_id: string;
  external_refund_id: string | null;
  request: string;
  reason_id: string | null;
  reason: string | null;
  external_status: string | null;
  state: Generated<"open" | "refunded" | "closed" | "failed">;
  applied_amount: number;
  refunded_amount: Generated<number>;
  vouchers: Generated<JsonColumn>;
  last_error: string | null;
  opened_at: Generated<Timestamp>;
  pulled_at: Timestamp | null;
  closed_at: Timestamp | null;
  updated_at: Generated<Timestamp>;
}
export interface ChannelDB extends DB {
  supplier_channels: SupplierChannels;
  offer_channel_links: OfferChannelLinks;
  supplier_order_channel_links: SupplierOrderChannelLinks;
  claim_disputes: ClaimDisputes;
}
/** The same connection, seen with the channel tables too. */
export const cdb = (ex: Executor) => ex as unknown as Kysely<ChannelDB> | Transaction<ChannelDB>;
