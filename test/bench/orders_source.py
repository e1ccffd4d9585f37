"""The extract benchmark's source: one local day of demo-shop orders in a scratch database.

The table has the demo's ``app.orders`` shape (airflow/local/demo_shop/schema.ts) and indexes, and
holds ``rows`` orders spread evenly over the New York day ``DS``, generated server-side with
``generate_series`` (seconds, not the minutes the full demo generator needs for 5M orders of one
day). A database is kept between bench runs and reused while its marker matches; ``--fresh`` drops
it. Every contender reads the day with the same query text, the one the dagspec extract issues.
"""

from __future__ import annotations

from typing import Any

ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
DS = "2026-03-10"
TIMEZONE = "America/New_York"
# Bumped when the generated rows change, so an older scratch database is re-seeded.
SEED_VERSION = 1

ORDERS: dict[str, Any] = {
    "name": "orders",
    "schema": "app",
    "primary_key": ["id"],
    "mode": "incremental",
    "cursor_column": "created_at",
    "columns": [
        {"name": "id", "type": "bigint"},
        {"name": "user_id", "type": "bigint"},
        {"name": "amount", "type": "numeric(12,2)"},
        {"name": "status", "type": "text"},
        {"name": "created_at", "type": "timestamptz"},
        {"name": "updated_at", "type": "timestamptz"},
    ],
}

# 2026-03-10 in New York is EDT (UTC-4): the local day is [04:00Z, next day 04:00Z).
DAY_START_UTC = "2026-03-10 04:00:00+00"
DAY_END_UTC = "2026-03-11 04:00:00+00"

# The statement the dagspec extract runs for this day (extract.py: _predicate and _extract_table),
# spelled out so psql, pandas and ADBC read exactly the same rows in the same order.
QUERY = (
    'SELECT "id", "user_id", "amount", "status", "created_at", "updated_at" FROM "app"."orders" '
    f"WHERE \"created_at\" >= '{DAY_START_UTC}'::timestamptz "
    f"AND \"created_at\" < '{DAY_END_UTC}'::timestamptz "
    'ORDER BY "id"'
)


def database_name(rows: int) -> str:
    return f"dagspec_bench_orders_{rows}"


def conninfo(rows: int) -> str:
    return f"host=127.0.0.1 port=5432 user=postgres dbname={database_name(rows)}"


def uri(rows: int) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{database_name(rows)}"


def ensure_database(rows: int, *, fresh: bool, log: Any) -> None:
    """Creates and seeds the scratch database for ``rows`` unless an identical one exists."""
    import psycopg

    db = database_name(rows)
    marker = f"rows={rows} ds={DS} seed_version={SEED_VERSION}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone()
        if exists and not fresh:
            with psycopg.connect(conninfo(rows)) as conn:
                row = conn.execute("SELECT obj_description('app.orders'::regclass)").fetchone()
                if row and row[0] == marker:
                    return
        admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{db}"')
    log(f"seeding {db}: {rows} orders of {DS} ({TIMEZONE})")
    with psycopg.connect(conninfo(rows), autocommit=True) as conn:
        conn.execute("CREATE SCHEMA app")
        conn.execute(
            "CREATE TABLE app.orders (id bigint NOT NULL, user_id bigint, amount numeric(12,2), "
            "status text, created_at timestamptz, updated_at timestamptz)"
        )
        # Amounts 0.01..2000.00 with every cent pattern; about 1 in 50 rows has a NULL user_id.
        conn.execute(
            "INSERT INTO app.orders SELECT g, "
            "CASE WHEN g %% 50 = 0 THEN NULL ELSE 1 + (g * 7919) %% 250000 END, "
            "(1 + (g * 104729) %% 200000) / 100.0, "
            "(ARRAY['placed','paid','shipped','delivered','cancelled'])[1 + g %% 5], "
            "%(start)s::timestamptz + ((g - 1) * 86400.0 / %(rows)s) * interval '1 second', "
            "%(start)s::timestamptz + ((g - 1) * 86400.0 / %(rows)s + g %% 3600) * interval '1 second' "
            "FROM generate_series(1::bigint, %(rows)s) g",
            {"rows": rows, "start": DAY_START_UTC},
        )
        conn.execute("ALTER TABLE app.orders ADD PRIMARY KEY (id)")
        conn.execute("CREATE INDEX orders_created_at ON app.orders (created_at)")
        conn.execute("VACUUM ANALYZE app.orders")
        conn.execute(f"COMMENT ON TABLE app.orders IS '{marker}'")
