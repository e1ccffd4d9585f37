"""Where things live at run time (settings), which day a run is about (runinfo), and the window macro."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from dagspec_runtime import adapters, runinfo, settings
from runtime_fixture import context_for, pipeline


def test_local_lake_and_duckdb_resolve_under_their_roots(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DAGSPEC_LAKE_ROOT", raising=False)
    monkeypatch.delenv("DAGSPEC_WAREHOUSE_ROOT", raising=False)
    p = pipeline()
    assert adapters.lake_location(p) == (str(tmp_path / "home" / "lake" / "fixture_lake"), None)
    assert adapters.open_warehouse(p).path == str(tmp_path / "home" / "warehouse" / "fixture.duckdb")
    monkeypatch.setenv("DAGSPEC_LAKE_ROOT", str(tmp_path / "lakes"))
    monkeypatch.setenv("DAGSPEC_WAREHOUSE_ROOT", str(tmp_path / "wh"))
    assert adapters.lake_location(p)[0] == str(tmp_path / "lakes" / "fixture_lake")
    assert adapters.open_warehouse(p).path == str(tmp_path / "wh" / "fixture.duckdb")
    absolute = pipeline(lake={"kind": "local", "path": "/data/lake"})
    assert adapters.lake_location(absolute)[0] == "/data/lake"


def test_dbt_project_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DAGSPEC_DBT_ROOT", raising=False)
    p = pipeline()
    assert (
        settings.dbt_project_dir(p, "/opt/airflow/dags/fixture_pipeline.py")
        == "/opt/airflow/dbt/fixture_pipeline"
    )
    with pytest.raises(ValueError, match="DAGSPEC_DBT_ROOT"):
        settings.dbt_project_dir(p, None)
    monkeypatch.setenv("DAGSPEC_DBT_ROOT", "/srv/dbt")
    assert settings.dbt_project_dir(p, "/ignored/dags/x.py") == "/srv/dbt/fixture_pipeline"
    monkeypatch.delenv("DAGSPEC_DBT_BIN", raising=False)
    assert settings.dbt_executable(p) == os.path.join(os.path.dirname(sys.executable), "dbt")


def test_dbt_env_for_s3_lake_and_postgres_warehouse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_LAKE_AWS",
        json.dumps(
            {
                "conn_type": "aws",
                "login": "AKIA",
                "password": "s3cret",
                "extra": {"endpoint_url": "http://127.0.0.1:9000", "region_name": "eu-west-1"},
            }
        ),
    )
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_DB", "postgresql://etl:pw@db.internal:6543/analytics")
    p = pipeline(
        warehouse="postgres", lake={"kind": "s3", "bucket": "b", "prefix": "p/q", "conn_id": "lake_aws"}
    )
    assert adapters.lake_location(p) == ("s3://b/p/q", "lake_aws")
    assert adapters.dbt_env(p) == {
        "DAGSPEC_LAKE_URI": "s3://b/p/q",
        "DAGSPEC_AUDIT_SCHEMA": "analytics_audit",
        "DAGSPEC_PUBLISH_SCHEMA": "analytics",
        "DAGSPEC_RAW_SCHEMA": "analytics_raw",
        "DAGSPEC_S3_KEY": "AKIA",
        "DAGSPEC_S3_SECRET": "s3cret",
        "DAGSPEC_S3_REGION": "eu-west-1",
        "DAGSPEC_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
        "DAGSPEC_PG_HOST": "db.internal",
        "DAGSPEC_PG_PORT": "6543",
        "DAGSPEC_PG_USER": "etl",
        "DAGSPEC_PG_PASSWORD": "pw",
        "DAGSPEC_PG_DBNAME": "analytics",
    }


def test_window_on_a_dst_day() -> None:
    # 2024-03-11 06:00 New York (10:00Z, EDT) reports on 2024-03-10, a 23-hour day.
    w = runinfo.window(pipeline(), datetime(2024, 3, 11, 10, 0, tzinfo=UTC))
    assert w == {
        "report_day": "2024-03-10",
        "day_start": "2024-03-10T05:00:00+00:00",
        "day_end": "2024-03-11T04:00:00+00:00",
    }


def test_run_facts_from_task_and_deadline_contexts() -> None:
    ctx = context_for(date(2024, 3, 10), run_type="backfill")
    assert runinfo.run_day(pipeline(), ctx) == date(2024, 3, 10)
    assert runinfo.is_backfill(ctx)
    # Airflow 3 allows runs without a logical date: run_after stands in.
    no_logical = {
        "logical_date": None,
        "dag_run": SimpleNamespace(
            run_type="manual", logical_date=None, run_after=datetime(2024, 3, 11, 10, tzinfo=UTC)
        ),
    }
    assert runinfo.run_day(pipeline(), no_logical) == date(2024, 3, 10)
    assert not runinfo.is_backfill(no_logical)
    api_json = {"dag_run": {"run_type": "backfill", "logical_date": "2024-03-11T10:00:00Z"}}
    assert runinfo.is_backfill(api_json)
    assert runinfo.logical_date(api_json) == datetime(2024, 3, 11, 10, tzinfo=UTC)


def test_task_modules_import_without_heavy_dependencies() -> None:
    # Generated DAG files import these at parse time, in every dag-processor loop.
    code = (
        "import sys, dagspec_runtime.tasks, dagspec_runtime.alerts\n"
        "heavy = ('airflow', 'duckdb', 'pyarrow', 'psycopg', 'httpx', 'fsspec', 'asyncio')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert out.stdout.strip() == "[]"


def test_operators_add_nothing_heavy_to_airflow_at_parse_time() -> None:
    # The operators subclass the Task SDK's BaseOperator (the DAG file imports airflow.sdk anyway,
    # with its own httpx and fsspec): beyond what airflow.sdk brings, importing them may load no
    # driver, engine or dbt (the runner and the adapters load when a step runs).
    code = (
        "import sys, airflow.sdk\n"
        "before = set(sys.modules)\n"
        "import dagspec_runtime.operators\n"
        "heavy = ('duckdb', 'pyarrow', 'psycopg', 'httpx', 'fsspec', 'dbt', 'boto3', 's3fs')\n"
        "print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] in heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert out.stdout.strip() == "[]"
