/**
 * DDL of the demo source database.
 *
 * `app` is the OLTP application's schema. Like many applications it enforces integrity in code: no
 * foreign keys, no CHECK on `orders.status`, nullable columns. That is deliberate: the pipeline's
 * quality gates must be testable with orphan orders, negative amounts and unknown statuses, which
 * `insertOrder` can write.
 *
 * `ops` holds the readiness signal (maintenance windows, load watermarks) and the generator's
 * bookkeeping (`demo_seed`, see DEMO_SEED_DDL, and the day plan `demo_seed_day`, see seed-plan.ts).
 */

/** The application tables the pipeline extracts; each has a row in `ops.load_watermark` once seeded. */
export const APP_TABLES = ["app.users", "app.orders", "app.events"] as const;
export type AppTable = (typeof APP_TABLES)[number];

/** Order statuses the application writes. */
export const ORDER_STATUSES = ["placed", "paid", "shipped", "cancelled", "refunded"] as const;

/** Event types the generator writes. */
export const EVENT_TYPES = ["page_view", "product_view", "search", "add_to_cart", "checkout", "purchase"] as const;

/**
 * Created without keys or indexes: the seeder loads first and indexes afterwards (several times
 * faster), with autovacuum off until its own VACUUM ANALYZE (see APP_TABLES_READY_DDL), so that no
 * autovacuum worker competes with the load for the two cores.
 */
export const APP_TABLES_DDL = `
CREATE SCHEMA IF NOT EXISTS app;
CREATE TABLE app.users (
  id bigint NOT NULL,
  email text,
  country text,
  created_at timestamptz,
  -- Set by the application on every insert and update: the change cursor a history extract reads.
  updated_at timestamptz
);
CREATE TABLE app.orders (
  id bigint NOT NULL,
  user_id bigint,
  amount numeric(12,2),
  status text,
  created_at timestamptz,
  updated_at timestamptz
);
CREATE TABLE app.events (
  id bigint NOT NULL,
  user_id bigint,
  event_type text,
  occurred_at timestamptz
);
ALTER TABLE app.users SET (autovacuum_enabled = false);
ALTER TABLE app.orders SET (autovacuum_enabled = false);
ALTER TABLE app.events SET (autovacuum_enabled = false);
`;

/** After the seed: an ordinary OLTP table again. */
export const APP_TABLES_READY_DDL = `
ALTER TABLE app.users RESET (autovacuum_enabled);
ALTER TABLE app.orders RESET (autovacuum_enabled);
ALTER TABLE app.events RESET (autovacuum_enabled);
`;

/**
 * Keys and the indexes daily extraction uses (a range on each table's timestamp column). One
 * statement per entry so that the seeder can build them concurrently.
 */
export const APP_INDEX_DDL: readonly string[] = [
  "ALTER TABLE app.users ADD CONSTRAINT users_pkey PRIMARY KEY (id)",
  "ALTER TABLE app.orders ADD CONSTRAINT orders_pkey PRIMARY KEY (id)",
  "ALTER TABLE app.events ADD CONSTRAINT events_pkey PRIMARY KEY (id)",
  "CREATE INDEX users_created_at_idx ON app.users (created_at)",
  "CREATE INDEX users_updated_at_idx ON app.users (updated_at)",
  "CREATE INDEX orders_created_at_idx ON app.orders (created_at)",
  "CREATE INDEX events_occurred_at_idx ON app.events (occurred_at)",
];

export const OPS_DDL = `
CREATE SCHEMA IF NOT EXISTS ops;

-- A window during which the source must not be read (ends_at NULL: until further notice).
CREATE TABLE IF NOT EXISTS ops.maintenance (
  starts_at timestamptz NOT NULL,
  ends_at timestamptz,
  reason text
);

-- "Every row of table_name created before complete_through is present": written by the loader
-- (here, the seeder) after it finished a day.
CREATE TABLE IF NOT EXISTS ops.load_watermark (
  table_name text PRIMARY KEY,
  complete_through timestamptz NOT NULL
);
`;

/**
 * The parameters of the seed the app schema holds. The seeder drops it first and writes it last, so
 * its row means a completed seed with these params.
 */
export const DEMO_SEED_DDL = `
DROP TABLE IF EXISTS ops.demo_seed;
CREATE TABLE ops.demo_seed (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  params jsonb NOT NULL,
  counts jsonb NOT NULL,
  seeded_at timestamptz NOT NULL DEFAULT now(),
  seconds numeric NOT NULL
);
`;
