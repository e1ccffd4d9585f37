"""PagerDuty Events API v2 wire format, retries and secrecy; failure callback (both channels at once,
each on its own: a silent PagerDuty, a relay down); the alert HTML; deadline callback."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dagspec_local.connections import env_value, pagerduty_connection, smtp_connection
from dagspec_local.net import free_port
from dagspec_local.standins import PagerDutyReceiver, SmtpOutbox, pagerduty_server, smtp_server
from dagspec_runtime import alerts, pagerduty
from runtime_fixture import context_for, pipeline

ROUTING_KEY = "R0UT1NGKEY-do-not-log-0123456789"


@pytest.fixture
def pd(monkeypatch: pytest.MonkeyPatch) -> Iterator[PagerDutyReceiver]:
    with pagerduty_server() as (receiver, base):
        monkeypatch.setenv("AIRFLOW_CONN_PD_TEST", env_value(pagerduty_connection(base, ROUTING_KEY)))
        yield receiver


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[SmtpOutbox]:
    with smtp_server(tmp_path / "mail") as (sink, port):
        monkeypatch.setenv(
            "AIRFLOW_CONN_SMTP_TEST", env_value(smtp_connection(port, retry_limit=0, timeout=5))
        )
        yield sink


def _no_key_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    text = "\n".join(f"{r.getMessage()} {r.args}" for r in caplog.records)
    assert ROUTING_KEY not in text


def test_trigger_wire_format(pd: PagerDutyReceiver, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    answer = alerts.send_event(
        "pd_test",
        action="trigger",
        dedup="p/2024-03-10",
        summary="s" * 2000,
        severity="error",
        source="airflow/p",
        details={"when": date(2024, 3, 10)},
    )
    assert answer["dedup_key"] == "p/2024-03-10"
    assert pd.paths == ["/v2/enqueue"]
    event = pd.events[0]
    assert set(event) == {"routing_key", "event_action", "dedup_key", "payload"}
    assert event["routing_key"] == ROUTING_KEY and event["event_action"] == "trigger"
    assert event["payload"] == {
        "summary": "s" * 1024,
        "severity": "error",
        "source": "airflow/p",
        "custom_details": {"when": "2024-03-10"},
    }
    _no_key_in_logs(caplog)


def test_retries_5xx_and_429_then_accepts(pd: PagerDutyReceiver, caplog: pytest.LogCaptureFixture) -> None:
    pd.statuses = [503, 429]
    alerts.send_event("pd_test", action="resolve", dedup="p/2024-03-10", backoff=0.01)
    assert len(pd.paths) == 3
    assert pd.events == [{"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": "p/2024-03-10"}]
    _no_key_in_logs(caplog)


def test_async_sender_retries_the_same_way(pd: PagerDutyReceiver, caplog: pytest.LogCaptureFixture) -> None:
    """The triggerer's sender (deadline pages) shares the tenacity policy: 5xx and 429 are retried."""
    pd.statuses = [502, 429]
    answer = asyncio.run(
        alerts.asend_event("pd_test", action="trigger", dedup="p/d", summary="late", backoff=0.01)
    )
    assert answer["dedup_key"] == "p/d" and len(pd.paths) == 3 and len(pd.events) == 1
    pd.statuses = [503] * 3
    with pytest.raises(alerts.PagerDutyError, match="after 3 attempt") as info:
        asyncio.run(alerts.asend_event("pd_test", action="resolve", dedup="p/d", attempts=3, backoff=0.01))
    assert ROUTING_KEY not in str(info.value)
    _no_key_in_logs(caplog)


def test_refusal_is_not_retried_and_hides_key(
    pd: PagerDutyReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    pd.statuses = [400]
    with pytest.raises(alerts.PagerDutyError, match="HTTP 400") as info:
        alerts.send_event("pd_test", action="trigger", dedup="p/x", summary="x", backoff=0.01)
    assert len(pd.paths) == 1 and ROUTING_KEY not in str(info.value)
    _no_key_in_logs(caplog)


def test_unreachable_gives_up_with_timeout_and_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_PD_DOWN",
        env_value(pagerduty_connection(f"http://127.0.0.1:{free_port()}", ROUTING_KEY)),
    )
    with pytest.raises(alerts.PagerDutyError, match="after 3 attempt") as info:
        alerts.send_event("pd_down", action="trigger", dedup="p/x", summary="x", attempts=3, backoff=0.01)
    assert ROUTING_KEY not in str(info.value)


def test_connection_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk import BaseHook

    monkeypatch.setenv("AIRFLOW_CONN_PD_URI", "pagerduty-events://:k3y@127.0.0.1:8085?scheme=http")
    monkeypatch.setenv(
        "AIRFLOW_CONN_PD_DEFAULT", '{"conn_type": "pagerduty_events", "extra": {"routing_key": "k"}}'
    )
    assert pagerduty._target(BaseHook.get_connection("pd_uri")) == ("http://127.0.0.1:8085/v2/enqueue", "k3y")
    assert pagerduty._target(BaseHook.get_connection("pd_default")) == (
        "https://events.pagerduty.com/v2/enqueue",
        "k",
    )


def _gate_failed() -> Exception:
    from dagspec_runtime.dbt_runner import GateFailed

    failures = [
        {
            "node": "assert_no_negative_amounts",
            "kind": "test",
            "status": "fail",
            "failures": 2,
            "message": "Got 2 results",
        }
    ]
    return GateFailed("dbt build gate failed for ds=2024-03-10: ...", failures, {})


def test_failure_callback_pages_and_emails(
    pd: PagerDutyReceiver, smtp: SmtpOutbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ctx: dict[str, Any] = context_for(date(2024, 3, 10), task_id="dbt_build")
    ctx["exception"] = _gate_failed()
    callback = alerts.failure_alert(pipeline())
    callback(ctx)  # what Airflow calls; returns nothing and never raises
    event = pd.events[0]
    assert event["dedup_key"] == "fixture_pipeline/2024-03-10"
    assert event["payload"]["severity"] == "critical"
    assert "assert_no_negative_amounts (2 rows)" in event["payload"]["summary"]
    assert event["payload"]["custom_details"]["failing_tests"][0]["failing_rows"] == 2
    assert event["payload"]["custom_details"]["task_id"] == "dbt_build"
    assert smtp.envelopes[0][1] == ["oncall@example.com"]
    message = smtp.messages[0]
    assert "dbt_build failed for ds=2024-03-10" in message["Subject"]
    assert "assert_no_negative_amounts" in message.get_body(("html",)).get_content()
    _no_key_in_logs(caplog)


def test_failure_callback_records_its_alert_for_the_run(pd: PagerDutyReceiver, smtp: SmtpOutbox) -> None:
    ctx = _failure_context()
    alerts.failure_alert(pipeline())(ctx)
    assert len(pd.events) == 1 and len(smtp.messages) == 1
    assert ctx["ti"].pushed == {"dagspec_alert": {"pagerduty": "sent", "email": "sent"}}


def test_failure_callback_without_exception_leaves_the_alert_to_the_run(
    pd: PagerDutyReceiver, smtp: SmtpOutbox
) -> None:
    """The DAG processor runs it for a try the scheduler failed (lost worker): no ``exception``."""
    ctx: dict[str, Any] = context_for(date(2024, 3, 10), task_id="extract")
    alerts.failure_alert(pipeline())(ctx)
    assert pd.events == [] and smtp.messages == [] and ctx["ti"].pushed == {}


def _run_failure(monkeypatch: pytest.MonkeyPatch, records: dict[str, Any] | Exception) -> dict[str, Any]:
    def failed_task_records(dag_id: str, run_id: str) -> dict[str, Any]:
        assert (dag_id, run_id) == ("fixture_pipeline", "scheduled__2024-03-11T10:00:00+00:00")
        if isinstance(records, Exception):
            raise records
        return records

    monkeypatch.setattr(alerts, "_failed_task_records", failed_task_records)
    ctx: dict[str, Any] = context_for(date(2024, 3, 10), task_id="extract")
    ctx["reason"] = "task_failure"
    return ctx


def test_run_failure_alerts_for_a_task_that_did_not(
    pd: PagerDutyReceiver, smtp: SmtpOutbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = _run_failure(monkeypatch, {"extract": None, "dbt_build": {"pagerduty": "sent", "email": "sent"}})
    alerts.run_failure_alert(pipeline())(ctx)
    (event,) = pd.events
    assert event["dedup_key"] == "fixture_pipeline/2024-03-10"
    assert event["payload"]["summary"].startswith("fixture_pipeline: task extract failed for ds=2024-03-10")
    assert "killed" in event["payload"]["summary"]
    assert event["payload"]["custom_details"]["task_id"] == "extract"
    (message,) = smtp.messages
    assert "task extract failed" in message["Subject"]


def test_run_failure_quiet_when_every_failed_task_alerted(
    pd: PagerDutyReceiver, smtp: SmtpOutbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = _run_failure(monkeypatch, {"dbt_build": {"pagerduty": "sent", "email": "failed: down"}})
    alerts.run_failure_alert(pipeline())(ctx)
    ctx = _run_failure(monkeypatch, {})  # failed with no failed task (marked failed by hand)
    alerts.run_failure_alert(pipeline())(ctx)
    assert pd.events == [] and smtp.messages == []


def test_run_failure_alerts_when_it_cannot_tell(
    pd: PagerDutyReceiver, smtp: SmtpOutbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = _run_failure(monkeypatch, RuntimeError("no supervisor"))
    alerts.run_failure_alert(pipeline())(ctx)
    (event,) = pd.events
    assert "RuntimeError: no supervisor" in event["payload"]["custom_details"]["exception"]
    assert len(smtp.messages) == 1


def test_failure_callback_survives_broken_channels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_PD_TEST",
        env_value(pagerduty_connection(f"http://127.0.0.1:{free_port()}", ROUTING_KEY)),
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_TEST", env_value(smtp_connection(free_port(), retry_limit=0, timeout=5))
    )
    monkeypatch.setattr(pagerduty, "_BACKOFF_SECONDS", 0.0)
    monkeypatch.setattr(alerts, "_EMAIL_BACKOFF_SECONDS", 0.0)
    ctx: dict[str, Any] = context_for(date(2024, 3, 10), task_id="extract")
    ctx["exception"] = RuntimeError("source down")
    outcome = alerts.notify_failure(pipeline(), ctx)
    assert outcome["pagerduty"].startswith("failed") and outcome["email"].startswith("failed")
    assert "extract failed for ds=2024-03-10: RuntimeError: source down" in outcome["summary"]


def _failure_context() -> dict[str, Any]:
    ctx: dict[str, Any] = context_for(date(2024, 3, 10), task_id="dbt_build")
    ctx["exception"] = _gate_failed()
    return ctx


def test_silent_pagerduty_does_not_delay_the_email(
    pd: PagerDutyReceiver, smtp: SmtpOutbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PagerDuty that accepts and never answers: the email is out long before paging gives up."""
    monkeypatch.setattr(pagerduty, "_TIMEOUT_SECONDS", 2.0)  # per attempt; 10 s in production
    monkeypatch.setattr(pagerduty, "_BACKOFF_SECONDS", 0.1)
    pd.silent = True
    started = time.time()
    outcome = alerts.notify_failure(pipeline(), _failure_context())
    finished = time.time()
    assert outcome["email"] == "sent"
    assert outcome["pagerduty"].startswith("failed") and "after 4 attempt(s)" in outcome["pagerduty"]
    assert len(pd.paths) == 4 and pd.events == []  # every attempt held, none answered
    # The email arrived before the first page attempt could even time out.
    assert smtp.received_at[0] - started < 2.0, smtp.received_at[0] - started
    assert finished - started >= 4 * 2.0
    assert smtp.envelopes[0][1] == ["oncall@example.com"]


def test_smtp_down_still_pages_at_once(pd: PagerDutyReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """The mail relay refuses connections: the page goes out first thing, not after the email's retries."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_TEST", env_value(smtp_connection(free_port(), retry_limit=0, timeout=5))
    )
    monkeypatch.setattr(alerts, "_EMAIL_BACKOFF_SECONDS", 1.0)
    started = time.time()
    outcome = alerts.notify_failure(pipeline(), _failure_context())
    assert outcome["pagerduty"] == "sent"
    assert outcome["email"].startswith("failed") and "Connection refused" in outcome["email"]
    assert pd.received_at[0] - started < 1.0  # before the email's first retry (1 s, then 2 s)
    assert [e["event_action"] for e in pd.events] == ["trigger"]


def test_engineers_have_their_own_smtp_connection(
    pd: PagerDutyReceiver, smtp: SmtpOutbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report's relay is down; the engineers' connection (``sla.smtpConnId``) still delivers."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_REPORT_DOWN", env_value(smtp_connection(free_port(), retry_limit=0, timeout=5))
    )
    piped = pipeline(report={"smtp_conn_id": "smtp_report_down"}, alerts={"smtp_conn_id": "smtp_test"})
    outcome = alerts.notify_failure(piped, _failure_context())
    assert outcome == {**outcome, "pagerduty": "sent", "email": "sent"}
    assert smtp.envelopes[0][1] == ["oncall@example.com"]


def test_alert_email_retries_a_relay_that_comes_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first tries find no relay; it starts during the backoff and the email goes out."""
    port = free_port()
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_LATE", env_value(smtp_connection(port, retry_limit=0, timeout=5)))
    monkeypatch.setattr(alerts, "_EMAIL_BACKOFF_SECONDS", 0.5)
    with ExitStack() as stack:
        timer = threading.Timer(0.2, lambda: boxes.append(stack.enter_context(smtp_server(tmp_path, port))))
        boxes: list[Any] = []
        timer.start()
        alerts.send_alert_email("smtp_late", ["a@example.com"], "s", "<p>x</p>")
        timer.join()
        ((outbox, _),) = boxes
        assert len(outbox.messages) == 1


def test_failure_email_escapes_what_it_shows(smtp: SmtpOutbox) -> None:
    from dagspec_runtime.alert_render import failure_html

    facts = {
        "pipeline": "p",
        "task_id": "<b>t</b>",
        "failing_tests": [{"test": "x<y", "status": "fail", "failing_rows": None, "message": "m"}],
        "exception": "ValueError: <script>alert(1)</script>",
    }
    html = failure_html(facts, "p & q")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<code>x&lt;y</code>: ? failing row(s) (fail)" in html
    assert "<h2>p &amp; q</h2>" in html and "&lt;b&gt;t&lt;/b&gt;" in html


def _deadline_context(run_type: str) -> dict[str, Any]:
    # The shape Airflow 3.3's scheduler puts into an AsyncCallback's kwargs (DAGRunResponse as JSON).
    return {
        "dag_run": {
            "dag_run_id": f"{run_type}__2024-03-11T11:00:00+00:00",
            "dag_id": "fixture_pipeline",
            "logical_date": "2024-03-11T11:00:00Z",
            "run_after": "2024-03-11T11:00:00Z",
            "run_type": run_type,
            "state": "running",
        },
        "deadline": {"id": "0b5e", "deadline_time": "2024-03-11T12:00:00Z"},
    }


def _deadline_kwargs(**extra: Any) -> dict[str, Any]:
    return {
        "pipeline_id": "fixture_pipeline",
        "stage": "breach",
        "deliver_by": "08:00",
        "timezone": "America/New_York",
        "report_lag_days": 1,
        "pagerduty_conn_id": "pd_test",
        "severity": "critical",
        "task_order": ["wait_for_source", "extract", "dbt_build", "publish_tables", "publish_report"],
        **extra,
    }


def test_deadline_miss_pages_scheduled_runs(pd: PagerDutyReceiver) -> None:
    out = asyncio.run(alerts.on_deadline_miss(context=_deadline_context("scheduled"), **_deadline_kwargs()))
    # A string: Airflow stores it in callback.output, a TEXT column (a dict stops the triggerer).
    assert isinstance(out, str)
    assert json.loads(out)["paged"] and len(pd.events) == 1
    event = pd.events[0]
    # 2024-03-11 07:00 New York (logical date 11:00Z) reports on the 10th.
    assert event["dedup_key"] == "fixture_pipeline/2024-03-10"
    assert event["payload"]["severity"] == "critical"
    assert "missed its delivery deadline (08:00 America/New_York)" in event["payload"]["summary"]
    asyncio.run(
        alerts.on_deadline_miss(
            context=_deadline_context("manual"), **_deadline_kwargs(stage="at_risk", severity="warning")
        )
    )
    assert pd.events[1]["payload"]["severity"] == "warning"
    assert pd.events[1]["dedup_key"] == event["dedup_key"]


def test_deadline_miss_quiet_for_backfills(pd: PagerDutyReceiver) -> None:
    out = asyncio.run(alerts.on_deadline_miss(context=_deadline_context("backfill"), **_deadline_kwargs()))
    assert json.loads(out) == {"paged": False, "reason": "backfill"}
    assert pd.paths == []


def test_deadline_callback_signature_is_accepted_by_airflow() -> None:
    from airflow.sdk.definitions.callback import AsyncCallback

    callback = AsyncCallback(alerts.on_deadline_miss, kwargs=_deadline_kwargs())
    assert callback.path == "dagspec_runtime.alerts.on_deadline_miss"


def test_resolve_incident(pd: PagerDutyReceiver) -> None:
    assert alerts.resolve_incident(pipeline(), date(2024, 3, 10))
    assert pd.events == [
        {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": "fixture_pipeline/2024-03-10"}
    ]
    no_pd = pipeline(alerts={"pagerduty_conn_id": None, "engineers": []})
    assert not alerts.resolve_incident(no_pd, "2024-03-10")


def test_holding_up_names_the_task_at_work_first() -> None:
    states = {
        "publish_report": None,
        "extract": None,
        "wait_for_source": "up_for_reschedule",
        "dbt_build": None,
    }
    active, waiting = alerts.holding_up(
        states, order=["wait_for_source", "extract", "dbt_build", "publish_report"]
    )
    assert active == [{"task_id": "wait_for_source", "state": "up_for_reschedule"}]
    assert waiting == ["extract", "dbt_build", "publish_report"]
    # Done tasks never hold a run up; a running task outranks a failed one, which outranks a queued one.
    active, _ = alerts.holding_up(
        {"a": "success", "b": "skipped", "c": "queued", "d": "failed", "e": "running", "f": "removed"}
    )
    assert [(t["task_id"], t["state"]) for t in active] == [
        ("e", "running"),
        ("d", "failed"),
        ("c", "queued"),
    ]
    # Nothing started yet: the first task in DAG order is what the run waits for.
    active, waiting = alerts.holding_up({"b": None, "a": None}, order=["a", "b"])
    assert active == [{"task_id": "a", "state": None}] and waiting == ["b"]
    assert alerts.holding_up({}) == ([], [])


def test_run_url_is_the_airflow_3_ui_route(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.com/")
    run_id = "scheduled__2024-03-11T11:00:00+00:00"
    assert alerts.run_url("p", run_id) == (
        "https://airflow.example.com/dags/p/runs/scheduled__2024-03-11T11%3A00%3A00%2B00%3A00"
    )
    assert alerts.run_url("p", "manual__x", "extract", base="http://127.0.0.1:8080") == (
        "http://127.0.0.1:8080/dags/p/runs/manual__x/tasks/extract"
    )


def test_deadline_page_names_the_run_the_task_holding_it_up_and_its_link(
    pd: PagerDutyReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "http://airflow.test:8080")
    asked: list[tuple[str, str]] = []

    async def task_states(dag_id: str, run_id: str) -> dict[str, str | None]:
        # In the triggerer this is the Execution API (GetTaskStates); here, the run's states.
        asked.append((dag_id, run_id))
        return {"wait_for_source": "up_for_reschedule", "extract": None, "publish_report": None}

    monkeypatch.setattr(alerts, "_task_states", task_states)
    ctx = _deadline_context("scheduled")
    run_id = ctx["dag_run"]["dag_run_id"]
    out = json.loads(
        asyncio.run(
            alerts.on_deadline_miss(context=ctx, **_deadline_kwargs(stage="at_risk", severity="warning"))
        )
    )
    assert asked == [("fixture_pipeline", run_id)]
    link = "http://airflow.test:8080/dags/fixture_pipeline/runs/scheduled__2024-03-11T11%3A00%3A00%2B00%3A00"
    assert out["run_url"] == link and out["holding_up"] == ["wait_for_source"]
    payload = pd.events[0]["payload"]
    assert payload["summary"].endswith("held up by wait_for_source (up_for_reschedule)")
    details = payload["custom_details"]
    assert details["run_id"] == run_id and details["run_url"] == link
    assert details["holding_up"] == [
        {"task_id": "wait_for_source", "state": "up_for_reschedule", "url": f"{link}/tasks/wait_for_source"}
    ]
    assert details["not_started"] == ["extract", "publish_report"]
    assert details["run_state"] == "running" and details["deadline"] == "2024-03-11T12:00:00Z"


def test_deadline_page_goes_out_when_task_states_cannot_be_read(pd: PagerDutyReceiver) -> None:
    # Outside the triggerer there is no supervisor to ask: the page still goes out, saying so.
    out = json.loads(
        asyncio.run(alerts.on_deadline_miss(context=_deadline_context("scheduled"), **_deadline_kwargs()))
    )
    assert out["paged"] and out["holding_up"] == []
    details = pd.events[0]["payload"]["custom_details"]
    assert details["run_id"] == "scheduled__2024-03-11T11:00:00+00:00"
    assert details["run_url"].endswith(
        "/dags/fixture_pipeline/runs/scheduled__2024-03-11T11%3A00%3A00%2B00%3A00"
    )
    assert details["holding_up"] is None and details["task_states_error"]
