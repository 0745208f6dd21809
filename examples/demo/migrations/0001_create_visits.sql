-- The demo's first migration: slipway backs up the database, then applies it
-- in a transaction and records its checksum in slipway_schema_migrations.
CREATE TABLE visits (
  id         bigserial PRIMARY KEY,
  path       text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
