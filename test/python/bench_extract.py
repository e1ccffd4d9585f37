"""Throughput and peak memory of the extract (and the Postgres load) at two sizes.

Not a pytest test (it takes a minute): run it by hand.

    .venv/bin/python test/python/bench_extract.py --rows 200000 2000000

Each size runs in a fresh process, so peak RSS (ru_maxrss) is that run's own: flat memory means
the 10x larger day peaks at about the same RSS. The table is orders-like (8 columns), generated
server-side in a scratch database ``dagspec_bench_<pid>`` that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
DS = "2026-03-08"
TABLE = {
    "name": "orders",
    "schema": "app",
    "primary_key": ["id"],
    "mode": "incremental",
    "cursor_column": "created_at",
    "columns": [
        {"name": "id", "type": "bigint"},
        {"name": "customer_id", "type": "integer"},
        {"name": "amount", "type": "numeric(12,2)"},
        {"name": "status", "type": "text"},
        {"name": "note", "type": "text"},
        {"name": "paid", "type": "boolean"},
        {"name": "created_at", "type": "timestamptz"},
        {"name": "ordered_on", "type": "date"},
    ],
}


def populate(conninfo: str, rows: int) -> None:
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA app")
        conn.execute(
            "CREATE TABLE app.orders (id bigint PRIMARY KEY, customer_id integer, amount numeric(12,2), "
            "status text, note text, paid boolean, created_at timestamptz, ordered_on date)"
        )
        # Spread over the New York day 2026-03-08 (05:00Z .. 04:00Z next day, 23 h).
        conn.execute(
            "INSERT INTO app.orders SELECT g, g %% 10007, (g %% 100000) / 100.0, "
            "(ARRAY['new','paid','shipped'])[1 + g %% 3], 'note for order ' || g, g %% 2 = 0, "
            "timestamptz '2026-03-08 05:00Z' + (g %% 82800) * interval '1 second', date '2026-03-08' "
            "FROM generate_series(1, %s) g",
            (rows,),
        )
        conn.execute("VACUUM ANALYZE app.orders")


def child(conninfo: str, lake_dir: str, step: str) -> None:
    from dagspec_runtime.extract import extract_to_lake
    from dagspec_runtime.lake import Lake
    from dagspec_runtime.warehouse_load import load_partitions_to_postgres

    lake = Lake.from_uri(lake_dir)
    started = time.perf_counter()
    if step == "extract":
        summary = extract_to_lake(
            conninfo, lake, pipeline_id="bench", ds=DS, timezone="America/New_York", tables=[TABLE]
        )
    else:
        summary = load_partitions_to_postgres(conninfo, lake, ds=DS, tables=[TABLE], raw_schema="raw")
    elapsed = time.perf_counter() - started
    rows = summary["orders"]["rows"]
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "step": step,
                "rows": rows,
                "seconds": round(elapsed, 2),
                "rows_per_s": round(rows / elapsed),
                "parquet_bytes": summary["orders"].get("bytes"),
                "peak_rss_mib": round(peak_mib, 1),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[200_000, 2_000_000])
    parser.add_argument("--child", nargs=3, metavar=("CONNINFO", "LAKE", "STEP"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    import psycopg

    for rows in args.rows:
        db = f"dagspec_bench_{os.getpid()}_{rows}"
        conninfo = f"host=127.0.0.1 port=5432 user=postgres dbname={db}"
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {db}")
        try:
            populate(conninfo, rows)
            with tempfile.TemporaryDirectory(prefix="dagspec-bench-") as lake_dir:
                for step in ("extract", "load"):
                    subprocess.run(
                        [sys.executable, __file__, "--child", conninfo, lake_dir, step], check=True
                    )
        finally:
            with psycopg.connect(ADMIN, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")


if __name__ == "__main__":
    main()
