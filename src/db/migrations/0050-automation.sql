-- Automation: markers that make each SLA alert fire once, and indexes for the sweep's queries.
ALTER TABLE cases ADD COLUMN sla_fired jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE supplier_orders ADD COLUMN late_alerted_at timestamptz;
CREATE INDEX cases_response_due ON cases (response_due_at) WHERE status IN ('submitted','info_requested');
CREATE INDEX cases_return_due ON cases (return_ship_due_at) WHERE status = 'awaiting_return';
CREATE INDEX cases_refund_due ON cases (refund_due_at) WHERE status IN ('received','inspected','refund_pending');
CREATE INDEX supplier_orders_ship_by ON supplier_orders (ship_by) WHERE status IN ('pending','accepted') AND late_alerted_at IS NULL;
CREATE INDEX supplier_claims_due ON supplier_claims (due_at) WHERE status = 'open';
