-- A refund by the original route goes back the way it was paid: one leg per payment of the order,
-- each to the gateway of the shop's connector for that payment's method (Alipay, WeChat Pay,
-- Stripe), under its own gateway key, which the service treats as its idempotency key. The refund
-- settles when every leg has; a leg its gateway could not take now waits for `next_attempt_at`.
CREATE TABLE refund_legs (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  refund_id uuid NOT NULL REFERENCES refunds(id),
  leg_no integer NOT NULL CHECK (leg_no > 0),
  payment_id uuid NOT NULL REFERENCES payments(id),
  method text NOT NULL,
  -- A connector kind (alipay, wechatpay, stripe), or the installation's gateway for a method without one.
  gateway text NOT NULL CHECK (gateway IN ('alipay', 'wechatpay', 'stripe', 'sandbox', 'manual')),
  connector_id uuid REFERENCES connectors(id),
  amount bigint NOT NULL CHECK (amount > 0),
  gateway_key text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processing', 'succeeded', 'failed')),
  gateway_ref text,
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error text,
  next_attempt_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (refund_id, leg_no),
  UNIQUE (tenant_id, gateway_key)
);
CREATE INDEX refund_legs_open ON refund_legs (tenant_id, next_attempt_at) WHERE status IN ('pending', 'processing');
