"""One dbt build for a range of report days (a backfill's range build) against each day's own
build, on the generated project of the golden case ``test/cases/history_dimension``, on both of
its dbt targets (DuckDB, reading the lake; PostgreSQL, the spec's own warehouse, reading the raw
schema loaded from the lake as the DAG's load_raw does):
``billing.plans`` kept as a history with ``plans_current`` (the rows as of the day) and
``stg_plans`` (an expression of it), ``billing.charges`` by day, ``fct_revenue`` incremental, and
a relationships test from each day's charges to the plans as of that day.

The range build must leave the rows the daily builds leave, and fail whenever some day's own
build fails (the backfill then gates the days one by one), without failing where every day
passes. The lake's partitions are written directly, as the extract lays them out; on PostgreSQL
each warehouse is a fresh database with every day of the lake loaded before its first build. Builds
run as the DAG runs them (``dbt_runner.run_build``: one saved parse of the project, the warm dbt
server), so only the vars tell a daily build from a range build.
"""

from __future__ import annotations

import os
import shutil
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
import yaml

from dagspec_runtime import dbt_runner
from dagspec_runtime.dbt_runner import BuildResult, GateFailed
from dagspec_runtime.lake import Lake
from dagspec_runtime.warehouse_load import load_partitions_to_postgres
from runtime_fixture import write_partition
from test_history import CHARGES, PLANS, PROJECT

DBT = Path(sys.executable).parent / "dbt"
D1, D2, D3, D4 = (date(2026, 3, d) for d in range(2, 6))
TARGETS = ("duckdb", "postgres")
# Where each target builds (the profile's schema) and where the PostgreSQL sources read.
_PROFILE = yaml.safe_load((PROJECT / "profiles.yml").read_text())["subscription_revenue"]
AUDIT = {target: output["schema"] for target, output in _PROFILE["outputs"].items()}
RAW_SCHEMA = yaml.safe_load((PROJECT / "models/sources.yml").read_text())["sources"][0]["schema"]


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=hour)


def plan(region: str, name: str, price: str, day: date, hour: int = 9) -> dict[str, Any]:
    return {"region": region, "plan": name, "monthly_price": Decimal(price), "modified_at": _at(day, hour)}


def charge(charge_id: int, region: str, name: str, amount: str, day: date) -> dict[str, Any]:
    return {
        "id": charge_id,
        "region": region,
        "plan": name,
        "amount": Decimal(amount),
        "charged_at": _at(day, 15),
    }


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
    """A lake of the given days and warehouses on one dbt target, each built by the generated project
    (on PostgreSQL, each warehouse a database of its own, with every day of the lake loaded first)."""

    def __init__(
        self,
        root: Path,
        charges: dict[date, list[dict[str, Any]]],
        target: str,
        project: Path,
        make_db: Any = None,
    ) -> None:
        self.root = root
        self.target = target
        self.project = project
        self.make_db = make_db
        self.databases: dict[str, str] = {}
        self.audit = AUDIT[target]
        self.lake = Lake.from_uri(str(root / "lake"))
        self.builds = 0
        for day, rows in PLAN_DAYS.items():
            write_partition(self.lake, PLANS, day.isoformat(), rows)
        for day, rows in charges.items():
            write_partition(self.lake, CHARGES, day.isoformat(), rows)
        self.days = sorted(PLAN_DAYS.keys() | charges.keys())

    def _database(self, warehouse: str) -> str:
        """The warehouse's PostgreSQL database (conninfo), created and loaded with every day at first use."""
        if warehouse not in self.databases:
            conninfo = self.make_db("range")
            for day in self.days:
                load_partitions_to_postgres(
                    conninfo, self.lake, ds=day.isoformat(), tables=[CHARGES, PLANS], raw_schema=RAW_SCHEMA
                )
            self.databases[warehouse] = conninfo
        return self.databases[warehouse]

    def build(self, warehouse: str, last: date, first: date | None = None) -> BuildResult:
        """A build as the DAG runs it (``dbt_runner.run_build``: the project's saved parse, the warm
        dbt server), with the vars of a daily build or, with ``first``, of a range build."""
        env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        if self.target == "duckdb":
            env |= {
                "DAGSPEC_LAKE_URI": str(self.lake.root),
                "DAGSPEC_DUCKDB_PATH": str(self.root / f"{warehouse}.duckdb"),
            }
        else:
            conn = psycopg.conninfo.conninfo_to_dict(self._database(warehouse))
            env |= {
                "DAGSPEC_PG_HOST": str(conn["host"]),
                "DAGSPEC_PG_PORT": str(conn["port"]),
                "DAGSPEC_PG_USER": str(conn["user"]),
                "DAGSPEC_PG_DBNAME": str(conn["dbname"]),
            }
        self.builds += 1
        return dbt_runner.run_build(
            dbt_bin=str(DBT),
            project_dir=str(self.project),
            target=self.target,
            ds=last.isoformat(),
            first_day=first.isoformat() if first else None,
            work_dir=str(self.root / f"build-{self.builds}-{warehouse}"),
            env=env,
            parse_cache_root=str(self.project.parent / "parse-cache"),
            warm=120,
        )

    def query(self, warehouse: str, statement: str) -> list[tuple[Any, ...]]:
        """Rows of ``statement``, its ``{audit}`` the schema the target builds into."""
        statement = statement.format(audit=self.audit)
        if self.target == "duckdb":
            with duckdb.connect(str(self.root / f"{warehouse}.duckdb"), read_only=True) as conn:
                return conn.execute(statement).fetchall()
        with psycopg.connect(self.databases[warehouse]) as conn:
            return conn.execute(statement).fetchall()


def _passed(done: BuildResult) -> bool:
    assert done.run_results is not None, "\n".join(done.log_tail)
    return done.returncode == 0


def _failed_nodes(done: BuildResult) -> list[str]:
    """The nodes that failed, as the gate names them."""
    try:
        dbt_runner.parse_results(done, ds="test")
    except GateFailed as failed:
        return sorted({n["node"] for n in failed.gate_failures})
    return []


@pytest.fixture(scope="module", autouse=True)
def _dbt() -> None:
    if not DBT.exists():
        pytest.fail(f"dbt is not installed at {DBT}: run scripts/setup-python.sh")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the project for the module: its saved parse serves every build (the vars go to
    the build alone, as in the DAG), and each build's target and logs go to a folder of its own."""
    copy = tmp_path_factory.mktemp("range-build") / "project"
    shutil.copytree(PROJECT, copy, ignore=shutil.ignore_patterns("target", "logs"))
    return copy


@pytest.fixture(params=TARGETS)
def lakehouse(request: pytest.FixtureRequest, tmp_path: Path, project: Path) -> Any:
    """Factory: ``lakehouse(charges, "name")``, a Lakehouse on the test's target."""
    target = request.param
    make_db = request.getfixturevalue("make_db") if target == "postgres" else None
    return lambda charges, name="house": Lakehouse(tmp_path / name, charges, target, project, make_db)


def test_a_range_build_leaves_the_rows_the_daily_builds_leave(lakehouse: Any) -> None:
    house = lakehouse(CHARGE_DAYS)
    for day in (D1, D2, D3, D4):
        assert _passed(house.build("daily", day)), day
    assert _passed(house.build("range", D4, first=D1))
    facts = "select ds, revenue from {audit}.fct_revenue order by ds"
    assert house.query("range", facts) == house.query("daily", facts)
    assert len(house.query("range", facts)) == 4
    history = (
        "select region, plan, monthly_price, valid_from, valid_to, is_current, first_seen_ds "
        "from {audit}.plans_history order by 1, 2, 3, 4, 5, 6, 7"
    )
    assert house.query("range", history) == house.query("daily", history)
    # The dimension holds each version once, with the days it holds on: eu/basic at 10, 11, 12.
    basic = house.query(
        "range",
        "select monthly_price, dagspec_from, dagspec_to from {audit}.plans_current "
        "where region = 'eu' and plan = 'basic' order by dagspec_from",
    )
    assert basic == [(Decimal("10.00"), D1, D2), (Decimal("11.00"), D2, D3), (Decimal("12.00"), D3, None)]
    # A daily build after the range build takes its day as it always did.
    assert _passed(house.build("range", D4))
    assert house.query("range", facts) == house.query("daily", facts)


def test_a_charge_on_a_plan_from_a_later_day_fails_the_range_as_it_fails_its_day(lakehouse: Any) -> None:
    # eu/max first appears in D3's partition; a charge on it on D2 fails D2's own gate, though the
    # plan exists on every later day of the range.
    early = {**CHARGE_DAYS, D2: [*CHARGE_DAYS[D2], charge(9, "eu", "max", "31.00", D2)]}
    house = lakehouse(early)
    # D2's own build (on a warehouse it builds first, as D1's build would have left it for D2's
    # models: plans_history's first build takes every partition up to its day); D1's partitions
    # are those test_a_range_build_leaves_the_rows_the_daily_builds_leave builds and passes.
    day = house.build("daily", D2)
    assert not _passed(day)
    assert _failed_nodes(day) == ["relationships_stg_charges_plan_key__plan_key__ref_stg_plans_"]
    whole = house.build("range", D4, first=D1)
    assert not _passed(whole)
    assert _failed_nodes(whole) == ["relationships_stg_charges_plan_key__plan_key__ref_stg_plans_"]


def test_unique_holds_per_day_in_a_range_as_in_each_day(lakehouse: Any) -> None:
    # Charge id 4 again on D3: each day's ids are unique, so every day passes, and so does the range.
    again = {**CHARGE_DAYS, D3: [*CHARGE_DAYS[D3], charge(4, "eu", "basic", "12.00", D3)]}
    house = lakehouse(again, "across")
    assert _passed(house.build("daily", D3))
    assert _passed(house.build("range", D4, first=D1))
    # Twice on D3 itself fails D3's gate, and the range.
    twice = {**CHARGE_DAYS, D3: [*CHARGE_DAYS[D3], charge(6, "eu", "basic", "12.00", D3)]}
    house = lakehouse(twice, "within")
    assert not _passed(house.build("daily", D3))
    whole = house.build("range", D4, first=D1)
    assert not _passed(whole)
    assert _failed_nodes(whole) == ["unique_stg_charges_id"]


def test_a_range_of_one_day_is_that_days_build(lakehouse: Any) -> None:
    house = lakehouse(CHARGE_DAYS)
    assert _passed(house.build("daily", D2))
    assert _passed(house.build("range", D2, first=D2))
    facts = "select ds, revenue from {audit}.fct_revenue order by ds"
    assert house.query("range", facts) == house.query("daily", facts) == [(D2, Decimal("36.00"))]
