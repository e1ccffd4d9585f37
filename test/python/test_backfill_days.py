"""The one-pass backfill's steps (``dagspec_runtime.backfill``) on real components.

Extract: a range of days read from one snapshot of live Postgres writes exactly the lake a daily
extract of each day writes (same bytes), sees none of what the source commits while it runs, and
a day that fails leaves the days before it committed and, for a history table, the days after it
uncommitted.

Build: the days of a range go through the dbt gate, publish and the report's archive one by one;
a day whose gate fails publishes nothing and the days after it go on; the published rows, gate
records and archived reports are those that daily runs of the same days leave.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from dagspec_runtime import adapters, tasks
from dagspec_runtime.backfill import RangeFailed, RangeTestsFailed, build_days, days_in_range
from dagspec_runtime.days import day_bounds
from dagspec_runtime.extract import extract_to_lake
from dagspec_runtime.extract_range import DayBeforeNotCommitted, RangeExtractFailed, extract_range
from dagspec_runtime.lake import Lake
from dagspec_runtime.manifest import read_day
from runtime_fixture import ORDERS, context_for, order_rows, pipeline, write_dbt_project, write_partition

TZ = "America/New_York"
DAYS = [date(2026, 3, d) for d in range(5, 11)]  # six days, across the DST change of 2026-03-08

USERS = {
    "name": "users",
    "schema": "app",
    "columns": [
        {"name": "id", "type": "bigint"},
        {"name": "country", "type": "text"},
        {"name": "updated_at", "type": "timestamptz"},
    ],
    "primary_key": ["id"],
    "mode": "history",
    "cursor_column": "updated_at",
}
ORDERS_SRC = {
    "name": "orders",
    "schema": "app",
    "columns": [
        {"name": "id", "type": "bigint"},
        {"name": "user_id", "type": "bigint"},
        {"name": "amount", "type": "numeric(12,2)"},
        {"name": "created_at", "type": "timestamptz"},
    ],
    "primary_key": ["id"],
    "mode": "incremental",
    "cursor_column": "created_at",
}
TABLES = [USERS, ORDERS_SRC]


def _noon(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=hour + 5)


@pytest.fixture(scope="module")
def source(pg_admin: str) -> Iterator[str]:
    """Users changing now and then, and orders on each of the six days."""
    name = f"dagspec_pytest_range_{os.getpid()}"
    with psycopg.connect(pg_admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    conninfo = f"host=127.0.0.1 port=5432 user=postgres dbname={name}"
    try:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("create schema app")
            conn.execute(
                "create table app.users (id bigint primary key, country text, updated_at timestamptz)"
            )
            conn.execute(
                "create table app.orders (id bigint primary key, user_id bigint, amount numeric(12,2), "
                "created_at timestamptz)"
            )
            for i in range(1, 41):
                changed = DAYS[i % len(DAYS)] if i % 3 else DAYS[0] - timedelta(days=3)
                conn.execute(
                    "insert into app.users values (%s, %s, %s)",
                    (i, ["fr", "us", "de"][i % 3], _noon(changed, i % 9)),
                )
            order_id = 0
            for n, day in enumerate(DAYS):
                for k in range(25 + 7 * n):
                    order_id += 1
                    conn.execute(
                        "insert into app.orders values (%s, %s, %s, %s)",
                        (order_id, 1 + k % 40, f"{10 + k}.{k % 100:02d}", _noon(day, k % 10)),
                    )
        yield conninfo
    finally:
        with psycopg.connect(pg_admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _files(root: Path) -> dict[str, str]:
    """Every file under ``root`` with its sha256 (the lake as bytes)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _extract_range(source: str, lake: Lake, **kwargs: Any) -> dict[str, Any]:
    return extract_range(
        source,
        lake,
        pipeline_id="ranged",
        days=[d.isoformat() for d in DAYS],
        timezone=TZ,
        tables=TABLES,
        **kwargs,
    )


def test_a_range_writes_the_lake_daily_extracts_write(source: str, tmp_path: Path) -> None:
    daily = Lake.from_uri(str(tmp_path / "daily"))
    for day in DAYS:
        extract_to_lake(source, daily, pipeline_id="ranged", ds=day.isoformat(), timezone=TZ, tables=TABLES)
    ranged = Lake.from_uri(str(tmp_path / "range"))
    result = _extract_range(source, ranged)
    assert list(result) == [d.isoformat() for d in DAYS]
    assert _files(tmp_path / "range") == _files(tmp_path / "daily")
    # The first day is the history's base; every later day takes only the rows changed since it began.
    taken = [result[d.isoformat()]["users"]["taken"] for d in DAYS]
    assert taken == ["whole_table"] + ["changed_rows"] * (len(DAYS) - 1)
    # Run again: the same bytes (a re-run of the range takes every day as the first run did).
    _extract_range(source, ranged)
    assert _files(tmp_path / "range") == _files(tmp_path / "daily")


def test_every_day_of_a_range_sees_one_snapshot(source: str, tmp_path: Path) -> None:
    lake = Lake.from_uri(str(tmp_path / "lake"))
    late = DAYS[-1]
    inserted: list[int] = []

    once = threading.Lock()

    def commit_a_late_order(ds: str, table: str, summary: dict[str, Any]) -> None:
        with once:  # days run on two threads
            if inserted:
                return
            # Committed while the range runs, in the last day's window, before that day is read.
            with psycopg.connect(source, autocommit=True) as conn:
                conn.execute("insert into app.orders values (99999, 1, 1.00, %s)", (_noon(late, 1),))
            inserted.append(99999)

    try:
        result = _extract_range(source, lake, on_table_extracted=commit_a_late_order)
        with psycopg.connect(source) as conn:
            now = conn.execute(
                "select count(*) from app.orders where created_at >= %s and created_at < %s",
                day_bounds(late, TZ),
            ).fetchone()
        assert inserted and now is not None
        assert result[late.isoformat()]["orders"]["rows"] == now[0] - 1
    finally:
        with psycopg.connect(source, autocommit=True) as conn:
            conn.execute("delete from app.orders where id = 99999")


def test_a_failed_day_keeps_the_days_before_and_holds_back_the_history_after(
    source: str, tmp_path: Path
) -> None:
    lake = Lake.from_uri(str(tmp_path / "lake"))
    bad = DAYS[2].isoformat()

    def fail_one_day(ds: str, table: str, summary: dict[str, Any]) -> None:
        if ds == bad and table == "orders":
            raise OSError(f"injected: the lake refused ds={ds}")

    with pytest.raises(RangeExtractFailed) as failed:
        _extract_range(source, lake, on_table_extracted=fail_one_day)
    after = [d.isoformat() for d in DAYS[3:]]
    assert list(failed.value.failed) == [bad, *after]
    assert failed.value.committed == [d.isoformat() for d in DAYS[:2]]
    assert all(isinstance(failed.value.failed[ds], DayBeforeNotCommitted) for ds in after)
    assert [read_day(lake, d.isoformat()) is not None for d in DAYS] == [
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    assert not list((tmp_path / "lake" / "raw" / "orders").glob(f"ds={bad}/*.parquet"))


def test_without_a_history_table_the_days_after_a_failed_one_commit(source: str, tmp_path: Path) -> None:
    lake = Lake.from_uri(str(tmp_path / "lake"))
    bad = DAYS[2].isoformat()

    def fail_one_day(ds: str, table: str, summary: dict[str, Any]) -> None:
        if ds == bad:
            raise OSError("injected")

    with pytest.raises(RangeExtractFailed) as failed:
        extract_range(
            source,
            lake,
            pipeline_id="ranged",
            days=[d.isoformat() for d in DAYS],
            timezone=TZ,
            tables=[ORDERS_SRC],
            on_table_extracted=fail_one_day,
        )
    assert list(failed.value.failed) == [bad]
    assert [read_day(lake, d.isoformat()) is not None for d in DAYS] == [True, True, False, True, True, True]


def test_days_in_range_refuses_what_is_not_a_range() -> None:
    assert days_in_range("2026-02-27", "2026-03-01") == ["2026-02-27", "2026-02-28", "2026-03-01"]
    for first, last in [
        ("2026-03-02", "2026-03-01"),
        ("2026-3-2", "2026-03-03"),
        ("", ""),
        ("2026-01-01", "2029-01-01"),
    ]:
        with pytest.raises(Exception, match="first_day|YYYY-MM-DD|split the range"):
            days_in_range(first, last)


# -- build: gate, publish, report, day by day -------------------------------------------------------

B1, B2, B3, B4 = (date(2024, 3, d) for d in range(9, 13))
AMOUNTS = {B1: [10, 20], B2: [10, 20, 30, 40], B3: [10, -5, -7], B4: [5, 6, 7]}  # B3 fails its gate


def _warehouse_rows(db: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(db, read_only=True) as conn:
        return conn.execute("SELECT ds, orders, revenue FROM main.fct_daily_metrics ORDER BY ds").fetchall()


def _setup(
    root: Path,
    mp: pytest.MonkeyPatch,
    *,
    written: bool = True,
    amounts: dict[date, list[int]] = AMOUNTS,
    range_build: bool = False,
    warehouse: str = "duckdb",
) -> Any:
    mp.setenv("DAGSPEC_LAKE_ROOT", str(root / "lake"))
    mp.setenv("DAGSPEC_WAREHOUSE_ROOT", str(root / "warehouse"))
    mp.setenv("DAGSPEC_DBT_ROOT", str(root / "dbt"))
    mp.setenv("DAGSPEC_ARTIFACTS_ROOT", str(root / "artifacts"))
    project = write_dbt_project(root / "dbt")
    if range_build:
        _make_range_capable(project)
    p = pipeline(warehouse=warehouse, dbt={"range_build": range_build})
    lake = adapters.open_lake(p)
    for day, rows in amounts.items() if written else ():
        write_partition(lake, ORDERS, day.isoformat(), order_rows(day, rows))
    return p


def _make_range_capable(project: Path) -> None:
    """The fixture project made range-capable as a compiled one is (``Dbt.range_build``): with the
    var ``dagspec_first_day`` the incremental mart builds, and the tests test, every day from it to
    ``ds``; without it, each selects ``ds`` alone, as before."""
    day = """cast('{{ var("ds") }}' as date)"""
    days = f"""between cast('{{{{ var("dagspec_first_day", var("ds")) }}}}' as date) and {day}"""
    for rel in (
        "models/fct_daily_metrics.sql",
        "tests/assert_no_negative_amounts.sql",
        "tests/warn_few_orders.sql",
    ):
        path = project / rel
        text = path.read_text()
        assert f"ds = {day}" in text, rel
        path.write_text(text.replace(f"ds = {day}", f"ds {days}"))
    # What marks a compiled project as one that takes ranges (dbt_runner checks its manifest).
    (project / "macros").mkdir(exist_ok=True)
    (project / "macros" / "dagspec_range.sql").write_text(
        "{% macro dagspec_range_build() %}"
        "{{ return(var('dagspec_first_day', none) is not none) }}"
        "{% endmacro %}\n"
    )


def _daily_runs(root: Path, amounts: dict[date, list[int]]) -> tuple[list[tuple[Any, ...]], dict[str, bytes]]:
    """What daily runs of ``amounts``' days leave (extract, gate, publish, report, a day at a time):
    the published rows and the archived reports."""
    with pytest.MonkeyPatch.context() as mp:
        p = _setup(root, mp, written=False)
        lake = adapters.open_lake(p)
        for day, rows in amounts.items():
            write_partition(lake, ORDERS, day.isoformat(), order_rows(day, rows))
            ctx = context_for(day, run_type="backfill", task_id="dbt_build")
            try:
                summary = tasks.dbt_build(p, ctx)
            except Exception:
                continue
            ctx = context_for(day, run_type="backfill", xcoms={"dbt_build": summary})
            tasks.publish_tables(p, ctx)
            tasks.publish_report(p, ctx)
        return _warehouse_rows(adapters.open_warehouse(p).path), _reports(root)


def _reports(root: Path) -> dict[str, bytes]:
    """The archived reports and gate verdicts under ``root``'s lake, with ``root`` itself masked
    (a report links its gate verdict by URL)."""
    lake = root / "lake"
    return {
        str(p.relative_to(lake)): p.read_bytes().replace(str(root).encode(), b"<root>")
        for p in sorted(lake.rglob("*"))
        if p.is_file() and "reports" in p.parts and p.suffix == ".json"
    }


def test_build_days_gates_each_day_and_publishes_what_daily_runs_publish(tmp_path: Path) -> None:
    daily_rows, daily_reports = _daily_runs(tmp_path / "daily", AMOUNTS)

    with pytest.MonkeyPatch.context() as mp:
        # The range's extract has committed every day before the first build, which is a whole
        # build of the incremental mart over all of them; it must still publish its own day only.
        p = _setup(tmp_path / "range", mp)
        ctx = context_for(B4, run_type="manual", task_id="build_days")
        with pytest.raises(RangeTestsFailed) as failed:
            build_days(p, B1.isoformat(), B4.isoformat(), ctx)
        range_rows = _warehouse_rows(adapters.open_warehouse(p).path)

    assert failed.value.report_days == B3.isoformat()
    assert {g["node"] for g in failed.value.gate_failures} == {f"ds={B3}: assert_no_negative_amounts"}
    days = failed.value.days
    assert {ds: o["status"] for ds, o in days.items()} == {
        B1.isoformat(): "published",
        B2.isoformat(): "published",
        B3.isoformat(): "gate failed",
        B4.isoformat(): "published",
    }
    assert not any(o.get("delivered") for o in days.values())  # a backfill e-mails nobody
    assert {o["gate"] for o in days.values()} == {"day"}  # the fixture project is not range-capable
    assert ctx["ti"].pushed["days"] == days
    # The failed day published nothing, the day after it did, and the numbers are the daily runs'.
    assert [r[0] for r in range_rows] == [B1, B2, B4]
    assert range_rows == daily_rows
    # Same gate verdicts and report archives, byte for byte (report.html names no run).
    assert _reports(tmp_path / "range") == daily_reports
    assert any(k.endswith(f"ds={B3}/dbt/gate.json") for k in _reports(tmp_path / "range"))
    assert not any(f"ds={B3}/report" in k for k in _reports(tmp_path / "range"))


def test_a_day_failing_after_its_gate_does_not_stop_the_days_after_it(tmp_path: Path) -> None:
    """A day with no orders passes its gate and publishes no row, so its report has nothing to
    report and fails; the next day is still gated, published and reported, and the task's error
    (retried by Airflow: not a data test) names the day and the step."""
    with pytest.MonkeyPatch.context() as mp:
        p = _setup(tmp_path, mp, written=False)
        lake = adapters.open_lake(p)
        write_partition(lake, ORDERS, B1.isoformat(), [])
        write_partition(lake, ORDERS, B2.isoformat(), order_rows(B2, AMOUNTS[B2]))
        with pytest.raises(RangeFailed) as failed:
            build_days(
                p, B1.isoformat(), B2.isoformat(), context_for(B2, run_type="manual", task_id="build_days")
            )
        rows = _warehouse_rows(adapters.open_warehouse(p).path)
    assert not isinstance(failed.value, RangeTestsFailed)
    assert {ds: o["status"] for ds, o in failed.value.days.items()} == {
        B1.isoformat(): "failed in publish_report",
        B2.isoformat(): "published",
    }
    assert "nothing to report" in failed.value.days[B1.isoformat()]["error"]
    assert f"ds={B1}: failed in publish_report" in str(failed.value)
    assert failed.value.report_days == B1.isoformat() and failed.value.gate_failures == []
    assert [r[0] for r in rows] == [B2]
    assert (
        tmp_path / "lake" / "fixture_lake" / "reports" / "fixture_pipeline" / f"ds={B2}" / "report.json"
    ).is_file()


# -- build: one dbt build gating the whole range ----------------------------------------------------

CLEAN = {B1: [10, 20, 30], B2: [10, 20, 30, 40], B3: [5, 6, 7], B4: [1, 2, 3, 4]}  # no test fails or warns


def _gate_records(p: Any) -> dict[str, tuple[str, str]]:
    with duckdb.connect(adapters.open_warehouse(p).path, read_only=True) as conn:
        rows = conn.execute(
            f"SELECT ds, status, invocation_id FROM {p.warehouse.audit_schema}._dagspec_gate "
            "WHERE key LIKE 'ds:%' ORDER BY ds"
        ).fetchall()
    return {ds: (status, invocation) for ds, status, invocation in rows}


def _builds(root: Path) -> list[str]:
    """The dbt builds that ran, by the folder their artefacts were kept in (``ds=<day>`` or a range)."""
    return sorted(p.name for p in (root / "artifacts" / "fixture_pipeline").iterdir())


def test_one_build_gates_a_clean_range_and_leaves_what_daily_runs_leave(tmp_path: Path) -> None:
    daily_rows, daily_reports = _daily_runs(tmp_path / "daily", CLEAN)
    with pytest.MonkeyPatch.context() as mp:
        p = _setup(tmp_path / "range", mp, amounts=CLEAN, range_build=True)
        outcome = build_days(p, B1.isoformat(), B4.isoformat(), context_for(B4, run_type="manual"))
        range_rows = _warehouse_rows(adapters.open_warehouse(p).path)
        gates = _gate_records(p)

    days = [d.isoformat() for d in CLEAN]
    # The first day by its own build (where day-by-day builds make a first, whole build), the other
    # three by one build.
    assert {ds: (o["status"], o["gate"], o["warnings"]) for ds, o in outcome.items()} == {
        ds: ("published", "day" if ds == days[0] else "range", 0) for ds in days
    }
    assert _builds(tmp_path / "range") == [f"ds={B1}", f"ds={B2}..{B4}"]
    assert list(gates) == days and {status for status, _ in gates.values()} == {"passed"}
    ((invocation),) = {gates[ds][1] for ds in days[1:]}
    assert invocation and gates[days[0]][1] not in ("", invocation)
    # Every day published and reported exactly as its own daily run did: rows, gate.json, report.json.
    assert range_rows == daily_rows and [r[0] for r in range_rows] == list(CLEAN)
    assert _reports(tmp_path / "range") == daily_reports
    assert sum(k.endswith("/dbt/gate.json") for k in daily_reports) == len(days)


def test_a_range_build_that_is_not_clean_gates_each_day_by_its_own_build(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """B1 warns and B3 fails: B1 is gated by its own build, and the build of B2..B4 cannot say which
    day failed, so each of them is gated by its own build; the range leaves what daily runs leave (B3
    not published, B1 with its warning)."""
    daily_rows, daily_reports = _daily_runs(tmp_path / "daily", AMOUNTS)
    with pytest.MonkeyPatch.context() as mp:
        p = _setup(tmp_path / "range", mp, range_build=True)
        with (
            caplog.at_level("WARNING", logger="dagspec_runtime.tasks"),
            pytest.raises(RangeTestsFailed) as failed,
        ):
            build_days(p, B1.isoformat(), B4.isoformat(), context_for(B4, run_type="manual"))
        range_rows = _warehouse_rows(adapters.open_warehouse(p).path)

    (warned,) = [r for r in caplog.records if r.levelname == "WARNING" and "not clean" in r.getMessage()]
    assert "fail test assert_no_negative_amounts" in warned.getMessage()
    assert "skipped warn_few_orders" in warned.getMessage()  # downstream of the failed test
    assert "one by one" in warned.getMessage()
    days = failed.value.days
    assert {ds: (o["status"], o["gate"]) for ds, o in days.items()} == {
        B1.isoformat(): ("published", "day"),
        B2.isoformat(): ("published", "day"),
        B3.isoformat(): ("gate failed", "day"),
        B4.isoformat(): ("published", "day"),
    }
    assert days[B1.isoformat()]["warnings"] == 1
    assert failed.value.report_days == B3.isoformat()
    # B1's own build, the range build of the others, then each one's own.
    assert _builds(tmp_path / "range") == sorted([f"ds={B2}..{B4}", *(f"ds={d}" for d in AMOUNTS)])
    assert range_rows == daily_rows
    assert _reports(tmp_path / "range") == daily_reports


def test_a_warning_in_the_range_build_gates_each_day_by_its_own_build(tmp_path: Path) -> None:
    """A warning is not a failure, but the range build's cannot say whose it is (each day's report
    names its own warnings): B2 (two orders) warns, so B2 and B3 are gated, and warned, by their own."""
    amounts = {B1: CLEAN[B1], B2: AMOUNTS[B1], B3: CLEAN[B3]}
    with pytest.MonkeyPatch.context() as mp:
        p = _setup(tmp_path, mp, amounts=amounts, range_build=True)
        outcome = build_days(p, B1.isoformat(), B3.isoformat(), context_for(B3, run_type="manual"))
    assert {ds: (o["status"], o["gate"], o["warnings"]) for ds, o in outcome.items()} == {
        B1.isoformat(): ("published", "day", 0),
        B2.isoformat(): ("published", "day", 1),
        B3.isoformat(): ("published", "day", 0),
    }
    assert _builds(tmp_path) == sorted([f"ds={B1}", f"ds={B2}..{B3}", f"ds={B2}", f"ds={B3}"])


def test_on_postgres_every_day_is_loaded_before_the_one_build(
    make_db: Callable[[str], str], tmp_path: Path
) -> None:
    """A warehouse that cannot read the lake: each day's raw partitions are loaded, then one build
    gates them all."""
    from psycopg.conninfo import conninfo_to_dict

    conninfo = make_db("range_warehouse")
    with pytest.MonkeyPatch.context() as mp:
        dbname = conninfo_to_dict(conninfo)["dbname"]
        mp.setenv("AIRFLOW_CONN_WAREHOUSE_DB", f"postgresql://postgres@127.0.0.1:5432/{dbname}")
        p = _setup(tmp_path, mp, amounts=CLEAN, range_build=True, warehouse="postgres")
        outcome = build_days(p, B1.isoformat(), B4.isoformat(), context_for(B4, run_type="manual"))
    assert [(o["status"], o["gate"]) for o in outcome.values()] == [
        ("published", "day"),
        *[("published", "range")] * 3,
    ]
    assert _builds(tmp_path) == [f"ds={B1}", f"ds={B2}..{B4}"]
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            f"SELECT ds, orders, revenue FROM {p.warehouse.publish_schema}.fct_daily_metrics ORDER BY ds"
        ).fetchall()
    assert [(r[0], r[1], float(r[2])) for r in rows] == [(d, len(a), float(sum(a))) for d, a in CLEAN.items()]


def test_a_range_of_one_day_is_gated_by_its_own_build(tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as mp:
        p = _setup(tmp_path, mp, amounts={B2: CLEAN[B2]}, range_build=True)
        outcome = build_days(p, B2.isoformat(), B2.isoformat(), context_for(B2, run_type="manual"))
    assert outcome[B2.isoformat()]["gate"] == "day" and _builds(tmp_path) == [f"ds={B2}"]
