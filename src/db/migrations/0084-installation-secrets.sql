-- Secrets an installation makes for itself on first start (the sandbox gateway's callback key),
-- so that none of them is a constant in the source. A configured value overrides the stored one.
CREATE TABLE installation_secrets (
  name text PRIMARY KEY,
  value text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
