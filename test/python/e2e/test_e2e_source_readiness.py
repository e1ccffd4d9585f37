"""Scenario 4: the run waits for its source, then completes.

The source starts not ready for two reasons at once: an open-ended ``ops.maintenance`` window and
load watermarks behind the end of the report day. The sensor (reschedule mode; ``dags test`` loops
it inline) of a test variant poking every 10 s must come back not-ready, then not-ready again once
the maintenance window is cleared (the watermark still holds it), and go on only after the
watermark reaches the day's end. A background thread makes each change only after watching the
sensor's previous poke be rescheduled in the metadata database, so every poke's outcome is known.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from e2e_stack import (
    GOOD_DAY,
    LAST_DAY,
    TZ,
    Stack,
    assert_report_matches_source,
    assert_run_ok,
    day_end,
    wait_until,
)

DAG_ID = "e2e_metrics_fast_sensor"
POKE_SECONDS = 10


def test_sensor_waits_for_maintenance_and_watermark_then_run_completes(stack: Stack) -> None:
    dag_file = (stack.build.dags / f"{DAG_ID}.py").read_text()
    assert f"poke_interval={POKE_SECONDS}," in dag_file and 'mode="reschedule"' in dag_file
    end = day_end(GOOD_DAY)  # the readiness bound of the report day
    seeded_watermark = day_end(LAST_DAY).isoformat()  # where demo-shop left every watermark
    ready = {"op": "checkReadiness", "day": GOOD_DAY.isoformat(), "timezone": TZ}

    # Not ready: maintenance open since an hour ago with no end, watermarks an hour short of the day.
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    stack.source(
        {"op": "setMaintenance", "window": {"startsAt": an_hour_ago, "endsAt": None, "reason": "e2e"}},
        {"op": "setWatermark", "completeThrough": (end - timedelta(hours=1)).isoformat()},
    )
    assert stack.source(ready) == [False]

    def reschedules() -> int:
        rows = stack.metadata(
            "SELECT count(*) FROM task_reschedule tr JOIN task_instance ti ON ti.id = tr.ti_id "
            "WHERE ti.dag_id = %s AND ti.task_id = 'wait_for_source'",
            (DAG_ID,),
        )
        return int(rows[0][0])

    steps: list[tuple[str, Any, datetime]] = []
    errors: list[BaseException] = []

    def release() -> None:
        try:
            wait_until(lambda: reschedules() >= 1, 150, "the sensor's first not-ready poke")
            (still_blocked,) = stack.source({"op": "clearMaintenance"}, ready)[1:]
            steps.append(("maintenance cleared", still_blocked, datetime.now(UTC)))
            wait_until(lambda: reschedules() >= 2, 150, "the sensor's second not-ready poke")
            (now_ready,) = stack.source({"op": "setWatermark", "completeThrough": seeded_watermark}, ready)[
                1:
            ]
            steps.append(("watermark advanced", now_ready, datetime.now(UTC)))
        except BaseException as exc:  # surfaced by the main thread
            errors.append(exc)

    releaser = threading.Thread(target=release, name="release-source", daemon=True)
    releaser.start()
    started = time.monotonic()
    run = stack.run(DAG_ID, GOOD_DAY)
    waited = time.monotonic() - started
    releaser.join(timeout=30)

    assert not errors, f"{errors[0]!r}\n{run.tail()}"
    assert [(name, ok) for name, ok, _ in steps] == [
        ("maintenance cleared", False),  # the watermark alone still holds the source
        ("watermark advanced", True),
    ]
    assert_run_ok(stack, run)
    assert set(stack.task_states(DAG_ID).values()) == {"success"}

    # The sensor was rescheduled (not failed, not retried) exactly twice, POKE_SECONDS apart, and
    # succeeded only after the watermark reached the day's end.
    ((try_number, sensor_end),) = stack.metadata(
        "SELECT try_number, end_date FROM task_instance WHERE dag_id = %s AND task_id = 'wait_for_source'",
        (DAG_ID,),
    )
    assert try_number == 1
    assert reschedules() == 2
    assert sensor_end >= steps[1][2]
    gaps = stack.metadata(
        "SELECT extract(epoch FROM tr.reschedule_date - tr.end_date) FROM task_reschedule tr "
        "JOIN task_instance ti ON ti.id = tr.ti_id WHERE ti.dag_id = %s ORDER BY tr.id",
        (DAG_ID,),
    )
    assert [round(float(g)) for (g,) in gaps] == [POKE_SECONDS, POKE_SECONDS]
    assert waited >= 2 * POKE_SECONDS

    # And the report it then delivered is right.
    assert_report_matches_source(stack, DAG_ID, GOOD_DAY)
    assert len(stack.report_mails(GOOD_DAY)) == 1
