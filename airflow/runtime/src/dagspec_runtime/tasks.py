"""The pipeline's steps: one function per task, each ``(PIPELINE, context)``; the operators of
``dagspec_runtime.operators`` run them, and tests and the local history loader call them directly.

Generated DAG files import this module (through the operators) at parse time, so it imports nothing
heavy at module level; each step imports what it needs when it runs.

Task ids the functions rely on: ``publish_report`` pulls the gate summary from the XCom of the
task ``dbt_build`` (``DBT_BUILD_TASK_ID``); it falls back to the copy archived in the lake.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dagspec_runtime.gate import RUN_FIELDS
from dagspec_runtime.manifest import report_dir
from dagspec_runtime.runinfo import run_day, run_id_of

if TYPE_CHECKING:
    from dagspec_runtime.contract import Pipeline
    from dagspec_runtime.gate import GateSummary

__all__ = [
    "DBT_BUILD_TASK_ID",
    "build_gate",
    "dbt_build",
    "extract",
    "load_raw",
    "load_raw_day",
    "publish_day",
    "publish_report",
    "publish_tables",
    "report_dir",
]

log = logging.getLogger(__name__)

DBT_BUILD_TASK_ID = "dbt_build"


def extract(pipeline: Pipeline, context: Mapping[str, Any]) -> dict[str, Any]:
    from dagspec_runtime.adapters import lake_location
    from dagspec_runtime.extract import extract_tables

    uri, lake_conn = lake_location(pipeline)
    return extract_tables(
        pipeline_id=pipeline.id,
        source_conn_id=pipeline.source.conn_id,
        lake_uri=uri,
        lake_conn_id=lake_conn,
        ds=run_day(pipeline, context).isoformat(),
        timezone=pipeline.timezone,
        tables=pipeline.source.tables,
    )


def load_raw(pipeline: Pipeline, context: Mapping[str, Any]) -> dict[str, Any]:
    """Load the report day's lake partitions into the warehouse's raw schema (warehouses that
    cannot read the lake; the compiler adds this task only for them)."""
    return load_raw_day(pipeline, run_day(pipeline, context).isoformat())


def load_raw_day(pipeline: Pipeline, day: str) -> dict[str, Any]:
    from dagspec_runtime.adapters import lake_location, open_warehouse

    uri, lake_conn = lake_location(pipeline)
    return open_warehouse(pipeline).load_raw(
        lake_uri=uri, lake_conn_id=lake_conn, ds=day, tables=pipeline.source.tables
    )


def dbt_build(pipeline: Pipeline, context: Mapping[str, Any]) -> GateSummary:
    """The ``dbt_build`` task: ``build_gate`` for the run's report day."""
    dag = context.get("dag")
    return build_gate(
        pipeline,
        run_day(pipeline, context).isoformat(),
        run_id=run_id_of(context),
        dag_fileloc=getattr(dag, "fileloc", None),
    )


def build_gate(pipeline: Pipeline, day: str, *, run_id: str, dag_fileloc: str | None) -> GateSummary:
    """One ``dbt build`` into the audit schema; raises ``GateFailed`` when an error-severity test fails.

    Holds the warehouse lock for the whole build (DuckDB has one writer per file; Postgres builds
    into one shared audit schema), and the dbt lease, which the dbt process keeps until it exits
    (``dbt_runner``: dbt dies with this task, and a leftover one holds off the next build).
    Records the verdict in the gate record publish checks. Returns the gate summary (warn-level
    results included) for XCom.
    """
    import tempfile

    from dagspec_runtime import dbt_runner
    from dagspec_runtime.adapters import dbt_env, open_lake, open_warehouse
    from dagspec_runtime.settings import dbt_executable, dbt_project_dir

    project = dbt_project_dir(pipeline, dag_fileloc)
    env = dbt_env(pipeline)
    warehouse = open_warehouse(pipeline)
    failure: BaseException | None = None
    summary: GateSummary | None = None
    with tempfile.TemporaryDirectory(prefix=f"dagspec-dbt-{pipeline.id}-{day}-") as work_dir:
        with warehouse.exclusive(f"dbt build {pipeline.id} ds={day}"):
            # "building" until a verdict is recorded: a build killed half-way leaves the audit
            # schema unaudited, and publish refuses it.
            warehouse.record_gate(run_id=run_id, ds=day, status="building")
            # An incremental mart missing from the audit schema is built whole by this build (dbt's
            # first run of an incremental model), so every day it holds is audited by this gate.
            full_build = warehouse.missing_in_audit([m.name for m in pipeline.marts])
            # The lease outlives this task if dbt does: a dbt left by a killed task fences this one out.
            with warehouse.dbt_lease(f"dbt build {pipeline.id} ds={day}") as lease:
                result = dbt_runner.run_build(
                    dbt_bin=dbt_executable(pipeline),
                    project_dir=project,
                    target=pipeline.dbt.target,
                    ds=day,
                    work_dir=work_dir,
                    env=env,
                    lease=lease,
                )
            try:
                summary = dbt_runner.parse_results(result, ds=day)
            except Exception as exc:
                failure, summary = exc, getattr(exc, "summary", None)
            verdict = "failed" if failure else "passed"
            warehouse.record_gate(run_id=run_id, ds=day, status=verdict, invocation_id=_invocation(result))
        # Outside the lock: the next build need not wait for the upload.
        _archive_dbt(open_lake(pipeline), pipeline, day, result, summary)
    if failure is not None:
        raise failure
    assert summary is not None
    summary["full_build"] = full_build
    log.info("gate passed for ds=%s: %s; %d warning(s)", day, summary["counts"], len(summary["warnings"]))
    return summary


def _invocation(result: Any) -> str:
    return str(((result.run_results or {}).get("metadata") or {}).get("invocation_id") or "")


def _archive_dbt(lake: Any, pipeline: Pipeline, day: str, result: Any, summary: GateSummary | None) -> None:
    """Keep the gate's verdict with the report, and the run's dbt artefacts beside the run.

    ``reports/.../dbt/gate.json`` (in the lake) holds what was tested and what failed, and nothing
    that changes between two runs of the same data. dbt's ``run_results.json`` and
    ``manifest.json`` record one invocation (ids, timings, temporary paths), so they go to the run's
    artefacts folder (``settings.run_artifacts_dir``) outside the lake, named by the run.
    """
    from dagspec_runtime.settings import run_artifacts_dir

    if summary is not None:
        verdict = {k: v for k, v in summary.items() if k not in RUN_FIELDS}
        body = (json.dumps(verdict, sort_keys=True, indent=2) + "\n").encode()
        lake.write_bytes(f"{report_dir(pipeline, day)}/dbt/gate.json", body)
    folder = run_artifacts_dir(pipeline, day, _invocation(result) or "no-invocation")
    os.makedirs(folder, exist_ok=True)
    for name in ("run_results.json", "manifest.json"):
        path = os.path.join(result.target_dir, name)
        if os.path.exists(path):
            with open(path, "rb") as src, open(os.path.join(folder, name), "wb") as dst:
                dst.write(src.read())
    log.info("dbt artefacts of this build: %s", folder)


def publish_tables(pipeline: Pipeline, context: Mapping[str, Any]) -> dict[str, Any]:
    """Copy the audited marts of the report day into the publish schema, in one transaction."""
    built = _gate_summary(context)
    full = set(built.get("full_build") or []) if built else set()
    return publish_day(pipeline, run_day(pipeline, context).isoformat(), run_id=run_id_of(context), full=full)


def publish_day(pipeline: Pipeline, day: str, *, run_id: str, full: set[str]) -> dict[str, Any]:
    """Publish ``day``'s audited marts; the incremental ones in ``full`` whole (all their days)."""
    from dagspec_runtime.adapters import open_warehouse

    warehouse = open_warehouse(pipeline)
    with warehouse.exclusive(f"publish {pipeline.id} ds={day}"):
        return warehouse.publish(pipeline.marts, ds=day, run_id=run_id, full=full)


def publish_report(pipeline: Pipeline, context: Mapping[str, Any]) -> dict[str, Any]:
    """Build, archive and (unless a backfill or already delivered) email the day's report."""
    from dagspec_runtime.report_task import run_report

    return run_report(pipeline, context, gate_summary=_gate_summary(context))


def _gate_summary(context: Mapping[str, Any]) -> GateSummary | None:
    """This run's gate summary, from the XCom of ``dbt_build``."""
    ti = context.get("ti")
    return ti.xcom_pull(task_ids=DBT_BUILD_TASK_ID) if ti is not None else None
