"""Scenario 5: the same day run twice gives the same lake, the same facts and one email.

The seed pipeline runs GOOD_DAY twice on one stack (``dags test`` replaces the first DAG run of
that logical date, as clearing and re-running a day does). Then:
- every file under raw/, _days/ (the day's commit record) and reports/ is byte-for-byte the same
  (the gate's verdict included; dbt's per-invocation run_results.json and manifest.json are kept
  outside the lake, one folder per run);
- the published fact rows are the same (and right);
- the executives got exactly one email; PagerDuty heard one "resolve" and no trigger.

"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from e2e_stack import (
    GOOD_DAY,
    RECIPIENTS,
    SEED_PIPELINE,
    Build,
    Stack,
    assert_report_matches_source,
    assert_run_ok,
    open_stack,
)

DAG_ID = SEED_PIPELINE


@dataclass(frozen=True)
class TwoRuns:
    stack: Stack
    first: dict[str, bytes]
    second: dict[str, bytes]
    rows_first: list[Any]
    rows_second: list[Any]

    @property
    def dbt_dir(self) -> str:
        return f"{self.stack.report_folder(DAG_ID, GOOD_DAY)}/dbt/"


@pytest.fixture(scope="module")
def two_runs(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    e2e_build: Build,
    airflow_template: str,
    source_template: str,
) -> Iterator[TwoRuns]:
    tmp: Path = tmp_path_factory.mktemp("rerun")
    with open_stack("rerun_same_day", tmp, e2e_build, airflow_template, source_template, None) as stack:
        first_run = stack.run(DAG_ID, GOOD_DAY)
        assert_run_ok(stack, first_run)
        first, rows_first = stack.lake_files(DAG_ID), stack.published(DAG_ID)
        second_run = stack.run(DAG_ID, GOOD_DAY)
        assert_run_ok(stack, second_run)
        second, rows_second = stack.lake_files(DAG_ID), stack.published(DAG_ID)
        yield TwoRuns(stack, first, second, rows_first, rows_second)


def test_rerun_same_day_is_idempotent(two_runs: TwoRuns) -> None:
    stack, first, second = two_runs.stack, two_runs.first, two_runs.second
    assert len(stack.runs) == 2 and all(r.returncode == 0 for r in stack.runs)

    # The same files, under raw/, _days/ (the day's commit record) and reports/ and nowhere else.
    assert sorted(second) == sorted(first)
    assert {name.split("/", 1)[0] for name in first} == {"_days", "raw", "reports"}
    assert f"_days/ds={GOOD_DAY}.json" in first
    assert any(name.startswith("raw/orders/") and name.endswith(".parquet") for name in first)

    # Byte-identical, every file.
    assert sorted(name for name in first if first[name] != second[name]) == []
    gate = json.loads(second[f"{two_runs.dbt_dir}gate.json"])
    assert gate["status"] == "passed" and "invocation_id" not in gate

    # The same fact rows, and right.
    assert two_runs.rows_second == two_runs.rows_first
    assert_report_matches_source(stack, DAG_ID, GOOD_DAY)
    assert [r[0] for r in two_runs.rows_second] == [GOOD_DAY.isoformat()]

    # Exactly one email; the day's incident resolved once, never triggered.
    assert len(stack.smtp.messages) == 1
    assert sorted(stack.smtp.envelopes[0][1]) == sorted(RECIPIENTS)
    assert [e["event_action"] for e in stack.pagerduty.events] == ["resolve"]
    # The second run knew the day was delivered (the marker is the first run's).
    marker = json.loads(second[f"{stack.report_folder(DAG_ID, GOOD_DAY)}/_delivered.json"])
    assert "already delivered" in stack.runs[1].log
    assert marker["ds"] == GOOD_DAY.isoformat()
