-- When the SLA sweep reported a complaint past its deadline (once per complaint).
ALTER TABLE complaints ADD COLUMN IF NOT EXISTS overdue_alerted_at timestamptz;
CREATE INDEX IF NOT EXISTS complaints_due ON complaints (due_at) WHERE status IN ('open', 'assigned') AND overdue_alerted_at IS NULL;
