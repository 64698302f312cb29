-- The route each refund really goes back by, recorded on the refund: the gateway of each of its
-- legs in leg order (`alipay`, `wechatpay`, `stripe`, `alipay,wechatpay` for a mixed payment), or,
-- without legs, its own gateway (`platform`, `sandbox`, `manual`, `balance`). `gateway` stays the
-- installation's gateway that drives the refund.
ALTER TABLE refunds ADD COLUMN route text CHECK (route IS NULL OR route ~ '^[a-z0-9]+(,[a-z0-9]+)*$');
UPDATE refunds r SET route = coalesce(
  (SELECT string_agg(x.gateway, ',' ORDER BY x.first_leg)
     FROM (SELECT l.gateway, min(l.leg_no) AS first_leg FROM refund_legs l WHERE l.refund_id = r.id GROUP BY l.gateway) x),
  r.gateway);
