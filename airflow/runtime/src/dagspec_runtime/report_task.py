"""The ``publish_report`` task: read the published report model, archive, deliver once.

Archive: ``<lake>/reports/<pipeline id>/ds=<day>/report.html`` and ``report.json``, on every run
(backfills included), so the archive always matches the published tables.

Delivery (``dagspec_runtime.delivery``): a day is emailed once, and what was sent is kept under
``delivered/v<k>/``. A re-run whose numbers equal the delivered ones sends nothing; one whose numbers
differ is a correction, sent marked as one or alerted to the engineers as ``report.corrections``
says. A first delivery is not emailed for a backfill run unless ``report.email_backfills`` is true,
nor without recipients. Delivery is at most once: a send that was started and never confirmed
fails the task without retries instead of sending again (``delivery.UnconfirmedDelivery``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from dagspec_runtime.delivery import DELIVERED_MARKER
from dagspec_runtime.runinfo import is_backfill, run_day

if TYPE_CHECKING:
    from dagspec_runtime.contract import Pipeline
    from dagspec_runtime.gate import GateSummary

__all__ = ["DELIVERED_MARKER", "run_report"]

log = logging.getLogger(__name__)


def run_report(
    pipeline: Pipeline,
    context: Mapping[str, Any],
    *,
    gate_summary: GateSummary | None = None,
    day: date | None = None,
    backfill: bool | None = None,
) -> dict[str, Any]:
    """The report of the run's day, or of ``day`` when one run covers several (a one-pass
    backfill, which also says ``backfill=True``: its run is a manual one to Airflow)."""
    from dagspec_runtime.adapters import open_lake
    from dagspec_runtime.delivery import Built, UnconfirmedDelivery, adopt_legacy_marker, deliver
    from dagspec_runtime.manifest import report_dir
    from dagspec_runtime.report import TREND_DAYS, build_report, report_json
    from dagspec_runtime.report_html import render_html

    spec = pipeline.report
    day = day or run_day(pipeline, context)
    backfill = is_backfill(context) if backfill is None else backfill
    ds = day.isoformat()
    lake = open_lake(pipeline)
    folder = report_dir(pipeline, ds)
    rows = _read_model(pipeline, day - timedelta(days=TREND_DAYS - 1), day)
    if day not in rows:
        from airflow.sdk.exceptions import AirflowException

        raise AirflowException(
            f"{pipeline.warehouse.publish_schema}.{spec.model} has no row for "
            f"{spec.day_column} = {ds}: nothing to report (was publish_tables skipped?)"
        )
    gate = gate_summary or lake.read_json(f"{folder}/dbt/gate.json")
    report = build_report(
        pipeline,
        day,
        rows,
        freshness=_freshness(lake, pipeline, day),
        gate=gate,
        lineage={
            "spec_file": pipeline.spec_file,
            "spec_hash": pipeline.spec_hash,
            "dbt_project": pipeline.dbt.project,
            "gate_verdict": lake.url(f"{folder}/dbt/gate.json"),
        },
    )
    subject = spec.subject.replace("{ds}", ds)
    html = render_html(report, pipeline, subject)
    data = report_json(report)
    adopt_legacy_marker(lake, folder)  # before report.html is rewritten: it may be what was sent
    lake.write_bytes(f"{folder}/report.html", html.encode())
    lake.write_bytes(f"{folder}/report.json", data)
    result: dict[str, Any] = {"ds": ds, "report": lake.url(f"{folder}/report.html"), "kpis": report["kpis"]}

    def may_email() -> str | None:
        if backfill and not spec.email_backfills:
            return "backfill run: email_backfills is off"
        return None if spec.recipients else "no recipients"

    built = Built(ds=ds, subject=subject, html=html, json=data, kpis=json.loads(data)["kpis"])
    try:
        result.update(deliver(pipeline, context, lake, folder, built, may_email=may_email))
    except UnconfirmedDelivery as exc:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(str(exc)) from exc  # a retry would meet the same doubt
    if result["delivered"]:
        _resolve(pipeline, ds)
    log.info(
        "report for %s ds=%s archived at %s; delivered=%s (%s)",
        pipeline.id,
        ds,
        result["report"],
        result["delivered"],
        result["reason"],
    )
    return result


def _resolve(pipeline: Pipeline, ds: str) -> None:
    from dagspec_runtime.alerts import resolve_incident

    try:
        resolve_incident(pipeline, ds)
    except Exception as exc:  # the report went out; a stale incident must not make the task retry
        log.error("report for %s delivered, but resolving its PagerDuty incident failed: %s", ds, exc)


def _freshness(lake: Any, pipeline: Pipeline, day: date) -> list[dict[str, Any]]:
    from dagspec_runtime.manifest import read_manifest

    def manifest(table: str, d: date) -> dict[str, Any] | None:
        try:
            return read_manifest(lake, table, d.isoformat())
        except FileNotFoundError:
            return None

    out = []
    for table in sorted(pipeline.source.tables, key=lambda t: t.name):
        now, before = manifest(table.name, day), manifest(table.name, day - timedelta(days=1))
        out.append(
            {
                "table": table.name,
                "rows": None if now is None else int(now["rows"]),
                "previous_rows": None if before is None else int(before["rows"]),
                "taken": _how_taken(table.mode, table.cursor_column, now),
            }
        )
    return out


def _how_taken(mode: str, cursor: str | None, manifest: dict[str, Any] | None) -> str:
    """How the day's partition was taken, in words: from its manifest (what the extract did; a
    history table takes the whole table on its first day or after a gap), else from the spec."""
    if mode == "incremental":
        return f"incremental by {cursor}"
    if mode == "snapshot":
        return "snapshot (whole table)"
    if manifest is not None and manifest.get("taken") == "whole_table":
        return "whole table (history base)"
    return f"changed rows by {cursor}"


def _read_model(pipeline: Pipeline, first: date, last: date) -> dict[date, dict[str, Any]]:
    """``{day: {kpi column: value}}`` from the published report model, one row per day."""
    from dagspec_runtime.adapters import open_warehouse

    spec = pipeline.report
    warehouse = open_warehouse(pipeline)
    columns = [k.column for k in spec.kpis]
    with warehouse.shared(f"report {pipeline.id}"):
        fetched = warehouse.published_days(spec.model, spec.day_column, columns, first, last)
    out: dict[date, dict[str, Any]] = {}
    for row in fetched:
        d = row[0] if isinstance(row[0], date) else date.fromisoformat(str(row[0]))
        if d in out:
            raise ValueError(
                f"{spec.model} has more than one row for {spec.day_column} = {d}: "
                "the report model must have one row per day"
            )
        out[d] = dict(zip(columns, row[1:], strict=True))
    return out
