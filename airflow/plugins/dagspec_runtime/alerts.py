"""Paging and alert email: task failures, missed delivery deadlines, and resolving the day's incident.

One PagerDuty incident per pipeline and report day: every event uses the dedup key
``<pipeline id>/<report day>``, so a failed task, a retry that fails again and a missed deadline
for the same day land on one incident, and the delivered report resolves it.

We POST Events API v2 JSON ourselves instead of using the provider's hook because the hook cannot
be pointed at another URL: the base URL is the PagerDuty connection's host (default
``https://events.pagerduty.com``), the routing key its password (or extra ``routing_key``). The
routing key is a secret: it goes into the request body and nowhere else, never into a log line or
an exception message.

This module is imported when a DAG file is parsed (``failure_alert(PIPELINE)``): heavy imports
stay inside functions.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import date
from html import escape
from typing import Any

from dagspec_runtime.days import report_day as compute_report_day
from dagspec_runtime.runinfo import is_backfill, logical_date, run_day, run_type

__all__ = [
    "PagerDutyError",
    "asend_event",
    "dedup_key",
    "failure_alert",
    "on_deadline_miss",
    "resolve_incident",
    "send_email",
    "send_event",
]

log = logging.getLogger(__name__)

DEFAULT_EVENTS_URL = "https://events.pagerduty.com"
_SEVERITIES = ("critical", "error", "warning", "info")
_ATTEMPTS = 4
_BACKOFF_SECONDS = 1.0
_TIMEOUT_SECONDS = 10.0


class PagerDutyError(RuntimeError):
    """The Events API refused the event, or could not be reached after retries."""


def dedup_key(pipeline_id: str, day: date | str) -> str:
    return f"{pipeline_id}/{day.isoformat() if isinstance(day, date) else day}"


# -- Events API v2 ---------------------------------------------------------------------------------


def _target(conn: Any) -> tuple[str, str]:
    """``(enqueue URL, routing key)`` from a PagerDuty connection."""
    extra = conn.extra_dejson or {}
    key = conn.password or extra.get("routing_key") or extra.get("integration_key")
    if not key:
        raise PagerDutyError(
            f"PagerDuty connection {conn.conn_id!r} has no routing key (password or extra 'routing_key')"
        )
    host = (conn.host or "").strip().rstrip("/")
    if not host:
        base = DEFAULT_EVENTS_URL
    elif "://" in host:
        base = host
    else:
        base = f"{extra.get('scheme') or 'https'}://{host}"
    if conn.port and base.count(":") < 2:  # only scheme's colon so far: the host carries no port
        base = f"{base}:{conn.port}"
    return f"{base}/v2/enqueue", str(key)


def _body(
    key: str,
    action: str,
    dedup: str,
    summary: str | None,
    severity: str,
    source: str,
    details: Mapping[str, Any] | None,
) -> dict[str, Any]:
    if action not in ("trigger", "acknowledge", "resolve"):
        raise ValueError(f"unknown event action {action!r}")
    body: dict[str, Any] = {"routing_key": key, "event_action": action, "dedup_key": dedup}
    if action == "trigger":
        if severity not in _SEVERITIES:
            raise ValueError(f"severity must be one of {_SEVERITIES}, got {severity!r}")
        body["payload"] = {
            "summary": (summary or dedup)[:1024],  # the API's limit
            "severity": severity,
            "source": source,
            # Exceptions and datetimes must not break the event: stringify what JSON cannot hold.
            "custom_details": json.loads(json.dumps(dict(details or {}), default=str)),
        }
    return body


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


def _outcome(status: int, text: str, key: str, url: str, action: str, dedup: str) -> dict[str, Any]:
    if status == 202:
        log.info("PagerDuty %s accepted for %s (%s)", action, dedup, url)
        try:
            return dict(json.loads(text))
        except ValueError:
            return {}
    # Error bodies do not echo the key today; scrub anyway before it reaches a log or exception.
    raise PagerDutyError(
        f"PagerDuty {action} for {dedup} refused by {url}: HTTP {status} {text[:300].replace(key, '***')}"
    )


def send_event(
    conn_id: str,
    *,
    action: str,
    dedup: str,
    summary: str | None = None,
    severity: str = "critical",
    source: str = "dagspec",
    details: Mapping[str, Any] | None = None,
    attempts: int = _ATTEMPTS,
    backoff: float | None = None,
) -> dict[str, Any]:
    """POST one event; retries connection errors, timeouts, 429 and 5xx with exponential backoff."""
    import httpx
    from airflow.sdk import BaseHook

    url, key = _target(BaseHook.get_connection(conn_id))
    backoff = _BACKOFF_SECONDS if backoff is None else backoff
    body = _body(key, action, dedup, summary, severity, source, details)
    last = ""
    for attempt in range(attempts):
        try:
            response = httpx.post(url, json=body, timeout=_TIMEOUT_SECONDS)
            if not _retryable(response.status_code):
                return _outcome(response.status_code, response.text, key, url, action, dedup)
            last = f"HTTP {response.status_code}"
        except httpx.TransportError as exc:
            last = f"{type(exc).__name__}: {exc}".replace(key, "***")
        if attempt + 1 < attempts:
            log.warning(
                "PagerDuty %s for %s: %s; retrying (%d/%d)", action, dedup, last, attempt + 1, attempts
            )
            time.sleep(backoff * 2**attempt)
    raise PagerDutyError(
        f"PagerDuty {action} for {dedup} failed after {attempts} attempt(s) at {url}: {last}"
    )


async def asend_event(
    conn_id: str,
    *,
    action: str,
    dedup: str,
    summary: str | None = None,
    severity: str = "critical",
    source: str = "dagspec",
    details: Mapping[str, Any] | None = None,
    attempts: int = _ATTEMPTS,
    backoff: float | None = None,
) -> dict[str, Any]:
    """``send_event`` for the triggerer's event loop (non-blocking I/O and connection lookup)."""
    import asyncio

    import httpx
    from airflow.sdk import BaseHook

    url, key = _target(await BaseHook.aget_connection(conn_id))
    backoff = _BACKOFF_SECONDS if backoff is None else backoff
    body = _body(key, action, dedup, summary, severity, source, details)
    last = ""
    async with httpx.AsyncClient(timeout=_TIMEOUT_SECONDS) as client:
        for attempt in range(attempts):
            try:
                response = await client.post(url, json=body)
                if not _retryable(response.status_code):
                    return _outcome(response.status_code, response.text, key, url, action, dedup)
                last = f"HTTP {response.status_code}"
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}".replace(key, "***")
            if attempt + 1 < attempts:
                log.warning(
                    "PagerDuty %s for %s: %s; retrying (%d/%d)", action, dedup, last, attempt + 1, attempts
                )
                await asyncio.sleep(backoff * 2**attempt)
    raise PagerDutyError(
        f"PagerDuty {action} for {dedup} failed after {attempts} attempt(s) at {url}: {last}"
    )


# -- task failures ---------------------------------------------------------------------------------


def failure_alert(pipeline: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], None]:
    """The tasks' ``on_failure_callback``: page (PagerDuty) and email the engineers; never raises."""

    def on_failure(context: Mapping[str, Any]) -> None:
        notify_failure(pipeline, context)

    on_failure.__name__ = f"dagspec_failure_alert_{pipeline['id']}"
    return on_failure


def _failure_facts(pipeline: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    ti = context.get("ti") or context.get("task_instance")
    exc = context.get("exception")
    try:
        day: str | None = run_day(pipeline, context).isoformat()
    except Exception:  # an alert about a run without dates still goes out
        day = None
    gate = getattr(exc, "gate_failures", None) or []
    return {
        "pipeline": pipeline["id"],
        "dag_id": getattr(ti, "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "run_id": getattr(ti, "run_id", None) or context.get("run_id"),
        "run_type": run_type(context),
        "ds": day,
        "try_number": getattr(ti, "try_number", None),
        "exception": f"{type(exc).__name__}: {exc}"[:4000] if exc is not None else None,
        "failing_tests": [
            {
                "test": g.get("node"),
                "status": g.get("status"),
                "failing_rows": g.get("failures"),
                "message": g.get("message"),
            }
            for g in gate
        ],
        "log_url": getattr(ti, "log_url", None),
        "spec_file": pipeline.get("spec_file"),
    }


def _failure_summary(facts: Mapping[str, Any]) -> str:
    head = f"{facts['pipeline']}: task {facts['task_id']} failed for ds={facts['ds']}"
    if facts["failing_tests"]:
        tests = ", ".join(
            f"{t['test']} ({t['failing_rows'] if t['failing_rows'] is not None else '?'} rows)"
            for t in facts["failing_tests"]
        )
        return f"{head}: quality gate failed: {tests}"
    exc = (facts["exception"] or "").splitlines()
    return f"{head}: {exc[0] if exc else 'no exception recorded'}"


def notify_failure(pipeline: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    """Send the failure page and email; returns what went out (each channel fails independently)."""
    alerts = pipeline.get("alerts") or {}
    facts = _failure_facts(pipeline, context)
    summary = _failure_summary(facts)
    outcome: dict[str, Any] = {"summary": summary, "pagerduty": None, "email": None}
    conn_id = alerts.get("pagerduty_conn_id")
    if conn_id:
        try:
            send_event(
                conn_id,
                action="trigger",
                dedup=dedup_key(pipeline["id"], facts["ds"] or "unknown-day"),
                summary=summary,
                severity=alerts.get("severity") or "critical",
                source=f"airflow/{facts['dag_id'] or pipeline['id']}",
                details=facts,
            )
            outcome["pagerduty"] = "sent"
        except Exception as exc:
            log.error("could not page for %s: %s", pipeline["id"], exc)
            outcome["pagerduty"] = f"failed: {exc}"
    engineers = list(alerts.get("engineers") or [])
    if engineers and alerts.get("smtp_conn_id"):
        try:
            send_email(
                alerts["smtp_conn_id"], engineers, f"[dagspec] {summary}"[:200], _failure_html(facts, summary)
            )
            outcome["email"] = "sent"
        except Exception as exc:
            log.error("could not email the engineers of %s: %s", pipeline["id"], exc)
            outcome["email"] = f"failed: {exc}"
    return outcome


def _failure_html(facts: Mapping[str, Any], summary: str) -> str:
    rows = "".join(
        f"<tr><th style='text-align:left;padding:4px 8px'>{escape(k)}</th>"
        f"<td style='padding:4px 8px'><code>{escape(str(v))}</code></td></tr>"
        for k, v in facts.items()
        if k not in ("failing_tests", "exception")
    )
    tests = "".join(
        f"<li><code>{escape(str(t['test']))}</code>: {escape(str(t['failing_rows']))} failing row(s)"
        f" ({escape(str(t['status']))})</li>"
        for t in facts["failing_tests"]
    )
    return (
        f"<html><body style='font-family:Helvetica,Arial,sans-serif'><h2>{escape(summary)}</h2>"
        + (f"<p>Failing tests:</p><ul>{tests}</ul>" if tests else "")
        + f"<table>{rows}</table><pre>{escape(str(facts['exception']))}</pre></body></html>"
    )


def send_email(
    conn_id: str, to: list[str], subject: str, html: str, headers: Mapping[str, str] | None = None
) -> None:
    """HTML email through the Airflow SMTP connection ``conn_id`` (SSL/STARTTLS as it configures)."""
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    with SmtpHook(smtp_conn_id=conn_id) as hook:
        hook.send_email_smtp(to=to, subject=subject, html_content=html, custom_headers=dict(headers or {}))


# -- deadlines and resolution ----------------------------------------------------------------------


async def on_deadline_miss(context: Mapping[str, Any] | None = None, **kwargs: Any) -> str:
    """AsyncCallback for a DAG's DeadlineAlert (runs in the triggerer).

    kwargs: ``pipeline_id``, ``stage`` ("at_risk" | "breach"), ``deliver_by``, ``timezone``,
    ``report_lag_days``, ``pagerduty_conn_id``, ``severity``. Quiet for backfill runs: a deadline
    measured from an old logical date has always passed.

    Returns what happened as a JSON string. Airflow stores the return value in ``callback.output``, a
    TEXT column (airflow/models/callback.py in 3.3.2): a dict fails that UPDATE ("can't adapt type
    'dict'" on PostgreSQL): the triggerer process exits and the callback stays "running".
    """
    return json.dumps(await _deadline_miss(context or {}, **kwargs), sort_keys=True)


async def _deadline_miss(context: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
    pipeline_id = kwargs["pipeline_id"]
    stage = kwargs.get("stage") or "breach"
    if is_backfill(context):
        log.info("%s: deadline %s for a backfill run: not paging", pipeline_id, stage)
        return {"paged": False, "reason": "backfill"}
    day = compute_report_day(logical_date(context), kwargs["timezone"], int(kwargs.get("report_lag_days", 1)))
    dag_run = context.get("dag_run") or {}
    deliver_by = kwargs.get("deliver_by")
    at = f"{deliver_by} {kwargs['timezone']}" if deliver_by else "its deadline"
    summary = (
        f"{pipeline_id}: report for {day} at risk: not delivered yet, due by {at}"
        if stage == "at_risk"
        else f"{pipeline_id}: report for {day} missed its delivery deadline ({at})"
    )
    conn_id = kwargs.get("pagerduty_conn_id")
    if not conn_id:
        log.warning("%s (no PagerDuty connection configured)", summary)
        return {"paged": False, "reason": "no pagerduty connection", "summary": summary}
    # The compiler chooses each stage's severity; without one, "at risk" is a warning.
    severity = kwargs.get("severity") or ("warning" if stage == "at_risk" else "critical")
    details = {
        "pipeline": pipeline_id,
        "ds": day.isoformat(),
        "stage": stage,
        "deliver_by": deliver_by,
        "timezone": kwargs["timezone"],
        "run_id": dag_run.get("dag_run_id") or dag_run.get("run_id"),
        "deadline": (context.get("deadline") or {}).get("deadline_time"),
    }
    await asend_event(
        conn_id,
        action="trigger",
        dedup=dedup_key(pipeline_id, day),
        summary=summary,
        severity=severity,
        source=f"airflow/{dag_run.get('dag_id') or pipeline_id}",
        details=details,
    )
    return {"paged": True, "dedup_key": dedup_key(pipeline_id, day), "summary": summary}


def resolve_incident(pipeline: Mapping[str, Any], report_day: date | str) -> bool:
    """Resolve the day's incident (if any) once its report is delivered; False when paging is off."""
    conn_id = (pipeline.get("alerts") or {}).get("pagerduty_conn_id")
    if not conn_id:
        return False
    send_event(conn_id, action="resolve", dedup=dedup_key(pipeline["id"], report_day))
    return True
