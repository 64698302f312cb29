import { createHmac, randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import {
  buildSchema,
  type DocumentNode,
  type FieldNode,
  type GraphQLField,
  type GraphQLNamedType,
  GraphQLObjectType,
  type GraphQLSchema,
  getNamedType,
  getOperationAST,
  graphql,
  isLeafType,
  Kind,
  parse,
  type SelectionSetNode,
  validate,
  valueFromASTUntyped,
} from "graphql";
import { EXTRA_SDL, ShopifyMoney } from "./shopify-emulator-extras.js";

/**
 * A local Shopify for contract tests, built from Shopify's public Admin API documentation:
 * - `POST /admin/api/<version>/graphql.json` with `X-Shopify-Access-Token` (401 with Shopify's
 *   `{"errors":"[API] Invalid API key or access token …"}` otherwise), executed by graphql-js on a
 *   subset of the Admin schema (shop, orders with cursor paging, sort keys and the `updated_at`
 *   search syntax, order, fulfillment orders, fulfillmentCreate, orderCancel);
 * - cost-based throttling: requested cost (objects 1, connections 2 + first × node, mutations 10),
 *   a leaky bucket (2,000 points, 100 restored a second — the Standard plan), `extensions.cost`
 *   with `throttleStatus` on every answer, `THROTTLED` errors when the bucket is short, and
 *   `MAX_COST_EXCEEDED` above 1,000 points per query; the unused part of the reservation is given back;
 * - webhooks signed as Shopify signs them: `X-Shopify-Hmac-Sha256` = base64 HMAC-SHA256 of the raw
 *   body, with `X-Shopify-Topic`, `-Shop-Domain`, `-API-Version`, `-Webhook-Id`, `-Triggered-At`;
 * - injectable faults for the next requests: an HTTP status (429 with `Retry-After`, 5xx) or a hang;
 * - transactions, refunds (`refundCreate`) and webhook subscriptions: `shopify-emulator-extras.ts`.
 */

const SDL = `
scalar DateTime
scalar Decimal
scalar UnsignedInt64
scalar URL
enum CurrencyCode { CNY USD JPY EUR GBP HKD KWD }
enum OrderSortKeys { CREATED_AT UPDATED_AT PROCESSED_AT ID }
enum OrderDisplayFinancialStatus { PENDING AUTHORIZED PARTIALLY_PAID PAID PARTIALLY_REFUNDED REFUNDED VOIDED EXPIRED }
enum OrderCancelReason { CUSTOMER DECLINED FRAUD INVENTORY STAFF OTHER }
enum FulfillmentOrderStatus { OPEN IN_PROGRESS CANCELLED INCOMPLETE CLOSED SCHEDULED ON_HOLD }
enum FulfillmentStatus { SUCCESS CANCELLED ERROR FAILURE OPEN PENDING }
type MoneyV2 { amount: Decimal! currencyCode: CurrencyCode! }
type MoneyBag { shopMoney: MoneyV2! presentmentMoney: MoneyV2! }
type Shop { name: String! myshopifyDomain: String! currencyCode: CurrencyCode! ianaTimezone: String! }
type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }
type Customer { id: ID! firstName: String lastName: String email: String phone: String }
type MailingAddress { name: String firstName: String lastName: String phone: String address1: String address2: String city: String
  province: String provinceCode: String country: String countryCodeV2: String zip: String }
type DiscountAllocation { allocatedAmountSet: MoneyBag! }
type LineItem { id: ID! sku: String title: String! quantity: Int! originalUnitPriceSet: MoneyBag! discountAllocations: [DiscountAllocation!]! }
type LineItemEdge { cursor: String! node: LineItem! }
type LineItemConnection { edges: [LineItemEdge!]! nodes: [LineItem!]! pageInfo: PageInfo! }
type ShippingLine { id: ID title: String! originalPriceSet: MoneyBag! discountAllocations: [DiscountAllocation!]! }
type ShippingLineEdge { cursor: String! node: ShippingLine! }
type ShippingLineConnection { edges: [ShippingLineEdge!]! nodes: [ShippingLine!]! pageInfo: PageInfo! }
type TrackingInfo { company: String number: String url: URL }
type Fulfillment { id: ID! status: FulfillmentStatus! trackingInfo(first: Int): [TrackingInfo!]! }
type FulfillmentOrderLineItem { id: ID! remainingQuantity: Int! totalQuantity: Int! lineItem: LineItem! }
type FulfillmentOrderLineItemEdge { cursor: String! node: FulfillmentOrderLineItem! }
type FulfillmentOrderLineItemConnection { edges: [FulfillmentOrderLineItemEdge!]! nodes: [FulfillmentOrderLineItem!]! pageInfo: PageInfo! }
type FulfillmentOrder { id: ID! status: FulfillmentOrderStatus! lineItems(first: Int, after: String, last: Int, before: String): FulfillmentOrderLineItemConnection! }
type FulfillmentOrderEdge { cursor: String! node: FulfillmentOrder! }
type FulfillmentOrderConnection { edges: [FulfillmentOrderEdge!]! nodes: [FulfillmentOrder!]! pageInfo: PageInfo! }
type Order { id: ID! legacyResourceId: UnsignedInt64! name: String! createdAt: DateTime! processedAt: DateTime! updatedAt: DateTime!
  cancelledAt: DateTime cancelReason: OrderCancelReason currencyCode: CurrencyCode! taxesIncluded: Boolean!
  displayFinancialStatus: OrderDisplayFinancialStatus paymentGatewayNames: [String!]! email: String phone: String
  totalPriceSet: MoneyBag! totalTaxSet: MoneyBag customer: Customer shippingAddress: MailingAddress
  lineItems(first: Int, after: String, last: Int, before: String): LineItemConnection!
  shippingLines(first: Int, after: String, last: Int, before: String): ShippingLineConnection!
  fulfillments(first: Int): [Fulfillment!]!
  fulfillmentOrders(first: Int, after: String, last: Int, before: String): FulfillmentOrderConnection! }
type OrderEdge { cursor: String! node: Order! }
type OrderConnection { edges: [OrderEdge!]! nodes: [Order!]! pageInfo: PageInfo! }
type Query { shop: Shop!
  orders(first: Int, after: String, last: Int, before: String, sortKey: OrderSortKeys, reverse: Boolean, query: String): OrderConnection!
  order(id: ID!): Order }
input FulfillmentOrderLineItemInput { id: ID! quantity: Int! }
input FulfillmentOrderLineItemsInput { fulfillmentOrderId: ID! fulfillmentOrderLineItems: [FulfillmentOrderLineItemInput!] }
input FulfillmentTrackingInput { company: String number: String url: URL numbers: [String!] urls: [URL!] }
input FulfillmentInput { lineItemsByFulfillmentOrder: [FulfillmentOrderLineItemsInput!]! trackingInfo: FulfillmentTrackingInput notifyCustomer: Boolean }
type UserError { field: [String!] message: String! }
type FulfillmentCreatePayload { fulfillment: Fulfillment userErrors: [UserError!]! }
type Job { id: ID! done: Boolean! }
type OrderCancelUserError { field: [String!] message: String! code: String }
type OrderCancelPayload { job: Job orderCancelUserErrors: [OrderCancelUserError!]! userErrors: [UserError!]! }
type Mutation {
  fulfillmentCreate(fulfillment: FulfillmentInput!, message: String): FulfillmentCreatePayload
  orderCancel(orderId: ID!, reason: OrderCancelReason!, refund: Boolean!, restock: Boolean!, notifyCustomer: Boolean, staffNote: String): OrderCancelPayload
}`;

export interface EmuLine {
  id: number;
  sku: string | null;
  title: string;
  price: string;
  quantity: number;
  discounts: string[];
  fulfilled: number;
}
export interface EmuOrder {
  id: number;
  name: string;
  currency: string;
  created_at: string;
  updated_at: string;
  processed_at: string;
  cancelled_at: string | null;
  cancel_reason: string | null;
  financial_status: string;
  taxes_included: boolean;
  total_tax: string;
  email: string | null;
  phone: string | null;
  payment_gateway_names: string[];
  customer: { id: number; first_name: string; last_name: string; email: string | null; phone: string | null } | null;
  shipping_address: Record<string, string | null> | null;
  lines: EmuLine[];
  shipping: { title: string; price: string; discounts: string[] }[];
  fulfillments: {
    id: number;
    status: string;
    tracking_company: string | null;
    tracking_number: string | null;
    lines: { id: number; quantity: number }[];
  }[];
}

/** `lose`: the request is carried out but its answer never sent (a timeout after Shopify did it). */
type Fault = { status: number; retryAfter?: string; body?: string } | { hang: true } | { lose: true; operation?: string };

const exponent = (c: string) =>
  new Intl.NumberFormat("en", { style: "currency", currency: c }).resolvedOptions().maximumFractionDigits ?? 2;
const toMinor = (s: string, c: string) => Math.round(Number(s) * 10 ** exponent(c));
const fromMinor = (n: number, c: string) => (n / 10 ** exponent(c)).toFixed(exponent(c));

export class ShopifyEmulator {
  readonly accessToken = `shpat_${randomUUID().replaceAll("-", "")}`;
  readonly webhookSecret = `whsec_${randomUUID()}`;
  readonly shopDomain = "dd-test-store.example.test";
  readonly apiVersions = ["2024-10", "2025-01", "2025-04", "2025-07", "2025-10", "2026-01"];
  shop = { name: "Dropdesk Test Store", currency: "CNY", timezone: "Asia/Shanghai" };
  orders: EmuOrder[] = [];
  faults: Fault[] = [];
  /** Every GraphQL request: operation name, variables, HTTP status, throttled or not. */
  requests: { at: number; operation: string | null; variables: Record<string, unknown>; status: number; throttled: boolean }[] = [];
  throttling = true;
  bucket = { max: 2000, restoreRate: 100, available: 2000, at: Date.now() };
  readonly maxQueryCost = 1000;
  private server?: http.Server;
  private hanging = new Set<http.ServerResponse>();
  private schema: GraphQLSchema;
  private seq = 0;
  private clock = Date.parse("2026-02-01T00:00:00Z");
  private sorted?: { sig: string; list: { o: EmuOrder; k: string }[]; index: Map<string, number> };
  url = "";

  /** Transactions, refunds and webhook subscriptions. */
  readonly money = new ShopifyMoney(this);

  constructor() {
    this.schema = buildSchema(SDL + EXTRA_SDL);
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server?.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop() {
    for (const r of this.hanging) r.destroy();
    await new Promise<void>((r) => this.server?.close(() => r()));
  }

  /** Shopify's timestamps: a strictly increasing clock, so `updated_at` orders the changes. */
  tick(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString().replace(".000Z", "Z");
  }

  addOrder(
    o: Partial<Omit<EmuOrder, "lines">> & { lines: (Partial<EmuLine> & { sku: string | null; price: string; quantity: number })[] },
  ): EmuOrder {
    this.seq += 1;
    const id = 5_100_000_000_000 + this.seq;
    const at = this.tick();
    const order: EmuOrder = {
      id,
      name: `#${1000 + this.seq}`,
      currency: this.shop.currency,
      created_at: at,
      updated_at: at,
      processed_at: at,
      cancelled_at: null,
      cancel_reason: null,
      financial_status: "paid",
      taxes_included: true,
      total_tax: "0.00",
      email: `buyer${this.seq}@example.test`,
      phone: null,
      payment_gateway_names: ["shopify_payments"],
      customer: {
        id: 7_000_000 + this.seq,
        first_name: "Mei",
        last_name: "Lin",
        email: `buyer${this.seq}@example.test`,
        phone: "+8613900000000",
      },
      shipping_address: {
        first_name: "Mei",
        last_name: "Lin",
        name: "Mei Lin",
        phone: "+8613900000000",
        address1: "1 Century Avenue",
        address2: "Room 5",
        city: "Shanghai",
        province: "Shanghai",
        province_code: "SH",
        country: "China",
        country_code: "CN",
        zip: "200120",
      },
      shipping: [{ title: "Standard", price: "10.00", discounts: [] }],
      fulfillments: [],
      ...o,
      lines: o.lines.map((l, i) => ({ id: id * 10 + i, title: l.sku ?? "item", discounts: [], fulfilled: 0, ...l })),
    };
    this.orders.push(order);
    return order;
  }

  /** Changes an order as the shop's staff would; `updated_at` moves. */
  update(o: EmuOrder, change: Partial<EmuOrder>) {
    Object.assign(o, change, { updated_at: this.tick() });
    return o;
  }

  total(o: EmuOrder): number {
    const c = o.currency;
    const goods = o.lines.reduce((s, l) => s + l.quantity * toMinor(l.price, c) - l.discounts.reduce((t, d) => t + toMinor(d, c), 0), 0);
    const ship = o.shipping.reduce((s, x) => s + toMinor(x.price, c) - x.discounts.reduce((t, d) => t + toMinor(d, c), 0), 0);
    return goods + ship + (o.taxes_included ? 0 : toMinor(o.total_tax, c));
  }

  /** The order as Shopify's REST resource (the body of `orders/*` webhooks). */
  rest(o: EmuOrder) {
    const c = o.currency;
    return {
      id: o.id,
      admin_graphql_api_id: `gid://shopify/Order/${o.id}`,
      name: o.name,
      order_number: Number(o.name.slice(1)),
      currency: c,
      created_at: o.created_at,
      updated_at: o.updated_at,
      processed_at: o.processed_at,
      cancelled_at: o.cancelled_at,
      cancel_reason: o.cancel_reason,
      financial_status: o.financial_status,
      taxes_included: o.taxes_included,
      total_tax: o.total_tax,
      total_price: fromMinor(this.total(o), c),
      email: o.email,
      contact_email: o.email,
      phone: o.phone,
      payment_gateway_names: o.payment_gateway_names,
      customer: o.customer,
      shipping_address: o.shipping_address,
      line_items: o.lines.map((l) => ({
        id: l.id,
        admin_graphql_api_id: `gid://shopify/LineItem/${l.id}`,
        sku: l.sku,
        title: l.title,
        name: l.title,
        price: l.price,
        quantity: l.quantity,
        total_discount: fromMinor(
          l.discounts.reduce((t, d) => t + toMinor(d, c), 0),
          c,
        ),
        discount_allocations: l.discounts.map((amount) => ({ amount, discount_application_index: 0 })),
      })),
      shipping_lines: o.shipping.map((s, i) => ({
        id: o.id * 100 + i,
        title: s.title,
        price: s.price,
        discount_allocations: s.discounts.map((amount) => ({ amount, discount_application_index: 0 })),
      })),
      fulfillments: o.fulfillments.map((f) => ({
        id: f.id,
        status: f.status,
        tracking_company: f.tracking_company,
        tracking_number: f.tracking_number,
      })),
    };
  }

  /** A webhook as Shopify sends it (headers and raw body); a `secret` other than the connector's forges it. */
  webhook(topic: string, payload: unknown, opts: { secret?: string; webhookId?: string; body?: string } = {}) {
    const body = opts.body ?? JSON.stringify(payload);
    const hmac = createHmac("sha256", opts.secret ?? this.webhookSecret)
      .update(body, "utf8")
      .digest("base64");
    return {
      body,
      headers: {
        "content-type": "application/json",
        "x-shopify-topic": topic,
        "x-shopify-hmac-sha256": hmac,
        "x-shopify-shop-domain": this.shopDomain,
        "x-shopify-api-version": "2025-01",
        "x-shopify-webhook-id": opts.webhookId ?? randomUUID(),
        "x-shopify-triggered-at": new Date().toISOString(),
        "x-shopify-event-id": randomUUID(),
      } as Record<string, string>,
    };
  }

  // HTTP -----------------------------------------------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
      res.end(typeof body === "string" ? body : JSON.stringify(body));
      return status;
    };
    const m = /^\/admin\/api\/([^/]+)\/graphql\.json$/.exec(req.url ?? "");
    let parsed: { query?: string; variables?: Record<string, unknown>; operationName?: string } = {};
    try {
      parsed = JSON.parse(raw || "{}");
    } catch {
      // answered below
    }
    const record = (status: number, throttled = false) =>
      this.requests.push({ at: Date.now(), operation: opName(parsed.query), variables: parsed.variables ?? {}, status, throttled });
    // A fault aimed at one operation waits for it; the others apply to the next request.
    const head = this.faults[0];
    const aimed = head && "operation" in head && head.operation && head.operation !== opName(parsed.query);
    const next = aimed ? undefined : this.faults.shift();
    const lose = next && "lose" in next;
    const fault = lose ? undefined : next;
    if (fault) {
      if ("hang" in fault) {
        record(0);
        this.hanging.add(res);
        return;
      }
      record(fault.status);
      return send(
        fault.status,
        fault.body ?? {
          errors:
            fault.status === 429
              ? "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
              : "Internal Server Error",
        },
        fault.retryAfter ? { "retry-after": fault.retryAfter } : {},
      );
    }
    if (req.method !== "POST" || !m || !this.apiVersions.includes(m[1])) return record(send(404, { errors: "Not Found" }));
    if (req.headers["x-shopify-access-token"] !== this.accessToken)
      return record(send(401, { errors: "[API] Invalid API key or access token (unrecognized login or wrong password)" }));
    if (!parsed.query) return record(send(400, { errors: { query: "Required parameter missing or invalid" } }));
    let doc: DocumentNode;
    try {
      doc = parse(parsed.query);
    } catch (e) {
      return record(send(200, { errors: [{ message: (e as Error).message, extensions: { code: "PARSE_ERROR" } }] }));
    }
    const invalid = validate(this.schema, doc);
    if (invalid.length) return record(send(200, { errors: invalid.map((e) => ({ message: e.message, locations: e.locations })) }));
    const requested = this.cost(doc, parsed.variables ?? {});
    const status = () => ({
      maximumAvailable: this.bucket.max,
      currentlyAvailable: Math.floor(this.bucket.available),
      restoreRate: this.bucket.restoreRate,
    });
    this.restore();
    if (requested > this.maxQueryCost) {
      return record(
        send(200, {
          errors: [
            {
              message: `Query cost is ${requested}, which exceeds the single query max cost limit (${this.maxQueryCost}).`,
              extensions: { code: "MAX_COST_EXCEEDED", cost: requested, maxCost: this.maxQueryCost },
            },
          ],
          extensions: { cost: { requestedQueryCost: requested, actualQueryCost: null, throttleStatus: status() } },
        }),
      );
    }
    if (this.throttling && requested > this.bucket.available) {
      record(200, true);
      return send(200, {
        errors: [{ message: "Throttled", extensions: { code: "THROTTLED", documentation: "https://shopify.dev/api/usage/rate-limits" } }],
        extensions: { cost: { requestedQueryCost: requested, actualQueryCost: null, throttleStatus: status() } },
      });
    }
    if (this.throttling) this.bucket.available -= requested;
    const result = await graphql({
      schema: this.schema,
      source: parsed.query,
      rootValue: this.root(),
      variableValues: parsed.variables,
      operationName: parsed.operationName,
    });
    const actual = result.data ? this.cost(doc, parsed.variables ?? {}, result.data as Record<string, unknown>) : 0;
    if (this.throttling) this.bucket.available = Math.min(this.bucket.max, this.bucket.available + (requested - actual));
    record(200);
    if (lose) {
      this.hanging.add(res);
      return;
    }
    send(200, { ...result, extensions: { cost: { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus: status() } } });
  }

  private restore() {
    const now = Date.now();
    this.bucket.available = Math.min(this.bucket.max, this.bucket.available + ((now - this.bucket.at) / 1000) * this.bucket.restoreRate);
    this.bucket.at = now;
  }

  // Query cost (Shopify's documented rules) ---------------------------------------------------------

  cost(doc: DocumentNode, variables: Record<string, unknown>, data?: Record<string, unknown>): number {
    const op = getOperationAST(doc);
    if (!op) return 0;
    const rootType = op.operation === "mutation" ? this.schema.getMutationType() : this.schema.getQueryType();
    if (!rootType) return 0;
    const fragments = Object.fromEntries(
      doc.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d.selectionSet]),
    );
    const fields = (set: SelectionSetNode): FieldNode[] =>
      set.selections.flatMap((s) =>
        s.kind === Kind.FIELD
          ? [s]
          : s.kind === Kind.INLINE_FRAGMENT
            ? fields(s.selectionSet)
            : fragments[s.name.value]
              ? fields(fragments[s.name.value])
              : [],
      );
    const arg = (f: FieldNode, name: string) => {
      const a = f.arguments?.find((x) => x.name.value === name);
      return a ? (valueFromASTUntyped(a.value, variables) as number | null) : undefined;
    };
    const walk = (set: SelectionSetNode, type: GraphQLNamedType, value: unknown): number => {
      if (!(type instanceof GraphQLObjectType)) return 0;
      let total = 0;
      for (const f of fields(set)) {
        const def = type.getFields()[f.name.value] as GraphQLField<unknown, unknown> | undefined;
        if (!def || !f.selectionSet) continue;
        const t = getNamedType(def.type);
        if (isLeafType(t)) continue;
        const key = f.alias?.value ?? f.name.value;
        const v = value && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
        if (t.name.endsWith("Connection") && t instanceof GraphQLObjectType) {
          // A connection costs 2, plus each of its items what the item's selection costs: `first`
          // items when asking, the items that came back when counting the actual cost.
          const asked = Number(arg(f, "first") ?? arg(f, "last") ?? 1);
          let cost = 2;
          for (const cf of fields(f.selectionSet)) {
            const cdef = t.getFields()[cf.name.value];
            if (!cf.selectionSet || !cdef || cf.name.value === "pageInfo") continue;
            const ct = getNamedType(cdef.type);
            if (!data) cost += asked * (1 + walk(cf.selectionSet, ct, undefined));
            else {
              const items = ((v as Record<string, unknown[]> | undefined)?.[cf.alias?.value ?? cf.name.value] ?? []) as unknown[];
              for (const it of items) cost += 1 + walk(cf.selectionSet, ct, it);
            }
          }
          total += cost;
          continue;
        }
        if (Array.isArray(v) && data) total += 1 + v.reduce((s: number, it) => s + walk(f.selectionSet as SelectionSetNode, t, it), 0);
        else total += 1 + walk(f.selectionSet, t, v);
      }
      return total;
    };
    return walk(op.selectionSet, rootType, data) + (op.operation === "mutation" ? 10 : 0);
  }

  // Resolvers -------------------------------------------------------------------------------------

  private root() {
    const money = (amount: string, currencyCode: string) => {
      const m = { amount, currencyCode };
      return { shopMoney: m, presentmentMoney: m };
    };
    const connection = <T>(items: T[], args: { first?: number; after?: string; last?: number; before?: string }, key: (t: T) => string) => {
      let list = items;
      if (args.after) {
        const i = list.findIndex((t) => key(t) === decodeCursor(args.after as string));
        list = i >= 0 ? list.slice(i + 1) : list.filter((t) => key(t) > decodeCursor(args.after as string));
      }
      const first = args.first ?? args.last ?? 50;
      const page = list.slice(0, first);
      const edges = page.map((node) => ({ cursor: encodeCursor(key(node)), node }));
      return {
        edges,
        nodes: page,
        pageInfo: {
          hasNextPage: list.length > first,
          hasPreviousPage: Boolean(args.after),
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges[edges.length - 1]?.cursor ?? null,
        },
      };
    };
    const lineNode = (o: EmuOrder, l: EmuLine) => ({
      id: `gid://shopify/LineItem/${l.id}`,
      sku: l.sku,
      title: l.title,
      quantity: l.quantity,
      originalUnitPriceSet: money(l.price, o.currency),
      discountAllocations: l.discounts.map((d) => ({ allocatedAmountSet: money(d, o.currency) })),
    });
    const orderNode = (o: EmuOrder) => ({
      id: `gid://shopify/Order/${o.id}`,
      legacyResourceId: String(o.id),
      name: o.name,
      createdAt: o.created_at,
      processedAt: o.processed_at,
      updatedAt: o.updated_at,
      cancelledAt: o.cancelled_at,
      cancelReason: o.cancel_reason,
      currencyCode: o.currency,
      taxesIncluded: o.taxes_included,
      displayFinancialStatus: o.financial_status.toUpperCase(),
      paymentGatewayNames: o.payment_gateway_names,
      email: o.email,
      phone: o.phone,
      totalPriceSet: money(fromMinor(this.total(o), o.currency), o.currency),
      totalTaxSet: money(o.total_tax, o.currency),
      customer: o.customer && {
        id: `gid://shopify/Customer/${o.customer.id}`,
        firstName: o.customer.first_name,
        lastName: o.customer.last_name,
        email: o.customer.email,
        phone: o.customer.phone,
      },
      shippingAddress: o.shipping_address && {
        ...o.shipping_address,
        firstName: o.shipping_address.first_name,
        lastName: o.shipping_address.last_name,
        provinceCode: o.shipping_address.province_code,
        countryCodeV2: o.shipping_address.country_code,
      },
      lineItems: (args: { first?: number; after?: string }) =>
        connection(
          o.lines.map((l) => lineNode(o, l)),
          args,
          (l) => l.id,
        ),
      shippingLines: (args: { first?: number; after?: string }) =>
        connection(
          o.shipping.map((s, i) => ({
            id: `gid://shopify/ShippingLine/${o.id * 100 + i}`,
            title: s.title,
            originalPriceSet: money(s.price, o.currency),
            discountAllocations: s.discounts.map((d) => ({ allocatedAmountSet: money(d, o.currency) })),
          })),
          args,
          (s) => s.id,
        ),
      ...this.money.orderFields(o, money, connection as never),
      fulfillments: () =>
        o.fulfillments.map((f) => ({
          id: `gid://shopify/Fulfillment/${f.id}`,
          status: f.status,
          trackingInfo: [{ company: f.tracking_company, number: f.tracking_number, url: null }],
        })),
      fulfillmentOrders: (args: { first?: number; after?: string }) => {
        const remaining = o.lines.some((l) => l.quantity > l.fulfilled);
        const fo = {
          id: `gid://shopify/FulfillmentOrder/${o.id}`,
          status: o.cancelled_at ? "CANCELLED" : remaining ? (o.lines.some((l) => l.fulfilled > 0) ? "IN_PROGRESS" : "OPEN") : "CLOSED",
          lineItems: (a: { first?: number; after?: string }) =>
            connection(
              o.lines.map((l) => ({
                id: `gid://shopify/FulfillmentOrderLineItem/${l.id}`,
                remainingQuantity: o.cancelled_at ? 0 : l.quantity - l.fulfilled,
                totalQuantity: l.quantity,
                lineItem: lineNode(o, l),
              })),
              a,
              (x) => x.id,
            ),
        };
        return connection([fo], args, (x) => x.id);
      },
    });
    const byGid = (gid: string) => this.orders.find((o) => `gid://shopify/Order/${o.id}` === gid);
    return {
      ...this.money.root(money, connection as never, orderNode),
      shop: () => ({
        name: this.shop.name,
        myshopifyDomain: this.shopDomain,
        currencyCode: this.shop.currency,
        ianaTimezone: this.shop.timezone,
      }),
      order: ({ id }: { id: string }) => {
        const o = byGid(id);
        return o ? orderNode(o) : null;
      },
      orders: (args: { first?: number; after?: string; sortKey?: string; reverse?: boolean; query?: string }) => {
        const sortField = { UPDATED_AT: "updated_at", CREATED_AT: "created_at", PROCESSED_AT: "processed_at", ID: "id" }[
          args.sortKey ?? "ID"
        ] as keyof EmuOrder;
        // The sorted, filtered list is kept until an order changes (every change ticks the clock),
        // so paging through 100,000 orders does not sort them again for each page.
        const sig = `${args.sortKey}|${args.query}|${args.reverse}|${this.clock}|${this.orders.length}`;
        if (this.sorted?.sig !== sig) {
          const filters = parseSearch(args.query ?? "");
          const list = this.orders
            .filter((o) => filters.every((f) => f(o)))
            .map((o) => ({ o, k: `${String(o[sortField]).padStart(24, "0")}|${String(o.id).padStart(20, "0")}` }))
            .sort((a, b) => (a.k < b.k ? -1 : 1));
          if (args.reverse) list.reverse();
          this.sorted = { sig, list, index: new Map(list.map((x, i) => [x.k, i])) };
        }
        const { list, index } = this.sorted;
        const at = args.after ? index.get(decodeCursor(args.after)) : undefined;
        const page = connection(
          at === undefined ? list : list.slice(at + 1),
          at === undefined ? args : { ...args, after: undefined },
          (x) => x.k,
        );
        return {
          ...page,
          nodes: page.nodes.map((x) => orderNode(x.o)),
          edges: page.edges.map((e) => ({ cursor: e.cursor, node: orderNode(e.node.o) })),
        };
      },
      fulfillmentCreate: ({
        fulfillment,
      }: {
        fulfillment: {
          lineItemsByFulfillmentOrder: { fulfillmentOrderId: string; fulfillmentOrderLineItems?: { id: string; quantity: number }[] }[];
          trackingInfo?: { company?: string; number?: string };
        };
      }) => {
        const errors: { field: string[]; message: string }[] = [];
        const groups = fulfillment.lineItemsByFulfillmentOrder;
        const o = this.orders.find((x) => groups.every((g) => g.fulfillmentOrderId === `gid://shopify/FulfillmentOrder/${x.id}`));
        if (!o) return { fulfillment: null, userErrors: [{ field: ["fulfillment"], message: "Fulfillment order does not exist." }] };
        if (o.cancelled_at)
          return { fulfillment: null, userErrors: [{ field: ["fulfillment"], message: "Fulfillment order is cancelled." }] };
        const picks: { line: EmuLine; q: number }[] = [];
        for (const g of groups) {
          for (const item of g.fulfillmentOrderLineItems ??
            o.lines.map((l) => ({ id: `gid://shopify/FulfillmentOrderLineItem/${l.id}`, quantity: l.quantity - l.fulfilled }))) {
            const line = o.lines.find((l) => `gid://shopify/FulfillmentOrderLineItem/${l.id}` === item.id);
            if (!line)
              errors.push({ field: ["fulfillment", "lineItemsByFulfillmentOrder"], message: "Invalid fulfillment order line item id." });
            else if (item.quantity > line.quantity - line.fulfilled)
              errors.push({
                field: ["fulfillment", "lineItemsByFulfillmentOrder"],
                message: `Invalid fulfillment order line item quantity requested.`,
              });
            else picks.push({ line, q: item.quantity });
          }
        }
        if (errors.length) return { fulfillment: null, userErrors: errors };
        for (const p of picks) p.line.fulfilled += p.q;
        this.seq += 1;
        const f = {
          id: 4_400_000_000 + this.seq,
          status: "SUCCESS",
          tracking_company: fulfillment.trackingInfo?.company ?? null,
          tracking_number: fulfillment.trackingInfo?.number ?? null,
          lines: picks.map((p) => ({ id: p.line.id, quantity: p.q })),
        };
        o.fulfillments.push(f);
        o.updated_at = this.tick();
        return {
          fulfillment: {
            id: `gid://shopify/Fulfillment/${f.id}`,
            status: f.status,
            trackingInfo: [{ company: f.tracking_company, number: f.tracking_number, url: null }],
          },
          userErrors: [],
        };
      },
      orderCancel: ({ orderId, reason }: { orderId: string; reason: string }) => {
        const o = byGid(orderId);
        if (!o)
          return {
            job: null,
            orderCancelUserErrors: [{ field: ["orderId"], message: "Order does not exist", code: "NOT_FOUND" }],
            userErrors: [],
          };
        if (o.cancelled_at)
          return {
            job: null,
            orderCancelUserErrors: [
              { field: ["orderId"], message: "Cannot cancel an order that has already been cancelled", code: "INVALID" },
            ],
            userErrors: [],
          };
        if (o.fulfillments.length)
          return {
            job: null,
            orderCancelUserErrors: [{ field: ["orderId"], message: "Cannot cancel a fulfilled order", code: "INVALID" }],
            userErrors: [],
          };
        o.cancelled_at = this.tick();
        o.cancel_reason = reason.toLowerCase();
        o.updated_at = o.cancelled_at;
        return { job: { id: `gid://shopify/Job/${randomUUID()}`, done: true }, orderCancelUserErrors: [], userErrors: [] };
      },
    };
  }
}

const encodeCursor = (k: string) => Buffer.from(JSON.stringify({ last_id: k })).toString("base64");
const decodeCursor = (c: string) => {
  try {
    return String(JSON.parse(Buffer.from(c, "base64").toString("utf8")).last_id);
  } catch {
    return "";
  }
};

function opName(q: string | undefined): string | null {
  const m = /(?:query|mutation)\s+(\w+)/.exec(q ?? "");
  return m ? m[1] : null;
}

/** Shopify's search syntax, the part used here: `updated_at:>='2026-01-01T00:00:00Z'`, `created_at:<…`. */
function parseSearch(q: string): ((o: EmuOrder) => boolean)[] {
  const out: ((o: EmuOrder) => boolean)[] = [];
  for (const m of q.matchAll(/(updated_at|created_at|processed_at):(>=|<=|>|<)?'?([^'\s]+)'?/g)) {
    const [, field, op = "=", value] = m;
    const t = Date.parse(value);
    out.push((o) => {
      const v = Date.parse(String(o[field as keyof EmuOrder]));
      return op === ">=" ? v >= t : op === ">" ? v > t : op === "<=" ? v <= t : op === "<" ? v < t : v === t;
    });
  }
  return out;
}
