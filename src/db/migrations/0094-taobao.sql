-- Marketplace orders (Taobao, Tmall) are refunded by the platform itself: the seller agrees the
-- buyer's refund there and the platform pays. Dropdesk's refund of such an order goes through the
-- `platform` gateway (src/money/gateways/platform.ts) and settles when the platform reports it done.
ALTER TABLE refunds DROP CONSTRAINT refunds_gateway_check;
ALTER TABLE refunds ADD CONSTRAINT refunds_gateway_check CHECK (gateway IN ('manual', 'balance', 'sandbox', 'platform'));
