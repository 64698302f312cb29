-- Store connectors (Shopify now; Taobao and the payment and carrier services later): one row per
-- configured service account, with its secrets encrypted by the application (AES-256-GCM) and the
-- sync checkpoint that a crashed sync resumes from.
CREATE TABLE connectors (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  shop_id uuid REFERENCES shops(id),
  kind text NOT NULL CHECK (kind ~ '^[a-z0-9]+$'),
  name text NOT NULL CHECK (length(name) > 0),
  -- The settings that are not secret, shown as they are.
  config jsonb NOT NULL DEFAULT '{}',
  -- The secret settings as one AES-256-GCM envelope (src/connectors/secrets.ts); never returned.
  secrets text,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'error')),
  last_sync_at timestamptz,
  last_error text,
  last_error_at timestamptz,
  -- Where the next pull starts (the service's paging cursor and watermark), saved after each page.
  sync_cursor jsonb,
  -- Consecutive failed attempts of the current sync, for the exponential back-off.
  sync_attempts integer NOT NULL DEFAULT 0 CHECK (sync_attempts >= 0),
  sync_running_since timestamptz,
  -- When a rescheduled sync (back-off, rate limit) tries again.
  next_attempt_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- Deleted connectors stay as rows so that imported orders keep their link to the platform.
  deleted_at timestamptz,
  UNIQUE (tenant_id, id)
);
CREATE INDEX connectors_tenant ON connectors (tenant_id, id) WHERE deleted_at IS NULL;

-- What each record of the service became in Dropdesk: the upsert key of every inbound record.
CREATE TABLE connector_records (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  connector_id uuid NOT NULL REFERENCES connectors(id),
  record_type text NOT NULL,
  external_id text NOT NULL,
  entity_id uuid,
  external_no text,
  external_updated_at timestamptz,
  content_hash text,
  -- The money and lines as imported: a later change to them on the service is reported, not applied.
  money_hash text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connector_id, record_type, external_id)
);
CREATE INDEX connector_records_entity ON connector_records (tenant_id, entity_id);

-- Inbound webhooks, kept once per delivery id, handled by a job.
CREATE TABLE connector_inbox (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  connector_id uuid NOT NULL REFERENCES connectors(id),
  delivery_id text NOT NULL,
  topic text NOT NULL,
  payload jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz,
  error text,
  UNIQUE (connector_id, delivery_id)
);

-- Calls back to the service (a fulfillment, a cancellation), once each by key.
CREATE TABLE connector_pushes (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  connector_id uuid NOT NULL REFERENCES connectors(id),
  push_key text NOT NULL,
  action text NOT NULL,
  entity_id uuid,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  external_id text,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (connector_id, push_key)
);

-- What the connector did and refused, in words, newest first in the console.
CREATE TABLE connector_log (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  connector_id uuid NOT NULL REFERENCES connectors(id),
  level text NOT NULL CHECK (level IN ('info', 'warn', 'error')),
  message text NOT NULL,
  external_id text,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX connector_log_connector ON connector_log (connector_id, at DESC, id DESC);
