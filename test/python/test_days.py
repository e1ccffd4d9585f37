"""Which day a run reports on, and that day's bounds, pinned on DST change days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dagspec_runtime.days import day_bounds, report_day, report_day_str

NY = "America/New_York"


@pytest.mark.parametrize(
    ("day", "start", "end", "hours"),
    [
        ("2026-03-07", "2026-03-07T05:00:00+00:00", "2026-03-08T05:00:00+00:00", 24),
        ("2026-03-08", "2026-03-08T05:00:00+00:00", "2026-03-09T04:00:00+00:00", 23),  # spring forward
        ("2026-11-01", "2026-11-01T04:00:00+00:00", "2026-11-02T05:00:00+00:00", 25),  # fall back
    ],
)
def test_day_bounds_new_york(day: str, start: str, end: str, hours: int) -> None:
    lo, hi = day_bounds(date.fromisoformat(day), NY)
    assert (lo.isoformat(), hi.isoformat()) == (start, end)
    assert lo.tzinfo is UTC and hi.tzinfo is UTC
    assert hi - lo == timedelta(hours=hours)


def test_day_bounds_when_midnight_does_not_exist() -> None:
    # Chile springs forward at 00:00 -> 01:00: the day starts at 01:00 local (-03), 04:00 UTC.
    lo, hi = day_bounds(date(2026, 9, 6), "America/Santiago")
    assert lo == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)
    assert lo.astimezone(ZoneInfo("America/Santiago")).hour == 1
    assert hi - lo == timedelta(hours=23)


@pytest.mark.parametrize(
    ("logical_date", "expected"),
    [
        (datetime(2026, 3, 9, 10, 0, tzinfo=UTC), "2026-03-08"),  # 06:00 EDT, after the 23 h day
        (datetime(2026, 3, 8, 10, 0, tzinfo=UTC), "2026-03-07"),  # 06:00 EDT on the change day
        (datetime(2026, 11, 2, 11, 0, tzinfo=UTC), "2026-11-01"),  # 06:00 EST, after the 25 h day
        (datetime(2026, 11, 1, 10, 0, tzinfo=UTC), "2026-10-31"),  # 06:00 EDT->EST day itself
        (datetime(2026, 11, 2, 3, 0, tzinfo=UTC), "2026-10-31"),  # 22:00 local on Nov 1: UTC date misleads
    ],
)
def test_report_day_is_previous_local_day(logical_date: datetime, expected: str) -> None:
    assert report_day(logical_date, NY).isoformat() == expected
    assert report_day_str(logical_date, NY) == expected


def test_report_day_lag_and_naive_input() -> None:
    when = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    assert report_day(when, NY, lag_days=0) == date(2026, 3, 9)
    assert report_day(when, NY, lag_days=2) == date(2026, 3, 7)
    with pytest.raises(ValueError, match="timezone-aware"):
        report_day(datetime(2026, 3, 9, 10, 0), NY)


def test_airflow_cron_trigger_runs_at_0600_new_york_report_on_yesterday() -> None:
    """Pins the installed Airflow: a 06:00 cron run's logical date is its trigger time."""
    import pendulum
    from airflow.timetables.base import TimeRestriction
    from airflow.timetables.trigger import CronTriggerTimetable

    timetable = CronTriggerTimetable("0 6 * * *", timezone=NY)
    earliest = pendulum.datetime(2026, 3, 6, 12, tz="UTC")
    restriction = TimeRestriction(earliest=earliest, latest=None, catchup=True)
    info = timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    seen = []
    for _ in range(4):
        assert info is not None
        seen.append((info.logical_date.isoformat(), report_day_str(info.logical_date, NY)))
        info = timetable.next_dagrun_info(
            last_automated_data_interval=info.data_interval, restriction=restriction
        )
    assert seen == [
        ("2026-03-07T11:00:00+00:00", "2026-03-06"),
        ("2026-03-08T10:00:00+00:00", "2026-03-07"),  # first EDT run
        ("2026-03-09T10:00:00+00:00", "2026-03-08"),  # reports on the 23 h day
        ("2026-03-10T10:00:00+00:00", "2026-03-09"),
    ]
