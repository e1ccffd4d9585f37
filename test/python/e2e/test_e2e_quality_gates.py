"""Scenarios 2 and 3: bad source data for the report day stops the run at the quality gate.

A good day (FIRST_DAY) runs first; then one poisoned order lands in the source for the next day
(POISONED_DAY):
- ``negative_amount``: an order with a negative amount -> ``assert_positive_revenue`` fails;
- ``orphan_user``: an order whose user does not exist -> the ``relationships`` test of
  ``stg_orders.user_id`` to ``stg_users.user_id`` fails.
Either way the run fails (non-zero exit, failed DAG run, dbt_build failed without retrying), the
published fct rows still hold exactly the good day's numbers, no report is archived or emailed for
the poisoned day, PagerDuty gets an Events API v2 trigger naming the failing test, and the
engineers' list gets the failure email.

Then the day after (NEXT_DAY, clean in the source) must run as usual: a blocked day must not block
the days after it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from e2e_stack import (
    ENGINEERS,
    LAST_DAY,
    ROUTING_KEY,
    SEED_PIPELINE,
    Build,
    Run,
    Stack,
    assert_report_matches_source,
    assert_run_ok,
    expected_row,
    open_stack,
)

DAG_ID = SEED_PIPELINE
FIRST_DAY = LAST_DAY - timedelta(days=2)
POISONED_DAY = LAST_DAY - timedelta(days=1)
NEXT_DAY = LAST_DAY
# 15:30 UTC is 10:30 in New York: inside the poisoned report day.
POISON_AT = f"{POISONED_DAY.isoformat()}T15:30:00Z"
NO_SUCH_USER = 987_654_321

POISONS = {
    "negative_amount": (
        {"userId": 1, "amount": "-12.34", "status": "paid", "createdAt": POISON_AT},
        "assert_positive_revenue",
    ),
    "orphan_user": (
        {"userId": NO_SUCH_USER, "amount": "25.00", "status": "paid", "createdAt": POISON_AT},
        "relationships_stg_orders_user_id_",
    ),
}


@dataclass
class GateFailure:
    stack: Stack
    failing_test: str
    bad: Run
    baseline: list[Any]
    mails_before: int
    events_before: int


@pytest.fixture(scope="module", params=sorted(POISONS))
def gate_failure(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    e2e_build: Build,
    airflow_template: str,
    source_template: str,
) -> Iterator[GateFailure]:
    """A good FIRST_DAY, published and delivered; then POISONED_DAY run with one bad order."""
    poison: str = request.param
    order, failing_test = POISONS[poison]
    tmp: Path = tmp_path_factory.mktemp(f"gate-{poison}")
    with open_stack(f"gate_{poison}", tmp, e2e_build, airflow_template, source_template, None) as stack:
        good = stack.run(DAG_ID, FIRST_DAY)
        assert_run_ok(stack, good)
        oracle = assert_report_matches_source(stack, DAG_ID, FIRST_DAY)
        baseline = stack.published(DAG_ID)
        assert baseline == [expected_row(oracle)]
        assert len(stack.report_mails(FIRST_DAY)) == 1
        mails_before, events_before = len(stack.smtp.messages), len(stack.pagerduty.events)

        stack.source({"op": "insertOrder", "row": order})
        bad = stack.run(DAG_ID, POISONED_DAY)
        yield GateFailure(stack, failing_test, bad, baseline, mails_before, events_before)


def test_failed_gate_blocks_publish_email_and_archive(gate_failure: GateFailure) -> None:
    stack, bad, failing_test = gate_failure.stack, gate_failure.bad, gate_failure.failing_test

    # The run fails, at the gate, without retries.
    assert bad.returncode != 0, f"the poisoned day's run succeeded:\n{bad.tail()}"
    assert "DagRun failed" in bad.log
    assert stack.run_state(DAG_ID) == "failed"
    assert stack.task_states(DAG_ID) == {
        "wait_for_source": "success",
        "extract": "success",
        "dbt_build": "failed",
        "publish_tables": "upstream_failed",
        "publish_report": "upstream_failed",
    }
    assert "GateTestsFailed" in bad.log

    # The published table is exactly what it was: the good day, nothing for the poisoned day.
    assert stack.published(DAG_ID) == gate_failure.baseline

    # No report archived for the poisoned day; the gate's verdict is (dbt artefacts are kept).
    folder = stack.report_folder(DAG_ID, POISONED_DAY)
    files = stack.lake_files(DAG_ID, folder)
    for name in ("report.json", "report.html", "_delivered.json"):
        assert f"{folder}/{name}" not in files, f"{name} archived for a day that failed its gate"
    gate = json.loads(files[f"{folder}/dbt/gate.json"])
    assert gate["status"] == "failed"
    assert [f["node"] for f in gate["failures"]] == [_named(gate["failures"], failing_test)]

    # No email to the executives; one failure email to the engineers, naming the test.
    assert stack.report_mails(POISONED_DAY) == []
    assert len(stack.report_mails()) == 1
    new_mails = stack.smtp.messages[gate_failure.mails_before :]
    new_envelopes = stack.smtp.envelopes[gate_failure.mails_before :]
    assert [sorted(rcpts) for _, rcpts in new_envelopes] == [sorted(ENGINEERS)]
    (alert_mail,) = new_mails
    assert failing_test in alert_mail["Subject"]
    assert f"ds={POISONED_DAY}" in alert_mail["Subject"]
    assert failing_test in alert_mail.get_body(preferencelist=("html",)).get_content()

    # PagerDuty: one Events API v2 trigger on the day's incident, naming the failing test.
    new_events = stack.pagerduty.events[gate_failure.events_before :]
    assert [e["event_action"] for e in new_events] == ["trigger"], new_events
    (event,) = new_events
    assert event["routing_key"] == ROUTING_KEY
    assert event["dedup_key"] == f"{DAG_ID}/{POISONED_DAY}"
    payload = event["payload"]
    assert payload["severity"] == "critical"
    assert failing_test in payload["summary"]
    details = payload["custom_details"]
    assert details["task_id"] == "dbt_build" and details["ds"] == POISONED_DAY.isoformat()
    assert [(t["status"], t["failing_rows"]) for t in details["failing_tests"]] == [("fail", 1)]
    assert details["failing_tests"][0]["test"].startswith(failing_test)


def test_blocked_day_does_not_block_the_next_clean_day(gate_failure: GateFailure) -> None:
    """The poisoned day's partition stays in the lake (extract ran); the next day is clean."""
    stack = gate_failure.stack
    mails_before = len(stack.smtp.messages)

    run = stack.run(DAG_ID, NEXT_DAY)

    assert_run_ok(stack, run)
    oracle = assert_report_matches_source(stack, DAG_ID, NEXT_DAY)
    assert stack.published(DAG_ID) == [*gate_failure.baseline, expected_row(oracle)]
    assert [m["X-Dagspec-Report-Day"] for m in stack.smtp.messages[mails_before:]] == [NEXT_DAY.isoformat()]


def _named(failures: list[dict[str, Any]], prefix: str) -> str:
    """The one failure's node name, after checking it is the expected test."""
    assert len(failures) == 1, failures
    name = str(failures[0]["node"])
    assert name.startswith(prefix), f"expected {prefix}..., got {name}"
    return name
