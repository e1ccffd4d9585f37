"""The backfill bench's report (test/bench/backfill_contenders.py) without a stack: a missing one-pass
DAG is reported as not available, different KPI rows are a mismatch and never a met target, and a
contender is judged against the source's own revenue and order counts."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import backfill_contenders as bc  # noqa: E402


def _days() -> list[str]:
    first, _ = bc.report_range()
    import datetime as dt

    start = dt.date.fromisoformat(first)
    return [(start + dt.timedelta(days=i)).isoformat() for i in range(bc.REPORT_DAYS)]


def _kpis(revenue: str = "100.00") -> list[list[str]]:
    return [[d, revenue, "2", "50.00", "7"] for d in _days()]


def _contender(name: str, wall: float, kpis: list[list[str]]) -> dict[str, Any]:
    return {
        "name": name,
        "command": "cmd",
        "available": True,
        "runs": 1,
        "median_s": wall,
        "min_s": wall,
        "samples_s": [wall],
        "runs_span_median_s": wall - 1,
        "backfill_span_median_s": None,
        "cli_median_s": None,
        "dag_runs": 30,
        "failed_runs": [],
        "task_seconds_median": 10.0,
        "tasks": {"extract": {"seconds": 10.0, "instances": 30, "retries": 0}},
        "kpi_rows": len(kpis),
        "kpis": kpis,
        "matches_source": True,
        "same_kpis_every_run": True,
    }


def _report(contenders: list[dict[str, Any]], same: bool | None) -> dict[str, Any]:
    first, last = bc.report_range()
    return {
        "first_day": first,
        "last_day": last,
        "days": bc.REPORT_DAYS,
        "source": {"days": 32, "orders_per_day": 100, "counts": {"orders": 3200}},
        "stack": {"up_s": 30.0, "ready_s": 31.0, "parallelism": 4, "executor": "LocalExecutor"},
        "same_kpis": same,
        "contenders": contenders,
    }


def test_one_pass_missing_is_not_available_and_not_measured() -> None:
    missing = {"name": bc.ONE, "command": "cmd", "available": False, "reason": "not available (no x DAG)"}
    report = _report([_contender(bc.TODAY, 600.0, _kpis()), missing], None)
    md = "\n".join(bc.render(report))
    assert "not available (no x DAG)" in md
    assert "600.0" in md and "n/a (one contender)" in md
    assert bc.target(report).endswith("not measured")


def test_the_one_pass_dag_is_found_in_the_pipelines_generated_file(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    assert bc.BackfillBench.one_pass_available(repo / "generated")
    (tmp_path / "dags").mkdir()
    daily_only = f'with DAG(dag_id="{bc.PIPELINE}") as dag:\n'
    (tmp_path / "dags" / f"{bc.PIPELINE}.py").write_text(daily_only)
    assert not bc.BackfillBench.one_pass_available(tmp_path)


def test_a_quarter_of_the_time_with_the_same_rows_is_met() -> None:
    report = _report([_contender(bc.TODAY, 600.0, _kpis()), _contender(bc.ONE, 150.0, _kpis())], True)
    assert bc.target(report).endswith(": met")
    assert "0.25" in bc.target(report)


def test_different_rows_are_a_mismatch_and_miss_the_target() -> None:
    report = _report([_contender(bc.TODAY, 600.0, _kpis()), _contender(bc.ONE, 100.0, _kpis("99.99"))], False)
    assert "MISMATCH" in "\n".join(bc.render(report))
    assert bc.target(report).endswith(": missed")


def test_published_rows_are_judged_against_the_source() -> None:
    oracle = {d: (Decimal("100.00"), 2) for d in _days()}
    assert bc._matches(_kpis(), oracle)
    assert not bc._matches(_kpis("100.01"), oracle)
    assert not bc._matches(_kpis()[1:], oracle)  # a day missing
