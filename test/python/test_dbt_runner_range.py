"""One dbt build gating a range of report days: its vars, and the verdict read from its results.

A range build is clean only when every node ran and passed without a warning and dbt exited 0;
then each day's summary is the range's with its own ``ds``, else nothing says which day failed and
the days are gated one by one (``RangeNotClean`` names what made it unclean).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException

from dagspec_runtime import tasks
from dagspec_runtime.dbt_args import build_args, build_vars
from dagspec_runtime.dbt_runner import BuildResult, RangeNotClean, parse_range_results, parse_results
from runtime_fixture import pipeline

DAYS = ["2024-03-09", "2024-03-10", "2024-03-11"]

# What dbt writes for a build of the fixture project (run_results.json v6, trimmed to what is read).
PASSED = [
    {
        "unique_id": "model.fixture_pipeline.stg_orders",
        "status": "success",
        "failures": None,
        "message": "OK",
    },
    {"unique_id": "test.fixture_pipeline.assert_no_negative_amounts", "status": "pass", "failures": 0},
    {
        "unique_id": "model.fixture_pipeline.fct_daily_metrics",
        "status": "success",
        "failures": None,
        "message": "OK",
    },
    {
        "unique_id": "test.fixture_pipeline.not_null_fct_daily_metrics_ds.5f2b1c",
        "status": "pass",
        "failures": 0,
    },
    {
        "unique_id": "test.fixture_pipeline.unique_fct_daily_metrics_ds.9a1e07",
        "status": "pass",
        "failures": 0,
    },
    {"unique_id": "test.fixture_pipeline.warn_few_orders", "status": "pass", "failures": 0, "message": None},
]
WARNED = {
    "unique_id": "test.fixture_pipeline.warn_few_orders",
    "status": "warn",
    "failures": 1,
    "message": "Got 1 result, configured to warn if != 0",
}
FAILED = {
    "unique_id": "test.fixture_pipeline.assert_no_negative_amounts",
    "status": "fail",
    "failures": 2,
    "message": "Got 2 results, configured to fail if != 0",
}
SKIPPED = {
    "unique_id": "model.fixture_pipeline.fct_daily_metrics",
    "status": "skipped",
    "failures": None,
    "message": None,
}


# The manifest of a range-capable project: its own macro dagspec_range_build (dbt_runner checks it).
RANGE_MANIFEST = {
    "metadata": {"project_name": "fixture_pipeline"},
    "macros": {
        "macro.fixture_pipeline.dagspec_range_build": {
            "name": "dagspec_range_build",
            "package_name": "fixture_pipeline",
        }
    },
}


def _result(
    results: list[dict[str, Any]], returncode: int = 0, manifest: dict[str, Any] | None = RANGE_MANIFEST
) -> BuildResult:
    return BuildResult(
        returncode=returncode,
        manifest=manifest,
        target_dir="/nonexistent",
        run_results={
            "metadata": {"dbt_version": "1.10.13", "invocation_id": "7c1f3a52-range"},
            "results": results,
        },
        log_tail=["Completed successfully"],
        seconds=4.2,
    )


def _replace(results: list[dict[str, Any]], *nodes: dict[str, Any]) -> list[dict[str, Any]]:
    by_id = {n["unique_id"]: n for n in nodes}
    return [by_id.get(r["unique_id"], r) for r in results]


def test_a_clean_range_build_is_each_days_passing_summary() -> None:
    summaries = parse_range_results(_result(PASSED), days=DAYS)
    assert list(summaries) == DAYS
    for day in DAYS:
        # The summary a passing daily build of this day returns from the same results.
        assert summaries[day] == parse_results(_result(PASSED), ds=day)
    assert summaries[DAYS[0]]["counts"] == {"model:success": 2, "test:pass": 4}
    assert summaries[DAYS[0]]["invocation_id"] == "7c1f3a52-range"
    # One dict per day: what the XCom or the report adds to one day is not another's.
    summaries[DAYS[0]]["counts"]["model:success"] = 0
    summaries[DAYS[0]]["full_build"] = ["fct_daily_metrics"]
    assert summaries[DAYS[1]]["counts"]["model:success"] == 2 and "full_build" not in summaries[DAYS[1]]


@pytest.mark.parametrize(
    ("results", "returncode", "reasons"),
    [
        (_replace(PASSED, WARNED), 0, ["warn test warn_few_orders"]),
        (
            _replace(PASSED, FAILED, SKIPPED),
            1,
            ["fail test assert_no_negative_amounts", "skipped fct_daily_metrics"],
        ),
        (_replace(PASSED, SKIPPED), 0, ["skipped fct_daily_metrics"]),
        (PASSED, 2, ["dbt exited 2 with no failing node"]),
    ],
)
def test_a_range_build_is_clean_only_when_every_node_passed_and_dbt_exited_0(
    results: list[dict[str, Any]], returncode: int, reasons: list[str]
) -> None:
    with pytest.raises(RangeNotClean) as unclean:
        parse_range_results(_result(results, returncode), days=DAYS)
    assert unclean.value.reasons == reasons
    assert str(unclean.value).startswith("the build of ds=2024-03-09..2024-03-11 was not clean: ")


def test_a_clean_build_of_a_project_that_does_not_take_ranges_vouches_for_no_day() -> None:
    """A project without dagspec_range_build ignores dagspec_first_day and builds the last day
    alone: every node passing says nothing of the other days."""
    plain = {**RANGE_MANIFEST, "macros": {}}
    with pytest.raises(RangeNotClean) as unclean:
        parse_range_results(_result(PASSED, manifest=plain), days=DAYS)
    assert unclean.value.reasons == ["the project defines no macro dagspec_range_build: it builds one day"]


def test_a_range_build_that_ran_no_node_raises() -> None:
    """dbt died before running any node (a profile, a parse): it would on every day too."""
    died = BuildResult(
        returncode=2, run_results=None, manifest=None, target_dir="/x", log_tail=["no profile"]
    )
    with pytest.raises(AirflowException, match=r"ds=2024-03-09\.\.2024-03-11 exited 2 without run_results"):
        parse_range_results(died, days=DAYS)


def test_build_vars_name_the_range_only_for_a_range() -> None:
    assert build_vars("2024-03-11") == {"ds": "2024-03-11"}
    assert build_vars("2024-03-11", "2024-03-09") == {"ds": "2024-03-11", "dagspec_first_day": "2024-03-09"}
    assert build_args(target="duckdb", ds="2024-03-11", first_day="2024-03-09") == [
        "build",
        "--target",
        "duckdb",
        "--vars",
        json.dumps({"ds": "2024-03-11", "dagspec_first_day": "2024-03-09"}),
    ]
    assert build_args(target="postgres", ds="2024-03-11")[-1] == '{"ds": "2024-03-11"}'


@pytest.mark.parametrize(
    "days", [[], ["2024-03-09", "2024-03-11"], ["2024-03-10", "2024-03-09"], ["2024-03-09", "2024-03-09"]]
)
def test_a_range_gate_takes_consecutive_days_in_order(days: list[str]) -> None:
    with pytest.raises(ValueError, match="consecutive days in order"):
        tasks.build_range_gate(pipeline(), days, run_id="r", dag_fileloc=None)
