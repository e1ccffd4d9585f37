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
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from dagspec_runtime.gate import RUN_FIELDS
from dagspec_runtime.manifest import report_dir
from dagspec_runtime.runinfo import run_day, run_id_of

if TYPE_CHECKING:
    from dagspec_runtime.contract import Pipeline
    from dagspec_runtime.dbt_runner import BuildResult
    from dagspec_runtime.gate import GateSummary

__all__ = [
    "DBT_BUILD_TASK_ID",
    "build_gate",
    "build_range_gate",
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

    Records the verdict in the gate record publish checks (``_gated_build``). Returns the gate
    summary (warn-level results included) for XCom.
    """
    from dagspec_runtime import dbt_runner

    def judge(result: BuildResult) -> tuple[dict[str, GateSummary], Exception | None]:
        try:
            return {day: dbt_runner.parse_results(result, ds=day)}, None
        except Exception as exc:
            summary = getattr(exc, "summary", None)  # a failed gate's summary is archived too
            return ({day: summary} if summary is not None else {}), exc

    summaries, failure, full_build = _gated_build(
        pipeline, [day], run_id=run_id, dag_fileloc=dag_fileloc, judge=judge
    )
    if failure is not None:
        raise failure
    summary = summaries[day]
    summary["full_build"] = full_build
    log.info("gate passed for ds=%s: %s; %d warning(s)", day, summary["counts"], len(summary["warnings"]))
    return summary


def build_range_gate(
    pipeline: Pipeline, days: Sequence[str], *, run_id: str, dag_fileloc: str | None
) -> dict[str, GateSummary] | None:
    """One ``dbt build`` gating every day of ``days`` (ascending, contiguous) in a range-capable
    project (``Dbt.range_build``); returns each day's gate summary, or ``None`` when the build was
    not clean.

    Clean (every node passed, no warning, nothing skipped; ``dbt_runner.parse_range_results``):
    every day is recorded ``passed`` and its ``gate.json`` archived as its own passing build would
    archive it. Otherwise no result says which day failed or warned, so every day is recorded
    ``failed`` and the caller gates the days one by one, each with its own exact verdict. A dbt
    that ran no node at all raises, as ``build_gate`` does: it would die on each day too.
    """
    from datetime import date, timedelta

    from dagspec_runtime import dbt_runner

    first = date.fromisoformat(days[0]) if days else None
    if first is None or [date.fromisoformat(d) for d in days] != [
        first + timedelta(i) for i in range(len(days))
    ]:
        raise ValueError(f"a range build takes consecutive days in order, got {list(days)}")

    def judge(result: BuildResult) -> tuple[dict[str, GateSummary], Exception | None]:
        try:
            return dbt_runner.parse_range_results(result, days=days), None
        except Exception as exc:
            return {}, exc

    summaries, failure, full_build = _gated_build(
        pipeline, days, run_id=run_id, dag_fileloc=dag_fileloc, judge=judge
    )
    if isinstance(failure, dbt_runner.RangeNotClean):
        log.warning("%s; gating the %d day(s) one by one, each by its own build", failure, len(days))
        return None
    if failure is not None:
        raise failure
    for summary in summaries.values():
        summary["full_build"] = full_build
    log.info("gate passed for ds=%s..%s: %s", days[0], days[-1], summaries[days[-1]]["counts"])
    return summaries


def _gated_build(
    pipeline: Pipeline,
    days: Sequence[str],
    *,
    run_id: str,
    dag_fileloc: str | None,
    judge: Callable[[BuildResult], tuple[dict[str, GateSummary], Exception | None]],
) -> tuple[dict[str, GateSummary], Exception | None, list[str]]:
    """One ``dbt build`` of ``days`` (one day, or a range: ``first_day`` = ``days[0]``, ``ds`` =
    ``days[-1]``), its verdict in the gate record of every day, its summaries archived.

    Holds the warehouse lock for the whole build (DuckDB has one writer per file; Postgres builds
    into one shared audit schema), and the dbt lease, which the dbt process keeps until it exits
    (``dbt_runner``: dbt dies with this task, and a leftover one holds off the next build).
    ``judge`` turns the build's results into the summaries to archive (by day) and the failure, if
    any: every day is recorded ``failed`` with one, ``passed`` without. Returns those and the marts
    the build made whole.
    """
    import tempfile

    from dagspec_runtime import dbt_runner
    from dagspec_runtime.adapters import dbt_env, open_lake, open_warehouse
    from dagspec_runtime.settings import dbt_executable, dbt_project_dir

    span = days[0] if len(days) == 1 else f"{days[0]}..{days[-1]}"
    project = dbt_project_dir(pipeline, dag_fileloc)
    env = dbt_env(pipeline)
    warehouse = open_warehouse(pipeline)
    with tempfile.TemporaryDirectory(prefix=f"dagspec-dbt-{pipeline.id}-{days[-1]}-") as work_dir:
        with warehouse.exclusive(f"dbt build {pipeline.id} ds={span}"):
            # "building" until a verdict is recorded: a build killed half-way leaves the audit
            # schema unaudited, and publish refuses it.
            for day in days:
                warehouse.record_gate(run_id=run_id, ds=day, status="building")
            # An incremental mart missing from the audit schema is built whole by this build (dbt's
            # first run of an incremental model), so every day it holds is audited by this gate.
            full_build = warehouse.missing_in_audit([m.name for m in pipeline.marts])
            # The lease outlives this task if dbt does: a dbt left by a killed task fences this one out.
            with warehouse.dbt_lease(f"dbt build {pipeline.id} ds={span}") as lease:
                result = dbt_runner.run_build(
                    dbt_bin=dbt_executable(pipeline),
                    project_dir=project,
                    target=pipeline.dbt.target,
                    ds=days[-1],
                    first_day=days[0] if len(days) > 1 else None,
                    work_dir=work_dir,
                    env=env,
                    lease=lease,
                )
            summaries, failure = judge(result)
            verdict = "failed" if failure is not None else "passed"
            for day in days:
                warehouse.record_gate(
                    run_id=run_id, ds=day, status=verdict, invocation_id=_invocation(result)
                )
        # Outside the lock: the next build need not wait for the upload.
        lake = open_lake(pipeline)
        for day, summary in summaries.items():
            _archive_gate(lake, pipeline, day, summary)
        _archive_artefacts(pipeline, span, result)
    return summaries, failure, full_build


def _invocation(result: Any) -> str:
    return str(((result.run_results or {}).get("metadata") or {}).get("invocation_id") or "")


def _archive_gate(lake: Any, pipeline: Pipeline, day: str, summary: GateSummary) -> None:
    """Keep the gate's verdict with the report: ``reports/.../dbt/gate.json`` (in the lake) holds
    what was tested and what failed, and nothing that changes between two runs of the same data."""
    verdict = {k: v for k, v in summary.items() if k not in RUN_FIELDS}
    body = (json.dumps(verdict, sort_keys=True, indent=2) + "\n").encode()
    lake.write_bytes(f"{report_dir(pipeline, day)}/dbt/gate.json", body)


def _archive_artefacts(pipeline: Pipeline, span: str, result: Any) -> None:
    """Keep the build's dbt artefacts beside the run: ``run_results.json`` and ``manifest.json``
    record one invocation (ids, timings, temporary paths), so they go to the run's artefacts folder
    (``settings.run_artifacts_dir``: ``ds=<day>`` or, for a range, ``ds=<first>..<last>``) outside
    the lake, named by the invocation."""
    from dagspec_runtime.settings import run_artifacts_dir

    folder = run_artifacts_dir(pipeline, span, _invocation(result) or "no-invocation")
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
