-- Carriers through 快递100 (src/carriers): tracking subscriptions, pushed tracking events kept once,
-- interceptions sent to the carrier, and courier pickups (寄件) for returns.

-- A pushed tracking entry is kept once: its key is the carrier number, the entry's time and text.
ALTER TABLE tracking_events ADD COLUMN source_key text;
CREATE UNIQUE INDEX tracking_events_source_key ON tracking_events (tenant_id, source_key) WHERE source_key IS NOT NULL;

-- One subscription (订阅) per connector, carrier code and number: a supplier's parcel or a return.
CREATE TABLE carrier_subscriptions (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  connector_id uuid NOT NULL REFERENCES connectors(id),
  carrier text NOT NULL,
  tracking_no text NOT NULL,
  supplier_order_id uuid REFERENCES supplier_orders(id),
  case_id uuid REFERENCES cases(id),
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'subscribed', 'failed', 'ended')),
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  -- The last pushed lastResult.state, and when the last push came.
  last_state text,
  last_push_at timestamptz,
  subscribed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (connector_id, carrier, tracking_no)
);
CREATE INDEX carrier_subscriptions_no ON carrier_subscriptions (tenant_id, tracking_no);

-- An interception (拦截) asked of the carrier for a supplier order; its callback finishes it.
CREATE TABLE carrier_intercepts (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  connector_id uuid NOT NULL REFERENCES connectors(id),
  supplier_order_id uuid NOT NULL REFERENCES supplier_orders(id),
  carrier text NOT NULL,
  tracking_no text NOT NULL,
  status text NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'intercepted', 'failed')),
  reason text NOT NULL,
  task_id text,
  attempts integer NOT NULL DEFAULT 0,
  message text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX carrier_intercepts_so ON carrier_intercepts (tenant_id, supplier_order_id);

-- A courier pickup (上门取件) booked for a return through 快递100's courier-order API (商家寄件).
CREATE TABLE carrier_pickups (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  connector_id uuid NOT NULL REFERENCES connectors(id),
  case_id uuid NOT NULL REFERENCES cases(id),
  carrier text NOT NULL,
  status text NOT NULL DEFAULT 'booked' CHECK (status IN ('booked', 'picked_up', 'cancelled', 'failed')),
  task_id text,
  order_ref text,
  tracking_no text,
  address jsonb NOT NULL,
  day_type text NOT NULL,
  start_time text NOT NULL,
  end_time text NOT NULL,
  courier_name text,
  courier_mobile text,
  message text,
  booked_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- At most one live pickup per return.
CREATE UNIQUE INDEX carrier_pickups_live ON carrier_pickups (case_id) WHERE status IN ('booked', 'picked_up');
CREATE INDEX carrier_pickups_ref ON carrier_pickups (connector_id, order_ref);
