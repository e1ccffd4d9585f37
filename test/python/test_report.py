"""publish_report: content, determinism, archive, real SMTP delivery, delivered-once and backfill rules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

import report_sample
from dagspec_local.connections import env_value, pagerduty_connection, smtp_connection
from dagspec_local.net import free_port
from dagspec_local.standins import PagerDutyReceiver, SmtpOutbox, pagerduty_server, smtp_server
from dagspec_runtime import adapters, tasks
from dagspec_runtime.contract import Pipeline, S3LakeConfig
from dagspec_runtime.report import build_report, report_json
from dagspec_runtime.report_html import delta_text, format_value, render_html
from runtime_fixture import ORDERS, context_for, order_rows, pipeline, write_partition

DAY = date(2024, 3, 10)  # a Sunday, and the day US clocks spring forward
GATE = {
    "status": "passed",
    "counts": {"model:success": 2, "test:pass": 4, "test:warn": 1},
    "warnings": [{"node": "warn_few_orders", "status": "warn", "failures": 1, "message": "Got 1 result"}],
}


@dataclass
class Env:
    root: Path
    lake: Path
    smtp: SmtpOutbox
    pd: PagerDutyReceiver
    pipeline: Pipeline

    def report_dir(self, day: date) -> Path:
        return self.lake / "reports" / "fixture_pipeline" / f"ds={day.isoformat()}"


def _metrics(d: date) -> tuple[int, float, float]:
    n = 10 + (d - date(2024, 2, 1)).days  # orders grow by one a day
    return n, n * 12.5, 0.1 if d != DAY else 0.125


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    import duckdb

    monkeypatch.setenv("DAGSPEC_LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("DAGSPEC_WAREHOUSE_ROOT", str(tmp_path / "warehouse"))
    p = pipeline()
    db = Path(adapters.open_warehouse(p).path)
    db.parent.mkdir(parents=True)
    with duckdb.connect(str(db)) as conn:
        conn.execute(
            "CREATE TABLE main.fct_daily_metrics (ds DATE, orders BIGINT, revenue DECIMAL(18,2), "
            "aov DOUBLE, refund_rate DOUBLE)"
        )
        for i in range(30):
            d = date(2024, 2, 15) + timedelta(days=i)
            if d == DAY - timedelta(days=3):
                continue  # a missing day in the trend
            n, revenue, refund = _metrics(d)
            conn.execute(
                "INSERT INTO main.fct_daily_metrics VALUES (?, ?, ?, ?, ?)",
                [d, n, revenue, revenue / n, refund],
            )
    lake = adapters.open_lake(p)
    write_partition(lake, ORDERS, DAY.isoformat(), order_rows(DAY, [1, 2, 3]))
    write_partition(lake, ORDERS, (DAY - timedelta(days=1)).isoformat(), order_rows(DAY, [4, 5]))
    with smtp_server(tmp_path / "mail") as (sink, port), pagerduty_server() as (receiver, base):
        monkeypatch.setenv(
            "AIRFLOW_CONN_SMTP_TEST", env_value(smtp_connection(port, retry_limit=0, timeout=5))
        )
        monkeypatch.setenv("AIRFLOW_CONN_PD_TEST", env_value(pagerduty_connection(base, "routing-key")))
        yield Env(tmp_path, tmp_path / "lake" / "fixture_lake", sink, receiver, p)


def test_formats() -> None:
    assert format_value(1234.5, "currency", "USD") == "$1,234.50"
    assert format_value(-3, "currency", "EUR") == "-€3.00"
    assert format_value(1234, "currency", "JPY") == "¥1,234"
    assert format_value(5, "currency", "CHF") == "5.00 CHF"
    assert format_value(12345.6, "count") == "12,346"
    assert format_value(0.1234, "percent") == "12.3%"
    assert format_value(2.5, "ratio") == "2.50"
    assert format_value(None, "ratio") == "–"
    assert format_value("1650668.61", "currency", "USD") == "$1,650,668.61"  # report.json's strings
    assert format_value(Decimal("2.675"), "ratio") == "2.68"  # exact, half up (a float says 2.67)


def test_scheduled_run_archives_and_emails_once(env: Env) -> None:
    ctx = context_for(DAY, xcoms={"dbt_build": GATE})
    first = tasks.publish_report(env.pipeline, ctx)
    assert first["delivered"] and first["reason"] == "sent"

    folder = env.report_dir(DAY)
    report = json.loads((folder / "report.json").read_text())
    n, revenue, _ = _metrics(DAY)
    assert report["ds"] == "2024-03-10"
    # Exact: money (DECIMAL) as stored, DOUBLEs by their shortest repr, counts as integers.
    assert report["kpis"] == {"revenue": f"{revenue:.2f}", "orders": n, "refund_rate": "0.125", "aov": "12.5"}
    revenue_metric = report["metrics"][0]
    assert revenue_metric["previous_day"]["value"] == f"{revenue - 12.5:.2f}"
    assert revenue_metric["week_ago"] == {
        "ds": "2024-03-03",
        "value": f"{revenue - 7 * 12.5:.2f}",
        "delta": "87.50",
        "delta_pct": pytest.approx(7 / (n - 7) * 100, abs=1e-3),
    }
    assert report["metrics"][1]["previous_day"]["delta"] == 1  # a count's delta is an integer
    assert report["metrics"][2]["previous_day"]["delta_pp"] == pytest.approx(2.5)
    assert len(revenue_metric["trend"]) == 14 and revenue_metric["trend"][-4] is None  # the missing day
    assert report["freshness"] == [
        {"table": "orders", "rows": 3, "previous_rows": 2, "taken": "incremental by created_at"}
    ]
    assert report["gate"]["warnings"] == [
        {"test": "warn_few_orders", "failures": 1, "message": "Got 1 result"}
    ]
    assert report["lineage"]["spec_hash"] == env.pipeline.spec_hash

    # One real message, to every recipient, carrying the archived HTML.
    assert len(env.smtp.messages) == 1
    message = env.smtp.messages[0]
    assert message["Subject"] == "Daily metrics for 2024-03-10"
    assert sorted(env.smtp.envelopes[0][1]) == ["ceo@example.com", "cfo@example.com"]
    assert message["X-Dagspec-Report-Day"] == "2024-03-10"
    html = message.get_body(("html",)).get_content()
    assert html == (folder / "report.html").read_text()
    for text in (
        "Revenue",
        "$",
        "▲ +2.1%",
        "+2.5 pp",
        "<svg",
        "warn_few_orders",
        "1 failing row",
        "specs/fixture.pipeline.ts",
        "Sunday 10 March 2024",
    ):
        assert text in html, text
    (env.root / "report-example.html").write_text(html)

    # Delivered: the incident for the day is resolved, and a marker remembers the delivery.
    assert env.pd.events[-1]["event_action"] == "resolve"
    assert env.pd.events[-1]["dedup_key"] == "fixture_pipeline/2024-03-10"
    marker = json.loads((folder / "_delivered.json").read_text())
    assert marker["ds"] == "2024-03-10" and marker["recipients"] == ["ceo@example.com", "cfo@example.com"]

    # A repeated run (a retry, a clear, a backfill with email_backfills on) re-archives, never re-sends,
    # and writes byte-identical files: nothing in the report depends on the wall clock.
    html_before = (folder / "report.html").read_bytes()
    json_before = (folder / "report.json").read_bytes()
    again = tasks.publish_report(
        replace(env.pipeline, report=replace(env.pipeline.report, email_backfills=True)),
        context_for(DAY, run_type="backfill", xcoms={"dbt_build": GATE}),
    )
    assert not again["delivered"] and again["reason"].startswith("already delivered")
    assert len(env.smtp.messages) == 1
    assert (folder / "report.html").read_bytes() == html_before
    assert (folder / "report.json").read_bytes() == json_before


def test_backfill_archives_without_email(env: Env) -> None:
    day = DAY - timedelta(days=5)
    out = tasks.publish_report(env.pipeline, context_for(day, run_type="backfill"))
    assert not out["delivered"] and out["reason"] == "backfill run: email_backfills is off"
    folder = env.report_dir(day)
    assert (folder / "report.html").exists() and not (folder / "_delivered.json").exists()
    assert env.smtp.messages == [] and env.pd.paths == []
    report = json.loads((folder / "report.json").read_text())
    assert report["gate"]["status"] == "unknown"  # no XCom and no archived gate.json for that day
    assert report["freshness"] == [
        {"table": "orders", "rows": None, "previous_rows": None, "taken": "incremental by created_at"}
    ]

    # With email_backfills on, a backfilled day that was never delivered is sent.
    p = replace(env.pipeline, report=replace(env.pipeline.report, email_backfills=True))
    assert tasks.publish_report(p, context_for(day, run_type="backfill"))["delivered"]
    assert len(env.smtp.messages) == 1


def test_gate_summary_falls_back_to_the_archived_copy(env: Env) -> None:
    lake = adapters.open_lake(env.pipeline)
    lake.write_bytes(f"reports/fixture_pipeline/ds={DAY}/dbt/gate.json", json.dumps(GATE).encode())
    tasks.publish_report(env.pipeline, context_for(DAY))  # no XCom
    report = json.loads((env.report_dir(DAY) / "report.json").read_text())
    assert report["gate"]["status"] == "passed" and report["gate"]["warnings"][0]["test"] == "warn_few_orders"


def test_missing_day_fails_instead_of_sending_an_empty_report(env: Env) -> None:
    from airflow.sdk.exceptions import AirflowException

    with pytest.raises(AirflowException, match="no row for ds = 2024-03-07"):
        tasks.publish_report(env.pipeline, context_for(DAY - timedelta(days=3)))
    assert env.smtp.messages == []


def test_smtp_failure_fails_the_task_and_leaves_no_marker(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_TEST", env_value(smtp_connection(free_port(), retry_limit=0, timeout=5))
    )
    with pytest.raises(Exception):  # noqa: B017 (whatever the SMTP stack raises must propagate)
        tasks.publish_report(env.pipeline, context_for(DAY))
    assert (env.report_dir(DAY) / "report.html").exists()
    assert not (env.report_dir(DAY) / "_delivered.json").exists()


def test_s3_lake_archive_freshness_and_marker(
    env: Env, monkeypatch: pytest.MonkeyPatch, s3_endpoint: str, s3_bucket: str
) -> None:
    from testenv import S3_KEY, S3_SECRET

    monkeypatch.setenv(
        "AIRFLOW_CONN_LAKE_AWS",
        json.dumps(
            {
                "conn_type": "aws",
                "login": S3_KEY,
                "password": S3_SECRET,
                "extra": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"},
            }
        ),
    )
    p = replace(
        env.pipeline, lake=S3LakeConfig(kind="s3", bucket=s3_bucket, prefix="lakes/fx", conn_id="lake_aws")
    )
    lake = adapters.open_lake(p)
    assert lake.uri == f"s3://{s3_bucket}/lakes/fx"
    write_partition(lake, ORDERS, DAY.isoformat(), order_rows(DAY, [1, 2, 3, 4]))
    out = tasks.publish_report(p, context_for(DAY))
    assert out["delivered"] and out["report"].startswith(
        f"s3://{s3_bucket}/lakes/fx/reports/fixture_pipeline/"
    )
    folder = f"reports/fixture_pipeline/ds={DAY}"
    assert lake.read_json(f"{folder}/report.json")["freshness"][0]["rows"] == 4
    assert lake.read_json(f"{folder}/_delivered.json")["ds"] == "2024-03-10"
    again = tasks.publish_report(p, context_for(DAY))
    assert not again["delivered"] and len(env.smtp.messages) == 1


def test_charts_are_well_formed_and_break_on_missing_days() -> None:
    import xml.etree.ElementTree as ET

    from dagspec_runtime.charts import bar_chart, sparkline

    ns = "{http://www.w3.org/2000/svg}"
    line = ET.fromstring(sparkline([1.0, 2.0, None, 4.0, 5.0, 3.0], label="Revenue <&>"))
    assert len(line.findall(f"{ns}polyline")) == 2  # the gap splits the line
    assert ET.fromstring(sparkline([2.0, 2.0, 2.0])) is not None  # a flat series
    assert ET.fromstring(sparkline([None, None])) is not None
    bars = ET.fromstring(bar_chart(["a", "b", "c"], [3.0, -1.0, None], fmt=str, title="t"))
    rects = bars.findall(f"{ns}rect")
    assert len(rects) == 2 and all(float(r.get("height", "0")) > 0 for r in rects)


def test_a_change_that_rounds_to_zero_reads_unchanged() -> None:
    assert delta_text({"delta": -0.0004, "delta_pct": -0.04}, "currency") == "■ unchanged"
    assert delta_text({"delta": -0.0004, "delta_pp": -0.04}, "percent") == "■ unchanged"
    assert delta_text({"delta": 0.004, "delta_pct": None}, "count") == "■ unchanged"
    assert delta_text({"delta": -349331.39, "delta_pct": -12.345}, "currency") == "▼ -12.3%"
    assert delta_text({"delta": 12.0, "delta_pct": None}, "count") == "▲ +12.00"
    assert delta_text({"delta": 0.025, "delta_pp": 2.5}, "percent") == "▲ +2.5 pp"
    assert delta_text({"delta": None}, "count") == "–"


def test_report_html_is_byte_identical_to_the_golden() -> None:
    """The Jinja2 template reproduces the report archived before it, byte for byte (fixtures/
    report_golden.html was rendered by the hand-built HTML it replaced); report.json is exact."""
    p = report_sample.sample_pipeline()
    report = build_report(
        p,
        report_sample.DAY,
        report_sample.sample_rows(),
        freshness=report_sample.FRESHNESS,
        gate=report_sample.GATE,
        lineage=report_sample.LINEAGE,
    )
    golden = Path(__file__).parent / "fixtures" / "report_golden.html"
    assert render_html(report, p, report_sample.SUBJECT) == golden.read_text()
    # The same HTML from report.json read back: the archive alone re-renders the email.
    again = json.loads(report_json(report))
    assert render_html(again, p, report_sample.SUBJECT) == golden.read_text()
    revenue = again["metrics"][0]
    assert revenue["value"] == "1650668.61" and revenue["previous_day"]["delta"] == "-657547.73"
    assert again["metrics"][1]["value"] == 1703 and again["metrics"][1]["week_ago"]["delta"] == 259
    assert again["metrics"][2]["previous_day"]["delta"] == "0.00000"  # shown as unchanged


def test_the_template_ships_in_the_wheel_and_escapes() -> None:
    from importlib.resources import files

    assert files("dagspec_runtime").joinpath("templates", "report.html.j2").is_file()
    html = (Path(__file__).parent / "fixtures" / "report_golden.html").read_text()
    assert "Revenue &lt;net&gt; &amp; &#x27;tax&#x27;" in html and "<net>" not in html
    assert "<code>warn_&lt;few&gt;_orders</code>" in html
