"""A killed try under a real scheduler: the run fails and alerts instead of staying ``running``.

``live_killed`` (specs/ beside this file) is the seed pipeline with one retry, retried at once. The
test holds its extract on a lock of the source's tables (the task's query waits in PostgreSQL) and
SIGKILLs the try while it waits, in the two ways a machine loses a task:

- the task process only (out of memory, ``kill -9``): its supervisor lives and sees the exit; the
  try goes to up_for_retry (the scheduler fails it from the executor's event), the killed retry to
  failed (reported by the supervisor), and no task failure callback runs anywhere;
- the whole worker, supervisor and task (the LocalExecutor worker process is the supervisor): the
  try stays ``running`` until the scheduler's task-instance heartbeat timeout (30 s here, see
  conftest) fails it, and the DAG processor is asked (twice) to run the task's failure callback.

In both, the first try is retried and the killed retry fails the run; the run's own failure
callback then pages and emails the engineers exactly once for the run, naming the task, and the
retried try pages nobody. Each run is checked on its own (``custom_details.run_id``): both report on
the same day, so their pages share the day's incident (dedup key ``live_killed/<day>``).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

import psutil
import psycopg
import pytest
from livestack import TIMEZONE, LiveStack

from airflow_rest import wait_for
from dagspec_runtime.days import report_day

pytestmark = pytest.mark.live

DAG = "live_killed"
TASK = "extract"


@contextmanager
def _source_locked(stack: LiveStack) -> Iterator[None]:
    """The source's tables locked exclusively: an extract waits in PostgreSQL until the lock goes."""
    with psycopg.connect(stack.sources[DAG]) as conn:
        conn.execute("lock table app.events, app.orders, app.users in access exclusive mode")
        try:
            yield
        finally:
            conn.rollback()


def _extract(stack: LiveStack, run_id: str) -> dict[str, Any]:
    r = stack.get(f"/dags/{DAG}/dagRuns/{run_id}/taskInstances/{TASK}")
    r.raise_for_status()
    return dict(r.json())


def _waiting_on_the_lock(stack: LiveStack, pid: int) -> bool:
    """Whether the task process ``pid`` has a source connection waiting for a lock."""
    try:
        ports = {c.laddr.port for c in psutil.Process(pid).net_connections(kind="tcp")}
    except psutil.Error:
        return False
    with psycopg.connect(stack.sources[DAG]) as conn:
        waiting = conn.execute(
            "select client_port from pg_stat_activity where wait_event_type = 'Lock'"
            " and datname = current_database()"
        ).fetchall()
    return any(port in ports for (port,) in waiting)


def _held_try(stack: LiveStack, run_id: str, try_number: int) -> int:
    """Wait until try ``try_number`` of the extract runs and waits for the lock; its task process id."""

    def held() -> int | None:
        ti = _extract(stack, run_id)
        if ti["state"] != "running" or ti["try_number"] != try_number or not ti.get("pid"):
            return None
        return int(ti["pid"]) if _waiting_on_the_lock(stack, int(ti["pid"])) else None

    return int(wait_for(f"{TASK} try {try_number} of {run_id} to wait for the lock", held, 180, every=1))


def _kill_task(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


def _kill_worker(pid: int) -> None:
    """SIGKILL the task's supervisor (the LocalExecutor worker process it runs in) and the task."""
    supervisor = psutil.Process(pid).parent()
    assert supervisor is not None
    title = " ".join(supervisor.cmdline())
    assert "LocalExecutor" in title, f"the task's parent is not an executor worker: {title!r}"
    os.kill(supervisor.pid, signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)


def _wait_state(stack: LiveStack, run_id: str, try_number: int, state: str, timeout: float) -> None:
    def reached() -> bool:
        ti = _extract(stack, run_id)
        return ti["try_number"] == try_number and ti["state"] == state

    wait_for(f"{TASK} try {try_number} of {run_id} to be {state}", reached, timeout, every=1)


def _triggers(stack: LiveStack, key: str, run_id: str) -> list[dict[str, Any]]:
    return [
        e
        for e in stack.pagerduty_events(key)
        if e["event_action"] == "trigger" and e["payload"]["custom_details"].get("run_id") == run_id
    ]


def _alert_mails(stack: LiveStack, run_id: str) -> list[Message]:
    mails = [
        message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in sorted((stack.home / "outbox").glob("*.eml"))
    ]
    return [
        m
        for m in mails
        if str(m["Subject"]).startswith(f"[dagspec] {DAG}:") and run_id in m.get_body(("html",)).get_content()  # type: ignore[union-attr]
    ]


@pytest.fixture(scope="module")
def killed_runs(live_stack: LiveStack) -> Iterator[dict[str, Any]]:
    """Two runs of one report day, their extract killed twice each: task process, then worker."""
    stack = live_stack
    now = datetime.now(UTC).replace(microsecond=0)
    logical = now - timedelta(seconds=30)
    out: dict[str, Any] = {"key": f"{DAG}/{report_day(logical, TIMEZONE, 1).isoformat()}"}
    with _source_locked(stack):
        for case, kill in (("task", _kill_task), ("worker", _kill_worker)):
            started = time.monotonic()
            run_id = f"manual__killed_{case}_{now:%H%M%S}"
            stack.trigger(DAG, logical if case == "task" else logical + timedelta(seconds=1), run_id)
            kill(_held_try(stack, run_id, 1))
            # Retried (one retry, no delay): the killed try is not final. A killed worker's try stays
            # running until the heartbeat timeout fails it.
            _held_try(stack, run_id, 2)
            assert _extract(stack, run_id)["state"] == "running"
            kill(_held_try(stack, run_id, 2))
            run = stack.wait_run(DAG, run_id, {"failed", "success"}, timeout=240)
            out[case] = {"run_id": run_id, "run": run, "seconds": round(time.monotonic() - started, 1)}
            stack.timings[f"killed_{case}_run_s"] = out[case]["seconds"]
    yield out


@pytest.mark.parametrize("case", ["task", "worker"])
def test_killed_try_is_retried_then_fails_the_run(
    live_stack: LiveStack, killed_runs: dict[str, Any], case: str
) -> None:
    run_id = killed_runs[case]["run_id"]
    assert killed_runs[case]["run"]["state"] == "failed"
    ti = _extract(live_stack, run_id)
    assert (ti["state"], ti["try_number"]) == ("failed", 2)
    states = live_stack.task_states(DAG, run_id)
    assert states["dbt_build"] in ("upstream_failed", None), states


@pytest.mark.parametrize("case", ["task", "worker"])
def test_killed_run_pages_and_emails_once(
    live_stack: LiveStack, killed_runs: dict[str, Any], case: str
) -> None:
    run_id, key = killed_runs[case]["run_id"], killed_runs["key"]
    pages = wait_for(f"a page for {run_id}", lambda: _triggers(live_stack, key, run_id), timeout=60)
    mails = wait_for(f"the engineers' email for {run_id}", lambda: _alert_mails(live_stack, run_id), 60)
    time.sleep(10)  # a second callback (Airflow asks twice for a lost worker) would show by now
    pages, mails = _triggers(live_stack, key, run_id), _alert_mails(live_stack, run_id)
    assert len(pages) == 1, pages
    payload = pages[0]["payload"]
    assert payload["severity"] == "critical"
    assert f"task {TASK} failed" in payload["summary"] and "killed" in payload["summary"], payload
    assert payload["custom_details"]["task_id"] == TASK
    assert len(mails) == 1, [m["Subject"] for m in mails]
    assert mails[0]["To"] == "data-eng@example.com"
    assert f"task {TASK} failed" in str(mails[0]["Subject"])
