"""The daily report as data (``build_report``, archived as report.json) and as an HTML email.

Pure functions: the same inputs give the same bytes. The HTML holds no wall-clock time, run id or
host name, only what comes from the data, the spec and the gate, so an archived report can be
compared with a re-run's.

KPI formats: ``currency`` (2 decimals, the pipeline's currency), ``count`` (integer), ``percent``
(the value is a fraction: 0.123 is shown as 12.3%; its deltas are in percentage points), ``ratio``
(2 decimals). Deltas are shown as arrows without good/bad colours: the spec does not say which
direction is good for a KPI.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING, Any

from dagspec_runtime.charts import bar_chart, sparkline

if TYPE_CHECKING:
    from dagspec_runtime.contract import Pipeline

__all__ = ["TREND_DAYS", "build_report", "delta_text", "format_value", "render_html", "report_json"]

TREND_DAYS = 14
_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$", "INR": "₹"}
_ZERO_DECIMAL_CURRENCIES = {"JPY", "KRW"}


def _number(value: Any) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)
    return float(value)


def format_value(value: float | None, fmt: str, currency: str = "USD") -> str:
    if value is None:
        return "–"
    if fmt == "currency":
        decimals = 0 if currency in _ZERO_DECIMAL_CURRENCIES else 2
        body = f"{abs(value):,.{decimals}f}"
        sign = "-" if value < 0 else ""
        symbol = _CURRENCY_SYMBOLS.get(currency)
        return f"{sign}{symbol}{body}" if symbol else f"{sign}{body} {currency}"
    if fmt == "count":
        return f"{round(value):,}"
    if fmt == "percent":
        return f"{value * 100:.1f}%"
    if fmt == "ratio":
        return f"{value:,.2f}"
    raise ValueError(f"unknown KPI format {fmt!r}")


def _delta(value: float | None, ref: float | None, fmt: str, ref_day: date) -> dict[str, Any]:
    out: dict[str, Any] = {"ds": ref_day.isoformat(), "value": ref, "delta": None, "delta_pct": None}
    if value is None or ref is None:
        return out
    out["delta"] = round(value - ref, 10)
    if fmt == "percent":
        out["delta_pp"] = round((value - ref) * 100, 4)
    if ref != 0:
        out["delta_pct"] = round((value - ref) / abs(ref) * 100, 4)
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

        def at(d: date, col: str = col) -> int | float | None:
            row = rows_by_day.get(d)
            return _number(row.get(col)) if row is not None else None

        value = at(day)
        metrics.append(
            {
                "column": col,
                "label": kpi.label,
                "format": fmt,
                "value": value,
                "previous_day": _delta(value, at(day - timedelta(days=1)), fmt, day - timedelta(days=1)),
                "week_ago": _delta(value, at(day - timedelta(days=7)), fmt, day - timedelta(days=7)),
                "trend": [at(d) for d in days],
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


# Day names spelled here, not by strftime, whose output follows the process locale.
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _long_day(d: date) -> str:
    return f"{_WEEKDAYS[d.weekday()]} {d.day:02d} {_MONTHS[d.month - 1]} {d.year}"


def _short_day(d: date) -> str:
    return f"{_WEEKDAYS[d.weekday()][:3]} {d.day:02d} {_MONTHS[d.month - 1][:3]}"


# -- HTML ------------------------------------------------------------------------------------------

_BODY = "margin:0;padding:24px;background:#f6f8fa;font-family:Helvetica,Arial,sans-serif;color:#24292f"
_CARD = (
    "max-width:720px;margin:0 auto;background:#ffffff;border:1px solid #d0d7de;border-radius:6px;padding:24px"
)
_TH = "text-align:left;padding:6px 8px;border-bottom:1px solid #d0d7de;font-size:12px;color:#57606a"
_TD = "padding:6px 8px;border-bottom:1px solid #eaeef2;font-size:14px;vertical-align:middle"
_H2 = "font-size:16px;margin:24px 0 8px 0"


def delta_text(d: Mapping[str, Any], fmt: str) -> str:
    """``▲ +2.1%``, ``▼ -0.5 pp``, ``▲ +12.00``; a change that rounds to zero where it is shown
    reads ``■ unchanged`` (never ``▼ -0.0%``): the arrow follows the number the reader sees."""
    if d.get("delta") is None:
        return "–"
    if fmt == "percent":
        value, digits, spec, unit = d["delta_pp"], 1, "+.1f", " pp"
    elif d.get("delta_pct") is None:
        value, digits, spec, unit = d["delta"], 2, "+,.2f", ""
    else:
        value, digits, spec, unit = d["delta_pct"], 1, "+.1f", "%"
    shown = round(value, digits)
    if shown == 0:
        return "■ unchanged"
    return f"{'▲' if shown > 0 else '▼'} {shown:{spec}}{unit}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f'<th style="{_TH}">{escape(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f'<td style="{_TD}">{c}</td>' for c in row) + "</tr>" for row in rows)
    return (
        '<table role="presentation" cellpadding="0" cellspacing="0" '
        'style="width:100%;border-collapse:collapse">'
        f"<tr>{head}</tr>{body}</table>"
    )


def render_html(report: Mapping[str, Any], pipeline: Pipeline, subject: str) -> str:
    currency = pipeline.report.currency
    day = date.fromisoformat(report["ds"])
    metrics = report["metrics"]

    def fmt(m: Mapping[str, Any], v: float | None) -> str:
        return format_value(v, m["format"], currency)

    kpi_rows = [
        [
            escape(m["label"]),
            f"<strong>{escape(fmt(m, m['value']))}</strong>",
            escape(delta_text(m["previous_day"], m["format"])),
            escape(delta_text(m["week_ago"], m["format"])),
            sparkline(m["trend"], label=f"{m['label']}, last {TREND_DAYS} days"),
        ]
        for m in metrics
    ]
    sections = [
        f'<h1 style="font-size:20px;margin:0 0 4px 0">{escape(subject)}</h1>',
        f'<p style="margin:0;color:#57606a;font-size:13px">{escape(_long_day(day))} '
        f"({escape(report['timezone'])}) · pipeline {escape(report['pipeline'])}</p>",
        f'<h2 style="{_H2}">Key metrics</h2>',
        _table(
            [
                "Metric",
                "Value",
                f"vs {_short_day(day - timedelta(days=1))}",
                f"vs {_short_day(day - timedelta(days=7))}",
                f"{TREND_DAYS} days",
            ],
            kpi_rows,
        ),
    ]
    if metrics:
        first = metrics[0]
        labels = [_short_day(date.fromisoformat(d)) for d in report["trend_days"]]
        chart = bar_chart(
            labels,
            first["trend"],
            fmt=lambda v: fmt(first, v),
            title=f"{first['label']}, last {TREND_DAYS} days",
        )
        sections.append(f'<div style="margin-top:16px">{chart}</div>')
        trend_rows = [
            [escape(d)] + [escape(fmt(m, m["trend"][i])) for m in metrics]
            for i, d in reversed(list(enumerate(report["trend_days"])))
        ]
        sections.append(f'<h2 style="{_H2}">Last {TREND_DAYS} days</h2>')
        sections.append(_table(["Day"] + [m["label"] for m in metrics], trend_rows))
    sections.append(f'<h2 style="{_H2}">Data freshness</h2>')
    sections.append(
        _table(
            ["Source table", "Rows extracted", "Day before"],
            [
                [
                    escape(f["table"]),
                    escape(f"{f['rows']:,}" if f.get("rows") is not None else "not extracted"),
                    escape(f"{f['previous_rows']:,}" if f.get("previous_rows") is not None else "–"),
                ]
                for f in report["freshness"]
            ],
        )
    )
    sections.append(f'<h2 style="{_H2}">Quality gate</h2>')
    sections.append(_gate_html(report["gate"]))
    lineage = report["lineage"]
    sections.append(f'<h2 style="{_H2}">Lineage</h2>')
    sections.append(
        f'<p style="font-size:13px;margin:0">Spec <code>{escape(str(lineage.get("spec_file")))}</code> '
        f"(hash <code>{escape(str(lineage.get('spec_hash')))}</code>), dbt project "
        f"<code>{escape(str(lineage.get('dbt_project')))}</code>, "
        f"model <code>{escape(report['model'])}</code> (<code>dbt docs generate</code> in the project "
        f"draws the graph). Gate verdict: <code>{escape(str(lineage.get('gate_verdict')))}</code></p>"
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>{escape(subject)}</title></head>"
        f'<body style="{_BODY}"><div style="{_CARD}">{"".join(sections)}</div></body></html>\n'
    )


def _gate_html(gate: Mapping[str, Any]) -> str:
    status = gate.get("status", "unknown")
    counts = gate.get("counts") or {}
    passed = sum(v for k, v in counts.items() if k == "test:pass")
    text = {"passed": f"Passed: {passed} test(s) held", "unknown": "Gate results unavailable"}.get(
        status, status
    )
    warnings = gate.get("warnings") or []
    items = "".join(
        f"<li><code>{escape(str(w['test']))}</code>: {escape(_rows(w.get('failures')))}</li>"
        for w in warnings
    )
    warn = (
        (
            f'<p style="font-size:13px;margin:8px 0 0 0">{len(warnings)} warning(s) (published anyway):</p>'
            f'<ul style="font-size:13px;margin:4px 0">{items}</ul>'
        )
        if warnings
        else '<p style="font-size:13px;margin:8px 0 0 0">No warnings.</p>'
    )
    return f'<p style="font-size:14px;margin:0"><strong>{escape(text)}</strong></p>{warn}'


def _rows(n: int | None) -> str:
    return "failing rows unknown" if n is None else f"{n} failing row{'' if n == 1 else 's'}"
