-- Indexes another one already covers: every write paid for them, no query needed them.
-- orders (tenant_id, placed_at): analytics_orders_placed has the same key and more columns.
DROP INDEX IF EXISTS orders_placed;
-- order_lines (order_id): the unique (order_id, line_no) index starts with it.
DROP INDEX IF EXISTS order_lines_order;
