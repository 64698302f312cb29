-- Analytics: indexes for the date-range aggregations of /api/v1/analytics (see docs/analytics.md).
-- Orders of a range with what the overview sums, so the scan never touches the heap.
CREATE INDEX IF NOT EXISTS analytics_orders_placed ON orders (tenant_id, placed_at) INCLUDE (shop_id, status, paid_total);
-- Cases of a range with the columns of the rate, Pareto and timing reports.
CREATE INDEX IF NOT EXISTS analytics_cases_created ON cases (tenant_id, created_at)
  INCLUDE (shop_id, supplier_id, reason, type, status, responsibility);
-- What was refunded on one case.
CREATE INDEX IF NOT EXISTS analytics_refunds_case ON refunds (case_id) INCLUDE (status, amount) WHERE case_id IS NOT NULL;
-- Refunds confirmed in a range (refunds today, after-sales cost).
CREATE INDEX IF NOT EXISTS analytics_refunds_confirmed ON refunds (tenant_id, confirmed_at) WHERE status = 'succeeded';
-- Supplier orders of a range for the scorecards.
CREATE INDEX IF NOT EXISTS analytics_supplier_orders_created ON supplier_orders (tenant_id, created_at)
  INCLUDE (supplier_id, purpose, status, ship_by, shipped_at);
-- Open cases by status and the overdue count.
CREATE INDEX IF NOT EXISTS analytics_cases_open ON cases (tenant_id, status)
  WHERE status NOT IN ('refunded', 'resolved', 'closed', 'cancelled', 'rejected');
CREATE INDEX IF NOT EXISTS analytics_claims_created ON supplier_claims (tenant_id, created_at);
