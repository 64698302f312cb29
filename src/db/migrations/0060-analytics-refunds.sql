-- Analytics: refunds made on cases since a date (what was refunded on the cases of a range).
CREATE INDEX IF NOT EXISTS analytics_refunds_created ON refunds (tenant_id, created_at) INCLUDE (case_id, status, amount) WHERE case_id IS NOT NULL;
