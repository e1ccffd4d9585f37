"""One dbt build for a range of report days (a backfill's range build) against each day's own
build, on the generated project of the golden case ``test/cases/history_dimension`` (DuckDB):
``billing.plans`` kept as a history with ``plans_current`` (the rows as of the day) and
``stg_plans`` (an expression of it), ``billing.charges`` by day, ``fct_revenue`` incremental, and
a relationships test from each day's charges to the plans as of that day.

The range build must leave the rows the daily builds leave, and fail whenever some day's own
build fails (the backfill then gates the days one by one), without failing where every day
passes. The lake's partitions are written directly, as the extract lays them out.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dagspec_runtime.lake import Lake
from runtime_fixture import write_partition

REPO = Path(__file__).resolve().parents[2]
PROJECT = REPO / "test/cases/history_dimension/expected/dbt/subscription_revenue"
DBT = Path(sys.executable).parent / "dbt"
D1, D2, D3, D4 = (date(2026, 3, d) for d in range(2, 6))

PLANS = {
    "name": "plans",
    "schema": "billing",
    "columns": [
        {"name": "region", "type": "text"},
        {"name": "plan", "type": "text"},
        {"name": "monthly_price", "type": "numeric(10,2)"},
        {"name": "modified_at", "type": "timestamptz"},
    ],
    "primary_key": ["region", "plan"],
    "mode": "history",
    "cursor_column": "modified_at",
}
CHARGES = {
    "name": "charges",
    "schema": "billing",
    "columns": [
        {"name": "id", "type": "bigint"},
        {"name": "region", "type": "text"},
        {"name": "plan", "type": "text"},
        {"name": "amount", "type": "numeric(10,2)"},
        {"name": "charged_at", "type": "timestamptz"},
    ],
    "primary_key": ["id"],
    "mode": "incremental",
    "cursor_column": "charged_at",
}


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=hour)


def plan(region: str, name: str, price: str, day: date, hour: int = 9) -> dict[str, Any]:
    return {"region": region, "plan": name, "monthly_price": Decimal(price), "modified_at": _at(day, hour)}


def charge(charge_id: int, region: str, name: str, amount: str, day: date) -> dict[str, Any]:
    return {"id": charge_id, "region": region, "plan": name, "amount": Decimal(amount), "charged_at": _at(day, 15)}


# Plans change over the days (the first day's partition is the whole table); every charge is on a
# plan that exists on its day, some at a price changed that very day.
PLAN_DAYS = {
    D1: [plan("eu", "basic", "10.00", D1), plan("eu", "pro", "20.00", D1), plan("us", "basic", "13.00", D1)],
    D2: [plan("eu", "basic", "11.00", D2), plan("us", "pro", "25.00", D2)],
    D3: [plan("eu", "max", "31.00", D3), plan("eu", "basic", "12.00", D3)],
    D4: [plan("us", "pro", "26.00", D4)],
}
CHARGE_DAYS = {
    D1: [charge(1, "eu", "basic", "10.00", D1), charge(2, "us", "basic", "13.00", D1)],
    D2: [charge(3, "us", "pro", "25.00", D2), charge(4, "eu", "basic", "11.00", D2)],
    D3: [charge(5, "eu", "max", "31.00", D3), charge(6, "eu", "basic", "12.00", D3)],
    D4: [charge(7, "us", "pro", "26.00", D4), charge(8, "eu", "pro", "20.00", D4)],
}


class Lakehouse:
    """A lake of the given days and one DuckDB warehouse, built by the generated project."""

    def __init__(self, root: Path, charges: dict[date, list[dict[str, Any]]]) -> None:
        self.root = root
        self.lake = Lake.from_uri(str(root / "lake"))
        self.project = root / "project"
        shutil.copytree(PROJECT, self.project)
        for day, rows in PLAN_DAYS.items():
            write_partition(self.lake, PLANS, day.isoformat(), rows)
        for day, rows in charges.items():
            write_partition(self.lake, CHARGES, day.isoformat(), rows)

    def build(self, warehouse: str, last: date, first: date | None = None) -> subprocess.CompletedProcess[str]:
        variables = {"ds": last.isoformat(), **({"dagspec_first_day": first.isoformat()} if first else {})}
        env = {
            **os.environ,
            "DAGSPEC_LAKE_URI": str(self.lake.root),
            "DAGSPEC_DUCKDB_PATH": str(self.root / f"{warehouse}.duckdb"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        return subprocess.run(
            [str(DBT), "build", "--project-dir", str(self.project), "--profiles-dir", str(self.project),
             "--target", "duckdb", "--target-path", str(self.root / f"target-{warehouse}"),
             "--vars", json.dumps(variables)],
            env=env, cwd=self.project, capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    def query(self, warehouse: str, statement: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.root / f"{warehouse}.duckdb"), read_only=True) as conn:
            return conn.execute(statement).fetchall()


def _passed(done: subprocess.CompletedProcess[str]) -> bool:
    assert "Done." in done.stdout, done.stdout[-4000:] + done.stderr[-2000:]
    return done.returncode == 0


def _failed_nodes(done: subprocess.CompletedProcess[str]) -> list[str]:
    return sorted(set(re.findall(r" FAIL \d+ (\S+)", done.stdout)))


@pytest.fixture(scope="module", autouse=True)
def _dbt() -> None:
    if not DBT.exists():
        pytest.fail(f"dbt is not installed at {DBT}: run scripts/setup-python.sh")


def test_a_range_build_leaves_the_rows_the_daily_builds_leave(tmp_path: Path) -> None:
    house = Lakehouse(tmp_path, CHARGE_DAYS)
    for day in (D1, D2, D3, D4):
        assert _passed(house.build("daily", day)), day
    assert _passed(house.build("range", D4, first=D1))
    facts = "select ds, revenue from audit.fct_revenue order by ds"
    assert house.query("range", facts) == house.query("daily", facts)
    assert len(house.query("range", facts)) == 4
    history = (
        "select region, plan, monthly_price, valid_from, valid_to, is_current, first_seen_ds "
        "from audit.plans_history order by all"
    )
    assert house.query("range", history) == house.query("daily", history)
    # The dimension holds each version once, with the days it holds on: eu/basic at 10, 11, 12.
    basic = house.query(
        "range",
        "select monthly_price, dagspec_from, dagspec_to from audit.plans_current "
        "where region = 'eu' and plan = 'basic' order by dagspec_from",
    )
    assert basic == [(Decimal("10.00"), D1, D2), (Decimal("11.00"), D2, D3), (Decimal("12.00"), D3, None)]
    # A daily build after the range build takes its day as it always did.
    assert _passed(house.build("range", D4))
    assert house.query("range", facts) == house.query("daily", facts)


def test_a_charge_on_a_plan_from_a_later_day_fails_the_range_as_it_fails_its_day(tmp_path: Path) -> None:
    # eu/max first appears in D3's partition; a charge on it on D2 fails D2's own gate, though the
    # plan exists on every later day of the range.
    early = {**CHARGE_DAYS, D2: [*CHARGE_DAYS[D2], charge(9, "eu", "max", "31.00", D2)]}
    house = Lakehouse(tmp_path, early)
    assert _passed(house.build("daily", D1))
    day = house.build("daily", D2)
    assert not _passed(day)
    assert _failed_nodes(day) == ["relationships_stg_charges_plan_key__plan_key__ref_stg_plans_"]
    whole = house.build("range", D4, first=D1)
    assert not _passed(whole)
    assert _failed_nodes(whole) == ["relationships_stg_charges_plan_key__plan_key__ref_stg_plans_"]


def test_unique_holds_per_day_in_a_range_as_in_each_day(tmp_path: Path) -> None:
    # Charge id 4 again on D3: each day's ids are unique, so every day passes, and so does the range.
    again = {**CHARGE_DAYS, D3: [*CHARGE_DAYS[D3], charge(4, "eu", "basic", "12.00", D3)]}
    house = Lakehouse(tmp_path / "across", again)
    assert _passed(house.build("daily", D3))
    assert _passed(house.build("range", D4, first=D1))
    # Twice on D3 itself fails D3's gate, and the range.
    twice = {**CHARGE_DAYS, D3: [*CHARGE_DAYS[D3], charge(6, "eu", "basic", "12.00", D3)]}
    house = Lakehouse(tmp_path / "within", twice)
    assert not _passed(house.build("daily", D3))
    whole = house.build("range", D4, first=D1)
    assert not _passed(whole)
    assert _failed_nodes(whole) == ["unique_stg_charges_id"]


def test_a_range_of_one_day_is_that_days_build(tmp_path: Path) -> None:
    house = Lakehouse(tmp_path, CHARGE_DAYS)
    assert _passed(house.build("daily", D2))
    assert _passed(house.build("range", D2, first=D2))
    facts = "select ds, revenue from audit.fct_revenue order by ds"
    assert house.query("range", facts) == house.query("daily", facts) == [(D2, Decimal("36.00"))]
