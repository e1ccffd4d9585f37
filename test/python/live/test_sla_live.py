"""The SLA in a running Airflow: Deadline Alerts page PagerDuty, delivery resolves, on time is quiet.

Two test-only variants of the seed pipeline (specs/ beside this file) run at the same time:

- ``sla_live_late``: at risk 1 minute after the logical date, breached at 6. Its run is triggered
  with a logical date 90 s in the past while the source is under maintenance, so the sensor waits:
  the at-risk deadline passes at once, the scheduler queues the callback, the triggerer runs
  ``dagspec_runtime.alerts.on_deadline_miss``, which sends one trigger to the local Events API v2
  receiver. Ending the maintenance lets the run deliver before the breach deadline;
  ``publish_report`` resolves the incident, and Airflow drops the breach deadline.
- ``sla_live_ontime``: at risk at 10 minutes; its run delivers in well under that, and pages nobody.

Deadlines are measured from the run's logical date (DeadlineReference.DAGRUN_LOGICAL_DATE): a manual
run must be triggered with one, or Airflow 3.3.2 creates no deadline for it at all (last test).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from livestack import TIMEZONE, LiveStack

from airflow_rest import wait_for
from dagspec_runtime.days import report_day

pytestmark = pytest.mark.live

LATE, ONTIME = "sla_live_late", "sla_live_ontime"
AT_RISK_AFTER, BREACH_AFTER = timedelta(minutes=1), timedelta(minutes=6)  # sla_live_late's SLA


def _key(dag_id: str, logical_date: datetime) -> str:
    return f"{dag_id}/{report_day(logical_date, TIMEZONE, 1).isoformat()}"


def _actions(events: list[dict]) -> list[str]:
    return [e["event_action"] for e in events]


@pytest.fixture(scope="module")
def runs(live_stack: LiveStack) -> dict[str, dict]:
    """Both runs, started together: the late one held up by a maintenance window on its source."""
    now = datetime.now(UTC).replace(microsecond=0)
    live_stack.set_maintenance(LATE, on=True)
    live_stack.set_maintenance(ONTIME, on=False)
    late_date, ontime_date = now - timedelta(seconds=90), now - timedelta(seconds=5)
    started = time.monotonic()
    late = live_stack.trigger(LATE, late_date, f"manual__late_{now:%H%M%S}")
    ontime = live_stack.trigger(ONTIME, ontime_date, f"manual__ontime_{now:%H%M%S}")
    return {
        LATE: {"run_id": late["dag_run_id"], "logical_date": late_date, "key": _key(LATE, late_date)},
        ONTIME: {
            "run_id": ontime["dag_run_id"],
            "logical_date": ontime_date,
            "key": _key(ONTIME, ontime_date),
        },
        "started": started,
    }


def test_a_run_that_misses_its_deadline_pages_exactly_once(live_stack: LiveStack, runs: dict) -> None:
    late = runs[LATE]
    triggers = wait_for(
        f"a PagerDuty trigger for {late['key']}",
        lambda: [e for e in live_stack.pagerduty_events(late["key"]) if e["event_action"] == "trigger"],
        timeout=120,
    )
    live_stack.timings["late_trigger_after_s"] = round(time.monotonic() - runs["started"], 1)

    # Still held up by the source: nothing delivered, nothing resolved, the sensor waiting.
    assert live_stack.run(LATE, late["run_id"])["state"] == "running"
    assert live_stack.task_states(LATE, late["run_id"])["wait_for_source"] in ("up_for_reschedule", "running")
    assert live_stack.emails(LATE) == []
    time.sleep(5)  # a duplicate from a second scheduler loop or a retried callback would show by now
    events = live_stack.pagerduty_events(late["key"])
    assert _actions(events) == ["trigger"], events

    (event,) = triggers
    assert event["dedup_key"] == late["key"] == f"{LATE}/{report_day(late['logical_date'], TIMEZONE, 1)}"
    assert event["routing_key"] == "***"  # the receiver redacts it; it was sent
    payload = event["payload"]
    assert payload["severity"] == "warning"
    assert "at risk" in payload["summary"]
    assert payload["custom_details"]["stage"] == "at_risk"
    assert payload["custom_details"]["run_id"] == late["run_id"]
    assert payload["source"] == f"airflow/{LATE}"
    # The task holding the run up (the sensor, waiting out the maintenance window, asked of the
    # Execution API by the triggerer) and the run's page in the UI ([api] base_url of the stack).
    details = payload["custom_details"]
    link = f"{live_stack.api}/dags/{LATE}/runs/{quote(late['run_id'])}"
    assert details["run_url"] == link
    (held,) = details["holding_up"]
    assert held["task_id"] == "wait_for_source", details
    assert held["state"] in ("up_for_reschedule", "running", "queued", "scheduled"), details
    assert held["url"] == f"{link}/tasks/wait_for_source"
    assert "held up by wait_for_source" in payload["summary"]
    assert "wait_for_source" not in details["not_started"]
    assert set(details["not_started"]) == {"extract", "dbt_build", "publish_tables", "publish_report"}

    # Airflow's side: the at-risk deadline missed and its callback done; the breach still pending.
    at_risk, breach = live_stack.deadlines(LATE, late["run_id"])
    assert at_risk["deadline_time"] == late["logical_date"] + AT_RISK_AFTER
    assert at_risk["missed"] is True and at_risk["callback_state"] == "success"
    assert breach["deadline_time"] == late["logical_date"] + BREACH_AFTER
    assert breach["missed"] is False


def test_b_the_late_delivery_resolves_the_incident(live_stack: LiveStack, runs: dict) -> None:
    late = runs[LATE]
    wait_for(f"a PagerDuty trigger for {late['key']}", lambda: live_stack.pagerduty_events(late["key"]), 120)
    cleared = time.monotonic()
    live_stack.set_maintenance(LATE, on=False)
    run = live_stack.wait_run(LATE, late["run_id"], {"success", "failed"}, timeout=240)
    live_stack.timings["late_delivery_after_clear_s"] = round(time.monotonic() - cleared, 1)
    assert run["state"] == "success", live_stack.task_states(LATE, late["run_id"])

    def resolved() -> list[dict] | None:
        events = live_stack.pagerduty_events(late["key"])
        return events if events and events[-1]["event_action"] == "resolve" else None

    events = wait_for(f"a PagerDuty resolve for {late['key']}", resolved, timeout=30)
    assert _actions(events) == ["trigger", "resolve"], events
    assert events[-1]["dedup_key"] == late["key"]
    (email,) = live_stack.emails(LATE)
    assert email["X-Dagspec-Report-Day"] == late["key"].split("/")[1]

    # Delivered before the breach deadline: Airflow deleted it, so the second page can never come.
    end = datetime.fromisoformat(run["end_date"].replace("Z", "+00:00"))
    assert end < late["logical_date"] + BREACH_AFTER
    left = [
        (d["missed"], d["deadline_time"] - late["logical_date"])
        for d in live_stack.deadlines(LATE, late["run_id"])
    ]
    assert left == [(True, AT_RISK_AFTER)]


def test_c_an_on_time_run_pages_nobody(live_stack: LiveStack, runs: dict) -> None:
    ontime = runs[ONTIME]
    run = live_stack.wait_run(ONTIME, ontime["run_id"], {"success", "failed"}, timeout=240)
    live_stack.timings["ontime_run_s"] = round(time.monotonic() - runs["started"], 1)
    assert run["state"] == "success", live_stack.task_states(ONTIME, ontime["run_id"])

    assert len(live_stack.emails(ONTIME)) == 1
    # No page. Delivery sends its usual resolve, which PagerDuty drops when no incident is open.
    assert _actions(live_stack.pagerduty_events(ontime["key"])) == ["resolve"]
    # Both deadlines were deleted when the run succeeded before them: nothing can fire later.
    assert live_stack.deadlines(ONTIME, ontime["run_id"]) == []


def test_a_manual_run_needs_a_logical_date_for_its_deadlines(live_stack: LiveStack, runs: dict) -> None:
    """DAGRUN_LOGICAL_DATE on a run triggered without a logical date (Airflow 3 allows it) evaluates
    to None, and Airflow 3.3.2 skips the alert with a warning: no Deadline row, no page, ever."""
    live_stack.wait_run(ONTIME, runs[ONTIME]["run_id"], {"success", "failed"}, timeout=240)
    live_stack.call("PATCH", f"/dags/{ONTIME}", {"is_paused": True})  # these runs only need to exist
    now = datetime.now(UTC).replace(microsecond=0)
    without = live_stack.trigger(ONTIME, None, f"manual__nodate_{now:%H%M%S}")
    with_date = live_stack.trigger(ONTIME, now, f"manual__dated_{now:%H%M%S}")
    assert without["logical_date"] is None
    assert live_stack.deadlines(ONTIME, without["dag_run_id"]) == []
    assert len(live_stack.deadlines(ONTIME, with_date["dag_run_id"])) == 2


def test_every_missed_alert_of_a_day_lands_on_its_one_incident(live_stack: LiveStack, runs: dict) -> None:
    """A run created after both its deadlines passed: at risk and breach both page, with the day's
    one dedup key, so PagerDuty shows one incident. The DAG is paused: the run never starts, and the
    scheduler judges deadlines of paused DAGs all the same."""
    live_stack.wait_run(LATE, runs[LATE]["run_id"], {"success", "failed"}, timeout=240)
    live_stack.call("PATCH", f"/dags/{LATE}", {"is_paused": True})
    now = datetime.now(UTC).replace(microsecond=0)
    logical = now - timedelta(days=1) - BREACH_AFTER - timedelta(minutes=1)  # another day: its own key
    run = live_stack.trigger(LATE, logical, f"manual__overdue_{now:%H%M%S}")
    key = _key(LATE, logical)
    assert key != runs[LATE]["key"]
    wait_for(f"two PagerDuty triggers for {key}", lambda: len(live_stack.pagerduty_events(key)) >= 2, 120)
    time.sleep(3)  # a third (duplicate) page would show by now
    events = live_stack.pagerduty_events(key)
    assert _actions(events) == ["trigger", "trigger"], events
    stages = sorted((e["payload"]["custom_details"]["stage"], e["payload"]["severity"]) for e in events)
    assert stages == [("at_risk", "warning"), ("breach", "critical")]
    assert {e["dedup_key"] for e in events} == {key}
    deadlines = live_stack.deadlines(LATE, run["dag_run_id"])
    assert [(d["missed"], d["callback_state"]) for d in deadlines] == [(True, "success")] * 2


def test_deadlines_survive_a_new_dag_version(live_stack: LiveStack, runs: dict) -> None:
    """apache/airflow#68732: after an edit that leaves the deadlines alone, Airflow before the fix
    (backported to 3.3.2) stored the new DAG version without its deadline alerts, and no run of it
    got a deadline again. Every spec change that `gen build` writes is such an edit."""
    live_stack.wait_run(ONTIME, runs[ONTIME]["run_id"], {"success", "failed"}, timeout=240)

    def versions() -> list[int]:
        r = live_stack.get(f"/dags/{ONTIME}/dagVersions")
        r.raise_for_status()
        return sorted(v["version_number"] for v in r.json()["dag_versions"])

    before = versions()
    dag_file = live_stack.home / "generated" / "dags" / f"{ONTIME}.py"
    text = dag_file.read_text()
    dag_file.write_text(
        text.replace('description="Live-stack SLA test:', 'description="Edited. Live-stack SLA test:')
    )
    # The dag-processor re-parses a changed file within [dag_processor] min_file_process_interval (30 s).
    wait_for(f"a new version of {ONTIME}", lambda: versions()[-1] > before[-1], timeout=120, every=3)
    assert live_stack.get(f"/dags/{ONTIME}").json()["description"].startswith("Edited.")

    now = datetime.now(UTC).replace(microsecond=0)
    run = live_stack.trigger(ONTIME, now, f"manual__newversion_{now:%H%M%S}")
    deadlines = live_stack.deadlines(ONTIME, run["dag_run_id"])
    assert [d["deadline_time"] - now for d in deadlines] == [timedelta(minutes=10), timedelta(minutes=15)]
