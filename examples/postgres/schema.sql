-- Tables for examples/postgres/gapwatch.yaml, with the indexes that let each
-- rule's statement read only the range it judges.
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS crm;
CREATE TABLE IF NOT EXISTS public.orders (
  id bigserial PRIMARY KEY,
  status text NOT NULL,
  country text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_updated_at ON public.orders (updated_at);
-- orders_by_country and orders_loaded read created_at ranges; the index
-- covers the grouping column too, so PostgreSQL can count from it alone.
CREATE INDEX IF NOT EXISTS orders_created_at_country ON public.orders (created_at, country);
CREATE TABLE IF NOT EXISTS raw.events (
  id bigserial PRIMARY KEY,
  event_time timestamptz NOT NULL,
  payload jsonb
);
CREATE INDEX IF NOT EXISTS events_event_time ON raw.events (event_time);
CREATE TABLE IF NOT EXISTS crm.customers (
  id bigserial PRIMARY KEY,
  email text,
  created_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS customers_created_at ON crm.customers (created_at);
