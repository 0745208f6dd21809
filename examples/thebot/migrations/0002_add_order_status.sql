-- Expand: a new nullable column with a default. The release before this one
-- ignores it, so rolling the backend back stays safe. Dropping the old
-- column it replaces waits for a later release (contract).
ALTER TABLE orders ADD COLUMN status text DEFAULT 'new';
CREATE INDEX orders_user_id_idx ON orders (user_id);
