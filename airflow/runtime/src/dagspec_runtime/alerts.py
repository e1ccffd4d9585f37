"""Paging and alert email: task failures, missed delivery deadlines, and resolving the day's incident.

Both channels go out at the same time, each with its own bounded retries: an outage of one never
delays or loses the other. The emails' HTML comes from ``dagspec_runtime.alert_render``.

One PagerDuty incident per pipeline and report day: every event uses the dedup key
``<pipeline id>/<report day>``, so a failed task, a retry that fails again and a missed deadline
for the same day land on one incident, and the delivered report resolves it.

Events go out through ``dagspec_runtime.pagerduty`` (Events API v2, base URL from the connection).

Who alerts about a failed task (Airflow 3.3, read from its source):

- The task raised: the task process runs the tasks' ``on_failure_callback`` (``failure_alert``) and
  it pages and emails, then records that in the task's XCom ``dagspec_alert``.
- Only the task process was killed (SIGKILL, out of memory) under a living supervisor: on the last
  try the supervisor reports it FAILED from the exit code (supervisor.py ``final_state``, ``finish``)
  and no callback runs anywhere. (With a retry left it reports nothing, UP_FOR_RETRY being a state
  it sends only on the task's request; the scheduler then fails the try from the executor's event
  and asks for the task's ``on_retry_callback``.)
- The worker (supervisor and task) was killed: the scheduler's task-instance heartbeat timeout fails
  the try and asks the DAG processor to run the task's ``on_failure_callback``, once from the timeout
  and once more from the executor's event, with a context that has no ``exception``.

``failure_alert`` therefore alerts only when called by the task runner (its context has an
``exception`` key), and the DAG's ``on_failure_callback`` (``run_failure_alert``, run by the DAG
processor once the run has failed, whatever killed the task) alerts for the failed tasks that have
no ``dagspec_alert`` record: one page and one email per failed run either way.

This module is imported when a DAG file is parsed (``failure_alert(PIPELINE)``): heavy imports
stay inside functions.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from dagspec_runtime.contract import load_deadline_kwargs
from dagspec_runtime.days import report_day as compute_report_day
from dagspec_runtime.pagerduty import PagerDutyError, asend_event, dedup_key, send_event
from dagspec_runtime.runinfo import is_backfill, logical_date, run_day, run_type

if TYPE_CHECKING:
    from dagspec_runtime.contract import Pipeline

__all__ = [
    "PagerDutyError",
    "asend_event",
    "ALERT_XCOM_KEY",
    "dedup_key",
    "failure_alert",
    "holding_up",
    "notify_engineers",
    "notify_failure",
    "notify_unalerted_failures",
    "on_deadline_miss",
    "resolve_incident",
    "run_failure_alert",
    "run_url",
    "send_alert_email",
    "send_event",
]

log = logging.getLogger(__name__)

# The engineers' email: a few quick tries, bounded in time (the page goes out meanwhile).
_EMAIL_ATTEMPTS = 3
_EMAIL_BACKOFF_SECONDS = 1.0
_EMAIL_BUDGET_SECONDS = 30.0

# -- task failures ---------------------------------------------------------------------------------


# The XCom a failed try's own alert leaves on its task instance (cleared when the task is tried again).
ALERT_XCOM_KEY = "dagspec_alert"


def failure_alert(pipeline: Pipeline) -> Callable[[Mapping[str, Any]], None]:
    """The tasks' ``on_failure_callback``: page (PagerDuty) and email the engineers; never raises.

    In the task process (the task runner puts ``exception`` into the context before the callback,
    task_runner.py ``finalize``) it alerts and records the outcome in the XCom ``dagspec_alert``.
    Run by the DAG processor for a try the scheduler failed from outside (heartbeat timeout: the
    worker was killed), the context has no ``exception`` and Airflow asks twice: it leaves the alert
    to the DAG's ``run_failure_alert``, which sends it once.
    """

    def on_failure(context: Mapping[str, Any]) -> None:
        if "exception" not in context:
            ti = context.get("ti") or context.get("task_instance")
            log.warning(
                "%s: task %s was failed from outside its process (worker lost); the run's failure"
                " callback alerts",
                pipeline.id,
                getattr(ti, "task_id", None),
            )
            return
        outcome = notify_failure(pipeline, context)
        _record_alert(context, outcome)

    on_failure.__name__ = f"dagspec_failure_alert_{pipeline.id}"
    return on_failure


def _record_alert(context: Mapping[str, Any], outcome: Mapping[str, Any]) -> None:
    """Leave the try's alert outcome in its XCom, for the run's failure callback; never raises."""
    ti = context.get("ti") or context.get("task_instance")
    try:
        ti.xcom_push(  # type: ignore[union-attr]
            key=ALERT_XCOM_KEY,
            value={"pagerduty": outcome.get("pagerduty"), "email": outcome.get("email")},
        )
    except Exception as exc:  # the run's callback then alerts again: a duplicate beats a loss
        log.warning("could not record the failure alert in XCom: %s", exc)


def run_failure_alert(pipeline: Pipeline) -> Callable[[Mapping[str, Any]], None]:
    """The DAG's ``on_failure_callback``: alert for failed tasks whose own alert did not go out.

    Airflow runs it in the DAG processor when a run fails (the scheduler's DagCallbackRequest),
    whatever failed the task: a killed task process or worker ran no task callback. Never raises.
    """

    def on_run_failure(context: Mapping[str, Any]) -> None:
        try:
            notify_unalerted_failures(pipeline, context)
        except Exception:  # a callback must not raise; say why nothing went out
            log.exception("%s: the run failure alert failed", pipeline.id)

    on_run_failure.__name__ = f"dagspec_run_failure_alert_{pipeline.id}"
    return on_run_failure


def _failed_task_records(dag_id: str, run_id: str) -> dict[str, Any]:
    """``{task_id: its dagspec_alert XCom or None}`` of the run's failed tasks.

    Asked of the Execution API through the DAG processor's supervisor (``GetTaskStates``,
    ``GetXCom``). ``airflow dags test`` runs the DAG's callbacks in its own process, which has no
    supervisor but the metadata database (dagrun.py ``execute_dag_callbacks``): read from there.
    """
    from airflow.sdk.execution_time import task_runner

    if getattr(task_runner, "SUPERVISOR_COMMS", None) is None:
        return _failed_task_records_from_db(dag_id, run_id)
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance
    from airflow.sdk.execution_time.xcom import XCom

    states = RuntimeTaskInstance.get_task_states(dag_id=dag_id, run_ids=[run_id]).get(run_id) or {}
    failed = sorted(t for t, s in states.items() if str(getattr(s, "value", s)) == "failed")
    return {
        t: XCom.get_one(key=ALERT_XCOM_KEY, dag_id=dag_id, task_id=t, run_id=run_id, map_index=-1)
        for t in failed
    }


def _failed_task_records_from_db(dag_id: str, run_id: str) -> dict[str, Any]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        failed = session.scalars(
            select(TaskInstance.task_id).where(
                TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id, TaskInstance.state == "failed"
            )
        ).all()
        recorded = set(
            session.scalars(
                select(XComModel.task_id).where(
                    XComModel.dag_id == dag_id, XComModel.run_id == run_id, XComModel.key == ALERT_XCOM_KEY
                )
            ).all()
        )
    return {t: ({"recorded": True} if t in recorded else None) for t in sorted(failed)}


def notify_unalerted_failures(pipeline: Pipeline, context: Mapping[str, Any]) -> dict[str, Any] | None:
    """Page and email for the run's failed tasks that left no ``dagspec_alert`` record; else nothing.

    If the records cannot be read, it alerts anyway (a duplicate alert beats a lost one).
    """
    from dagspec_runtime.alert_render import failure_html

    dag = context.get("dag")
    dag_id = getattr(dag, "dag_id", None) or pipeline.id
    run_id = str(context.get("run_id") or getattr(context.get("dag_run"), "run_id", "") or "")
    lookup_error = None
    try:
        records = _failed_task_records(dag_id, run_id)
    except Exception as exc:
        lookup_error = f"{type(exc).__name__}: {exc}"[:300]
        log.warning("%s: could not read the failed tasks of %s: %s", pipeline.id, run_id, lookup_error)
        records = {}
    silent = [t for t, record in records.items() if record is None]
    if records and not silent:
        log.info("%s: run %s failed; every failed task alerted itself", pipeline.id, run_id)
        return None
    if not records and lookup_error is None:
        log.info("%s: run %s failed with no failed task (%s)", pipeline.id, run_id, context.get("reason"))
        return None
    try:
        day: str | None = run_day(pipeline, context).isoformat()
    except Exception:
        day = None
    tasks = ", ".join(silent) or "unknown task"
    summary = (
        f"{pipeline.id}: task {tasks} failed for ds={day} without its own alert: its process or"
        " worker was killed (SIGKILL, out of memory, heartbeat timeout)"
    )
    facts = {
        "pipeline": pipeline.id,
        "dag_id": dag_id,
        "task_id": tasks,
        "run_id": run_id,
        "run_type": run_type(context),
        "ds": day,
        "try_number": None,
        "exception": lookup_error or f"the run failed ({context.get('reason')}); the task ran no callback",
        "failing_tests": [],
        "log_url": run_url(dag_id, run_id, silent[0] if len(silent) == 1 else None) if run_id else None,
        "spec_file": pipeline.spec_file,
    }
    return notify_engineers(
        pipeline,
        summary=summary,
        dedup=dedup_key(pipeline.id, day or "unknown-day"),
        severity=pipeline.alerts.severity,
        details=facts,
        html=lambda: failure_html(facts, summary),
        source=f"airflow/{dag_id}",
    )


def _failure_facts(pipeline: Pipeline, context: Mapping[str, Any]) -> dict[str, Any]:
    ti = context.get("ti") or context.get("task_instance")
    exc = context.get("exception")
    # A run of several report days (a one-pass backfill) names the days that failed.
    day: str | None = getattr(exc, "report_days", None)
    try:
        day = day or run_day(pipeline, context).isoformat()
    except Exception:  # an alert about a run without dates still goes out
        day = None
    gate = getattr(exc, "gate_failures", None) or []
    return {
        "pipeline": pipeline.id,
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
        "spec_file": pipeline.spec_file,
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


def notify_failure(pipeline: Pipeline, context: Mapping[str, Any]) -> dict[str, Any]:
    """Send the failure page and email at once; returns what went out (each channel on its own)."""
    from dagspec_runtime.alert_render import failure_html

    facts = _failure_facts(pipeline, context)
    summary = _failure_summary(facts)
    return notify_engineers(
        pipeline,
        summary=summary,
        dedup=dedup_key(pipeline.id, facts["ds"] or "unknown-day"),
        severity=pipeline.alerts.severity,
        details=facts,
        html=lambda: failure_html(facts, summary),
        source=f"airflow/{facts['dag_id'] or pipeline.id}",
    )


def notify_engineers(
    pipeline: Pipeline,
    *,
    summary: str,
    dedup: str,
    severity: str,
    details: Mapping[str, Any],
    html: Callable[[], str],
    source: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Page PagerDuty and email the engineers concurrently; never raises.

    Neither channel waits for the other: each runs in its own thread with its own bounded retries,
    so a PagerDuty that never answers cannot delay the email, and an SMTP outage cannot delay or
    stop the page. The email goes through the engineers' own SMTP connection (``sla.smtpConnId``
    in the spec; the report's by default). Returns ``{"summary", "pagerduty", "email"}``, each
    channel ``None`` (not configured), ``"sent"`` or ``"failed: <reason>"``. ``html`` renders the
    email's body in the email's thread, so not even a rendering error can hold up the page.
    """
    alerts = pipeline.alerts
    jobs: dict[str, Callable[[], Any]] = {}
    if alerts.pagerduty_conn_id:
        conn_id = alerts.pagerduty_conn_id
        jobs["pagerduty"] = lambda: send_event(
            conn_id,
            action="trigger",
            dedup=dedup,
            summary=summary,
            severity=severity,
            source=source or f"airflow/{pipeline.id}",
            details=details,
        )
    if alerts.engineers:
        jobs["email"] = lambda: send_alert_email(
            alerts.smtp_conn_id, list(alerts.engineers), f"[dagspec] {summary}"[:200], html(), headers
        )
    outcome: dict[str, Any] = {"summary": summary, "pagerduty": None, "email": None}
    if not jobs:
        log.warning("%s (no PagerDuty connection and no engineers configured)", summary)
        return outcome
    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="dagspec-alert") as pool:
        running = {name: pool.submit(job) for name, job in jobs.items()}
        for name, future in running.items():
            try:
                future.result()
                outcome[name] = "sent"
            except Exception as exc:
                log.error("%s: could not send the %s alert: %s", pipeline.id, name, exc)
                outcome[name] = f"failed: {exc}"
    return outcome


# An SMTP failure worth another try: the relay unreachable or dropping us, or a 4xx answer.
def _smtp_transient(exc: BaseException) -> bool:
    import smtplib

    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    # SmtpHook wraps "could not connect" in AirflowException; sockets raise OSError (refused, timeout).
    return isinstance(exc, (OSError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError)) or (
        type(exc).__name__ == "AirflowException" and "connect" in str(exc)
    )


def send_alert_email(
    conn_id: str,
    to: list[str],
    subject: str,
    html: str,
    headers: Mapping[str, str] | None = None,
    *,
    attempts: int = _EMAIL_ATTEMPTS,
    backoff: float | None = None,
) -> None:
    """``dagspec_runtime.mail.send_email`` with bounded retries (tenacity) on transient SMTP failures.

    For alerts only: a duplicate alert is better than a lost one. The report email is sent once,
    without these retries (``dagspec_runtime.report_task``).
    """
    from tenacity import (
        Retrying,
        retry_if_exception,
        stop_after_attempt,
        stop_after_delay,
        wait_exponential,
    )

    retrying = Retrying(
        stop=stop_after_attempt(max(1, attempts)) | stop_after_delay(_EMAIL_BUDGET_SECONDS),
        wait=wait_exponential(multiplier=_EMAIL_BACKOFF_SECONDS if backoff is None else backoff, max=8),
        retry=retry_if_exception(_smtp_transient),
        reraise=True,
        before_sleep=lambda state: log.warning(
            "alert email via %s: %s; retrying (attempt %d)",
            conn_id,
            state.outcome.exception(),
            state.attempt_number,
        ),
    )
    from dagspec_runtime.mail import send_email

    retrying(send_email, conn_id, to, subject, html, headers)


# -- deadlines and resolution ----------------------------------------------------------------------


async def on_deadline_miss(context: Mapping[str, Any] | None = None, **kwargs: Any) -> str:
    """AsyncCallback for a DAG's DeadlineAlert (runs in the triggerer).

    kwargs: the contract's ``DeadlineKwargs`` (``pipeline_id``, ``stage`` "at_risk" | "breach",
    ``deliver_by``, ``timezone``, ``report_lag_days``, ``pagerduty_conn_id``, ``severity``,
    ``task_order``: the DAG's task ids, upstream first, to rank ties), every one required. Quiet for
    backfill runs: a deadline measured from an old logical date has always passed.

    ``context`` is what the scheduler put into the callback (``Deadline.handle_miss`` in 3.3.2): the
    run as the REST API's DAGRunResponse JSON and the deadline; no task instances. The page names
    the run, its UI link and the tasks holding it up (asked of the Execution API: the triggerer
    has no database access).

    Returns what happened as a JSON string. Airflow stores the return value in ``callback.output``, a
    TEXT column (airflow/models/callback.py in 3.3.2): a dict fails that UPDATE ("can't adapt type
    'dict'" on PostgreSQL): the triggerer process exits and the callback stays "running".
    """
    return json.dumps(await _deadline_miss(context or {}, **kwargs), sort_keys=True)


# What a task's state says about a run that is late. Done: nothing left to do. The others, most
# telling first: a task at work (or waiting on something outside Airflow, like the source sensor),
# one that failed, one about to run; ``None`` (not scheduled yet) only waits for its upstream.
# Ties in state go to the earliest task of ``task_order``, which the compiler passes in the
# callback's kwargs (the DAG's tasks, upstream first); without it, ties go by task id.
_DONE_STATES = frozenset({"success", "skipped", "removed"})
_HOLDING_ORDER = (
    "running",
    "up_for_reschedule",
    "deferred",
    "awaiting_input",
    "up_for_retry",
    "restarting",
    "failed",
    "upstream_failed",
    "queued",
    "scheduled",
)


def ui_base_url() -> str:
    """The Airflow UI address: `[api] base_url` (AIRFLOW__API__BASE_URL), as Airflow builds its links."""
    from airflow.sdk.configuration import conf

    return str(conf.get("api", "base_url", fallback="http://localhost:8080/") or "http://localhost:8080/")


def run_url(dag_id: str, run_id: str, task_id: str | None = None, base: str | None = None) -> str:
    """The run's page in the Airflow 3 UI (route ``dags/:dagId/runs/:runId[/tasks/:taskId]``)."""
    url = f"{(base if base is not None else ui_base_url()).rstrip('/')}/dags/{dag_id}/runs/{quote(run_id)}"
    return f"{url}/tasks/{task_id}" if task_id else url


def holding_up(
    states: Mapping[str, str | None], order: Sequence[str] | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """``(tasks holding the run up, tasks not started yet)`` from ``{task_id: state}``.

    Holding it up: every task that is neither done nor unscheduled, the most telling state first
    (``_HOLDING_ORDER``), then in ``order`` (the DAG's task order, when known), then by id. When no
    task has started, the first unscheduled one is what the run waits for.
    """
    position = {t: i for i, t in enumerate(order or ())}

    def rank(item: tuple[str, str | None]) -> tuple[int, int, str]:
        task_id, state = item
        by_state = _HOLDING_ORDER.index(state) if state in _HOLDING_ORDER else len(_HOLDING_ORDER)
        return by_state, position.get(task_id, len(position)), task_id

    pending = [(t, None if s is None else str(s)) for t, s in states.items()]
    active = sorted(((t, s) for t, s in pending if s is not None and s not in _DONE_STATES), key=rank)
    waiting = [t for t, _ in sorted(((t, s) for t, s in pending if s is None), key=rank)]
    if not active and waiting:
        active, waiting = [(waiting[0], None)], waiting[1:]
    return [{"task_id": t, "state": s} for t, s in active], waiting


async def _task_states(dag_id: str, run_id: str) -> dict[str, str | None]:
    """The run's task states, asked of the Execution API through the triggerer's supervisor.

    The triggerer's runner process has no metadata-database access (Airflow 3 runs triggers in a
    client process) and holds no REST API credentials; ``RuntimeTaskInstance.get_task_states`` is the
    call Airflow's own triggers use (``GetTaskStates``, served by the supervisor).
    """
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance
    from asgiref.sync import sync_to_async

    by_run = await sync_to_async(RuntimeTaskInstance.get_task_states)(dag_id=dag_id, run_ids=[run_id])
    return {
        str(t): (None if s is None else str(getattr(s, "value", s)))
        for t, s in (by_run.get(run_id) or {}).items()
    }


async def _run_facts(dag_id: str, run_id: str | None, order: Sequence[str] | None) -> dict[str, Any]:
    """Run id, UI link and the tasks holding the run up; what cannot be learned is said, not raised."""
    if not run_id:
        return {"run_id": None, "run_url": None, "holding_up": None, "not_started": None}
    facts: dict[str, Any] = {"run_id": run_id, "run_url": run_url(dag_id, run_id)}
    try:
        states = await _task_states(dag_id, run_id)
    except Exception as exc:  # the page matters more than its details
        log.warning("%s: could not read the task states of %s: %s", dag_id, run_id, exc)
        facts.update(
            holding_up=None, not_started=None, task_states_error=f"{type(exc).__name__}: {exc}"[:300]
        )
        return facts
    active, waiting = holding_up(states, order)
    for task in active:
        task["url"] = run_url(dag_id, run_id, task["task_id"])
    facts.update(holding_up=active, not_started=waiting)
    return facts


async def _deadline_miss(context: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
    # The compiler writes every field (the contract's DeadlineKwargs): nothing is defaulted here.
    k = load_deadline_kwargs(kwargs)
    pipeline_id, stage = k.pipeline_id, k.stage
    if is_backfill(context):
        log.info("%s: deadline %s for a backfill run: not paging", pipeline_id, stage)
        return {"paged": False, "reason": "backfill"}
    day = compute_report_day(logical_date(context), k.timezone, k.report_lag_days)
    dag_run = context.get("dag_run") or {}
    dag_id = dag_run.get("dag_id") or pipeline_id
    deliver_by = k.deliver_by
    at = f"{deliver_by} {k.timezone}"
    summary = (
        f"{pipeline_id}: report for {day} at risk: not delivered yet, due by {at}"
        if stage == "at_risk"
        else f"{pipeline_id}: report for {day} missed its delivery deadline ({at})"
    )
    conn_id = k.pagerduty_conn_id
    run = await _run_facts(dag_id, dag_run.get("dag_run_id") or dag_run.get("run_id"), k.task_order)
    if run["holding_up"]:
        held = ", ".join(f"{t['task_id']} ({t['state'] or 'not started'})" for t in run["holding_up"])
        summary = f"{summary}; held up by {held}"
    severity = k.severity  # the compiler chooses each stage's ("at risk" is a warning)
    details = {
        "pipeline": pipeline_id,
        "dag_id": dag_id,
        "ds": day.isoformat(),
        "stage": stage,
        "deliver_by": deliver_by,
        "timezone": k.timezone,
        "deadline": (context.get("deadline") or {}).get("deadline_time"),
        "run_state": dag_run.get("state"),
        **run,
    }
    await asend_event(
        conn_id,
        action="trigger",
        dedup=dedup_key(pipeline_id, day),
        summary=summary,
        severity=severity,
        source=f"airflow/{dag_id}",
        details=details,
    )
    return {
        "paged": True,
        "dedup_key": dedup_key(pipeline_id, day),
        "summary": summary,
        "run_url": run["run_url"],
        "holding_up": [t["task_id"] for t in run["holding_up"] or []],
    }


def resolve_incident(pipeline: Pipeline, report_day: date | str) -> bool:
    """Resolve the day's incident (if any) once its report is delivered; False when paging is off."""
    conn_id = pipeline.alerts.pagerduty_conn_id
    if not conn_id:
        return False
    send_event(conn_id, action="resolve", dedup=dedup_key(pipeline.id, report_day))
    return True
