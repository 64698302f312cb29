// The server's larger views (a case, an order, its ledger) as the web app reads them. Where the
// server names its answer's type, it is imported (type-only); `Json<…>` turns its Dates into the
// ISO strings JSON carries. What the server leaves untyped (rows read from JSON columns) is
// spelled out here from the SQL that selects it.
import type { listCases } from "../../../src/after-sales/case.list";
import type { caseView } from "../../../src/after-sales/case.view";
import type { readSurvey } from "../../../src/automation/survey.service";
import type { carrierInterceptState } from "../../../src/carriers/intercepts";
import type { listOffers } from "../../../src/catalog/offer.service";
import type { connectorDetail } from "../../../src/connectors/connector.service";
import type { ShipRowResult } from "../../../src/fulfilment/ship-csv";
import type { listSupplierOrders } from "../../../src/fulfilment/supplier-order.list";
import type { orderLedger } from "../../../src/money/ledger.view";
import type { CaseQuote } from "../../../src/money/refunds";
import type { listOrders } from "../../../src/orders/order.list";
import type { OrderView } from "../../../src/orders/order.view";
import type { orderEligibility } from "../../../src/policies/policy.repo";
import type { currentPolicy, savePolicy } from "../../../src/policies/policy.service";
import type { portalOrder } from "../../../src/portal/portal.service";

/** A server value as it arrives over JSON: its Dates are ISO strings. */
export type Json<T> = T extends Date ? string : T extends (infer U)[] ? Json<U>[] : T extends object ? { [K in keyof T]: Json<T[K]> } : T;

/** What a server function answers, as JSON: `Answer<typeof listOffers>`. */
export type Answer<F extends (...args: never[]) => unknown> = Json<Awaited<ReturnType<F>>>;

/** A postal address as cases and orders keep it (a JSON column). */
export interface Address {
  name?: string;
  phone?: string;
  province?: string;
  city?: string;
  district?: string;
  line1?: string;
}

/** A case's timeline entry (case_events); `actorId` and `data` are shown to staff only. */
export interface CaseEvent {
  id: string;
  action: string;
  actorType: string;
  actorId?: string | null;
  from: string | null;
  to: string | null;
  note: string | null;
  data?: unknown;
  at: string;
}

/** A photo or video on a case. */
export interface CaseEvidence {
  id: string;
  kind: "image" | "video";
  mime: string;
  sizeBytes: number;
  filename: string | null;
  createdAt: string;
  url: string;
}

/** A refund as the case view lists it. */
export interface CaseRefund {
  id: string;
  kind: string;
  amount: number;
  method: string;
  status: string;
  createdAt: string;
  confirmedAt: string | null;
}

type CaseViewJson = Json<Awaited<ReturnType<typeof caseView>>>;

/** GET /api/v1/cases/:id (and the portals' case, with the staff-only parts left out). */
export type CaseView = Omit<CaseViewJson, "timeline" | "evidence" | "refunds" | "returnAddress" | "offer" | "claim"> & {
  timeline: CaseEvent[];
  evidence: CaseEvidence[];
  refunds: CaseRefund[];
  returnAddress: Address | null;
  /** The compensation offered to the customer (src/after-sales/case.actions.ts, offerCompensation). */
  offer: {
    kind: "coupon" | "partial_refund" | "gift";
    amount: number;
    note: string | null;
    offeredAt: string;
    accepted: boolean;
    acceptedAt?: string;
  } | null;
  claim: { id: string; status: string; amount: number } | null;
};

/** A row of GET /api/v1/cases */
export type CaseListItem = Json<Awaited<ReturnType<typeof listCases>>["items"][number]>;

/**
 * A row of the case inbox: GET /api/v1/cases, or GET /api/v1/case-queue/by-phone, whose rows
 * (listRow in src/after-sales/case-queue.ts) have the list item's core fields but not its
 * message counts or escalation.
 */
export type InboxCase = Pick<
  CaseListItem,
  | "id"
  | "caseNo"
  | "orderId"
  | "platformOrderNo"
  | "shopId"
  | "shopTimezone"
  | "supplierId"
  | "type"
  | "reason"
  | "status"
  | "channel"
  | "riskFlag"
  | "assigneeId"
  | "deadline"
  | "overdue"
  | "createdAt"
  | "updatedAt"
> &
  Partial<CaseListItem>;

/** GET /api/v1/cases/:id/refund-quote */
export type RefundQuote = CaseQuote;

/** GET /api/v1/orders/:id */
export type Order = Json<OrderView>;

/** An order's supplier order, as the order view lists it. */
export type OrderSupplierOrder = Order["supplierOrders"][number];

/** A row of GET /api/v1/orders */
export type OrderListItem = Json<Awaited<ReturnType<typeof listOrders>>["items"][number]>;

/** GET /api/v1/orders/:id/ledger */
export type OrderLedger = Json<Awaited<ReturnType<typeof orderLedger>>>;

/** GET /api/v1/orders/:id/eligibility and GET /portal/api/eligibility: what each line may get, by case type. */
export type Eligibility = Json<Awaited<ReturnType<typeof orderEligibility>>>;

/** GET /portal/api/order: the customer's order, its shipments and its cases. */
export type PortalOrder = Answer<typeof portalOrder>;

/** GET /portal/api/surveys/:token */
export type SurveyView = Json<Awaited<ReturnType<typeof readSurvey>>>;

/** GET /api/v1/supplier-orders/:id/carrier-intercept: whether the carrier can intercept the parcel, and its last interception. */
export type CarrierInterceptState = Json<Awaited<ReturnType<typeof carrierInterceptState>>>;

/** A row of GET /api/v1/offers: a supplier's offer of a SKU. */
export type Offer = Json<Awaited<ReturnType<typeof listOffers>>["items"][number]>;

/** A row of GET /api/v1/supplier-orders: the supplier order with whom it ships to. */
export type SupplierOrderRow = Answer<typeof listSupplierOrders>["items"][number];

/** POST /api/v1/supplier-orders/ship-csv: how many rows shipped and failed, and each row's result. */
export interface ShipCsvResult {
  shipped: number;
  failed: number;
  results: ShipRowResult[];
}

/** GET /api/v1/shops/:id/policy: the shop's current policy version and the presets it may start from. */
export type ShopPolicy = Answer<typeof currentPolicy>;

/** PUT /api/v1/shops/:id/policy: the version just saved. */
export type SavedPolicy = Answer<typeof savePolicy>;

/** GET /api/v1/connectors/:id: the connector with its record counts and its latest log lines. */
export type ConnectorDetailView = Answer<typeof connectorDetail>;

/** POST /api/v1/connectors/:id/actions/test: whether the connector reached its platform (the other actions answer the connector). */
export interface ConnectorTestResult {
  ok: boolean;
  message: string;
  details?: unknown;
}
