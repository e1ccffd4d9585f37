"""A one-pass backfill: a range of report days in one run of the ``<pipeline id>__backfill`` DAG.

Airflow's own backfill (``gen airflow backfill``) makes one DAG run per report day, and each pays
for scheduling and starting five task processes and for dbt's start-up. Here one run takes the
range in two steps:

- ``extract_days`` reads every day from one snapshot of the source, several days at a time, each
  day staged, reconciled and committed as a daily extract does (``extract_range``);
- ``build_days`` then gates, publishes and archives the report of every day, in date order, with
  the steps of a daily run: ``load_raw`` where the warehouse cannot read the lake, the dbt gate,
  publish, and the report's archive (a backfill e-mails no first delivery unless
  ``report.email_backfills``; a changed number of a day already delivered is a correction, as in
  any re-run). The builds fork from one warm dbt server (``dbt_server``), so dbt is started and
  the project parsed once for the range.

The gate of a range: a dbt build per day costs seconds each (~85 s for 30 days), so when the
compiler emitted a range-capable project (``Dbt.range_build``) the first day is gated by its own
build and one ``dbt build`` gates all the others (vars ``ds`` = the last day, ``dagspec_first_day``
= the second; ``tasks.build_range_gate``). The first day's own build makes any first (whole) build
of an incremental model where day-by-day builds make it, so every rendering in the range build is an
incremental one, as on their later days. That project builds and tests each day exactly as the day's
own build would, and no less strictly, so a clean range build (every node passed, no warning,
nothing skipped) is every day's passing gate, and each day is then published and reported with its
own summary. A range build that is not clean cannot say which day failed or warned: the days are
then gated one by one, each by its own build, exactly as without a range-capable project. A dbt that
runs no node at all raises: it would die on every day too.

Still gated per day: a day whose gate fails publishes nothing, and the days after it go on. The
same holds for any other step that fails on a day (a report that cannot be built): the days after
it go on. The task fails at the end, naming the failed days and their tests (``RangeFailed``), so
the run fails and alerts once. Airflow retries it unless only data tests failed; a retry takes
the whole range again, which re-publishes the days already published with the same rows and
e-mails nobody.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException, AirflowFailException

if TYPE_CHECKING:
    from dagspec_runtime.contract import Pipeline
    from dagspec_runtime.gate import GateSummary

__all__ = [
    "MAX_RANGE_DAYS",
    "RangeFailed",
    "RangeTestsFailed",
    "build_days",
    "days_in_range",
    "extract_days",
]

log = logging.getLogger(__name__)

# A guard against a mistyped year, not a limit of the method: longer ranges take several runs.
MAX_RANGE_DAYS = 731


class RangeFailed(AirflowException):
    """Some days of the range failed: a failed gate published nothing of its day, any other error
    stopped its day at the step it hit; every other day of the range was published.

    ``report_days`` and ``gate_failures`` are what the failure alert names
    (``alerts._failure_facts``). Airflow retries the task (a model error or a lost connection may
    pass), as it retries a daily task; ``RangeTestsFailed`` is not retried."""

    def __init__(self, failed: Mapping[str, Exception], days: Mapping[str, Mapping[str, Any]]) -> None:
        from dagspec_runtime.dbt_runner import GateFailed

        self.report_days = ", ".join(failed)
        self.gate_failures = [
            {**node, "node": f"ds={ds}: {node['node']}"}
            for ds, exc in failed.items()
            if isinstance(exc, GateFailed)
            for node in exc.gate_failures
        ]
        self.days = dict(days)
        published = sum(1 for d in days.values() if d["status"] == "published")
        super().__init__(
            f"{len(failed)} of {len(days)} day(s) failed: "
            + "; ".join(f"ds={ds}: {days[ds]['status']}: {days[ds]['error']}" for ds in failed)
            + f". The other {published} day(s) were published."
        )


class RangeTestsFailed(RangeFailed, AirflowFailException):
    """Every failed day failed on data tests alone: the same data fails the same way, so the task
    fails without retries and the alert goes out at once."""


def days_in_range(first: str, last: str) -> list[str]:
    """Every report day from ``first`` to ``last`` (ISO dates, both included), ascending."""
    try:
        start, end = date.fromisoformat(first), date.fromisoformat(last)
    except (TypeError, ValueError):
        raise AirflowFailException(
            f"first_day and last_day must be report days as YYYY-MM-DD, got {first!r} and {last!r}"
        ) from None
    if start > end:
        raise AirflowFailException(f"first_day {first} is after last_day {last}")
    count = (end - start).days + 1
    if count > MAX_RANGE_DAYS:
        raise AirflowFailException(
            f"{first}..{last} is {count} days; one run takes at most {MAX_RANGE_DAYS}: split the range"
        )
    return [(start + timedelta(days=i)).isoformat() for i in range(count)]


def extract_days(pipeline: Pipeline, first: str, last: str) -> dict[str, Any]:
    """Extract every day of the range into the lake from one snapshot of the source."""
    from dagspec_runtime.adapters import lake_location
    from dagspec_runtime.connections import describe, postgres_conninfo
    from dagspec_runtime.extract_range import extract_range
    from dagspec_runtime.lake import Lake

    days = days_in_range(first, last)
    uri, lake_conn = lake_location(pipeline)
    conninfo = postgres_conninfo(pipeline.source.conn_id, application_name=f"dagspec-extract:{pipeline.id}")
    lake = Lake.from_uri(uri, conn_id=lake_conn)
    log.info(
        "extracting %d table(s) for %d day(s), %s..%s, from %s (%s) into %s",
        len(pipeline.source.tables),
        len(days),
        first,
        last,
        pipeline.source.conn_id,
        describe(conninfo),
        lake.uri,
    )
    result = extract_range(
        conninfo,
        lake,
        pipeline_id=pipeline.id,
        days=days,
        timezone=pipeline.timezone,
        tables=pipeline.source.tables,
    )
    return {ds: {table: s["rows"] for table, s in tables.items()} for ds, tables in result.items()}


def build_days(pipeline: Pipeline, first: str, last: str, context: Mapping[str, Any]) -> dict[str, Any]:
    """Gate, publish and report every day of the range, in date order; returns ``{day: outcome}``.

    When the project can, the first day is gated by its own build and the other days by one build of
    them (``_DaySteps.gate_range``); otherwise, or when the first day failed or that build is not
    clean, each day by its own. The outcome's ``gate`` says which (``range`` or ``day``). A day that
    fails (its gate, or any step) does not stop the days after it; the task then raises
    ``RangeFailed`` naming the failed days.
    """
    from dagspec_runtime.dbt_runner import GateFailed, GateTestsFailed
    from dagspec_runtime.runinfo import run_id_of

    days = days_in_range(first, last)
    steps = _DaySteps(pipeline, context, run_id_of(context), getattr(context.get("dag"), "fileloc", None))
    outcome: dict[str, dict[str, Any]] = {}
    failed: dict[str, Exception] = {}
    started = time.perf_counter()
    # The first day is gated by a build of its own, the rest (if it passed) by one build of the
    # range: an incremental model's first (whole) build then happens where day-by-day builds have
    # it, and every rendering in the range build is an incremental one, as on their later days.
    split = pipeline.dbt.range_build and len(days) > 2
    gates: dict[str, GateSummary] | None = None
    for ds in days:
        day_started = time.perf_counter()
        done: dict[str, Any] = {"status": "published"}
        if split and ds == days[1] and not failed:
            gates = steps.gate_range(days[1:])
        try:
            if gates is None:
                steps.run(ds, done)
            else:
                steps.publish(ds, gates[ds], done)
        except GateFailed as exc:
            failed[ds] = exc
            done = {
                "status": "gate failed",
                "error": str(exc),
                "failures": [n["node"] for n in exc.gate_failures],
            }
            log.error("ds=%s: %s; nothing of it is published, the next day goes on", ds, exc)
        except Exception as exc:  # noqa: BLE001 - recorded, and raised for the range at the end
            failed[ds] = exc
            done = {"status": f"failed in {done.get('step')}", "error": f"{type(exc).__name__}: {exc}"[:1000]}
            log.exception("ds=%s failed in %s; the next day goes on", ds, done["status"])
        done.pop("step", None)
        outcome[ds] = {
            **done,
            "gate": "day" if gates is None else "range",
            "seconds": round(time.perf_counter() - day_started, 2),
        }
    log.info(
        "%s: %d of %d day(s) published in %.1fs: %s",
        pipeline.id,
        len(days) - len(failed),
        len(days),
        time.perf_counter() - started,
        ", ".join(f"{ds} {o['status']}" for ds, o in outcome.items()),
    )
    if failed:
        _push_outcome(context, outcome)
        final = all(isinstance(exc, GateTestsFailed) for exc in failed.values())
        raise (RangeTestsFailed if final else RangeFailed)(failed, outcome)
    return outcome


class _DaySteps:
    """The steps of a daily run after its extract, for one day of the range at a time (``run``), or
    those after the gate (``publish``) once one build gated the whole range (``gate_range``)."""

    def __init__(
        self, pipeline: Pipeline, context: Mapping[str, Any], run_id: str, dag_fileloc: str | None
    ) -> None:
        from dagspec_runtime.adapters import open_warehouse

        self.pipeline = pipeline
        self.context = context
        self.run_id = run_id
        self.dag_fileloc = dag_fileloc
        self.loads_raw = not open_warehouse(pipeline).reads_lake

    def gate_range(self, days: list[str]) -> dict[str, GateSummary] | None:
        """One build gating every day (``tasks.build_range_gate``): each day's gate summary, or
        ``None`` when the days are to be gated one by one (the build was not clean, or a day's raw
        load failed: that day's own steps will meet and record the failure)."""
        from dagspec_runtime import tasks

        if self.loads_raw:
            for ds in days:
                try:
                    tasks.load_raw_day(self.pipeline, ds)
                except Exception as exc:  # noqa: BLE001 - the day's own load_raw reports it
                    log.warning("ds=%s: load_raw failed (%s); gating the days one by one", ds, exc)
                    return None
        started = time.perf_counter()
        gates = tasks.build_range_gate(self.pipeline, days, run_id=self.run_id, dag_fileloc=self.dag_fileloc)
        log.info(
            "one dbt build for ds=%s..%s in %.1fs: %s",
            days[0],
            days[-1],
            time.perf_counter() - started,
            "every day passed its gate" if gates else "not clean, each day is gated by its own build",
        )
        return gates

    def run(self, ds: str, done: dict[str, Any]) -> None:
        """Run ``ds``'s steps; ``done`` says which step ran last (``step``) and what they returned."""
        from dagspec_runtime import tasks

        if self.loads_raw:
            done["step"] = "load_raw"
            tasks.load_raw_day(self.pipeline, ds)
        done["step"] = "dbt_build"
        summary = tasks.build_gate(self.pipeline, ds, run_id=self.run_id, dag_fileloc=self.dag_fileloc)
        self.publish(ds, summary, done)

    def publish(self, ds: str, summary: GateSummary, done: dict[str, Any]) -> None:
        """The steps of ``ds`` after its gate passed (``summary``): publish, then the report."""
        from dagspec_runtime import tasks
        from dagspec_runtime.report_task import run_report

        done["warnings"] = len(summary["warnings"])
        done["step"] = "publish_tables"
        # Each day publishes its own rows only, even after a first (whole) build of an incremental
        # mart: that build read every day of the range the extract committed, but a day's own gate
        # tested this day alone; each later day is tested by its own build (or the range's) and
        # published in its turn, so a failed day among them publishes nothing.
        tasks.publish_day(self.pipeline, ds, run_id=self.run_id, full=set())
        done["step"] = "publish_report"
        report = run_report(
            self.pipeline, self.context, gate_summary=summary, day=date.fromisoformat(ds), backfill=True
        )
        done.update(report=report["report"], delivered=report["delivered"])
        log.info("ds=%s published", ds)


def _push_outcome(context: Mapping[str, Any], outcome: Mapping[str, Any]) -> None:
    """Keep each day's outcome in the task's XCom (``days``) when the task fails on some of them."""
    ti = context.get("ti")
    if ti is None:
        return
    try:
        ti.xcom_push(key="days", value=dict(outcome))
    except Exception as exc:  # the failure and its alert matter more than this record
        log.warning("could not record the days' outcome in XCom: %s", exc)
