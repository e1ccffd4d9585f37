"""The ``publish_report`` task: read the published report model, archive, deliver once.

Archive: ``<lake>/reports/<pipeline id>/ds=<day>/report.html`` and ``report.json``, on every run
(backfills included), so the archive always matches the published tables.

Delivery rules, in order:
1. Already delivered: ``_delivered.json`` in the day's report folder (written after a successful
   send) means a re-run or a later backfill of that day never emails again.
2. Backfill runs do not email unless ``report.email_backfills`` is true.
3. No recipients: nothing to send.
Delivery is at-least-once: if the marker cannot be written after a successful send, a retry sends
again (the task fails loudly rather than pretend). Two runs of one day racing each other could both
send; the scheduler does not start two runs of one logical date.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from dagspec_runtime.runinfo import is_backfill, run_day, run_type

if TYPE_CHECKING:
    from dagspec_runtime.contract import Pipeline

__all__ = ["DELIVERED_MARKER", "run_report"]

log = logging.getLogger(__name__)

DELIVERED_MARKER = "_delivered.json"


def run_report(
    pipeline: Pipeline, context: Mapping[str, Any], *, gate_summary: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    from dagspec_runtime.adapters import open_lake
    from dagspec_runtime.manifest import report_dir
    from dagspec_runtime.report import TREND_DAYS, build_report, report_json
    from dagspec_runtime.report_html import render_html

    spec = pipeline.report
    day = run_day(pipeline, context)
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
    html_bytes = html.encode()
    lake.write_bytes(f"{folder}/report.html", html_bytes)
    lake.write_bytes(f"{folder}/report.json", report_json(report))
    result: dict[str, Any] = {
        "ds": ds,
        "report": lake.url(f"{folder}/report.html"),
        "kpis": report["kpis"],
        "delivered": False,
    }

    marker = lake.read_json(f"{folder}/{DELIVERED_MARKER}")
    recipients = list(spec.recipients)
    if marker is not None:
        result["reason"] = f"already delivered (run {marker.get('run_id')}, {marker.get('delivered_at')})"
    elif is_backfill(context) and not spec.email_backfills:
        result["reason"] = "backfill run: email_backfills is off"
    elif not recipients:
        result["reason"] = "no recipients"
    else:
        _send(pipeline, subject, html, recipients, ds)
        lake.write_bytes(
            f"{folder}/{DELIVERED_MARKER}", _marker(context, ds, subject, recipients, html_bytes)
        )
        result.update(delivered=True, reason="sent", recipients=recipients)
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


def _send(pipeline: Pipeline, subject: str, html: str, recipients: list[str], ds: str) -> None:
    from dagspec_runtime.alerts import send_email

    headers = {"X-Dagspec-Pipeline": pipeline.id, "X-Dagspec-Report-Day": ds}
    send_email(pipeline.report.smtp_conn_id, recipients, subject, html, headers)


def _marker(context: Mapping[str, Any], ds: str, subject: str, recipients: list[str], html: bytes) -> bytes:
    from datetime import UTC

    ti = context.get("ti")
    body = {
        "ds": ds,
        "subject": subject,
        "recipients": recipients,
        "report_sha256": hashlib.sha256(html).hexdigest(),
        "run_id": getattr(ti, "run_id", None) or context.get("run_id"),
        "run_type": run_type(context),
        "delivered_at": datetime.now(UTC).isoformat(timespec="seconds"),  # the marker, not the report
    }
    return (json.dumps(body, sort_keys=True, indent=2) + "\n").encode()


def _resolve(pipeline: Pipeline, ds: str) -> None:
    from dagspec_runtime.alerts import resolve_incident

    try:
        resolve_incident(pipeline, ds)
    except Exception as exc:  # the report went out; a stale incident must not make the task retry
        log.error("report for %s delivered, but resolving its PagerDuty incident failed: %s", ds, exc)


def _freshness(lake: Any, pipeline: Pipeline, day: date) -> list[dict[str, Any]]:
    from dagspec_runtime.manifest import read_manifest

    def rows(table: str, d: date) -> int | None:
        try:
            return int(read_manifest(lake, table, d.isoformat())["rows"])
        except FileNotFoundError:
            return None

    out = []
    for table in sorted(t.name for t in pipeline.source.tables):
        out.append(
            {"table": table, "rows": rows(table, day), "previous_rows": rows(table, day - timedelta(days=1))}
        )
    return out


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
