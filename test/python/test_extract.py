"""Extract from live Postgres into the lake: types, windows, determinism, idempotency,
snapshot consistency under concurrent writes, and reconciliation failures."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagspec_runtime import extract as extract_module
from dagspec_runtime.extract import ReconciliationError, extract_to_lake
from dagspec_runtime.lake import Lake
from dagspec_runtime.manifest import read_manifest
from pgsource import (
    CUSTOMERS,
    DST_FALL,
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
    order_row,
)


@pytest.fixture
def source(make_db: Any) -> str:
    conninfo = make_db("extract")
    create_schema(conninfo)
    insert(conninfo, "orders", day_orders(DST_SPRING, 500) + edge_orders())
    insert(conninfo, "customers", customers(50))
    return conninfo


def extract(
    conninfo: str, lake: Lake, ds: str = DST_SPRING, tables: list[dict[str, Any]] = TABLES, **kwargs: Any
) -> dict[str, Any]:
    return extract_to_lake(conninfo, lake, pipeline_id="shop", ds=ds, timezone=TZ, tables=tables, **kwargs)


def read_partition(lake: Lake, table: str, ds: str) -> pa.Table:
    """The partition as its manifest lists it, checking each file's sha256 on the way."""
    manifest = read_manifest(lake, table, ds)
    parts = []
    for f in manifest["files"]:
        with lake.local_file(f"raw/{table}/ds={ds}/{f['path']}", sha256=f["sha256"]) as local:
            parts.append(pq.read_table(local))
    return pa.concat_tables(parts)


def snapshot_bytes(lake: Lake, ds: str = DST_SPRING) -> dict[str, bytes]:
    """The day's commit record and every file of every partition of ``ds``, by path."""
    out = {f"_days/ds={ds}.json": lake.read_bytes(f"_days/ds={ds}.json")}
    for table in ("orders", "customers"):
        rel = f"raw/{table}/ds={ds}"
        for name in lake.list_files(rel):
            out[f"{rel}/{name}"] = lake.read_bytes(f"{rel}/{name}")
    return out


def test_types_and_values_round_trip(source: str, lake: Lake) -> None:
    summary = extract(source, lake)
    assert summary["orders"]["rows"] == 504 and summary["customers"]["rows"] == 50

    table = read_partition(lake, "orders", DST_SPRING)
    assert [str(f.type) for f in table.schema] == [
        "int64",
        "int32",
        "int16",
        "decimal128(12, 2)",
        "double",
        "float",
        "string",
        "string",
        "bool",
        "date32[day]",
        "timestamp[us]",
        "timestamp[us, tz=UTC]",
        "string",
        "string",
    ]
    names = [n for n, _ in ORDERS_COLUMNS]
    expected = fetch(source, f"SELECT {', '.join(names)} FROM app.orders ORDER BY id")
    got = table.to_pylist()
    assert [r["id"] for r in got] == [r[0] for r in expected]  # ordered by primary key
    for want, row in zip(expected, got, strict=True):
        for name, value in zip(names, want, strict=True):
            actual = row[name]
            if name == "ext_id" and value is not None:
                value = str(value)
            if name == "meta" and value is not None:
                actual = json.loads(actual)
            if name == "rating" and value is not None:
                assert actual == pytest.approx(value, rel=1e-7)
                continue
            assert actual == value, (row["id"], name)

    edge = {r["id"]: r for r in got if r["id"] > 10_000}
    assert edge[10_001]["amount"] == Decimal("9999999999.99")  # numeric(12,2) kept exactly
    assert edge[10_002]["amount"] == Decimal("-9999999999.99")
    assert edge[10_003]["amount"] == Decimal("0.01")
    assert edge[10_001]["note"] == "" and edge[10_003]["paid"] is None  # '' and NULL stay apart
    assert edge[10_002]["note"] == 'a "quoted", comma\nnew line'
    assert edge[10_001]["score"] == float("inf")

    manifest = read_manifest(lake, "orders", DST_SPRING)
    assert manifest["rows"] == 504 and manifest["mode"] == "incremental"
    assert manifest["window"] == {"start": "2026-03-08T05:00:00+00:00", "end": "2026-03-09T04:00:00+00:00"}
    assert sum(f["rows"] for f in manifest["files"]) == 504


@pytest.mark.parametrize("ds", [DST_SPRING, DST_FALL])
def test_incremental_window_on_dst_days(make_db: Any, local_lake: Lake, ds: str) -> None:
    from datetime import date

    from dagspec_runtime.days import day_bounds

    conninfo = make_db("window")
    create_schema(conninfo)
    start, end = day_bounds(date.fromisoformat(ds), TZ)
    us = timedelta(microseconds=1)
    edges = {1: start - us, 2: start, 3: start + (end - start) / 2, 4: end - us, 5: end}
    insert(conninfo, "orders", [order_row(i, t) for i, t in edges.items()])
    extract(conninfo, local_lake, ds=ds, tables=[ORDERS])
    ids = read_partition(local_lake, "orders", ds).column("id").to_pylist()
    assert ids == [2, 3, 4]
    assert (end - start) == timedelta(hours=23 if ds == DST_SPRING else 25)


def test_date_cursor_and_empty_day(make_db: Any, local_lake: Lake) -> None:
    conninfo = make_db("datecursor")
    create_schema(conninfo)
    insert(conninfo, "orders", day_orders(DST_SPRING, 20) + day_orders("2026-03-09", 5, first_id=100))
    by_date = {**ORDERS, "cursor_column": "ordered_on"}
    assert extract(conninfo, local_lake, tables=[by_date])["orders"]["rows"] == 20

    summary = extract(conninfo, local_lake, ds="2026-01-01", tables=[ORDERS])
    assert summary["orders"]["rows"] == 0
    empty = read_partition(local_lake, "orders", "2026-01-01")
    assert empty.num_rows == 0 and str(empty.schema.field("amount").type) == "decimal128(12, 2)"


def test_row_groups_and_files_are_cut_by_row_count(source: str, local_lake: Lake) -> None:
    summary = extract(source, local_lake, tables=[ORDERS], row_group_rows=64, file_rows=192)
    files = summary["orders"]["files"]
    assert [f["rows"] for f in files] == [192, 192, 120]
    assert [f["path"][:11] for f in files] == ["part-00000-", "part-00001-", "part-00002-"]
    first = pq.ParquetFile(local_lake.path(f"raw/orders/ds={DST_SPRING}/{files[0]['path']}"))
    assert [first.metadata.row_group(i).num_rows for i in range(first.num_row_groups)] == [64, 64, 64]
    assert first.metadata.row_group(0).column(0).compression == "ZSTD"
    assert read_partition(local_lake, "orders", DST_SPRING).column("id").to_pylist() == sorted(
        r[0] for r in fetch(source, "SELECT id FROM app.orders WHERE id <= 10004")
    )


def test_deterministic_bytes(source: str, make_db: Any, lake: Lake, tmp_path: Any) -> None:
    extract(source, lake)
    first = snapshot_bytes(lake)
    assert len(first) == 5  # one part + manifest per table, and the day record
    extract(source, lake)
    assert snapshot_bytes(lake) == first

    # Same rows inserted in another physical order into another database: same bytes.
    other = make_db("extract_shuffled")
    create_schema(other)
    insert(other, "orders", list(reversed(day_orders(DST_SPRING, 500) + edge_orders())))
    insert(other, "customers", list(reversed(customers(50))))
    other_lake = Lake.from_uri(str(tmp_path / "other-lake"))
    extract(other, other_lake)
    assert snapshot_bytes(other_lake) == first


def test_bytes_do_not_depend_on_csv_blocking(
    make_db: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parquet pages follow Arrow chunk boundaries once a column passes 1 MB; row groups are
    re-cut from contiguous chunks, so how the CSV reader blocks the stream must not show."""
    conninfo = make_db("blocking")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA app")
        conn.execute("CREATE TABLE app.events (id bigint PRIMARY KEY, label text)")
        conn.execute(
            "INSERT INTO app.events SELECT g, 'v' || (g % 1000) || '-' || g FROM generate_series(1, 120000) g"
        )
    spec = {
        "name": "events",
        "schema": "app",
        "primary_key": ["id"],
        "mode": "snapshot",
        "cursor_column": None,
        "columns": [{"name": "id", "type": "bigint"}, {"name": "label", "type": "text"}],
    }
    default = Lake.from_uri(str(tmp_path / "default-blocks"))
    extract(conninfo, default, tables=[spec])
    monkeypatch.setattr(extract_module, "_CSV_CHUNK_BYTES", 4096)
    small = Lake.from_uri(str(tmp_path / "small-blocks"))
    extract(conninfo, small, tables=[spec])
    rel = f"raw/events/ds={DST_SPRING}"
    assert [small.read_bytes(f"{rel}/{n}") for n in small.list_files(rel)] == [
        default.read_bytes(f"{rel}/{n}") for n in default.list_files(rel)
    ]


def test_rerun_replaces_partition(source: str, lake: Lake) -> None:
    first = extract(source, lake)
    with psycopg.connect(source, autocommit=True) as conn:
        conn.execute("DELETE FROM app.orders WHERE id > 100")
        conn.execute("UPDATE app.customers SET name = 'renamed' WHERE id = 1")
    second = extract(source, lake)
    assert second["orders"]["rows"] == 100
    table = read_partition(lake, "orders", DST_SPRING)
    assert table.column("id").to_pylist() == list(range(1, 101))  # no duplicates, nothing mixed in
    rel = f"raw/orders/ds={DST_SPRING}"
    assert lake.list_files(rel) == sorted([f["path"] for f in second["orders"]["files"]] + ["_manifest.json"])
    assert {f["path"] for f in first["orders"]["files"]}.isdisjoint(lake.list_files(rel))
    names = read_partition(lake, "customers", DST_SPRING).column("name").to_pylist()
    assert names[0] == "renamed" and len(names) == 50


def test_concurrent_writes_do_not_leak_into_the_run(source: str, lake: Lake) -> None:
    """Both tables come from one snapshot, even when writers commit between the two tables."""
    committed: list[str] = []

    def writer_commits_between_tables(table: str, summary: dict[str, Any]) -> None:
        if table != "orders":
            return
        with psycopg.connect(source, autocommit=True) as conn:
            t = datetime(2026, 3, 8, 16, tzinfo=UTC)
            insert(source, "orders", [order_row(50_000, t)])  # inside the window
            insert(source, "customers", [(9_999, "late", "gold", None)])
            conn.execute("UPDATE app.customers SET name = 'changed' WHERE id = 2")
            conn.execute("DELETE FROM app.customers WHERE id = 3")
        committed.append(table)

    summary = extract(source, lake, on_table_extracted=writer_commits_between_tables)
    assert committed == ["orders"]
    assert summary["orders"]["rows"] == 504 and summary["customers"]["rows"] == 50
    cust = {r["id"]: r["name"] for r in read_partition(lake, "customers", DST_SPRING).to_pylist()}
    assert 9_999 not in cust and cust[2] == "customer 2" and cust[3] == "customer 3"
    assert 50_000 not in read_partition(lake, "orders", DST_SPRING).column("id").to_pylist()

    # The next run sees the committed changes.
    after = extract(source, lake)
    assert (after["orders"]["rows"], after["customers"]["rows"]) == (505, 50)


def _make_items_unstable(conninfo: str) -> None:
    """Turn app.customers into a view whose rows change between two statements of one snapshot.

    The filter is a volatile function that lets only the first 3 calls of the transaction pass:
    the COPY sees 3 rows, the reconciling count(*) sees 0. A source relation like this (a view
    over volatile functions) is the real-world way a reconciliation fails.
    """
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("ALTER TABLE app.customers RENAME TO customers_base")
        conn.execute("""
            CREATE FUNCTION app.first_calls_pass(n int) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
            DECLARE
              calls int := coalesce(nullif(current_setting('dagspec_test.calls', true), ''), '0')::int + 1;
            BEGIN
              PERFORM set_config('dagspec_test.calls', calls::text, true);
              RETURN calls <= n;
            END $$""")
        conn.execute(
            "CREATE VIEW app.customers AS SELECT * FROM app.customers_base WHERE app.first_calls_pass(3)"
        )


def test_reconciliation_failure_keeps_previous_partitions(source: str, lake: Lake) -> None:
    extract(source, lake)
    before = snapshot_bytes(lake)
    _make_items_unstable(source)
    with psycopg.connect(source, autocommit=True) as conn:  # would change orders' partition if published
        conn.execute("DELETE FROM app.orders WHERE id > 10")
    with pytest.raises(ReconciliationError, match=r"wrote 3 rows but count\(\*\) in the same snapshot is 0"):
        extract(source, lake)
    # Neither table was published: orders passed its own check but the run as a whole failed.
    assert snapshot_bytes(lake) == before
    if lake.protocol == "file":
        assert lake.list_dirs("_tmp") == []


def test_unrepresentable_value_fails_and_publishes_nothing(
    source: str, lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """numeric 'NaN' has no decimal128 form: the run fails loudly, whichever thread sees it first."""
    extract(source, lake)
    before = snapshot_bytes(lake)
    with psycopg.connect(source, autocommit=True) as conn:
        conn.execute("INSERT INTO app.orders (id, amount, created_at) VALUES (0, 'NaN', '2026-03-08T12:00Z')")
    # The bad row sits in the first of many chunks.
    monkeypatch.setattr(extract_module, "_CSV_CHUNK_BYTES", 4096)
    with pytest.raises(ValueError, match="app.orders: column amount: .*NaN"):
        extract(source, lake)
    assert snapshot_bytes(lake) == before


def test_spec_validation_rejects_bad_tables(source: str, local_lake: Lake) -> None:
    bad = [
        {**ORDERS, "primary_key": []},
        {**ORDERS, "cursor_column": "status"},
        {**ORDERS, "columns": [*ORDERS["columns"], {"name": "x", "type": "money"}]},
        {**ORDERS, "mode": "full"},
        {**CUSTOMERS, "name": "../etc"},
    ]
    for table in bad:
        with pytest.raises(ValueError):
            extract(source, local_lake, tables=[table])
    assert local_lake.list_dirs("raw") == []


def test_identifiers_are_quoted(make_db: Any, local_lake: Lake) -> None:
    conninfo = make_db("quoting")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute('CREATE SCHEMA "Odd Schema"')
        conn.execute('CREATE TABLE "Odd Schema"."Select" ("Id" bigint PRIMARY KEY, "from" text)')
        conn.execute("""INSERT INTO "Odd Schema"."Select" VALUES (2, 'b'), (1, 'a')""")
    spec = {
        "name": "Select",
        "schema": "Odd Schema",
        "primary_key": ["Id"],
        "mode": "snapshot",
        "cursor_column": None,
        "columns": [{"name": "Id", "type": "bigint"}, {"name": "from", "type": "text"}],
    }
    extract(conninfo, local_lake, tables=[spec])
    assert read_partition(local_lake, "Select", DST_SPRING).to_pylist() == [
        {"Id": 1, "from": "a"},
        {"Id": 2, "from": "b"},
    ]


def test_airflow_wrapper_resolves_connections_and_hides_password(
    make_db: Any,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    from dagspec_runtime.extract import extract_tables

    conninfo = make_db("wrapper")
    create_schema(conninfo)
    insert(conninfo, "orders", day_orders(DST_SPRING, 10))
    dbname = psycopg.conninfo.conninfo_to_dict(conninfo)["dbname"]
    # Trust auth accepts any password: a distinctive one shows whether it ever reaches the logs.
    conn = {
        "conn_type": "postgres",
        "host": "127.0.0.1",
        "port": 5432,
        "schema": dbname,
        "login": "postgres",
        "password": "s3cr3t-never-logged",
        "extra": {"connect_timeout": 5},
    }
    monkeypatch.setenv("AIRFLOW_CONN_DAGSPEC_TEST_SOURCE", json.dumps(conn))
    caplog.set_level(logging.DEBUG, logger="dagspec_runtime")
    summary = extract_tables(
        pipeline_id="shop",
        source_conn_id="dagspec_test_source",
        lake_uri=f"file://{tmp_path}/lake",
        lake_conn_id=None,
        ds=DST_SPRING,
        timezone=TZ,
        tables=[ORDERS],
    )
    assert summary["orders"]["rows"] == 10
    # Importing Airflow may route logging through its own handlers: look wherever lines went.
    out, err = capfd.readouterr()
    logged = caplog.text + out + err
    assert "s3cr3t" not in logged
    assert "rows/s" in logged and dbname in logged
    json.dumps(summary)  # XCom-serialisable


# -- the COPY stream, drained straight from libpq -----------------------------------------------


def _copy(statement: str) -> Any:
    from psycopg import sql

    return sql.SQL(statement)  # type: ignore[arg-type]  # test-only literal statements


def test_copy_chunks_are_whole_rows_and_complete(source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Small chunks: every chunk ends on a row boundary (quoted newlines included), and together
    they are exactly what COPY sends."""
    monkeypatch.setattr(extract_module, "_CSV_CHUNK_BYTES", 256)
    statement = "COPY (SELECT id, note FROM app.orders ORDER BY id) TO STDOUT (FORMAT csv)"
    with psycopg.connect(source) as conn, conn.cursor() as cur:
        chunks = [bytes(c) for c in extract_module._copy_chunks(cur, _copy(statement))]
        with cur.copy(statement) as copy:
            reference = b"".join(bytes(row) for row in copy)
        assert cur.execute("SELECT 1").fetchone() == (1,)  # the connection is left usable
    assert len(chunks) > 10 and b"".join(chunks) == reference
    for chunk in chunks:
        assert chunk.endswith(b"\n")
        assert chunk.count(b'"') % 2 == 0  # no quoted value is cut in two


def test_copy_chunks_raise_a_server_error_mid_stream(source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An error after rows were sent surfaces as the server's own error class."""
    monkeypatch.setattr(extract_module, "_CSV_CHUNK_BYTES", 1024)
    statement = "COPY (SELECT 1 / (50000 - g) FROM generate_series(1, 100000) g) TO STDOUT (FORMAT csv)"
    got = 0
    with psycopg.connect(source) as conn, conn.cursor() as cur:
        with pytest.raises(psycopg.errors.DivisionByZero):
            for chunk in extract_module._copy_chunks(cur, _copy(statement)):
                got += chunk.count(b"\n")
        conn.rollback()
        assert cur.execute("SELECT 2").fetchone() == (2,)
    assert 0 < got < 50000


def test_copy_chunks_stopped_early_leave_the_connection_usable(source: str) -> None:
    """A consumer failing mid-stream (the parser rejecting a value) cancels the COPY cleanly."""
    statement = "COPY (SELECT g, repeat('x', 100) FROM generate_series(1, 200000) g) TO STDOUT (FORMAT csv)"
    with psycopg.connect(source) as conn, conn.cursor() as cur:
        stream = extract_module._copy_chunks(cur, _copy(statement))
        assert next(stream).startswith(b"1,")
        stream.close()
        conn.rollback()  # a cancelled COPY ends the transaction in error
        assert cur.execute("SELECT 3").fetchone() == (3,)


# -- tables in parallel, one snapshot -----------------------------------------------------------


def test_parallel_tables_read_the_exported_snapshot(
    source: str, lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writers commit after the run's snapshot was exported and before each table's connection
    imports it: no table sees those commits."""
    opened = extract_module._snapshot_cursor
    imported: list[str] = []

    def commit_then_open(conninfo: str, snapshot: str) -> Any:
        n = len(imported)
        imported.append(snapshot)
        insert(source, "orders", [order_row(60_000 + n, datetime(2026, 3, 8, 16, tzinfo=UTC))])
        insert(source, "customers", [(8_000 + n, "late", "gold", None)])
        with psycopg.connect(source, autocommit=True) as conn:
            conn.execute("UPDATE app.customers SET name = 'changed' WHERE id = 2")
        return opened(conninfo, snapshot)

    monkeypatch.setattr(extract_module, "_snapshot_cursor", commit_then_open)
    summary = extract(source, lake, parallel_tables=2)
    assert len(imported) == 2 and len(set(imported)) == 1  # one exported snapshot, two importers
    assert summary["orders"]["rows"] == 504 and summary["customers"]["rows"] == 50
    cust = {r["id"]: r["name"] for r in read_partition(lake, "customers", DST_SPRING).to_pylist()}
    assert not {8_000, 8_001} & cust.keys() and cust[2] == "customer 2"
    assert not {60_000, 60_001} & set(read_partition(lake, "orders", DST_SPRING).column("id").to_pylist())


def test_parallel_and_sequential_runs_write_the_same_bytes(source: str, tmp_path: Any) -> None:
    sequential = Lake.from_uri(str(tmp_path / "sequential"))
    parallel = Lake.from_uri(str(tmp_path / "parallel"))
    extract(source, sequential, parallel_tables=1)
    extract(source, parallel, parallel_tables=2)
    assert snapshot_bytes(parallel) == snapshot_bytes(sequential)
