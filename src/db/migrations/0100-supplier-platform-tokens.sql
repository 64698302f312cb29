-- Access tokens a supplier platform issues for the account's own credentials (CJdropshipping's
-- getAccessToken from the API key, refreshed before they expire). Sealed like every connector
-- secret: one AES-256-GCM envelope keyed by the installation's secret key with the connector's id
-- as additional data; only the expiry dates are kept in the clear, to know when to refresh.
CREATE TABLE supplier_platform_tokens (
  connector_id uuid PRIMARY KEY REFERENCES connectors(id),
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  sealed text NOT NULL,
  access_expires_at timestamptz NOT NULL,
  refresh_expires_at timestamptz,
  obtained_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
