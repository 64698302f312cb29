-- Supplier channels (src/suppliers-platforms): how each supplier is worked — the supplier portal,
-- a 1688 buyer account, CJdropshipping, or e-mail/CSV — and what each supplier order, offer and
-- claim became on that platform. The supplier-order, offer and claim rows stay the one source of
-- truth; these rows only remember the platform's ids, its last status and what it charged or refunded.

CREATE TABLE supplier_channels (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  supplier_id uuid NOT NULL REFERENCES suppliers(id),
  kind text NOT NULL CHECK (kind IN ('portal', 'alibaba1688', 'cj', 'email_csv')),
  -- The connector holding the platform account (its secrets sealed by the connector framework).
  connector_id uuid REFERENCES connectors(id),
  -- Forward new supplier orders to the platform at once (else staff forward them by hand).
  auto_forward boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, supplier_id),
  CHECK (kind IN ('portal', 'email_csv') OR connector_id IS NOT NULL)
);

-- A Dropdesk offer bound to the platform's product and SKU (1688 offer id + spec id).
CREATE TABLE offer_channel_links (
  offer_id uuid PRIMARY KEY REFERENCES offers(id),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  connector_id uuid NOT NULL REFERENCES connectors(id),
  external_offer_id text NOT NULL,
  external_spec_id text,
  -- The last price and stock read from the platform (minor units), and when.
  last_price integer,
  last_stock integer,
  synced_at timestamptz,
  -- Set when the platform's price rose above what the offer cost before; cleared when staff acknowledge it.
  price_warning jsonb,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX offer_channel_links_sync ON offer_channel_links (connector_id, synced_at NULLS FIRST);

-- A supplier order as placed on the platform.
CREATE TABLE supplier_order_channel_links (
  supplier_order_id uuid PRIMARY KEY REFERENCES supplier_orders(id),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  connector_id uuid NOT NULL REFERENCES connectors(id),
  -- queued → placed (the platform has the order) | failed (refused: last_error says why).
  state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'placed', 'failed')),
  -- Our idempotency key on the platform (1688 outOrderId), the same on every retry.
  out_order_id text NOT NULL,
  external_order_id text,
  external_status text,
  -- What the platform actually charged: goods, shipping, total (minor units).
  charged_goods integer,
  charged_shipping integer,
  charged_total integer,
  -- A cancellation the platform is working on (an unpaid order is cancelled at once; a paid one is refunded).
  cancel_refund_id text,
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  placed_at timestamptz,
  pulled_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (connector_id, out_order_id)
);
CREATE INDEX supplier_order_channel_links_ext ON supplier_order_channel_links (connector_id, external_order_id);

-- A supplier claim pursued as a platform dispute (1688 退款 / 退货退款, CJ dispute).
CREATE TABLE claim_disputes (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  claim_id uuid NOT NULL REFERENCES supplier_claims(id),
  connector_id uuid NOT NULL REFERENCES connectors(id),
  external_order_id text NOT NULL,
  external_refund_id text,
  -- refund (仅退款) or returnRefund (退货退款).
  request text NOT NULL,
  reason_id text,
  reason text,
  -- The platform's own status, and ours: open until the platform's money (or refusal) is final.
  external_status text,
  state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'refunded', 'closed', 'failed')),
  -- Minor units: what was asked for and what the supplier actually refunded.
  applied_amount integer NOT NULL,
  refunded_amount integer NOT NULL DEFAULT 0,
  vouchers jsonb NOT NULL DEFAULT '[]',
  last_error text,
  opened_at timestamptz NOT NULL DEFAULT now(),
  pulled_at timestamptz,
  closed_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX claim_disputes_one_open ON claim_disputes (claim_id) WHERE state = 'open';
CREATE INDEX claim_disputes_tenant ON claim_disputes (tenant_id, state, opened_at);
