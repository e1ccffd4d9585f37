"""The daily report as data: ``build_report`` gives what report.json archives (and the HTML in
``report_html`` shows).

Pure functions: the same inputs give the same bytes. Nothing in it comes from the wall clock, a run
id or a host name, so an archived report can be compared with a re-run's.

Numbers in report.json are exact: ``count`` KPIs (and their deltas) are integers; every other KPI
value and delta is a decimal string, exactly as the warehouse holds it (a ``DECIMAL``/``NUMERIC``
as stored, a ``DOUBLE`` as its shortest repr), and a delta is the exact decimal difference, never a
binary-float artefact such as ``-349331.3900000006``. ``delta_pct`` (and ``delta_pp`` for
``percent`` KPIs) are JSON numbers rounded to 4 decimals.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dagspec_runtime.contract import Pipeline

__all__ = ["TREND_DAYS", "build_report", "exact", "report_json"]

TREND_DAYS = 14
_PLACES = Decimal("0.0001")


def exact(value: Any) -> Decimal | None:
    """A warehouse value (or a report.json number) as an exact Decimal; a float by its shortest repr."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


def _json_value(value: Decimal | None, fmt: str) -> int | str | None:
    """``count`` values as integers, everything else as an exact decimal string (never ``1E+2``)."""
    if value is None:
        return None
    if fmt == "count" and value == value.to_integral_value():
        return int(value)
    return format(value, "f")


def _rounded(value: Decimal) -> float:
    return float(value.quantize(_PLACES, rounding=ROUND_HALF_EVEN))


def _delta(value: Decimal | None, ref: Decimal | None, fmt: str, ref_day: date) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ds": ref_day.isoformat(),
        "value": _json_value(ref, fmt),
        "delta": None,
        "delta_pct": None,
    }
    if value is None or ref is None:
        return out
    with localcontext() as ctx:
        ctx.prec = 60  # differences of warehouse decimals stay exact
        diff = value - ref
        out["delta"] = _json_value(diff, fmt)
        if fmt == "percent":
            out["delta_pp"] = _rounded(diff * 100)
        if ref != 0:
            out["delta_pct"] = _rounded(diff / abs(ref) * 100)
    return out


def build_report(
    pipeline: Pipeline,
    day: date,
    rows_by_day: Mapping[date, Mapping[str, Any]],
    *,
    freshness: Sequence[Mapping[str, Any]],
    gate: Mapping[str, Any] | None,
    lineage: Mapping[str, Any],
) -> dict[str, Any]:
    """The report's content: KPIs of ``day``, deltas vs. the day before and a week before, the trend."""
    spec = pipeline.report
    days = [day - timedelta(days=TREND_DAYS - 1 - i) for i in range(TREND_DAYS)]
    today = rows_by_day.get(day)
    if today is None:
        raise ValueError(f"the published {spec.model} has no row for {day}")
    metrics = []
    for kpi in spec.kpis:
        col, fmt = kpi.column, kpi.format

        def at(d: date, col: str = col) -> Decimal | None:
            row = rows_by_day.get(d)
            return exact(row.get(col)) if row is not None else None

        value = at(day)
        metrics.append(
            {
                "column": col,
                "label": kpi.label,
                "format": fmt,
                "value": _json_value(value, fmt),
                "previous_day": _delta(value, at(day - timedelta(days=1)), fmt, day - timedelta(days=1)),
                "week_ago": _delta(value, at(day - timedelta(days=7)), fmt, day - timedelta(days=7)),
                "trend": [_json_value(at(d), fmt) for d in days],
            }
        )
    warnings = list((gate or {}).get("warnings") or [])
    return {
        "pipeline": pipeline.id,
        "ds": day.isoformat(),
        "timezone": pipeline.timezone,
        "model": spec.model,
        "kpis": {m["column"]: m["value"] for m in metrics},
        "metrics": metrics,
        "trend_days": [d.isoformat() for d in days],
        "freshness": [dict(f) for f in freshness],
        "gate": {
            "status": (gate or {}).get("status", "unknown"),
            "counts": dict((gate or {}).get("counts") or {}),
            "warnings": [
                {"test": w.get("node"), "failures": w.get("failures"), "message": w.get("message")}
                for w in warnings
            ],
        },
        "lineage": dict(lineage),
    }


def report_json(report: Mapping[str, Any]) -> bytes:
    return (json.dumps(report, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()
