"""Scenario 1: the morning report's KPIs equal the KPIs computed directly on the source.

For both warehouses (DuckDB, PostgreSQL) and both lakes (local folder, S3 on a moto server), the
real generated DAG runs through ``airflow dags test`` for one seeded day; report.json and the
published fct_daily_metrics must equal ``sourceKpis`` (airflow/local/demo_shop/source-kpis.ts) on the source,
the executives get exactly one email, PagerDuty hears only the day's "resolve", and the demo's own
checker (``demo-shop report``) agrees.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from e2e_stack import (
    GOOD_DAY,
    RECIPIENTS,
    ROUTING_KEY,
    SEED_PIPELINE,
    TZ,
    Stack,
    assert_report_matches_source,
    assert_run_ok,
    node,
)

COMBOS = [
    pytest.param(SEED_PIPELINE, "duckdb", "local", id="duckdb-local"),
    pytest.param("e2e_metrics_duckdb_s3", "duckdb", "s3", id="duckdb-s3", marks=pytest.mark.s3),
    pytest.param("e2e_metrics_pg_local", "postgres", "local", id="postgres-local"),
    pytest.param("e2e_metrics_pg_s3", "postgres", "s3", id="postgres-s3", marks=pytest.mark.s3),
]


@pytest.mark.parametrize(("dag_id", "warehouse", "lake"), COMBOS)
def test_report_kpis_equal_the_source(
    stack: Stack, tmp_path: Path, dag_id: str, warehouse: str, lake: str
) -> None:
    pipeline = stack.pipeline(dag_id)
    assert (pipeline["warehouse"]["kind"], pipeline["lake"]["kind"]) == (warehouse, lake)

    run = stack.run(dag_id, GOOD_DAY)

    assert_run_ok(stack, run)
    tasks = ["wait_for_source", "extract", "dbt_build", "publish_tables", "publish_report"]
    if warehouse == "postgres":
        tasks.append("load_raw")
    assert stack.task_states(dag_id) == dict.fromkeys(tasks, "success")

    oracle = assert_report_matches_source(stack, dag_id, GOOD_DAY)

    # The lake holds the day's raw partitions and its report, where the pipeline says.
    folder = stack.report_folder(dag_id, GOOD_DAY)
    files = stack.lake_files(dag_id)
    for table in ("events", "orders", "users"):
        assert f"raw/{table}/ds={GOOD_DAY}/_manifest.json" in files
    for name in ("report.html", "report.json", "_delivered.json", "dbt/gate.json"):
        assert f"{folder}/{name}" in files

    # One email, to the executives, with the day's numbers.
    (mail,) = stack.smtp.messages
    assert sorted(stack.smtp.envelopes[0][1]) == sorted(RECIPIENTS)
    assert mail["Subject"] == f"Daily metrics for {GOOD_DAY}"
    assert mail["X-Dagspec-Report-Day"] == GOOD_DAY.isoformat()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert f"${Decimal(oracle['revenue']):,.2f}" in html
    assert f"{oracle['orders']:,}" in html and f"{oracle['dau']:,}" in html
    # The freshness section says how each table was taken (users: kept as a history by updated_at,
    # whole on the first day of the lake, its changed rows after that).
    assert "incremental by created_at" in html and "incremental by occurred_at" in html
    assert "changed rows by updated_at" in html or "whole table (history base)" in html

    # PagerDuty: the delivered report resolves the day's incident; nothing was triggered.
    assert [(e["event_action"], e["dedup_key"], e["routing_key"]) for e in stack.pagerduty.events] == [
        ("resolve", f"{dag_id}/{GOOD_DAY}", ROUTING_KEY)
    ]

    # The demo's own last word (`npm run demo` ends with it): report vs. source, exit 0 when they agree.
    report_dir = tmp_path / "report-copy"
    report_dir.mkdir()
    (report_dir / "report.json").write_bytes(files[f"{folder}/report.json"])
    done = node(
        "bin/demo-shop.js",
        "report",
        "--report",
        str(report_dir),
        "--day",
        GOOD_DAY.isoformat(),
        "--database-url",
        stack.source_url,
        "--timezone",
        TZ,
    )
    assert done.returncode == 0 and "MISMATCH" not in done.stdout, done.stdout + done.stderr
