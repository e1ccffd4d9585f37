"""A tiny real pipeline for the task-level tests: lake partitions, a dbt project, its PIPELINE.

The pipeline config is compiled by dagspec from fixtures/{duckdb,postgres}/specs (see
``compiled_config``) and parsed by the runtime's contract, exactly as a generated DAG does.

The dbt project mirrors what the compiler generates: a source over the lake's Parquet partitions
(DuckDB) or over the raw schema (Postgres), a staging view, an incremental daily fact partitioned
by ``ds``, an error-severity singular test on staging and a warn-severity one on the fact.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from dagspec_runtime.contract import Pipeline, load_pipeline
from dagspec_runtime.lake import Lake
from dagspec_runtime.manifest import MANIFEST_NAME, MANIFEST_VERSION, dumps, partition_dir
from dagspec_runtime.spec import TableSpec

PROJECT = "fixture_pipeline"


_FILES = {
    "dbt_project.yml": """\
name: fixture_pipeline
version: "1.0.0"
config-version: 2
profile: fixture_pipeline
model-paths: ["models"]
test-paths: ["tests"]
models:
  fixture_pipeline:
    +materialized: view
""",
    "profiles.yml": """\
fixture_pipeline:
  target: duckdb
  outputs:
    duckdb:
      type: duckdb
      path: "{{ env_var('DAGSPEC_DUCKDB_PATH') }}"
      schema: "{{ env_var('DAGSPEC_AUDIT_SCHEMA') }}"
      threads: 1
    postgres:
      type: postgres
      host: "{{ env_var('DAGSPEC_PG_HOST') }}"
      port: "{{ env_var('DAGSPEC_PG_PORT') | as_number }}"
      user: "{{ env_var('DAGSPEC_PG_USER') }}"
      password: "{{ env_var('DAGSPEC_PG_PASSWORD') }}"
      dbname: "{{ env_var('DAGSPEC_PG_DBNAME') }}"
      schema: "{{ env_var('DAGSPEC_AUDIT_SCHEMA') }}"
      application_name: "{{ env_var('DAGSPEC_DBT_APPLICATION_NAME', 'dbt') }}"
      threads: 1
""",
    "models/sources.yml": """\
version: 2
sources:
  - name: app
    schema: "{{ env_var('DAGSPEC_RAW_SCHEMA', 'raw') }}"
    tables:
      - name: orders
        config:
          meta:
            external_location: >-
              read_parquet('{{ env_var('DAGSPEC_LAKE_URI') }}/raw/orders/ds=*/*.parquet',
              hive_partitioning = true)
""",
    "models/stg_orders.sql": """\
select id, amount, status, created_at, cast(ds as date) as ds
from {{ source('app', 'orders') }}
""",
    "models/fct_daily_metrics.sql": """\
{{ config(materialized='incremental', unique_key='ds', incremental_strategy='delete+insert') }}
select
    ds,
    count(*) as orders,
    sum(amount) as revenue,
    sum(amount) / count(*) as aov,
    avg(case when status = 'refunded' then 1.0 else 0.0 end) as refund_rate
from {{ ref('stg_orders') }}
{% if is_incremental() %}where ds = cast('{{ var("ds") }}' as date){% endif %}
group by ds
""",
    "models/schema.yml": """\
version: 2
models:
  - name: fct_daily_metrics
    columns:
      - name: ds
        data_tests: [not_null, unique]
""",
    "tests/assert_no_negative_amounts.sql": """\
select id, amount from {{ ref('stg_orders') }}
where ds = cast('{{ var("ds") }}' as date) and amount < 0
""",
    "tests/warn_few_orders.sql": """\
{{ config(severity='warn') }}
select ds, orders from {{ ref('fct_daily_metrics') }}
where ds = cast('{{ var("ds") }}' as date) and orders < 3
""",
}


def write_dbt_project(root: Path) -> Path:
    project = root / PROJECT
    for rel, text in _FILES.items():
        path = project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return project


def order_rows(
    day: date, amounts: Sequence[float | str], *, refunded: Iterable[int] = ()
) -> list[dict[str, Any]]:
    """Orders on ``day`` (noon UTC onwards), ids unique per day."""
    refunded = set(refunded)
    base = int(day.strftime("%Y%m%d")) * 1000
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    return [
        {
            "id": base + i,
            "amount": Decimal(str(a)),
            "status": "refunded" if i in refunded else "paid",
            "created_at": start + timedelta(minutes=i),
        }
        for i, a in enumerate(amounts)
    ]


def write_partition(lake: Lake, table: dict[str, Any], ds: str, rows: list[dict[str, Any]]) -> None:
    """Commit one partition as the extract lays it out (content-addressed parts + manifest), with
    no day record: a legacy day's partition (its manifest has no ``committed_by``), which readers
    take as committed through its own manifest."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    spec = TableSpec.parse(table)
    writer = lake.begin_partition(partition_dir(spec.name, ds), manifest_name=MANIFEST_NAME)
    local = os.path.join(writer.scratch_dir, ".part.inprogress")
    arrow = pa.Table.from_pylist(rows, schema=spec.arrow_schema())
    pq.write_table(arrow, local)
    entry = writer.add_file(local, "part-00000", ".parquet")
    manifest = {
        "format_version": MANIFEST_VERSION,
        "pipeline_id": "fixture",
        "table": spec.name,
        "source": f"{spec.schema}.{spec.name}",
        "ds": ds,
        "timezone": "UTC",
        "mode": spec.mode,
        "cursor_column": spec.cursor_column,
        "window": None,
        "primary_key": list(spec.primary_key),
        "columns": [{"name": c.name, "type": c.pg_type} for c in spec.columns],
        "rows": len(rows),
        "files": [{"path": entry.path, "rows": len(rows), "bytes": entry.bytes, "sha256": entry.sha256}],
    }
    writer.commit(dumps(manifest))


FIXTURES = Path(__file__).resolve().parent / "fixtures"


def compiled_config(warehouse: str = "duckdb") -> dict[str, Any]:
    """The fixture spec's config as the compiler emits it (fixtures/<warehouse>/config.json, kept
    current by test/contract/contract.test.ts from fixtures/<warehouse>/specs)."""
    return json.loads((FIXTURES / warehouse / "config.json").read_text())


# The fixture's one source table, as compiled.
(ORDERS,) = compiled_config()["source"]["tables"]


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in overrides.items():
        is_object = isinstance(value, Mapping) and isinstance(base.get(key), Mapping) and "kind" not in value
        out[key] = _merge(base[key], value) if is_object else value
    return out


def pipeline(*, warehouse: str = "duckdb", lake_path: str = "fixture_lake", **overrides: Any) -> Pipeline:
    """The compiled fixture pipeline, parsed by the runtime as a DAG's ``PIPELINE`` is.

    ``overrides`` replace fields of the config before parsing; nested objects merge
    (``alerts={"engineers": []}`` keeps the other alert fields), a lake or warehouse with a ``kind``
    replaces the whole object.
    """
    config = compiled_config(warehouse)
    config["lake"] = {"kind": "local", "path": lake_path}
    return load_pipeline(_merge(config, overrides))


class FakeTI:
    """The part of a TaskInstance the tasks use: XCom pulls from a dict, plus identity fields."""

    def __init__(self, xcoms: dict[str, Any] | None = None, task_id: str = "publish_report") -> None:
        self.xcoms = xcoms or {}
        self.task_id = task_id
        self.dag_id = "fixture_pipeline"
        self.run_id = "scheduled__2024-03-11T10:00:00+00:00"
        self.try_number = 1
        self.log_url = "http://airflow.local/log"
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value

    def xcom_pull(self, task_ids: str | None = None, key: str = "return_value", **_: Any) -> Any:
        return self.xcoms.get(task_ids or "")


def context_for(
    day: date,
    *,
    run_type: str = "scheduled",
    xcoms: dict[str, Any] | None = None,
    dag_fileloc: str | None = None,
    task_id: str = "publish_report",
) -> dict[str, Any]:
    """A task context whose report day (America/New_York, lag 1) is ``day``: logical date 07:00 next day."""
    logical = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(hours=11)
    ti = FakeTI(xcoms, task_id)
    return {
        "logical_date": logical,
        "dag_run": SimpleNamespace(
            run_type=run_type, run_id=ti.run_id, logical_date=logical, run_after=logical
        ),
        "ti": ti,
        "task_instance": ti,
        "run_id": ti.run_id,
        "dag": SimpleNamespace(dag_id="fixture_pipeline", fileloc=dag_fileloc or tempfile.gettempdir()),
    }
