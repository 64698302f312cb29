-- A running import touches its heartbeat after every batch, so one left behind by a dead process
-- can be told from one still running in another process.
ALTER TABLE imports ADD COLUMN heartbeat_at timestamptz;
