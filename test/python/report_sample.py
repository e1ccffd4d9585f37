"""A fixed report (every KPI format, Decimal and float values, a missing day, a NULL, a warning and
characters HTML must escape) whose rendered HTML is kept in fixtures/report_golden.html: the report
template must reproduce it byte for byte."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from dagspec_runtime.contract import Pipeline
from runtime_fixture import pipeline

DAY = date(2024, 3, 10)
KPIS = [
    {"column": "revenue", "label": "Revenue <net> & 'tax'", "format": "currency"},
    {"column": "orders", "label": "Orders", "format": "count"},
    {"column": "refund_rate", "label": "Refund rate", "format": "percent"},
    {"column": "aov", "label": "Average order", "format": "ratio"},
]


def sample_pipeline() -> Pipeline:
    return pipeline(report={"kpis": KPIS, "currency": "EUR"})


def sample_rows() -> dict[date, dict[str, Any]]:
    rows: dict[date, dict[str, Any]] = {}
    for i in range(20):
        d = DAY - timedelta(days=19 - i)
        if d == DAY - timedelta(days=3):
            continue  # a missing day breaks the trend
        orders = 1000 + 37 * i
        revenue = Decimal("2000000.00") + Decimal("17123.13") * i
        rows[d] = {
            "revenue": revenue,
            "orders": orders,
            "refund_rate": Decimal("0.0312") if i % 5 else Decimal("0.0309"),
            "aov": float(revenue) / orders if i != 12 else None,
        }
    # The float-artifact case of the old report.json: 1650668.61 - 2000000.00 as binary floats.
    rows[DAY]["revenue"] = Decimal("1650668.61")
    rows[DAY - timedelta(days=1)]["refund_rate"] = Decimal("0.03120")  # the same: "unchanged"
    return rows


GATE = {
    "status": "passed",
    "counts": {"model:success": 3, "test:pass": 9, "test:warn": 1},
    "warnings": [{"node": "warn_<few>_orders", "status": "warn", "failures": 2, "message": "Got 2 results"}],
}
FRESHNESS = [
    {"table": "customers", "rows": 12345, "previous_rows": None, "taken": "changed rows by updated_at"},
    {"table": "orders", "rows": None, "previous_rows": 1000, "taken": "incremental by created_at"},
]
LINEAGE = {
    "spec_file": "specs/shop & co.yaml",
    "spec_hash": "abc123",
    "dbt_project": "dbt/shop",
    "gate_verdict": "file:///lake/reports/x/ds=2024-03-10/dbt/gate.json",
}
SUBJECT = "Daily metrics for 2024-03-10 <shop>"
