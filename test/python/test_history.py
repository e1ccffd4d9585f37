"""Dimensions kept as a history (``extract: { mode: "history" }``), end to end on real components:
live Postgres -> the extract's changed rows -> the lake -> the generated dbt project on DuckDB.

The project is the committed golden case ``test/cases/history_dimension`` (its ``expected/`` tree,
which ``test_generated_output`` also parses): ``billing.plans`` kept as a history by
``modified_at`` with a composite key, ``billing.charges`` incremental, and a relationships test
from each day's charges to the plans as of that day. One module-scoped story of real extracts and
``dbt build`` runs; the assertions are split into ordered tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import psycopg
import pytest

from dagspec_runtime.extract import extract_to_lake
from dagspec_runtime.lake import Lake
from dagspec_runtime.manifest import read_manifest

REPO = Path(__file__).resolve().parents[2]
PROJECT = REPO / "test/cases/history_dimension/expected/dbt/subscription_revenue"
DBT = Path(sys.executable).parent / "dbt"
TZ = "Europe/Paris"
D0, D1, D2, D3, D4, D5 = (date(2026, 3, d) for d in range(1, 7))

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


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), ZoneInfo(TZ))


@dataclass
class Story:
    source: str
    lake: Lake
    project: Path
    db: Path
    extracts: dict[str, dict[str, Any]] = field(default_factory=dict)
    builds: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)
    snapshots: dict[str, Any] = field(default_factory=dict)

    def sql(self, statement: str, *params: Any) -> None:
        with psycopg.connect(self.source, autocommit=True) as conn:
            conn.execute(statement, params)

    def extract(self, day: date, label: str | None = None) -> None:
        result = extract_to_lake(
            self.source,
            self.lake,
            pipeline_id="subscription_revenue",
            ds=day.isoformat(),
            timezone=TZ,
            tables=[PLANS, CHARGES],
        )
        self.extracts[label or day.isoformat()] = result

    def build(self, day: date, label: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "DAGSPEC_LAKE_URI": str(self.lake.root),
            "DAGSPEC_DUCKDB_PATH": str(self.db),
        }
        done = subprocess.run(
            [str(DBT), "build", "--project-dir", str(self.project), "--profiles-dir", str(self.project),
             "--target", "duckdb", "--vars", json.dumps({"ds": day.isoformat()})],
            env=env, cwd=self.project, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        self.builds[label or day.isoformat()] = done
        return done

    def query(self, statement: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.db), read_only=True) as conn:
            return conn.execute(statement).fetchall()

    def history(self) -> list[tuple[Any, ...]]:
        return self.query(
            "select region, plan, monthly_price, valid_from, valid_to, is_current, first_seen_ds "
            "from audit.plans_history order by region, plan, valid_from"
        )

    def current(self) -> dict[tuple[str, str], Decimal]:
        rows = self.query("select region, plan, monthly_price from audit.plans_current")
        return {(r, p): price for r, p, price in rows}


def _plan(story: Story, region: str, plan: str, price: str, when: datetime) -> None:
    story.sql(
        "insert into billing.plans values (%s, %s, %s, %s) on conflict (region, plan) "
        "do update set monthly_price = excluded.monthly_price, modified_at = excluded.modified_at",
        region, plan, Decimal(price), when,
    )  # fmt: skip


def _charge(story: Story, charge_id: int, region: str, plan: str, when: datetime) -> None:
    story.sql("insert into billing.charges values (%s, %s, %s, 9.99, %s)", charge_id, region, plan, when)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory, pg_admin: str) -> Iterator[Story]:
    if not DBT.exists():
        pytest.fail(f"dbt is not installed at {DBT}: run scripts/setup-python.sh")
    root = tmp_path_factory.mktemp("history")
    name = f"dagspec_pytest_history_{os.getpid()}"
    with psycopg.connect(pg_admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    source = f"host=127.0.0.1 port=5432 user=postgres dbname={name}"
    project = root / "project"
    shutil.copytree(PROJECT, project)
    s = Story(source, Lake.from_uri(str(root / "lake")), project, root / "warehouse.duckdb")
    s.sql("create schema billing")
    s.sql(
        "create table billing.plans (region text, plan text, monthly_price numeric(10,2), "
        "modified_at timestamptz, primary key (region, plan))"
    )
    s.sql(
        "create table billing.charges (id bigint primary key, region text, plan text, "
        "amount numeric(10,2), charged_at timestamptz)"
    )
    try:
        # D1: the first day is a base (the whole table). us/basic was created on D1 and changed
        # again in the night before D1's extract ran: only its newest form is left to take.
        _plan(s, "eu", "basic", "10.00", at(D0, 9))
        _plan(s, "eu", "pro", "20.00", at(D1, 10))
        _plan(s, "us", "basic", "13.00", at(D2, 2))
        _charge(s, 1, "eu", "basic", at(D1, 15))
        _charge(s, 2, "us", "basic", at(D1, 16))
        s.extract(D1)
        # D2: one price change, one new plan.
        _plan(s, "eu", "basic", "11.00", at(D2, 10))
        _plan(s, "us", "pro", "25.00", at(D2, 11))
        _charge(s, 3, "us", "pro", at(D2, 12))
        _charge(s, 4, "eu", "basic", at(D2, 13))
        s.extract(D2)
        # D3: eu/max is created and changed again before D3's extract; eu/basic changes again.
        _plan(s, "eu", "max", "30.00", at(D3, 13))
        _plan(s, "eu", "max", "31.00", at(D4, 1))
        _plan(s, "eu", "basic", "12.00", at(D3, 9))
        _charge(s, 5, "eu", "max", at(D3, 14))
        s.extract(D3)
        for day in (D1, D2, D3):
            s.build(day)
        s.snapshots["history after D3"] = s.history()
        s.snapshots["current D3"] = s.current()
        # Re-running a day changes nothing.
        s.build(D2, "D2 again")
        s.snapshots["history after D2 again"] = s.history()
        # A backfill of an old day after later ones: D2 extracted again today (the source has
        # moved on: us/pro changed on D4), then dbt for D2 and for D3 again.
        _plan(s, "us", "pro", "26.00", at(D4, 8))
        s.extract(D2, "D2 re-extracted")
        s.build(D2, "D2 backfilled")
        s.snapshots["history after backfill"] = s.history()
        s.build(D3, "D3 after backfill")
        s.snapshots["current D3 after backfill"] = s.current()
        # A day after a gap (D4 never extracted) is a base again.
        s.extract(D5)
        # D4 extracted after D5, as a parallel backfill may finish them: D4 finds D3 and takes
        # changed rows; D5, taken as a base, stays a base when it is re-run.
        s.extract(D4)
        s.extract(D5, "D5 again")
        # The gate stays strict: a charge on a plan that does not exist fails it.
        _charge(s, 6, "eu", "ghost", at(D3, 18))
        s.extract(D3, "D3 with an orphan")
        s.build(D3, "D3 with an orphan")
        yield s
    finally:
        with psycopg.connect(pg_admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _ok(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_the_first_day_takes_the_whole_table_and_later_days_only_the_changed_rows(story: Story) -> None:
    taken = {k: (v["plans"]["taken"], v["plans"]["rows"]) for k, v in story.extracts.items()}
    assert taken["2026-03-02"] == ("whole_table", 3)
    assert taken["2026-03-03"] == ("changed_rows", 3)  # us/basic (night of D2), eu/basic, us/pro
    assert taken["2026-03-04"] == ("changed_rows", 2)  # eu/max, eu/basic
    assert taken["2026-03-06"] == ("whole_table", 5)  # the day before was never extracted
    manifest = read_manifest(story.lake, "plans", "2026-03-03")
    assert manifest["mode"] == "history" and manifest["taken"] == "changed_rows"
    assert manifest["window"] == {"since": at(D2, 0).astimezone(ZoneInfo("UTC")).isoformat()}
    assert story.extracts["2026-03-03"]["charges"]["taken"] == "day_rows"


def test_a_re_run_takes_the_day_as_the_first_run_did(story: Story) -> None:
    # Whether a day of a parallel backfill found its day before committed is an accident of
    # scheduling; re-running the range must not turn a base into changed rows (new lake bytes).
    assert story.extracts["2026-03-05"]["plans"]["taken"] == "changed_rows"
    again, first = story.extracts["D5 again"]["plans"], story.extracts["2026-03-06"]["plans"]
    assert again["taken"] == "whole_table"
    assert again["files"] == first["files"]


def test_every_day_builds_and_the_current_rows_are_the_days_snapshot(story: Story) -> None:
    for day in ("2026-03-02", "2026-03-03", "2026-03-04"):
        _ok(story.builds[day])
    # eu/max was created on D3 and changed before D3's extract: it is there (a snapshot taken by
    # that run would hold it too), so D3's charge on it passes the relationships gate.
    assert story.snapshots["current D3"] == {
        ("eu", "basic"): Decimal("12.00"),
        ("eu", "pro"): Decimal("20.00"),
        ("eu", "max"): Decimal("31.00"),
        ("us", "basic"): Decimal("13.00"),
        ("us", "pro"): Decimal("25.00"),
    }


def test_the_history_holds_every_version_with_validity_ranges(story: Story) -> None:
    basic = [r for r in story.snapshots["history after D3"] if r[:2] == ("eu", "basic")]
    assert [(r[2], r[6]) for r in basic] == [
        (Decimal("10.00"), D1),
        (Decimal("11.00"), D2),
        (Decimal("12.00"), D3),
    ]
    utc = ZoneInfo("UTC")
    assert [r[3].astimezone(utc) for r in basic] == [at(D0, 9), at(D2, 10), at(D3, 9)]
    assert [r[4] and r[4].astimezone(utc) for r in basic] == [at(D2, 10), at(D3, 9), None]
    assert [r[5] for r in basic] == [False, False, True]
    # One current version per key.
    keys = {r[:2] for r in story.snapshots["history after D3"]}
    assert sorted(r[:2] for r in story.snapshots["history after D3"] if r[5]) == sorted(keys)


def test_re_running_a_day_is_idempotent(story: Story) -> None:
    _ok(story.builds["D2 again"])
    assert story.snapshots["history after D2 again"] == story.snapshots["history after D3"]


def test_backfilling_an_old_day_keeps_the_later_history(story: Story) -> None:
    _ok(story.builds["D2 backfilled"])
    _ok(story.builds["D3 after backfill"])
    after = story.snapshots["history after backfill"]
    before = story.snapshots["history after D3"]
    # Every version merged before is still there with the same validity; the backfill only adds
    # the version it saw (us/pro at 26.00, changed on D4), closing the one before it. (Versions
    # D2's new extract also holds are now first seen on D2.)
    pro = [r for r in after if r[:2] == ("us", "pro")]
    assert [(r[2], r[5]) for r in pro] == [(Decimal("25.00"), False), (Decimal("26.00"), True)]
    others = [r[:6] for r in after if r[:2] != ("us", "pro")]
    assert others == [r[:6] for r in before if r[:2] != ("us", "pro")]
    # D3 re-run after that: no row is lost, and us/pro (unchanged on D3, so only in D2's
    # partition, which now holds its D4 form) reads as a snapshot taken today would, which is what
    # re-running a snapshot day does too. The history above still has the 25.00 version.
    expected = {**story.snapshots["current D3"], ("us", "pro"): Decimal("26.00")}
    assert story.snapshots["current D3 after backfill"] == expected


def test_the_relationships_gate_stays_strict(story: Story) -> None:
    done = story.builds["D3 with an orphan"]
    assert done.returncode != 0
    assert "relationships_stg_charges_plan_key" in done.stdout and "FAIL 1" in done.stdout
