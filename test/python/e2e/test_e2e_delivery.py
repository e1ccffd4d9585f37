"""Delivery and alerting faults, with the real generated DAG run by ``airflow dags test``:

- a delivered day re-run after its numbers changed in the source: with the seed pipeline
  (``corrections: "send"``) the recipients get exactly one more email, marked Corrected; with
  ``e2e_metrics_alerts`` (``corrections: "alert"``) they get nothing and the engineers are paged
  and emailed with both versions' numbers. Either way the delivered version stays archived as sent.
- the mail relay down when a run fails: PagerDuty is still paged.
- PagerDuty silent (accepts, never answers) when a run fails: the engineers' email, through their own
  relay (``sla.smtpConnId``), goes out within seconds, while the report's relay is down as well.
"""

from __future__ import annotations

import json
from datetime import date

from e2e_stack import (
    GOOD_DAY,
    RECIPIENTS,
    SEED_PIPELINE,
    Stack,
    assert_report_matches_source,
    assert_run_ok,
)

from dagspec_local import connections
from dagspec_local.net import free_port

ALERTS_PIPELINE = "e2e_metrics_alerts"
# 15:30 UTC is 10:30 in New York: inside GOOD_DAY.
LATE_ORDER = {"userId": 1, "amount": "40.00", "status": "paid", "createdAt": f"{GOOD_DAY}T15:30:00Z"}
BAD_ORDER = {**LATE_ORDER, "amount": "-12.34"}  # fails assert_positive_revenue at the gate


def _delivered(stack: Stack, dag_id: str, day: date) -> dict[str, bytes]:
    folder = f"{stack.report_folder(dag_id, day)}/delivered"
    return stack.lake_files(dag_id, folder)


def _relay_down(stack: Stack, conn_id: str) -> None:
    """The connection now points at a port nothing listens on: connections are refused."""
    down = connections.smtp_connection(free_port(), retry_limit=0, timeout=5)
    stack.env[f"AIRFLOW_CONN_{conn_id.upper()}"] = connections.env_value(down)


def test_corrected_rerun_sends_one_marked_correction_and_keeps_what_was_delivered(stack: Stack) -> None:
    dag_id = SEED_PIPELINE
    assert_run_ok(stack, stack.run(dag_id, GOOD_DAY))
    folder = stack.report_folder(dag_id, GOOD_DAY)
    first = _delivered(stack, dag_id, GOOD_DAY)
    assert sorted(first) == [
        f"{folder}/delivered/v1/{n}" for n in ("event.json", "report.html", "report.json")
    ]
    delivered_kpis = json.loads(first[f"{folder}/delivered/v1/report.json"])["kpis"]

    stack.source({"op": "insertOrder", "row": LATE_ORDER})  # a late order: the day's numbers change
    assert_run_ok(stack, stack.run(dag_id, GOOD_DAY))

    # The archive and the warehouse hold the new numbers, and they are the source's.
    assert_report_matches_source(stack, dag_id, GOOD_DAY)
    # Exactly one more email, to the recipients, marked as a correction and showing both numbers.
    original, corrected = stack.report_mails(GOOD_DAY)
    assert corrected["Subject"] == f"Corrected: {original['Subject']}"
    assert corrected["X-Dagspec-Report-Version"] == "2"
    assert sorted(stack.smtp.envelopes[1][1]) == sorted(RECIPIENTS)
    html = corrected.get_body(("html",)).get_content()
    assert "Corrected report for" in html and "sent before" in html
    # v1 is still byte for byte what went out first; v2 is what went out now.
    now = _delivered(stack, dag_id, GOOD_DAY)
    assert {k: v for k, v in now.items() if "/v1/" in k} == first
    assert now[f"{folder}/delivered/v2/report.html"].decode() == html
    corrected_kpis = json.loads(now[f"{folder}/delivered/v2/report.json"])["kpis"]
    assert corrected_kpis["orders"] == delivered_kpis["orders"] + 1
    assert [e["event_action"] for e in stack.pagerduty.events] == ["resolve", "resolve"]


def test_corrected_rerun_alerts_the_engineers_with_both_numbers(stack: Stack) -> None:
    dag_id = ALERTS_PIPELINE
    assert_run_ok(stack, stack.run(dag_id, GOOD_DAY))
    first = _delivered(stack, dag_id, GOOD_DAY)
    folder = stack.report_folder(dag_id, GOOD_DAY)
    orders_before = json.loads(first[f"{folder}/delivered/v1/report.json"])["kpis"]["orders"]

    stack.source({"op": "insertOrder", "row": LATE_ORDER})
    assert_run_ok(stack, stack.run(dag_id, GOOD_DAY))

    assert len(stack.report_mails(GOOD_DAY)) == 1  # the recipients got nothing more
    (alert,) = stack.smtp_engineers.messages  # through the engineers' own relay
    assert f"numbers delivered for {GOOD_DAY} changed on a re-run" in alert["Subject"]
    html = alert.get_body(("html",)).get_content()
    assert f"{orders_before:,}" in html and f"{orders_before + 1:,}" in html
    triggers = [e for e in stack.pagerduty.events if e["event_action"] == "trigger"]
    assert [e["dedup_key"] for e in triggers] == [f"{dag_id}/{GOOD_DAY}/correction-v2"]
    assert triggers[0]["payload"]["severity"] == "warning"
    now = _delivered(stack, dag_id, GOOD_DAY)
    assert {k: v for k, v in now.items() if "/v1/" in k} == first
    assert json.loads(now[f"{folder}/delivered/v2/event.json"])["state"] == "alerted"


def test_relay_down_when_a_run_fails_still_pages(stack: Stack) -> None:
    dag_id = SEED_PIPELINE  # the engineers share the report's relay here: it is down for both
    _relay_down(stack, "smtp_default")
    stack.source({"op": "insertOrder", "row": BAD_ORDER})
    run = stack.run(dag_id, GOOD_DAY)

    assert run.returncode != 0 and stack.task_states(dag_id)["dbt_build"] == "failed"
    (page,) = stack.pagerduty.events
    assert page["event_action"] == "trigger" and page["dedup_key"] == f"{dag_id}/{GOOD_DAY}"
    assert "assert_positive_revenue" in page["payload"]["summary"]
    assert stack.smtp.messages == []
    assert "could not send the email alert" in run.log  # said, not silently lost


def test_silent_pagerduty_when_a_run_fails_still_emails_within_seconds(stack: Stack) -> None:
    dag_id = ALERTS_PIPELINE
    _relay_down(stack, "smtp_default")  # the report's relay is down too: the engineers' is their own
    stack.pagerduty.silent = True
    stack.source({"op": "insertOrder", "row": BAD_ORDER})
    run = stack.run(dag_id, GOOD_DAY)

    assert run.returncode != 0 and stack.task_states(dag_id)["dbt_build"] == "failed"
    (mail,) = stack.smtp_engineers.messages
    assert "assert_positive_revenue" in mail["Subject"]
    assert stack.pagerduty.events == [] and len(stack.pagerduty.paths) >= 2  # held, retried, unanswered
    lag = stack.smtp_engineers.received_at[0] - stack.pagerduty.received_at[0]
    assert lag < 5.0, f"the engineers' email came {lag:.1f}s after the first page attempt"
    assert "could not send the pagerduty alert" in run.log
