"""Lake partitions -> Postgres warehouse: typed round trip, day replacement, integrity checks."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from dagspec_runtime.extract import extract_to_lake
from dagspec_runtime.lake import Lake
from dagspec_runtime.warehouse_load import LoadMismatchError, load_partitions_to_postgres
from pgsource import (
    CUSTOMERS,
    CUSTOMERS_COLUMNS,
    DST_SPRING,
    ORDERS,
    ORDERS_COLUMNS,
    TABLES,
    TZ,
    create_schema,
    customers,
    day_orders,
    edge_orders,
    fetch,
    insert,
)

NEXT_DAY = "2026-03-09"


@pytest.fixture
def databases(make_db: Any) -> tuple[str, str]:
    source, warehouse = make_db("load_src"), make_db("load_wh")
    create_schema(source)
    insert(source, "orders", day_orders(DST_SPRING, 300) + edge_orders() + day_orders(NEXT_DAY, 40, 5_000))
    insert(source, "customers", customers(30))
    return source, warehouse


def extract(source: str, lake: Lake, ds: str) -> None:
    extract_to_lake(source, lake, pipeline_id="shop", ds=ds, timezone=TZ, tables=TABLES)


def load(warehouse: str, lake: Lake, ds: str) -> dict[str, Any]:
    return load_partitions_to_postgres(warehouse, lake, ds=ds, tables=TABLES, raw_schema="raw")


def test_round_trip_preserves_types_and_values(databases: tuple[str, str], lake: Lake) -> None:
    source, warehouse = databases
    extract(source, lake, DST_SPRING)
    summary = load(warehouse, lake, DST_SPRING)
    assert (summary["orders"]["rows"], summary["customers"]["rows"]) == (304, 30)

    types = fetch(
        warehouse,
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'raw.orders'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
    )
    assert types[3] == ("amount", "numeric(12,2)") and types[-1] == ("ds", "date")
    assert types[11] == ("created_at", "timestamp with time zone")

    names = ", ".join(n for n, _ in ORDERS_COLUMNS)
    window = "created_at >= '2026-03-08T05:00Z' AND created_at < '2026-03-09T04:00Z'"
    want = fetch(source, f"SELECT {names} FROM app.orders WHERE {window} ORDER BY id")
    got = fetch(warehouse, f"SELECT {names} FROM raw.orders WHERE ds = %s ORDER BY id", (DST_SPRING,))
    assert got == want  # every type, NULL vs '', numeric(12,2) extremes, jsonb, uuid, inf
    cust = ", ".join(n for n, _ in CUSTOMERS_COLUMNS)
    assert fetch(warehouse, f"SELECT {cust} FROM raw.customers ORDER BY id") == fetch(
        source, f"SELECT {cust} FROM app.customers ORDER BY id"
    )


def test_reload_replaces_only_that_day(databases: tuple[str, str], local_lake: Lake) -> None:
    source, warehouse = databases
    for ds in (DST_SPRING, NEXT_DAY):
        extract(source, local_lake, ds)
        load(warehouse, local_lake, ds)
    per_day = "SELECT ds::text, count(*) FROM raw.{} GROUP BY ds ORDER BY ds"
    assert fetch(warehouse, per_day.format("orders")) == [(DST_SPRING, 304), (NEXT_DAY, 40)]
    assert fetch(warehouse, per_day.format("customers")) == [(DST_SPRING, 30), (NEXT_DAY, 30)]

    with psycopg.connect(source, autocommit=True) as conn:
        conn.execute("DELETE FROM app.orders WHERE id BETWEEN 1 AND 100")
        conn.execute("DELETE FROM app.customers WHERE id > 20")
    extract(source, local_lake, DST_SPRING)
    again = load(warehouse, local_lake, DST_SPRING)
    assert again["orders"] == {**again["orders"], "rows": 204, "deleted": 304}
    assert fetch(warehouse, per_day.format("orders")) == [(DST_SPRING, 204), (NEXT_DAY, 40)]
    # Snapshot tables keep one snapshot per ds: only the reloaded day changed.
    assert fetch(warehouse, per_day.format("customers")) == [(DST_SPRING, 20), (NEXT_DAY, 30)]
    dup = fetch(
        warehouse, "SELECT count(*) FROM (SELECT ds, id FROM raw.orders GROUP BY 1, 2 HAVING count(*) > 1) d"
    )
    assert dup == [(0,)]


def test_damaged_partition_rolls_back_whole_load(databases: tuple[str, str], local_lake: Lake) -> None:
    source, warehouse = databases
    extract(source, local_lake, DST_SPRING)
    load(warehouse, local_lake, DST_SPRING)
    before = fetch(warehouse, "SELECT ds, count(*) FROM raw.customers GROUP BY ds")

    # A customers file whose bytes no longer match its manifest: orders loads first, then the check
    # on customers fails, and the transaction takes the orders replacement back with it.
    with psycopg.connect(source, autocommit=True) as conn:
        conn.execute("DELETE FROM app.orders WHERE id > 50")
    extract(source, local_lake, DST_SPRING)
    rel = f"raw/customers/ds={DST_SPRING}"
    part = next(n for n in local_lake.list_files(rel) if n.startswith("part-"))
    with open(local_lake.path(f"{rel}/{part}"), "r+b") as f:
        f.seek(-20, 2)
        f.write(b"\0" * 4)
    with pytest.raises(OSError, match="sha256"):
        load(warehouse, local_lake, DST_SPRING)
    assert fetch(warehouse, "SELECT count(*) FROM raw.orders WHERE ds = %s", (DST_SPRING,)) == [(304,)]
    assert fetch(warehouse, "SELECT ds, count(*) FROM raw.customers GROUP BY ds") == before


def test_manifest_row_count_is_enforced(databases: tuple[str, str], local_lake: Lake) -> None:
    source, warehouse = databases
    extract(source, local_lake, DST_SPRING)
    # Readers go by the day's commit record, which holds every table's manifest.
    rel = f"_days/ds={DST_SPRING}.json"
    record = json.loads(local_lake.read_bytes(rel))
    record["tables"]["orders"]["rows"] += 1  # a manifest that promises more rows than its files hold
    local_lake.write_bytes(rel, json.dumps(record).encode())
    with pytest.raises(LoadMismatchError, match="manifest says 305"):
        load(warehouse, local_lake, DST_SPRING)
    assert fetch(warehouse, "SELECT to_regclass('raw.orders') IS NULL") == [(True,)]  # rolled back


def test_missing_partition_or_changed_spec_fails_before_loading(
    databases: tuple[str, str], local_lake: Lake
) -> None:
    source, warehouse = databases
    with pytest.raises(FileNotFoundError, match="no partition manifest"):
        load(warehouse, local_lake, DST_SPRING)
    extract(source, local_lake, DST_SPRING)
    changed = {**ORDERS, "columns": [c for c in ORDERS["columns"] if c["name"] != "meta"]}
    with pytest.raises(ValueError, match="re-extract"):
        load_partitions_to_postgres(
            warehouse, local_lake, ds=DST_SPRING, tables=[changed, CUSTOMERS], raw_schema="raw"
        )
    assert fetch(warehouse, "SELECT to_regnamespace('raw') IS NULL") == [(True,)]


def test_airflow_wrapper(
    databases: tuple[str, str], local_lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagspec_runtime.warehouse_load import load_raw

    source, warehouse = databases
    extract(source, local_lake, DST_SPRING)
    dbname = psycopg.conninfo.conninfo_to_dict(warehouse)["dbname"]
    monkeypatch.setenv(
        "AIRFLOW_CONN_DAGSPEC_TEST_WAREHOUSE",
        json.dumps(
            {
                "conn_type": "postgres",
                "host": "127.0.0.1",
                "port": 5432,
                "schema": dbname,
                "login": "postgres",
            }
        ),
    )
    summary = load_raw(
        warehouse_conn_id="dagspec_test_warehouse",
        lake_uri=local_lake.uri,
        lake_conn_id=None,
        ds=DST_SPRING,
        tables=TABLES,
        raw_schema="raw",
    )
    assert summary["orders"]["rows"] == 304
