-- Analytics rollups: the order side of the reports summed per local day, refreshed by the
-- analytics job (src/analytics/rollup.ts, docs/analytics.md "Rollups"). Days after `through` are
-- always read live from the operational tables.

-- Orders and sales per local day (in `tz`) and shop; dim 'all' (key ''), 'sku' (key = SKU code,
-- orders = orders with that SKU) and 'supplier' (key = supplier id, orders = orders forwarded to it,
-- sales = the paid amount of the lines it was sent).
CREATE TABLE analytics_order_days (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  tz text NOT NULL,
  dim text NOT NULL CHECK (dim IN ('all', 'sku', 'supplier')),
  day date NOT NULL,
  shop_id uuid NOT NULL,
  key text NOT NULL,
  orders bigint NOT NULL,
  sales bigint NOT NULL,
  PRIMARY KEY (tenant_id, tz, dim, day, shop_id, key)
);

-- Original supplier orders per local day of creation and supplier, with how many were due to ship
-- and how many shipped late (or not at all) by their ship-by time, as settled at the refresh.
CREATE TABLE analytics_supplier_days (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  tz text NOT NULL,
  day date NOT NULL,
  supplier_id uuid NOT NULL,
  supplier_orders bigint NOT NULL,
  ship_due bigint NOT NULL,
  late bigint NOT NULL,
  PRIMARY KEY (tenant_id, tz, day, supplier_id)
);

-- Per tenant and time zone: the last local day each rollup holds, and when it was refreshed.
-- `ship_through` stops before the first day with a supplier order still inside its ship-by time at
-- the refresh, so that every rolled-up lateness figure is final.
CREATE TABLE analytics_rollups (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  tz text NOT NULL,
  through date NOT NULL,
  ship_through date NOT NULL,
  started_at timestamptz NOT NULL,
  refreshed_at timestamptz NOT NULL,
  days_rebuilt int NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, tz)
);

-- The supplier's score (0..1, 90 days), kept by the same job; routing may prefer better scores.
ALTER TABLE suppliers ADD COLUMN IF NOT EXISTS score numeric(4, 3);
ALTER TABLE suppliers ADD COLUMN IF NOT EXISTS score_at timestamptz;
ALTER TABLE shops ADD COLUMN IF NOT EXISTS route_by_score boolean NOT NULL DEFAULT false;
