"""dbt_build (a real dbt project on DuckDB and on Postgres) and write-audit-publish.

The DuckDB story runs as one module-scoped sequence of real ``dbt build`` invocations (each costs a
few seconds of dbt start-up and parse), with the assertions split into ordered tests.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dagspec_local.connections import env_value, smtp_connection
from dagspec_local.standins import smtp_server
from dagspec_runtime import adapters, tasks
from dagspec_runtime.adapters import open_warehouse
from dagspec_runtime.contract import Mart
from dagspec_runtime.dbt_runner import BuildResult, GateFailed, parse_results
from dagspec_runtime.warehouse import GateNotPassedError
from runtime_fixture import ORDERS, context_for, order_rows, pipeline, write_dbt_project, write_partition

D1, D2, D3 = date(2024, 3, 9), date(2024, 3, 10), date(2024, 3, 11)


@dataclass
class Story:
    root: Path
    pipeline: dict[str, Any]
    db: str
    outcomes: dict[str, Any]

    def published(self) -> list[tuple[Any, ...]]:
        with duckdb.connect(self.db, read_only=True) as conn:
            return conn.execute(
                "SELECT ds, orders, revenue FROM main.fct_daily_metrics ORDER BY ds"
            ).fetchall()


def _env(mp: pytest.MonkeyPatch, root: Path) -> None:
    mp.setenv("DAGSPEC_LAKE_ROOT", str(root / "lake"))
    mp.setenv("DAGSPEC_WAREHOUSE_ROOT", str(root / "warehouse"))
    mp.setenv("DAGSPEC_DBT_ROOT", str(root / "dbt"))
    mp.setenv("DAGSPEC_ARTIFACTS_ROOT", str(root / "airflow-home" / "dagspec-artifacts"))
    write_dbt_project(root / "dbt")


def _attempt(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as exc:
        return exc


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    """D1: 2 orders (passes, a warn-severity test fires); D2: 4 orders (passes); D3: negative amounts."""
    root = tmp_path_factory.mktemp("duckdb-story")
    with pytest.MonkeyPatch.context() as mp:
        _env(mp, root)
        p = pipeline()
        lake = adapters.open_lake(p)
        write_partition(lake, ORDERS, D1.isoformat(), order_rows(D1, [10, 20]))
        write_partition(lake, ORDERS, D2.isoformat(), order_rows(D2, [10, 20, 30, 40], refunded=[3]))
        write_partition(lake, ORDERS, D3.isoformat(), order_rows(D3, [10, -5, -7]))
        s = Story(root, p, adapters.open_warehouse(p).path, {})
        o = s.outcomes

        # Two runs at once, as a parallel backfill starts them: the warehouse lock serialises them.
        def build(day: date) -> None:
            o[f"build {day}"] = _attempt(lambda: tasks.dbt_build(p, context_for(day)))

        threads = [threading.Thread(target=build, args=(day,)) for day in (D1, D2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        o["d1_build"], o["d2_build"] = o[f"build {D1}"], o[f"build {D2}"]
        with duckdb.connect(s.db, read_only=True) as conn:  # audited, not yet published
            o["d1_before_publish"] = conn.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchone()
        o["d1_publish"] = tasks.publish_tables(p, context_for(D1))
        o["d2_publish"] = tasks.publish_tables(p, context_for(D2))
        o["after_d2"] = s.published()
        o["d3_build"] = _attempt(lambda: tasks.dbt_build(p, context_for(D3)))
        o["d3_publish"] = _attempt(lambda: tasks.publish_tables(p, context_for(D3)))
        o["after_d3"] = s.published()
        o["d2_republish"] = tasks.publish_tables(p, context_for(D2))
        yield s


def test_passing_build_returns_warnings(story: Story) -> None:
    summary = story.outcomes["d1_build"]
    assert summary["status"] == "passed" and summary["ds"] == "2024-03-09"
    assert summary["counts"] == {"model:success": 2, "test:pass": 3, "test:warn": 1}
    assert [(w["node"], w["failures"]) for w in summary["warnings"]] == [("warn_few_orders", 1)]
    assert summary["failures"] == []
    json.dumps(summary)  # goes to XCom
    assert story.outcomes["d2_build"]["warnings"] == []


def test_audited_rows_are_invisible_until_published(story: Story) -> None:
    assert story.outcomes["d1_before_publish"] == (0,)
    assert story.outcomes["d1_publish"] == {"fct_daily_metrics": {"mode": "partition", "rows": 1}}
    assert [(r[0], r[1], float(r[2])) for r in story.outcomes["after_d2"]] == [(D1, 2, 30.0), (D2, 4, 100.0)]


def test_failing_gate_names_tests_and_counts(story: Story) -> None:
    from dagspec_runtime.dbt_runner import GateTestsFailed

    exc = story.outcomes["d3_build"]
    assert isinstance(exc, GateTestsFailed)  # data failures: not retried
    assert "assert_no_negative_amounts (2 failing rows)" in str(exc)
    assert "4 downstream node(s) skipped" in str(exc)
    assert exc.gate_failures[0]["failures"] == 2
    lake_dir = story.root / "lake" / "fixture_lake" / "reports" / "fixture_pipeline" / "ds=2024-03-11" / "dbt"
    # The lake keeps the verdict only; dbt's per-invocation artefacts stay outside it, per run.
    assert sorted(p.name for p in lake_dir.iterdir()) == ["gate.json"]
    artefacts = story.root / "airflow-home" / "dagspec-artifacts" / "fixture_pipeline" / "ds=2024-03-11"
    (invocation,) = artefacts.iterdir()
    assert (invocation / "run_results.json").exists() and (invocation / "manifest.json").exists()
    gate = json.loads((lake_dir / "gate.json").read_text())
    assert gate["status"] == "failed" and gate["failures"][0]["node"] == "assert_no_negative_amounts"


def test_failed_gate_blocks_publish(story: Story) -> None:
    exc = story.outcomes["d3_publish"]
    assert isinstance(exc, GateNotPassedError) and "ds=2024-03-11 is 'failed'" in str(exc)
    assert story.outcomes["after_d3"] == story.outcomes["after_d2"]
    # Another day's failure does not touch D2's audited partition: it may still be (re)published.
    assert story.outcomes["d2_republish"]["fct_daily_metrics"]["rows"] == 1


def test_whole_table_marts_wait_for_a_clean_build(story: Story) -> None:
    wh = open_warehouse(story.pipeline)
    table_mart = [Mart(name="fct_daily_metrics", materialized="table", partition_column=None, unique_key=())]
    with wh.exclusive("test"), pytest.raises(GateNotPassedError, match="last rebuilt by run"):
        wh.publish(table_mart, ds=D2.isoformat(), run_id="r")


def test_publish_waits_for_the_warehouse_lock(story: Story, monkeypatch: pytest.MonkeyPatch) -> None:
    import dagspec_runtime.locks as locks_module

    monkeypatch.setattr(locks_module, "_POLL_SECONDS", 0.05)
    monkeypatch.setenv("DAGSPEC_LOCK_TIMEOUT_SECONDS", "30")
    wh = open_warehouse(story.pipeline)
    results: list[Any] = []
    with wh.exclusive("a long dbt build"):
        worker = threading.Thread(
            target=lambda: results.append(
                _attempt(lambda: tasks.publish_tables(story.pipeline, context_for(D2)))
            )
        )
        worker.start()
        time.sleep(0.5)
        assert worker.is_alive() and results == []  # blocked behind the writer
    worker.join(10)
    assert results and results[0]["fct_daily_metrics"]["rows"] == 1
    monkeypatch.setenv("DAGSPEC_LOCK_TIMEOUT_SECONDS", "0.2")
    with wh.exclusive("holder"), pytest.raises(TimeoutError, match="gave up waiting"):
        tasks.publish_tables(story.pipeline, context_for(D2))


def _result(results: list[dict[str, Any]], returncode: int = 1) -> BuildResult:
    return BuildResult(
        returncode=returncode,
        manifest=None,
        target_dir="/nonexistent",
        run_results={"metadata": {"invocation_id": "i"}, "results": results},
        log_tail=["boom"],
    )


def test_parse_results_classifies_every_status() -> None:
    results = [
        {
            "unique_id": "model.p.fct",
            "status": "error",
            "failures": None,
            "message": "Binder Error: col x\nmore",
        },
        {
            "unique_id": "test.p.not_null_fct_ds.abc123",
            "status": "fail",
            "failures": 1,
            "message": "Got 1 result",
        },
        {"unique_id": "test.p.broken", "status": "error", "failures": None, "message": "syntax error"},
        {"unique_id": "test.p.soft", "status": "warn", "failures": 7, "message": "Got 7 results"},
        {"unique_id": "model.p.downstream", "status": "skipped", "failures": None, "message": None},
    ]
    with pytest.raises(GateFailed) as info:
        parse_results(_result(results), ds="2024-03-10")
    message = str(info.value)
    assert "1 error-severity test(s) failed: not_null_fct_ds (1 failing row)" in message
    assert "1 test(s) errored: broken (syntax error)" in message
    assert "model fct (Binder Error: col x)" in message
    assert info.value.summary["warnings"][0]["failures"] == 7


def test_parse_results_without_results_file() -> None:
    from airflow.sdk.exceptions import AirflowException

    broken = BuildResult(
        returncode=2, run_results=None, manifest=None, target_dir="/x", log_tail=["Profile not found"]
    )
    with pytest.raises(AirflowException, match="without run_results.json.*\n.*Profile not found"):
        parse_results(broken, ds="2024-03-10")
    with pytest.raises(AirflowException, match="exited 2 with no failing node"):
        parse_results(_result([], returncode=2), ds="2024-03-10")


# -- Postgres warehouse: lake -> load_raw -> dbt build -> publish -> report ------------------------


def _seed_source(conninfo: str) -> None:
    import psycopg

    with psycopg.connect(conninfo) as conn:
        conn.execute(
            "CREATE SCHEMA app; CREATE TABLE app.orders "
            "(id bigint PRIMARY KEY, amount numeric(12,2), status text, created_at timestamptz)"
        )
        with conn.cursor() as cur:
            for day, amounts in ((D1, [10, 20, 30]), (D2, [5, -1])):
                cur.executemany(
                    "INSERT INTO app.orders VALUES (%(id)s, %(amount)s, %(status)s, %(created_at)s)",
                    order_rows(day, amounts),
                )


def test_postgres_warehouse_end_to_end(
    make_db: Callable[[str], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    _env(monkeypatch, tmp_path)
    source, conninfo = make_db("source"), make_db("warehouse")
    _seed_source(source)
    for conn_id, info in (("APP_DB", source), ("WAREHOUSE_DB", conninfo)):
        monkeypatch.setenv(
            f"AIRFLOW_CONN_{conn_id}",
            f"postgresql://postgres@127.0.0.1:5432/{conninfo_to_dict(info)['dbname']}",
        )
    p = pipeline(warehouse="postgres", alerts={"pagerduty_conn_id": None, "engineers": []})
    # The whole chain, each step through its task entry point: source -> lake -> raw -> audit -> publish.
    assert tasks.extract(p, context_for(D1))["orders"]["rows"] == 3
    assert tasks.extract(p, context_for(D2))["orders"]["rows"] == 2
    assert tasks.load_raw(p, context_for(D1))["orders"]["rows"] == 3
    summary = tasks.dbt_build(p, context_for(D1))
    assert summary["status"] == "passed" and summary["warnings"] == []
    with psycopg.connect(conninfo) as conn:
        assert conn.execute("SELECT to_regclass('analytics.fct_daily_metrics')").fetchone() == (None,)
    assert tasks.publish_tables(p, context_for(D1))["fct_daily_metrics"]["rows"] == 1

    tasks.load_raw(p, context_for(D2))
    with pytest.raises(GateFailed, match=r"assert_no_negative_amounts \(1 failing row\)"):
        tasks.dbt_build(p, context_for(D2))
    with pytest.raises(GateNotPassedError):
        tasks.publish_tables(p, context_for(D2))
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT ds, orders, revenue FROM analytics.fct_daily_metrics ORDER BY ds"
        ).fetchall()
    assert [(r[0], r[1], float(r[2])) for r in rows] == [(D1, 3, 60.0)]

    with smtp_server(tmp_path / "mail") as (sink, port):
        monkeypatch.setenv(
            "AIRFLOW_CONN_SMTP_TEST", env_value(smtp_connection(port, retry_limit=0, timeout=5))
        )
        out = tasks.publish_report(p, context_for(D1, xcoms={"dbt_build": summary}))
    assert out["delivered"] and out["kpis"]["orders"] == 3 and len(sink.messages) == 1


def test_data_test_failures_are_not_retried_but_node_errors_are() -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from dagspec_runtime.dbt_runner import GateTestsFailed

    failed = [{"unique_id": "test.p.t", "status": "fail", "failures": 3, "message": "Got 3 results"}]
    with pytest.raises(GateTestsFailed) as info:
        parse_results(_result(failed), ds="2024-03-10")
    assert isinstance(info.value, AirflowFailException) and isinstance(info.value, GateFailed)
    errored = [
        *failed,
        {"unique_id": "model.p.m", "status": "error", "failures": None, "message": "conn lost"},
    ]
    with pytest.raises(GateFailed) as info:
        parse_results(_result(errored), ds="2024-03-10")
    assert not isinstance(info.value, AirflowFailException)


def test_first_build_publishes_every_audited_day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pipeline's first build of an incremental mart is a whole build: all its days pass this gate.

    History already in the lake (D1) is published with the run's own day (D2); the next run (D3)
    is incremental and publishes its day only.
    """
    _env(monkeypatch, tmp_path)
    p = pipeline()
    lake = adapters.open_lake(p)
    write_partition(lake, ORDERS, D1.isoformat(), order_rows(D1, [10, 20]))
    write_partition(lake, ORDERS, D2.isoformat(), order_rows(D2, [10, 20, 30, 40]))
    first = tasks.dbt_build(p, context_for(D2))
    assert first["full_build"] == ["fct_daily_metrics"]
    published = tasks.publish_tables(p, context_for(D2, xcoms={"dbt_build": first}))
    assert published == {"fct_daily_metrics": {"mode": "replace", "rows": 2}}
    story = Story(tmp_path, p, adapters.open_warehouse(p).path, {})
    assert [(r[0], r[1]) for r in story.published()] == [(D1, 2), (D2, 4)]

    write_partition(lake, ORDERS, D3.isoformat(), order_rows(D3, [10, 20, 30]))
    second = tasks.dbt_build(p, context_for(D3))
    assert second["full_build"] == []
    assert tasks.publish_tables(p, context_for(D3, xcoms={"dbt_build": second})) == {
        "fct_daily_metrics": {"mode": "partition", "rows": 1}
    }
    assert [(r[0], r[1]) for r in story.published()] == [(D1, 2), (D2, 4), (D3, 3)]
