"""Facts about the running DAG run, read from an Airflow task context (or a deadline callback's).

Kept apart from the task entry points so alert callbacks can use them without importing anything
heavy.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from dagspec_runtime.days import day_bounds, report_day

if TYPE_CHECKING:
    from dagspec_runtime.contract import Pipeline

__all__ = ["is_backfill", "logical_date", "range_window", "run_day", "run_id_of", "run_type", "window"]


def _get(obj: Any, name: str) -> Any:
    # A task context holds a DagRun object; a deadline callback's context holds the API's JSON dict.
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def logical_date(context: Mapping[str, Any]) -> datetime:
    """The run's logical date; runs triggered without one (allowed in Airflow 3) use ``run_after``."""
    value = _as_datetime(context.get("logical_date"))
    dag_run = context.get("dag_run")
    if value is None and dag_run is not None:
        value = _as_datetime(_get(dag_run, "logical_date")) or _as_datetime(_get(dag_run, "run_after"))
    if value is None:
        raise ValueError("the run has neither a logical date nor a run_after date")
    return value


def run_day(pipeline: Pipeline, context: Mapping[str, Any]) -> date:
    """The calendar day this run reports on, in the pipeline's timezone."""
    return report_day(logical_date(context), pipeline.timezone, pipeline.report_lag_days)


def run_id_of(context: Mapping[str, Any]) -> str:
    """The run's id ("" when the context has none)."""
    dag_run = context.get("dag_run")
    return str(context.get("run_id") or getattr(dag_run, "run_id", "") or "")


def run_type(context: Mapping[str, Any]) -> str:
    value = _get(context.get("dag_run"), "run_type")
    return str(getattr(value, "value", value) or "")


def is_backfill(context: Mapping[str, Any]) -> bool:
    return run_type(context) == "backfill"


def window(pipeline: Pipeline, logical_date: datetime) -> dict[str, str]:
    """``{report_day, day_start, day_end}`` (ISO strings, bounds in UTC) for a run's logical date.

    Registered as the DAG macro ``dagspec_window`` (bound to the pipeline) so the source sensor's
    SQL parameters and the operators' report day use exactly the window the steps read.
    """
    day = report_day(logical_date, pipeline.timezone, pipeline.report_lag_days)
    start, end = day_bounds(day, pipeline.timezone)
    return {"report_day": day.isoformat(), "day_start": start.isoformat(), "day_end": end.isoformat()}


def range_window(pipeline: Pipeline, first_day: str, last_day: str) -> dict[str, str]:
    """The window of a range of report days (a one-pass backfill), keyed as ``window``'s:
    ``report_day`` is the last day, ``day_start`` the first day's start and ``day_end`` the last
    day's end (UTC), so a readiness query asking for the report day's data asks for the range's.

    Registered as the backfill DAG's macro ``dagspec_range`` for the source sensor's parameters.
    """
    first, last = date.fromisoformat(first_day), date.fromisoformat(last_day)
    start, _ = day_bounds(first, pipeline.timezone)
    _, end = day_bounds(last, pipeline.timezone)
    return {
        "report_day": last.isoformat(),
        "day_start": start.isoformat(),
        "day_end": end.isoformat(),
        "first_day": first.isoformat(),
        "last_day": last.isoformat(),
    }
