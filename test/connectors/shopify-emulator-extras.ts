import type { EmuOrder } from "./shopify-emulator.js";

/**
 * The money and subscription parts of the local Shopify, from the Admin GraphQL API's documentation
 * (2025-01): an order's transactions (the sale its payment made, refunds with their parent),
 * `Order.refunds`, `refundCreate` with its user errors (an order that does not exist, a parent
 * transaction that is not a sale or capture of the order, another gateway than the parent's, more
 * than the parent can still give back, a kind other than REFUND), refund transactions that succeed
 * at once or stay PENDING until the test completes them, refunds made by staff in the admin, the
 * REST body of `refunds/create`, and webhook subscriptions (`webhookSubscriptions` filtered by
 * topics and callback URL, `webhookSubscriptionCreate` refusing a non-https address and an address
 * already taken for the topic).
 */
export const EXTRA_SDL = `
enum OrderTransactionKind { SALE CAPTURE AUTHORIZATION VOID REFUND CHANGE EMV_AUTHORIZATION SUGGESTED_REFUND }
enum OrderTransactionStatus { SUCCESS FAILURE PENDING ERROR AWAITING_RESPONSE UNKNOWN }
type OrderTransaction { id: ID! kind: OrderTransactionKind! status: OrderTransactionStatus! gateway: String amountSet: MoneyBag!
  parentTransaction: OrderTransaction processedAt: DateTime }
type OrderTransactionEdge { cursor: String! node: OrderTransaction! }
type OrderTransactionConnection { edges: [OrderTransactionEdge!]! nodes: [OrderTransaction!]! pageInfo: PageInfo! }
type Refund { id: ID! note: String createdAt: DateTime totalRefundedSet: MoneyBag!
  transactions(first: Int, after: String, last: Int, before: String): OrderTransactionConnection! }
extend type Order { transactions(first: Int, capturable: Boolean, manuallyResolvable: Boolean): [OrderTransaction!]! refunds(first: Int): [Refund!]! }
input OrderTransactionInput { amount: Decimal! gateway: String! kind: OrderTransactionKind! orderId: ID! parentId: ID }
input RefundLineItemInput { lineItemId: ID! quantity: Int! restockType: String locationId: ID }
input ShippingRefundInput { amount: Decimal fullRefund: Boolean }
input RefundInput { currency: CurrencyCode note: String notify: Boolean orderId: ID! refundLineItems: [RefundLineItemInput!]
  shipping: ShippingRefundInput transactions: [OrderTransactionInput!] }
type RefundCreatePayload { order: Order refund: Refund userErrors: [UserError!]! }
enum WebhookSubscriptionTopic { ORDERS_CREATE ORDERS_UPDATED ORDERS_CANCELLED ORDERS_PAID ORDERS_EDITED ORDERS_FULFILLED REFUNDS_CREATE
  FULFILLMENTS_CREATE FULFILLMENTS_UPDATE RETURNS_REQUEST APP_UNINSTALLED }
enum WebhookSubscriptionFormat { JSON XML }
type WebhookHttpEndpoint { callbackUrl: URL! }
type WebhookEventBridgeEndpoint { arn: String! }
union WebhookSubscriptionEndpoint = WebhookHttpEndpoint | WebhookEventBridgeEndpoint
type WebhookSubscription { id: ID! topic: WebhookSubscriptionTopic! format: WebhookSubscriptionFormat! callbackUrl: URL!
  endpoint: WebhookSubscriptionEndpoint! createdAt: DateTime! }
type WebhookSubscriptionEdge { cursor: String! node: WebhookSubscription! }
type WebhookSubscriptionConnection { edges: [WebhookSubscriptionEdge!]! nodes: [WebhookSubscription!]! pageInfo: PageInfo! }
input WebhookSubscriptionInput { callbackUrl: URL format: WebhookSubscriptionFormat includeFields: [String!] metafieldNamespaces: [String!] }
type WebhookSubscriptionCreatePayload { webhookSubscription: WebhookSubscription userErrors: [UserError!]! }
extend type Query { webhookSubscriptions(first: Int, after: String, last: Int, before: String, topics: [WebhookSubscriptionTopic!],
  callbackUrl: URL, format: WebhookSubscriptionFormat): WebhookSubscriptionConnection! }
extend type Mutation { refundCreate(input: RefundInput!): RefundCreatePayload
  webhookSubscriptionCreate(topic: WebhookSubscriptionTopic!, webhookSubscription: WebhookSubscriptionInput!): WebhookSubscriptionCreatePayload }
`;

export interface EmuTxn {
  id: number;
  kind: "SALE" | "REFUND";
  status: "SUCCESS" | "PENDING" | "FAILURE";
  gateway: string;
  amount: string;
  parentId: number | null;
}
export interface EmuRefund {
  id: number;
  orderId: number;
  note: string | null;
  createdAt: string;
  transactions: EmuTxn[];
}
export interface EmuSubscription {
  id: number;
  topic: string;
  callbackUrl: string;
  format: string;
  createdAt: string;
}

type Money = (amount: string, currency: string) => unknown;
type Conn = <T>(items: T[], args: { first?: number; after?: string }, key: (t: T) => string) => unknown;
const exponent = (c: string) =>
  new Intl.NumberFormat("en", { style: "currency", currency: c }).resolvedOptions().maximumFractionDigits ?? 2;
const minor = (s: string, c: string) => Math.round(Number(s) * 10 ** exponent(c));
const decimal = (n: number, c: string) => (n / 10 ** exponent(c)).toFixed(exponent(c));
const PAID = ["paid", "partially_refunded", "refunded"];

export class ShopifyMoney {
  refunds: EmuRefund[] = [];
  subscriptions: EmuSubscription[] = [];
  private txns = new Map<number, EmuTxn[]>();
  private seq = 0;
  /** The status a new refund's transactions get: SUCCESS at once, or PENDING until `complete`. */
  refundStatus: "SUCCESS" | "PENDING" = "SUCCESS";

  constructor(private emu: { orders: EmuOrder[]; total(o: EmuOrder): number; tick(): string }) {}

  private next() {
    this.seq += 1;
    return 8_800_000_000 + this.seq;
  }

  /** The order's transactions: the sale of its payment (once paid), then refunds. */
  transactionsOf(o: EmuOrder): EmuTxn[] {
    let list = this.txns.get(o.id);
    if (!list) {
      list = [];
      this.txns.set(o.id, list);
    }
    if (!list.some((t) => t.kind === "SALE") && PAID.includes(o.financial_status))
      list.unshift({
        id: this.next(),
        kind: "SALE",
        status: "SUCCESS",
        gateway: o.payment_gateway_names[0] ?? "manual",
        amount: decimal(this.emu.total(o), o.currency),
        parentId: null,
      });
    return list;
  }

  private refundedOf(o: EmuOrder, parentId: number) {
    return this.transactionsOf(o)
      .filter((t) => t.kind === "REFUND" && t.parentId === parentId && t.status !== "FAILURE")
      .reduce((s, t) => s + minor(t.amount, o.currency), 0);
  }

  private settleStatus(o: EmuOrder) {
    const refunded = this.transactionsOf(o)
      .filter((t) => t.kind === "REFUND" && t.status === "SUCCESS")
      .reduce((s, t) => s + minor(t.amount, o.currency), 0);
    if (refunded > 0) o.financial_status = refunded >= this.emu.total(o) ? "refunded" : "partially_refunded";
    o.updated_at = this.emu.tick();
  }

  private create(o: EmuOrder, note: string | null, parts: { parent: EmuTxn; amount: number }[], status: EmuTxn["status"]) {
    const r: EmuRefund = {
      id: this.next(),
      orderId: o.id,
      note,
      createdAt: this.emu.tick(),
      transactions: parts.map((p) => ({
        id: this.next(),
        kind: "REFUND",
        status,
        gateway: p.parent.gateway,
        amount: decimal(p.amount, o.currency),
        parentId: p.parent.id,
      })),
    };
    this.transactionsOf(o).push(...r.transactions);
    this.refunds.push(r);
    this.settleStatus(o);
    return r;
  }

  /** A refund made by the shop's staff in Shopify's admin. */
  adminRefund(o: EmuOrder, amount: string, note: string | null = null) {
    const sale = this.transactionsOf(o).find((t) => t.kind === "SALE") as EmuTxn;
    return this.create(o, note, [{ parent: sale, amount: minor(amount, o.currency) }], this.refundStatus);
  }

  /** The payment provider finishes a pending refund. */
  complete(r: EmuRefund, status: "SUCCESS" | "FAILURE" = "SUCCESS") {
    for (const t of r.transactions) t.status = status;
    const o = this.emu.orders.find((x) => x.id === r.orderId);
    if (o) this.settleStatus(o);
  }

  /** A refund as Shopify's REST resource: the body of the `refunds/create` webhook. */
  rest(r: EmuRefund) {
    const o = this.emu.orders.find((x) => x.id === r.orderId) as EmuOrder;
    return {
      id: r.id,
      admin_graphql_api_id: `gid://shopify/Refund/${r.id}`,
      order_id: r.orderId,
      created_at: r.createdAt,
      note: r.note,
      restock: false,
      refund_line_items: [],
      transactions: r.transactions.map((t) => ({
        id: t.id,
        order_id: r.orderId,
        kind: t.kind.toLowerCase(),
        gateway: t.gateway,
        status: t.status.toLowerCase(),
        amount: t.amount,
        currency: o.currency,
        parent_id: t.parentId,
      })),
    };
  }

  // GraphQL ------------------------------------------------------------------------------------------

  private txnNode(o: EmuOrder, t: EmuTxn, money: Money): Record<string, unknown> {
    const parent = t.parentId ? this.transactionsOf(o).find((x) => x.id === t.parentId) : undefined;
    return {
      id: `gid://shopify/OrderTransaction/${t.id}`,
      kind: t.kind,
      status: t.status,
      gateway: t.gateway,
      amountSet: money(t.amount, o.currency),
      parentTransaction: parent ? this.txnNode(o, parent, money) : null,
      processedAt: null,
    };
  }

  private refundNode(o: EmuOrder, r: EmuRefund, money: Money, connection: Conn) {
    const total = r.transactions.filter((t) => t.status === "SUCCESS").reduce((s, t) => s + minor(t.amount, o.currency), 0);
    return {
      id: `gid://shopify/Refund/${r.id}`,
      note: r.note,
      createdAt: r.createdAt,
      totalRefundedSet: money(decimal(total, o.currency), o.currency),
      transactions: (args: { first?: number; after?: string }) =>
        connection(
          r.transactions.map((t) => this.txnNode(o, t, money)),
          args,
          (t) => String(t.id),
        ),
    };
  }

  /** The fields added to an `Order` node. */
  orderFields(o: EmuOrder, money: Money, connection: Conn) {
    return {
      transactions: (a: { first?: number }) =>
        this.transactionsOf(o)
          .slice(0, a.first ?? 100)
          .map((t) => this.txnNode(o, t, money)),
      refunds: (a: { first?: number }) =>
        this.refunds
          .filter((r) => r.orderId === o.id)
          .slice(0, a.first ?? 100)
          .map((r) => this.refundNode(o, r, money, connection)),
    };
  }

  /** The root fields: the subscriptions query and both mutations. */
  root(money: Money, connection: Conn, orderNode: (o: EmuOrder) => unknown) {
    const err = (field: string[], message: string) => ({ refund: null, order: null, userErrors: [{ field, message }] });
    const subNode = (s: EmuSubscription) => ({
      id: `gid://shopify/WebhookSubscription/${s.id}`,
      topic: s.topic,
      format: s.format,
      callbackUrl: s.callbackUrl,
      endpoint: { __typename: "WebhookHttpEndpoint", callbackUrl: s.callbackUrl },
      createdAt: s.createdAt,
    });
    return {
      refundCreate: ({ input }: { input: { orderId: string; note?: string; transactions?: Record<string, string>[] } }) => {
        const o = this.emu.orders.find((x) => `gid://shopify/Order/${x.id}` === input.orderId);
        if (!o) return err(["orderId"], "Order does not exist");
        const txns = input.transactions ?? [];
        if (!txns.length) return err(["transactions"], "Refund must include at least one transaction, line item, or shipping amount");
        const parts: { parent: EmuTxn; amount: number }[] = [];
        for (const [i, t] of txns.entries()) {
          const f = (name: string) => ["transactions", String(i), name];
          const parent = this.transactionsOf(o).find((x) => `gid://shopify/OrderTransaction/${x.id}` === t.parentId);
          if (t.kind !== "REFUND") return err(f("kind"), "Kind is not included in the list of refund kinds");
          if (t.orderId !== input.orderId) return err(f("orderId"), "Transaction belongs to another order");
          if (parent?.kind !== "SALE" || parent.status !== "SUCCESS")
            return err(f("parentId"), "Parent transaction must be a successful sale or capture of this order");
          if (t.gateway !== parent.gateway) return err(f("gateway"), `Gateway must be ${parent.gateway}, the parent transaction's`);
          const amount = /^\d+(\.\d+)?$/.test(String(t.amount)) ? minor(String(t.amount), o.currency) : Number.NaN;
          if (!(amount > 0)) return err(f("amount"), "Amount must be greater than 0");
          const left = minor(parent.amount, o.currency) - this.refundedOf(o, parent.id);
          if (amount > left)
            return err(f("amount"), `Amount cannot be greater than the refundable amount of ${decimal(left, o.currency)} ${o.currency}`);
          parts.push({ parent, amount });
        }
        const r = this.create(o, input.note ?? null, parts, this.refundStatus);
        return { refund: this.refundNode(o, r, money, connection), order: orderNode(o), userErrors: [] };
      },
      webhookSubscriptions: (args: { first?: number; after?: string; topics?: string[]; callbackUrl?: string }) =>
        connection(
          this.subscriptions
            .filter((s) => (!args.topics || args.topics.includes(s.topic)) && (!args.callbackUrl || s.callbackUrl === args.callbackUrl))
            .map(subNode),
          args,
          (s) => s.id,
        ),
      webhookSubscriptionCreate: ({
        topic,
        webhookSubscription,
      }: {
        topic: string;
        webhookSubscription: { callbackUrl?: string; format?: string };
      }) => {
        const url = webhookSubscription.callbackUrl ?? "";
        const bad = (message: string) => ({
          webhookSubscription: null,
          userErrors: [{ field: ["webhookSubscription", "callbackUrl"], message }],
        });
        if (!/^https:\/\//.test(url)) return bad(`Address protocol ${url.split(":")[0] || "(none)"} is not supported`);
        if (this.subscriptions.some((s) => s.topic === topic && s.callbackUrl === url))
          return bad("Address for this topic has already been taken");
        const s: EmuSubscription = {
          id: this.next(),
          topic,
          callbackUrl: url,
          format: webhookSubscription.format ?? "JSON",
          createdAt: this.emu.tick(),
        };
        this.subscriptions.push(s);
        return { webhookSubscription: subNode(s), userErrors: [] };
      },
    };
  }
}
