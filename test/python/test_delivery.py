"""Delivery of the day's report: once, kept as sent, and a re-run that changes the numbers made visible.

Real parts: the fixture pipeline's DuckDB warehouse and local lake, the SMTP and PagerDuty stand-ins
(``env`` from test_report.py). Faults are real too: numbers changed in the published table, a relay
that refuses connections, and a worker process SIGKILLed while the relay holds its answer.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import test_report
from dagspec_local.connections import env_value, smtp_connection
from dagspec_local.net import free_port
from dagspec_runtime import adapters, tasks
from runtime_fixture import context_for
from test_report import DAY, GATE, Env

HERE = Path(__file__).resolve().parent
env = test_report.env  # the fixture: warehouse, lake and both stand-ins


def _publish(pipeline: Any, day: date = DAY) -> dict[str, Any]:
    return tasks.publish_report(pipeline, context_for(day, xcoms={"dbt_build": GATE}))


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _restate(env: Env, revenue_delta: float) -> None:
    """A fix upstream: the published row for DAY now says another revenue."""
    import duckdb

    with duckdb.connect(adapters.open_warehouse(env.pipeline).path) as conn:
        conn.execute(
            "UPDATE main.fct_daily_metrics SET revenue = revenue + ? WHERE ds = ?", [revenue_delta, DAY]
        )


def _report_mails(env: Env) -> list[Any]:
    return [m for m in env.smtp.messages if m.get("X-Dagspec-Report-Day")]


def test_first_delivery_is_kept_as_sent(env: Env) -> None:
    out = _publish(env.pipeline)
    assert out["delivered"] and out["version"] == 1
    folder = env.report_dir(DAY)
    (mail,) = env.smtp.messages
    v1 = folder / "delivered" / "v1"
    assert mail.get_body(("html",)).get_content() == (v1 / "report.html").read_text()
    assert (v1 / "report.json").read_bytes() == (folder / "report.json").read_bytes()
    event = json.loads((v1 / "event.json").read_text())
    assert event["state"] == "sent" and event["kind"] == "delivery"
    assert event["message_id"] == mail["Message-ID"] and mail["X-Dagspec-Report-Version"] == "1"
    marker = json.loads((folder / "_delivered.json").read_text())
    assert marker["version"] == 1 and marker["latest_version"] == 1

    # The same numbers again: nothing sent, nothing under delivered/ or the marker touched.
    before = _files(folder)
    again = _publish(env.pipeline)
    assert not again["delivered"] and again["reason"].startswith("already delivered (v1")
    assert len(env.smtp.messages) == 1 and _files(folder) == before


def test_correction_sent_marked_and_the_delivered_version_kept(env: Env) -> None:
    assert _publish(env.pipeline)["delivered"]
    folder = env.report_dir(DAY)
    v1 = _files(folder / "delivered" / "v1")
    old_revenue = json.loads((folder / "report.json").read_text())["kpis"]["revenue"]

    _restate(env, 100.0)
    out = _publish(env.pipeline)

    assert out["delivered"] and out["reason"] == "correction v2 sent" and out["version"] == 2
    first, corrected = _report_mails(env)
    assert corrected["Subject"] == f"Corrected: {first['Subject']}"
    assert corrected["X-Dagspec-Report-Version"] == "2"
    assert sorted(env.smtp.envelopes[1][1]) == sorted(env.pipeline.report.recipients)
    html = corrected.get_body(("html",)).get_content()
    new_revenue = json.loads((folder / "report.json").read_text())["kpis"]["revenue"]
    assert f"{float(new_revenue) - float(old_revenue):.2f}" == "100.00"
    assert "Corrected report for 2024-03-10" in html and "(version 2)" in html
    assert f"${float(old_revenue):,.2f}" in html and f"${float(new_revenue):,.2f}" in html
    # v1 stays byte for byte what the recipients first got; v2 is what they got now.
    assert _files(folder / "delivered" / "v1") == v1
    assert (folder / "delivered" / "v2" / "report.html").read_text() == html
    event = json.loads((folder / "delivered" / "v2" / "event.json").read_text())
    assert event["kind"] == "correction" and event["corrects"] == 1 and event["state"] == "sent"
    assert json.loads((folder / "_delivered.json").read_text())["version"] == 2

    # Run again with the corrected numbers: nothing more.
    assert not _publish(env.pipeline)["delivered"]
    assert len(_report_mails(env)) == 2


def test_correction_alerts_the_engineers_and_sends_the_recipients_nothing(env: Env) -> None:
    pipeline = replace(env.pipeline, report=replace(env.pipeline.report, corrections="alert"))
    assert _publish(pipeline)["delivered"]
    folder = env.report_dir(DAY)
    v1 = _files(folder / "delivered" / "v1")
    old_revenue = json.loads((folder / "report.json").read_text())["kpis"]["revenue"]
    resolves = len(env.pd.events)

    _restate(env, -250.0)
    out = _publish(pipeline)

    assert not out["delivered"] and out["reason"] == "correction v2: engineers alerted"
    assert out["alert"]["email"] == "sent" and out["alert"]["pagerduty"] == "sent"
    assert len(_report_mails(env)) == 1  # the recipients got nothing new
    alert_mail = env.smtp.messages[-1]
    assert env.smtp.envelopes[-1][1] == list(pipeline.alerts.engineers)
    assert "numbers delivered for 2024-03-10 changed on a re-run (Revenue)" in alert_mail["Subject"]
    html = alert_mail.get_body(("html",)).get_content()
    new_revenue = f"{float(old_revenue) - 250:,.2f}"
    assert f"${float(old_revenue):,.2f}" in html and f"${new_revenue}" in html
    (page,) = env.pd.events[resolves:]
    assert page["dedup_key"] == "fixture_pipeline/2024-03-10/correction-v2"
    assert page["payload"]["severity"] == "warning"
    rows = {r["label"]: r for r in page["payload"]["custom_details"]["kpis"]}
    assert rows["Revenue"]["changed"] == "yes" and rows["Orders"]["changed"] == ""

    assert _files(folder / "delivered" / "v1") == v1
    event = json.loads((folder / "delivered" / "v2" / "event.json").read_text())
    assert event["kind"] == "correction_alert" and event["state"] == "alerted"
    marker = json.loads((folder / "_delivered.json").read_text())
    assert marker["version"] == 1 and marker["latest_version"] == 2  # the recipients still have v1

    # The same corrected numbers again: no second alert.
    events, mails = len(env.pd.events), len(env.smtp.messages)
    assert not _publish(pipeline)["delivered"]
    assert (len(env.pd.events), len(env.smtp.messages)) == (events, mails)


def test_a_refused_send_is_sent_by_the_retry(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    good = os.environ["AIRFLOW_CONN_SMTP_TEST"]
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_TEST", env_value(smtp_connection(free_port(), retry_limit=0, timeout=5))
    )
    with pytest.raises(ConnectionRefusedError):
        _publish(env.pipeline)
    v1 = env.report_dir(DAY) / "delivered" / "v1"
    assert json.loads((v1 / "event.json").read_text())["state"] == "not_sent"
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_TEST", good)
    assert _publish(env.pipeline)["delivered"]
    assert len(env.smtp.messages) == 1


_WORKER = """
import sys
sys.path[:0] = [{here!r}]
from datetime import date
from dagspec_runtime import tasks
from runtime_fixture import context_for, pipeline
tasks.publish_report(pipeline(), context_for(date.fromisoformat({day!r})))
"""


def test_a_worker_killed_mid_send_is_not_sent_twice(env: Env) -> None:
    """The relay has the message but has not answered when the worker dies: the retry must not resend."""
    from airflow.sdk.exceptions import AirflowFailException

    env.smtp.answer_delay = 3.0
    worker = subprocess.Popen(
        [sys.executable, "-c", _WORKER.format(here=str(HERE), day=DAY.isoformat())], env=dict(os.environ)
    )
    try:
        deadline = time.monotonic() + 60
        while not env.smtp.messages:
            assert worker.poll() is None, "the worker ended before sending"
            assert time.monotonic() < deadline, "the worker never sent"
            time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.wait()
    env.smtp.answer_delay = 0.0
    (mail,) = env.smtp.messages
    event = json.loads((env.report_dir(DAY) / "delivered" / "v1" / "event.json").read_text())
    assert event["state"] == "sending" and event["message_id"] == mail["Message-ID"]

    with pytest.raises(AirflowFailException, match="never confirmed") as info:
        _publish(env.pipeline)
    assert mail["Message-ID"] in str(info.value)
    assert len(env.smtp.messages) == 1 and not (env.report_dir(DAY) / "_delivered.json").exists()


def test_a_day_delivered_before_versions_were_kept(env: Env) -> None:
    """A marker without versions: the archive as it stands becomes v1, and a change is a correction."""
    folder = env.report_dir(DAY)
    assert _publish(env.pipeline)["delivered"]
    marker = json.loads((folder / "_delivered.json").read_text())
    legacy = {k: marker[k] for k in ("ds", "subject", "recipients", "run_id", "run_type", "delivered_at")}
    (folder / "_delivered.json").write_text(json.dumps(legacy))
    sent_html = (folder / "report.html").read_bytes()
    for p in sorted((folder / "delivered").rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    (folder / "delivered").rmdir()

    _restate(env, 1.0)
    out = _publish(env.pipeline)
    assert out["reason"] == "correction v2 sent"
    assert (folder / "delivered" / "v1" / "report.html").read_bytes() == sent_html
    assert json.loads((folder / "delivered" / "v1" / "event.json").read_text())["adopted"] is True
