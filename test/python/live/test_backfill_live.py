"""`airflow backfill create` in the running stack: one partition and one archived report per day, no
executive email and no page for historical days, and running the same range again changes nothing.

``live_backfill`` (specs/ beside this file) is the seed pipeline with its own source, lake and
warehouse. Three past days are backfilled with ``--max-active-runs 4`` (the spec's limit: Airflow's
backfill does not take the DAG's ``max_active_runs``; without the flag it allows 10). The deadlines
of those runs, measured from their old logical dates, have long passed: Airflow fires them at once
and the callback stays quiet because the run is a backfill.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import psycopg
import pytest
from livestack import TIMEZONE, LiveStack

from airflow_rest import wait_for

pytestmark = pytest.mark.live

DAG = "live_backfill"
TABLES = ("events", "orders", "users")


def _lake(stack: LiveStack) -> Path:
    return stack.home / "lake" / DAG


def _lake_files(stack: LiveStack) -> dict[str, str]:
    """Every data file in the lake with its sha256: raw partitions and archived reports. dbt's run
    artifacts (timings) and the manifests' write times are not data; the manifests' file lists are
    covered by the part files they name."""
    root = _lake(stack)
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and "/dbt/" not in rel and not rel.startswith("_tmp/"):
            if path.name == "_manifest.json":
                manifest = json.loads(path.read_text())
                out[rel] = json.dumps(manifest["files"], sort_keys=True)
            else:
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _published(stack: LiveStack) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(stack.home / "warehouse" / f"{DAG}.duckdb"), read_only=True)
    try:
        return con.execute(
            "select ds, revenue, orders, aov, dau from main.fct_daily_metrics order by ds"
        ).fetchall()
    finally:
        con.close()


def _source_kpis(stack: LiveStack, day: date) -> tuple[Decimal, int]:
    """Revenue and orders of a local day straight from the source: the oracle for the partition."""
    with psycopg.connect(stack.sources[DAG]) as conn:
        row = conn.execute(
            """
            select coalesce(sum(amount), 0), count(*)
            from app.orders
            where status <> 'cancelled'
              and created_at >= (%(day)s::date)::timestamp at time zone %(tz)s
              and created_at < (%(day)s::date + 1)::timestamp at time zone %(tz)s
            """,
            {"day": day, "tz": TIMEZONE},
        ).fetchone()
    assert row is not None
    return Decimal(row[0]), int(row[1])


def _changed(before: dict[str, str], after: dict[str, str]) -> dict[str, tuple[str | None, str | None]]:
    return {
        k: (before.get(k), after.get(k))
        for k in sorted(before.keys() | after.keys())
        if before.get(k) != after.get(k)
    }


def _runs(stack: LiveStack) -> list[tuple[Any, ...]]:
    return [
        (r["dag_run_id"], r["run_type"], r["state"], r["start_date"], r["end_date"]) for r in stack.runs(DAG)
    ]


def _backfill(stack: LiveStack, first: datetime, last: datetime, *extra: str) -> int:
    """``backfill create`` as ``gen airflow cli`` runs it; waits until the scheduler completes it."""
    before = {b["id"] for b in stack.get("/backfills", dag_id=DAG).json()["backfills"]}
    out = stack.cli(
        "backfill", "create", "--dag-id", DAG, "--max-active-runs", "4",
        "--from-date", first.isoformat(), "--to-date", last.isoformat(), *extra,
    )  # fmt: skip
    assert out.returncode == 0, f"{out.stdout[-2000:]}\n{out.stderr[-2000:]}"

    def completed() -> dict[str, Any] | None:
        new = [b for b in stack.get("/backfills", dag_id=DAG).json()["backfills"] if b["id"] not in before]
        return new[0] if new and new[0]["completed_at"] else None

    return int(wait_for(f"the backfill of {DAG} to complete", completed, timeout=300, every=2)["id"])


@pytest.fixture(scope="module")
def backfilled(live_stack: LiveStack) -> dict[str, Any]:
    """Three past days, 06:00 New York runs: today-3, today-2 and today-1, reporting on the day before."""
    zone = ZoneInfo(TIMEZONE)
    today = datetime.now(zone).date()
    logical = [datetime.combine(today - timedelta(days=k), dtime(6), zone) for k in (3, 2, 1)]
    started = time.monotonic()
    backfill_id = _backfill(live_stack, logical[0], logical[-1])
    live_stack.timings["backfill_3_days_s"] = round(time.monotonic() - started, 1)
    return {
        "backfill_id": backfill_id,
        "logical": [d.astimezone(UTC) for d in logical],
        "days": [(d - timedelta(days=1)).date() for d in logical],
        "first": logical[0],
        "last": logical[-1],
    }


def test_backfill_runs_each_day_once_in_parallel(live_stack: LiveStack, backfilled: dict) -> None:
    runs = live_stack.runs(DAG)
    assert [r["run_type"] for r in runs] == ["backfill"] * 3
    assert [datetime.fromisoformat(r["logical_date"].replace("Z", "+00:00")) for r in runs] == backfilled[
        "logical"
    ]
    assert all(r["state"] == "success" for r in runs), [(r["dag_run_id"], r["state"]) for r in runs]
    # Days ran side by side (up to --max-active-runs): some run started before another one ended.
    spans = sorted((r["start_date"], r["end_date"]) for r in runs)
    assert any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:], strict=False)), spans


def test_one_partition_and_one_archived_report_per_day(live_stack: LiveStack, backfilled: dict) -> None:
    days = [d.isoformat() for d in backfilled["days"]]
    lake = _lake(live_stack)
    for table in TABLES:
        assert sorted(p.name for p in (lake / "raw" / table).iterdir()) == [f"ds={d}" for d in days]
        for day in days:
            manifest = json.loads((lake / "raw" / table / f"ds={day}" / "_manifest.json").read_text())
            assert manifest["ds"] == day and manifest["files"], manifest
    reports = lake / "reports" / DAG
    assert sorted(p.name for p in reports.iterdir()) == [f"ds={d}" for d in days]
    for day in days:
        folder = reports / f"ds={day}"
        assert (folder / "report.html").is_file()
        assert json.loads((folder / "report.json").read_text())["ds"] == day
        assert not (folder / "_delivered.json").exists()  # archived, never delivered

    published = _published(live_stack)
    assert [row[0] for row in published] == backfilled["days"]
    for ds, revenue, orders, _aov, _dau in published:
        assert (Decimal(str(revenue)), orders) == _source_kpis(live_stack, ds), ds


def test_historical_days_email_and_page_nobody(live_stack: LiveStack, backfilled: dict) -> None:
    assert live_stack.emails(DAG) == []
    for day in backfilled["days"]:
        assert live_stack.pagerduty_events(f"{DAG}/{day.isoformat()}") == []
    for run in live_stack.runs(DAG):
        # Both deadlines (at risk, breach) lay in the past when the run was created: Airflow fired them
        # and the callback chose not to page.
        deadlines = live_stack.deadlines(DAG, run["dag_run_id"])
        assert [(d["missed"], d["callback_state"]) for d in deadlines] == [(True, "success")] * 2
        assert all(
            json.loads(d["callback_output"]) == {"paged": False, "reason": "backfill"} for d in deadlines
        )


def test_backfilling_the_range_again_changes_nothing(live_stack: LiveStack, backfilled: dict) -> None:
    runs, files, rows = _runs(live_stack), _lake_files(live_stack), _published(live_stack)
    events = len(live_stack.pagerduty_events())

    # Same range, default reprocess behaviour: every day exists, so no run is created or touched.
    _backfill(live_stack, backfilled["first"], backfilled["last"])
    assert _runs(live_stack) == runs
    assert _changed(files, _lake_files(live_stack)) == {}
    assert _published(live_stack) == rows

    # Same range, every completed day run again: the same partitions, rows and reports.
    started = time.monotonic()
    _backfill(live_stack, backfilled["first"], backfilled["last"], "--reprocess-behavior", "completed")
    live_stack.timings["backfill_rerun_3_days_s"] = round(time.monotonic() - started, 1)
    again = _runs(live_stack)
    assert [r[:3] for r in again] == [r[:3] for r in runs]  # the same runs, backfill, success
    assert all(a[4] > b[4] for a, b in zip(again, runs, strict=True))  # each really ran again
    assert _published(live_stack) == rows
    assert _changed(files, _lake_files(live_stack)) == {}
    assert live_stack.emails(DAG) == []
    assert len(live_stack.pagerduty_events()) == events


# -- the one-pass backfill (the `<id>__backfill` DAG) over the same range -------------------------

ONE_PASS = f"{DAG}__backfill"


def _one_pass(stack: LiveStack, first: date, last: date) -> dict[str, Any]:
    """``gen airflow backfill --one-pass``: a run of the backfill DAG for the range; waits until it ends."""
    before = {r["dag_run_id"] for r in stack.runs(ONE_PASS)}
    conf = json.dumps({"first_day": first.isoformat(), "last_day": last.isoformat()})
    out = stack.cli("dags", "trigger", ONE_PASS, "--conf", conf)
    assert out.returncode == 0, f"{out.stdout[-2000:]}\n{out.stderr[-2000:]}"

    def ended() -> dict[str, Any] | None:
        new = [r for r in stack.runs(ONE_PASS) if r["dag_run_id"] not in before]
        return new[0] if new and new[0]["state"] in ("success", "failed") else None

    return wait_for(f"the one-pass backfill of {first}..{last} to end", ended, timeout=300, every=2)


def _days_outcome(stack: LiveStack, run: dict[str, Any], key: str) -> dict[str, Any]:
    """``build_days``' per-day outcome from its XCom: ``return_value`` if it succeeded, else ``days``."""
    xcom = stack.get(
        f"/dags/{ONE_PASS}/dagRuns/{run['dag_run_id']}/taskInstances/build_days/xcomEntries/{key}"
    )
    assert xcom.status_code == 200, xcom.text
    value = xcom.json()["value"]
    return json.loads(value) if isinstance(value, str) else value


def test_one_pass_over_the_same_range_changes_nothing(live_stack: LiveStack, backfilled: dict) -> None:
    """Every day of the range again in one run: the partitions, reports and published rows that
    Airflow's backfill (one run per day) left, byte for byte, and nobody e-mailed or paged."""
    files, rows, events = _lake_files(live_stack), _published(live_stack), len(live_stack.pagerduty_events())
    days = backfilled["days"]
    started = time.monotonic()
    run = _one_pass(live_stack, days[0], days[-1])
    live_stack.timings["one_pass_3_days_s"] = round(time.monotonic() - started, 1)
    states = live_stack.task_states(ONE_PASS, run["dag_run_id"])
    assert run["state"] == "success", states
    assert states == {"wait_for_source": "success", "extract_days": "success", "build_days": "success"}
    # The first day by its own dbt build, the others by one build of them (the seed's project takes
    # ranges); the lake is left as the daily builds left it.
    gates = [o["gate"] for o in _days_outcome(live_stack, run, "return_value").values()]
    assert gates == ["day", "range", "range"]
    assert _changed(files, _lake_files(live_stack)) == {}
    assert _published(live_stack) == rows
    assert live_stack.emails(DAG) == []
    assert len(live_stack.pagerduty_events()) == events


def test_one_pass_a_day_failing_its_gate_publishes_nothing_and_the_others_go_on(
    live_stack: LiveStack, backfilled: dict
) -> None:
    """A negative order (the seed's assert_positive_revenue gate) on the middle day: that day keeps
    what was published before, the days around it are published, the run fails and pages once for it."""
    days = backfilled["days"]
    bad = days[1]
    rows = _published(live_stack)
    with psycopg.connect(live_stack.sources[DAG], autocommit=True) as conn:
        conn.execute(
            """
            insert into app.orders (id, user_id, amount, status, created_at, updated_at)
            select max(o.id) + 1, min(o.user_id), -100.00, 'paid', t.noon, t.noon
            from app.orders as o,
                (select ((%(day)s::date)::timestamp + interval '12 hours') at time zone %(tz)s as noon) as t
            group by t.noon
            """,
            {"day": bad, "tz": TIMEZONE},
        )
    try:
        run = _one_pass(live_stack, days[0], days[-1])
    finally:
        with psycopg.connect(live_stack.sources[DAG], autocommit=True) as conn:
            conn.execute("delete from app.orders where amount = -100.00")
    states = live_stack.task_states(ONE_PASS, run["dag_run_id"])
    assert run["state"] == "failed"
    assert states == {"wait_for_source": "success", "extract_days": "success", "build_days": "failed"}
    # The task went on past the bad day: its XCom "days" says how each day ended. The range's one
    # build failed (it cannot say which day did), so every day was gated by a build of its own.
    outcome = _days_outcome(live_stack, run, "days")
    assert {o["gate"] for o in outcome.values()} == {"day"}
    assert {ds: o["status"] for ds, o in outcome.items()} == {
        days[0].isoformat(): "published",
        bad.isoformat(): "gate failed",
        days[2].isoformat(): "published",
    }
    # The bad day's new numbers never reached the published table; the other days were re-published.
    assert _published(live_stack) == rows
    gate = json.loads((_lake(live_stack) / "reports" / DAG / f"ds={bad}" / "dbt" / "gate.json").read_text())
    assert gate["status"] == "failed"
    assert [f["node"] for f in gate["failures"]] == ["assert_positive_revenue"]
    for day in (days[0], days[2]):
        gate = json.loads(
            (_lake(live_stack) / "reports" / DAG / f"ds={day}" / "dbt" / "gate.json").read_text()
        )
        assert gate["status"] == "passed", day
    # One page for the failed day, naming its test; no executive e-mail.
    pages = live_stack.pagerduty_events(f"{DAG}/{bad.isoformat()}")
    assert [p["event_action"] for p in pages] == ["trigger"], pages
    assert "assert_positive_revenue" in pages[0]["payload"]["summary"], pages[0]
    assert all("data-eng@example.com" in m["To"] for m in live_stack.emails(DAG)), [
        m["To"] for m in live_stack.emails(DAG)
    ]
