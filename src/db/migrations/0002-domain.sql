-- The domain: catalog and offers, orders and fulfilment, after-sales cases, money, automation.
-- Every table carries tenant_id; money is integer minor units with CHECKs; states are CHECKed lists.

CREATE TABLE policies (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  shop_id uuid NOT NULL REFERENCES shops(id),
  version int NOT NULL CHECK (version > 0),
  rules jsonb NOT NULL,
  created_by uuid REFERENCES users(id),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (shop_id, version)
);

CREATE TABLE products (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  title text NOT NULL CHECK (length(title) > 0),
  category text NOT NULL DEFAULT 'general',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_tenant ON products (tenant_id, id);
CREATE TABLE skus (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  product_id uuid NOT NULL REFERENCES products(id),
  sku_code text NOT NULL CHECK (length(sku_code) > 0),
  title text NOT NULL DEFAULT '',
  price bigint NOT NULL CHECK (price >= 0),
  return_to text CHECK (return_to IN ('supplier','warehouse')),
  UNIQUE (tenant_id, sku_code)
);
CREATE INDEX skus_product ON skus (product_id);
CREATE TABLE offers (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  supplier_id uuid NOT NULL REFERENCES suppliers(id),
  sku_id uuid NOT NULL REFERENCES skus(id),
  supplier_sku text,
  cost bigint NOT NULL CHECK (cost >= 0),
  stock int NOT NULL CHECK (stock >= 0),
  lead_time_days int NOT NULL DEFAULT 2 CHECK (lead_time_days >= 0),
  priority int NOT NULL DEFAULT 0,
  active boolean NOT NULL DEFAULT true,
  terms jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, supplier_id, sku_id)
);
CREATE INDEX offers_sku ON offers (tenant_id, sku_id) WHERE active;
CREATE INDEX offers_supplier ON offers (tenant_id, supplier_id);
CREATE TABLE offer_history (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  offer_id uuid NOT NULL REFERENCES offers(id),
  cost bigint NOT NULL,
  stock int NOT NULL,
  active boolean NOT NULL,
  reason text NOT NULL DEFAULT 'update',
  changed_by text,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX offer_history_offer ON offer_history (offer_id, at);

CREATE TABLE customers (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  key text NOT NULL,
  name text,
  phone text,
  email text,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, key)
);
CREATE TABLE blocklist (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  shop_id uuid REFERENCES shops(id),
  kind text NOT NULL CHECK (kind IN ('phone','email','customer')),
  value text NOT NULL,
  reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, shop_id, kind, value)
);

CREATE TABLE orders (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  shop_id uuid NOT NULL REFERENCES shops(id),
  platform_order_no text NOT NULL CHECK (length(platform_order_no) > 0),
  customer_id uuid REFERENCES customers(id),
  customer jsonb NOT NULL,
  address jsonb NOT NULL,
  status text NOT NULL CHECK (status IN ('pending_payment','paid','forwarded','partially_shipped','shipped','delivered','completed','cancelled')),
  needs_sourcing boolean NOT NULL DEFAULT false,
  sourcing_note text,
  currency text NOT NULL,
  goods_total bigint NOT NULL CHECK (goods_total >= 0),
  line_discount_total bigint NOT NULL DEFAULT 0 CHECK (line_discount_total >= 0),
  order_discount_total bigint NOT NULL DEFAULT 0 CHECK (order_discount_total >= 0),
  shipping_fee bigint NOT NULL DEFAULT 0 CHECK (shipping_fee >= 0),
  paid_total bigint NOT NULL CHECK (paid_total >= 0),
  refunded_total bigint NOT NULL DEFAULT 0 CHECK (refunded_total >= 0),
  content_hash text NOT NULL,
  source text NOT NULL DEFAULT 'api',
  placed_at timestamptz NOT NULL DEFAULT now(),
  paid_at timestamptz,
  delivered_at timestamptz,
  completed_at timestamptz,
  cancelled_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, shop_id, platform_order_no),
  CHECK (refunded_total <= paid_total)
);
CREATE INDEX orders_list ON orders (tenant_id, id DESC);
CREATE INDEX orders_status ON orders (tenant_id, status, id DESC);
CREATE INDEX orders_placed ON orders (tenant_id, placed_at);
CREATE INDEX orders_customer ON orders (tenant_id, customer_id);
CREATE INDEX orders_no ON orders (tenant_id, platform_order_no);
CREATE TABLE order_lines (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  order_id uuid NOT NULL REFERENCES orders(id),
  line_no int NOT NULL,
  sku_id uuid REFERENCES skus(id),
  sku_code text NOT NULL,
  title text NOT NULL DEFAULT '',
  category text NOT NULL DEFAULT 'general',
  quantity int NOT NULL CHECK (quantity > 0),
  unit_price bigint NOT NULL CHECK (unit_price >= 0),
  discount bigint NOT NULL DEFAULT 0 CHECK (discount >= 0),
  order_discount_alloc bigint NOT NULL DEFAULT 0 CHECK (order_discount_alloc >= 0),
  paid_amount bigint NOT NULL CHECK (paid_amount >= 0),
  is_gift boolean NOT NULL DEFAULT false,
  gift_price bigint NOT NULL DEFAULT 0 CHECK (gift_price >= 0),
  no_reason_return_waived boolean NOT NULL DEFAULT false,
  UNIQUE (order_id, line_no)
);
CREATE INDEX order_lines_order ON order_lines (order_id);
CREATE INDEX order_lines_sku ON order_lines (tenant_id, sku_id);
CREATE TABLE order_discounts (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  order_id uuid NOT NULL REFERENCES orders(id),
  kind text NOT NULL CHECK (kind IN ('threshold','coupon','platform','points')),
  amount bigint NOT NULL CHECK (amount > 0),
  threshold bigint CHECK (threshold >= 0),
  code text
);
CREATE INDEX order_discounts_order ON order_discounts (order_id);
CREATE TABLE payments (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  order_id uuid NOT NULL REFERENCES orders(id),
  method text NOT NULL,
  amount bigint NOT NULL CHECK (amount > 0),
  reference text,
  paid_at timestamptz NOT NULL
);
CREATE INDEX payments_order ON payments (order_id);

CREATE TABLE supplier_orders (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  order_id uuid NOT NULL REFERENCES orders(id),
  supplier_id uuid NOT NULL REFERENCES suppliers(id),
  purpose text NOT NULL DEFAULT 'original' CHECK (purpose IN ('original','exchange','reship','repair')),
  case_id uuid,
  status text NOT NULL CHECK (status IN ('pending','accepted','rejected','shipped','delivered','cancel_requested','cancelled','intercept_requested','intercepted','returned')),
  cost_total bigint NOT NULL DEFAULT 0 CHECK (cost_total >= 0),
  carrier text,
  tracking_no text,
  reject_reason text,
  note text,
  ship_by timestamptz,
  accepted_at timestamptz,
  shipped_at timestamptz,
  delivered_at timestamptz,
  cancelled_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX supplier_orders_order ON supplier_orders (order_id);
CREATE INDEX supplier_orders_supplier ON supplier_orders (tenant_id, supplier_id, status, id DESC);
CREATE INDEX supplier_orders_tracking ON supplier_orders (tenant_id, tracking_no) WHERE tracking_no IS NOT NULL;
CREATE TABLE supplier_order_lines (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  supplier_order_id uuid NOT NULL REFERENCES supplier_orders(id),
  order_line_id uuid NOT NULL REFERENCES order_lines(id),
  offer_id uuid REFERENCES offers(id),
  quantity int NOT NULL CHECK (quantity > 0),
  unit_cost bigint NOT NULL CHECK (unit_cost >= 0)
);
CREATE INDEX supplier_order_lines_so ON supplier_order_lines (supplier_order_id);
CREATE INDEX supplier_order_lines_line ON supplier_order_lines (order_line_id);
CREATE TABLE tracking_events (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  carrier text NOT NULL,
  tracking_no text NOT NULL,
  status text NOT NULL CHECK (status IN ('info','picked_up','in_transit','out_for_delivery','delivered','exception','returned','refused')),
  occurred_at timestamptz NOT NULL,
  description text,
  supplier_order_id uuid REFERENCES supplier_orders(id),
  case_id uuid,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tracking_events_no ON tracking_events (tenant_id, tracking_no, occurred_at);

CREATE TABLE cases (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  shop_id uuid NOT NULL REFERENCES shops(id),
  order_id uuid NOT NULL REFERENCES orders(id),
  customer_id uuid REFERENCES customers(id),
  case_no text NOT NULL,
  type text NOT NULL CHECK (type IN ('refund_only','return_refund','exchange','repair','reship','compensation')),
  reason text NOT NULL CHECK (reason IN ('quality','damaged_in_transit','wrong_item','missing_item','not_as_described','size_fit','changed_mind','not_received','late_delivery','other')),
  status text NOT NULL CHECK (status IN ('submitted','info_requested','approved','rejected','awaiting_return','return_in_transit','received','inspected','refund_pending','refunded','offer_pending','fulfilling','resolved','closed','cancelled')),
  channel text NOT NULL DEFAULT 'api' CHECK (channel IN ('portal','phone','platform','email','chat','api','import')),
  description text NOT NULL DEFAULT '',
  responsibility text NOT NULL DEFAULT 'undetermined' CHECK (responsibility IN ('supplier','merchant','carrier','customer','undetermined')),
  responsibility_note text,
  responsibility_source text NOT NULL DEFAULT 'suggested',
  supplier_id uuid REFERENCES suppliers(id),
  policy_id uuid REFERENCES policies(id),
  decision jsonb,
  escalated boolean NOT NULL DEFAULT false,
  risk_flag boolean NOT NULL DEFAULT false,
  risk_reasons jsonb,
  assignee_id uuid REFERENCES users(id),
  return_address jsonb,
  return_carrier text,
  return_tracking_no text,
  return_shipped_at timestamptz,
  received_at timestamptz,
  inspection jsonb,
  offer jsonb,
  resolution jsonb,
  refund_preference text NOT NULL DEFAULT 'original' CHECK (refund_preference IN ('original','balance')),
  response_due_at timestamptz,
  return_ship_due_at timestamptz,
  refund_due_at timestamptz,
  first_response_at timestamptz,
  approved_at timestamptz,
  refunded_at timestamptz,
  resolved_at timestamptz,
  closed_at timestamptz,
  csat_score int CHECK (csat_score BETWEEN 1 AND 5),
  csat_comment text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, case_no)
);
CREATE INDEX cases_list ON cases (tenant_id, id DESC);
CREATE INDEX cases_status ON cases (tenant_id, status, id DESC);
CREATE INDEX cases_order ON cases (order_id);
CREATE INDEX cases_supplier ON cases (tenant_id, supplier_id, id DESC);
CREATE INDEX cases_customer ON cases (tenant_id, customer_id);
CREATE INDEX cases_created ON cases (tenant_id, created_at);
CREATE INDEX cases_return_tracking ON cases (tenant_id, return_tracking_no) WHERE return_tracking_no IS NOT NULL;
ALTER TABLE supplier_orders ADD FOREIGN KEY (case_id) REFERENCES cases(id);
ALTER TABLE tracking_events ADD FOREIGN KEY (case_id) REFERENCES cases(id);
CREATE TABLE case_lines (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  case_id uuid NOT NULL REFERENCES cases(id),
  order_line_id uuid NOT NULL REFERENCES order_lines(id),
  quantity int NOT NULL CHECK (quantity > 0),
  UNIQUE (case_id, order_line_id)
);
CREATE INDEX case_lines_line ON case_lines (order_line_id);
CREATE TABLE case_events (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  case_id uuid NOT NULL REFERENCES cases(id),
  action text NOT NULL,
  actor_type text NOT NULL,
  actor_id text,
  from_status text,
  to_status text,
  note text,
  data jsonb,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_events_case ON case_events (case_id, at, id);
CREATE TABLE evidence (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  case_id uuid NOT NULL REFERENCES cases(id),
  kind text NOT NULL CHECK (kind IN ('image','video')),
  mime text NOT NULL,
  size_bytes int NOT NULL CHECK (size_bytes > 0),
  storage_key text NOT NULL,
  filename text,
  purpose text NOT NULL DEFAULT 'evidence',
  uploaded_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX evidence_case ON evidence (case_id);
CREATE TABLE complaints (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  order_id uuid REFERENCES orders(id),
  case_id uuid REFERENCES cases(id),
  severity text NOT NULL CHECK (severity IN ('low','medium','high','critical')),
  status text NOT NULL CHECK (status IN ('open','assigned','resolved','closed')),
  owner_id uuid REFERENCES users(id),
  subject text NOT NULL,
  description text NOT NULL DEFAULT '',
  resolution text,
  due_at timestamptz,
  resolved_at timestamptz,
  closed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (order_id IS NOT NULL OR case_id IS NOT NULL)
);
CREATE INDEX complaints_list ON complaints (tenant_id, status, id DESC);

-- Money --------------------------------------------------------------------------------------------
CREATE TABLE refunds (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  order_id uuid NOT NULL REFERENCES orders(id),
  case_id uuid REFERENCES cases(id),
  kind text NOT NULL CHECK (kind IN ('case','cancellation','goodwill','compensation')),
  amount bigint NOT NULL CHECK (amount > 0),
  method text NOT NULL CHECK (method IN ('original','balance','bank_transfer','coupon')),
  gateway text NOT NULL CHECK (gateway IN ('manual','balance','sandbox')),
  status text NOT NULL CHECK (status IN ('pending','processing','succeeded','failed')),
  gateway_key text NOT NULL,
  gateway_ref text,
  attempts int NOT NULL DEFAULT 0,
  last_error text,
  reason text,
  breakdown jsonb,
  created_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  confirmed_at timestamptz,
  UNIQUE (tenant_id, gateway_key)
);
CREATE INDEX refunds_list ON refunds (tenant_id, status, id DESC);
CREATE INDEX refunds_order ON refunds (order_id);
CREATE UNIQUE INDEX refunds_one_per_case ON refunds (case_id) WHERE kind = 'case';

CREATE TABLE ledger_postings (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  code text NOT NULL,
  memo text,
  currency text NOT NULL,
  order_id uuid REFERENCES orders(id),
  case_id uuid REFERENCES cases(id),
  refund_id uuid REFERENCES refunds(id),
  supplier_id uuid REFERENCES suppliers(id),
  claim_id uuid,
  source_key text,
  at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, source_key)
);
CREATE INDEX ledger_postings_order ON ledger_postings (order_id);
CREATE INDEX ledger_postings_case ON ledger_postings (case_id);
CREATE INDEX ledger_postings_at ON ledger_postings (tenant_id, at);
CREATE TABLE ledger_entries (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  posting_id uuid NOT NULL REFERENCES ledger_postings(id),
  account text NOT NULL CHECK (account IN ('cash','customer_refunds','refunds_payable','store_credit','supplier_payables','supplier_claims_receivable','freight_expense','compensation_expense','revenue','cost_of_goods','coupons_outstanding','inventory_returns')),
  amount bigint NOT NULL CHECK (amount <> 0)
);
CREATE INDEX ledger_entries_posting ON ledger_entries (posting_id);
CREATE INDEX ledger_entries_account ON ledger_entries (tenant_id, account);
-- A posting must balance: checked by the database at commit, whatever code wrote it.
CREATE FUNCTION ledger_posting_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE s bigint;
BEGIN
  SELECT coalesce(sum(amount), 0) INTO s FROM ledger_entries WHERE posting_id = NEW.posting_id;
  IF s <> 0 THEN
    RAISE EXCEPTION 'ledger posting % does not balance (%)', NEW.posting_id, s USING ERRCODE = '23514';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_posting_balanced();

CREATE TABLE supplier_statements (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  supplier_id uuid NOT NULL REFERENCES suppliers(id),
  period_from date NOT NULL,
  period_to date NOT NULL,
  status text NOT NULL CHECK (status IN ('open','closed')),
  totals jsonb NOT NULL DEFAULT '{}'::jsonb,
  closed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (period_from <= period_to)
);
CREATE INDEX supplier_statements_supplier ON supplier_statements (tenant_id, supplier_id, period_from);
CREATE TABLE supplier_claims (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  supplier_id uuid NOT NULL REFERENCES suppliers(id),
  case_id uuid REFERENCES cases(id),
  status text NOT NULL CHECK (status IN ('open','accepted','disputed','settled','cancelled')),
  amount bigint NOT NULL CHECK (amount >= 0),
  breakdown jsonb NOT NULL DEFAULT '{}'::jsonb,
  note text,
  supplier_note text,
  statement_id uuid REFERENCES supplier_statements(id),
  due_at timestamptz,
  answered_at timestamptz,
  settled_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX supplier_claims_one_per_case ON supplier_claims (case_id) WHERE status <> 'cancelled';
CREATE INDEX supplier_claims_list ON supplier_claims (tenant_id, supplier_id, status, id DESC);
ALTER TABLE ledger_postings ADD FOREIGN KEY (claim_id) REFERENCES supplier_claims(id);
CREATE TABLE statement_lines (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  statement_id uuid NOT NULL REFERENCES supplier_statements(id),
  kind text NOT NULL CHECK (kind IN ('supplier_order','claim','adjustment')),
  ref_id uuid,
  amount bigint NOT NULL,
  memo text
);
CREATE INDEX statement_lines_statement ON statement_lines (statement_id);
CREATE TABLE coupons (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  shop_id uuid REFERENCES shops(id),
  customer_id uuid REFERENCES customers(id),
  case_id uuid REFERENCES cases(id),
  code text NOT NULL,
  amount bigint NOT NULL CHECK (amount > 0),
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, code)
);

-- Automation ---------------------------------------------------------------------------------------
CREATE TABLE notification_templates (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  event text NOT NULL,
  locale text NOT NULL CHECK (locale IN ('zh-CN','en')),
  channel text NOT NULL CHECK (channel IN ('email','sms','webhook')),
  subject text NOT NULL DEFAULT '',
  body text NOT NULL,
  active boolean NOT NULL DEFAULT true,
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, event, locale, channel)
);
CREATE TABLE notifications (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  event text NOT NULL,
  event_key text NOT NULL,
  channel text NOT NULL CHECK (channel IN ('email','sms','webhook')),
  recipient text NOT NULL,
  locale text NOT NULL,
  subject text NOT NULL DEFAULT '',
  body text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending','sent','failed')),
  attempts int NOT NULL DEFAULT 0,
  last_error text,
  case_id uuid REFERENCES cases(id),
  order_id uuid REFERENCES orders(id),
  sent_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, event_key, channel)
);
CREATE INDEX notifications_list ON notifications (tenant_id, id DESC);
CREATE TABLE webhooks (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  url text NOT NULL,
  events text[] NOT NULL,
  secret text NOT NULL,
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE webhook_deliveries (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  webhook_id uuid NOT NULL REFERENCES webhooks(id),
  event text NOT NULL,
  event_id uuid NOT NULL,
  payload jsonb NOT NULL,
  status text NOT NULL CHECK (status IN ('pending','delivered','failed')),
  attempts int NOT NULL DEFAULT 0,
  last_status_code int,
  last_error text,
  delivered_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id DESC);
CREATE TABLE surveys (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  case_id uuid NOT NULL UNIQUE REFERENCES cases(id),
  token text NOT NULL UNIQUE,
  score int CHECK (score BETWEEN 1 AND 5),
  comment text,
  sent_at timestamptz NOT NULL DEFAULT now(),
  answered_at timestamptz
);
CREATE TABLE imports (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  kind text NOT NULL DEFAULT 'orders',
  format text NOT NULL,
  status text NOT NULL CHECK (status IN ('queued','running','done','failed')),
  filename text,
  total int NOT NULL DEFAULT 0,
  imported int NOT NULL DEFAULT 0,
  skipped int NOT NULL DEFAULT 0,
  failed int NOT NULL DEFAULT 0,
  errors jsonb NOT NULL DEFAULT '[]'::jsonb,
  created_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
