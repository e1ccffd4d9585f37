"""Which calendar day a DAG run reports on, and that day's bounds in UTC.

Airflow 3 turns a cron schedule into a ``CronTriggerTimetable`` whose runs have a zero-length data
interval at the trigger time, so ``ds``/``logical_date`` is the day the run *starts*. A pipeline that
runs at 06:00 and reports on yesterday has to say so: the report day is computed here from the
logical date in the pipeline's own timezone, so it is right on DST change days and for backfills.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["day_bounds", "report_day", "report_day_str"]


def _require_aware(value: datetime, name: str) -> None:
    # A naive datetime has no instant: which local day it falls on would depend on the host's zone.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


def report_day(logical_date: datetime, timezone: str, lag_days: int = 1) -> date:
    """The calendar day a run reports on: local date of ``logical_date`` in ``timezone`` minus lag."""
    _require_aware(logical_date, "logical_date")
    if lag_days < 0:
        raise ValueError(f"lag_days must be >= 0, got {lag_days}")
    local = logical_date.astimezone(ZoneInfo(timezone))
    return local.date() - timedelta(days=lag_days)


def report_day_str(logical_date: datetime, timezone: str, lag_days: int = 1) -> str:
    """``report_day`` as an ISO date string; registered as an Airflow user-defined macro."""
    return report_day(logical_date, timezone, lag_days).isoformat()


def _local_day_start(day: date, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) whose local date in ``zone`` is ``day``.

    Usually local midnight. Where midnight falls in a DST gap (clocks jump 00:00 -> 01:00) or
    repeats (clocks fall back 00:00 -> 23:00), both readings of 00:00 (fold 0 and 1) are tried and
    the earliest one that really lies on ``day`` wins.
    """
    candidates = []
    for fold in (0, 1):
        instant = datetime.combine(day, time(0), tzinfo=zone).replace(fold=fold).astimezone(UTC)
        if instant.astimezone(zone).date() == day:
            candidates.append(instant)
    if not candidates:  # cannot happen for real tz data; guard against a silent wrong window
        raise ValueError(f"no instant of {day} exists in {zone.key}")
    return min(candidates)


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """``[start, end)`` of the local calendar ``day`` in ``timezone``, as aware UTC datetimes.

    The span is 24 h on ordinary days, 23 h or 25 h on DST change days.
    """
    zone = ZoneInfo(timezone)
    return _local_day_start(day, zone), _local_day_start(day + timedelta(days=1), zone)
