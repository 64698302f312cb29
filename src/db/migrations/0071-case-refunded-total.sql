-- What was refunded on each case (succeeded refunds of any kind carrying the case), kept by the
-- refund settlement beside orders.refunded_total, so that analytics sums a column of the cases
-- instead of joining every refund.
ALTER TABLE cases ADD COLUMN IF NOT EXISTS refunded_total bigint NOT NULL DEFAULT 0 CHECK (refunded_total >= 0);
UPDATE cases c SET refunded_total = x.total
  FROM (SELECT case_id, sum(amount) AS total FROM refunds WHERE status = 'succeeded' AND case_id IS NOT NULL GROUP BY case_id) x
  WHERE x.case_id = c.id AND c.refunded_total <> x.total;
-- The range scans of the reports (rates, Pareto, CSAT, timings) read everything from the index.
DROP INDEX IF EXISTS analytics_cases_created;
CREATE INDEX analytics_cases_created ON cases (tenant_id, created_at)
  INCLUDE (shop_id, supplier_id, reason, type, status, responsibility, refunded_total, csat_score,
    first_response_at, approved_at, refunded_at, closed_at, response_due_at);
