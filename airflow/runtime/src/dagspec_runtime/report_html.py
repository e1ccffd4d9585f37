"""The daily report as an HTML email: ``templates/report.html.j2`` (Jinja2, autoescaped) over the
content ``report.build_report`` produced.

Pure: the same report gives the same bytes. KPI formats: ``currency`` (2 decimals, the pipeline's
currency; 0 for JPY/KRW), ``count`` (integer), ``percent`` (the value is a fraction: 0.123 is shown as
12.3%; its deltas are in percentage points), ``ratio`` (2 decimals). Values are formatted from their
exact decimals, rounding half up. Deltas are shown as arrows without good/bad colours: the spec does
not say which direction is good for a KPI.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from html import escape
from typing import TYPE_CHECKING, Any

from dagspec_runtime.charts import bar_chart, sparkline
from dagspec_runtime.report import TREND_DAYS, exact

if TYPE_CHECKING:
    import jinja2

    from dagspec_runtime.contract import Pipeline

__all__ = ["delta_text", "format_value", "render_html"]

_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$", "INR": "₹"}
_ZERO_DECIMAL_CURRENCIES = {"JPY", "KRW"}


def _places(value: Decimal, digits: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def format_value(value: Any, fmt: str, currency: str = "USD") -> str:
    """A KPI value (int, Decimal, float or report.json's decimal string) as the reader sees it."""
    v = exact(value)
    if v is None:
        return "–"
    if fmt == "currency":
        decimals = 0 if currency in _ZERO_DECIMAL_CURRENCIES else 2
        body = f"{abs(_places(v, decimals)):,.{decimals}f}"
        sign = "-" if v < 0 else ""
        symbol = _CURRENCY_SYMBOLS.get(currency)
        return f"{sign}{symbol}{body}" if symbol else f"{sign}{body} {currency}"
    if fmt == "count":
        return f"{_places(v, 0):,.0f}"
    if fmt == "percent":
        return f"{_places(v * 100, 1):.1f}%"
    if fmt == "ratio":
        return f"{_places(v, 2):,.2f}"
    raise ValueError(f"unknown KPI format {fmt!r}")


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
    shown = _places(exact(value) or Decimal(0), digits)
    if shown == 0:
        return "■ unchanged"
    return f"{'▲' if shown > 0 else '▼'} {shown:{spec}}{unit}"


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


def _rows(n: int | None) -> str:
    return "failing rows unknown" if n is None else f"{n} failing row{'' if n == 1 else 's'}"


def _floats(values: list[Any]) -> list[float | None]:
    # The SVG charts place points with float geometry rounded to 0.1px; the labels they print come
    # from format_value, which reads a float back by its repr, i.e. the same decimal.
    return [None if v is None else float(exact(v) or 0) for v in values]


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2
    from markupsafe import Markup

    return jinja2.Environment(
        loader=jinja2.PackageLoader("dagspec_runtime", "templates"),
        autoescape=True,
        # html.escape's spellings (&#x27;, &quot;) rather than MarkupSafe's (&#39;, &#34;): reports keep
        # the bytes of those archived before the template, so a re-run compares equal.
        finalize=lambda v: v if isinstance(v, Markup) else Markup(escape(str(v))),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def render_html(report: Mapping[str, Any], pipeline: Pipeline, subject: str) -> str:
    from markupsafe import Markup

    currency = pipeline.report.currency
    day = date.fromisoformat(report["ds"])
    metrics = report["metrics"]

    def fmt(m: Mapping[str, Any], v: Any) -> str:
        return format_value(v, m["format"], currency)

    kpis = [
        {
            "label": m["label"],
            "value": fmt(m, m["value"]),
            "previous_day": delta_text(m["previous_day"], m["format"]),
            "week_ago": delta_text(m["week_ago"], m["format"]),
            # Hand-built SVG (charts.py): same bytes every time, no plotting library or fonts.
            "sparkline": Markup(
                sparkline(_floats(m["trend"]), label=f"{m['label']}, last {TREND_DAYS} days")
            ),
        }
        for m in metrics
    ]
    chart = None
    if metrics:
        first = metrics[0]
        chart = Markup(
            bar_chart(
                [_short_day(date.fromisoformat(d)) for d in report["trend_days"]],
                _floats(first["trend"]),
                fmt=lambda v: fmt(first, v),
                title=f"{first['label']}, last {TREND_DAYS} days",
            )
        )
    trend = [
        [d] + [fmt(m, m["trend"][i]) for m in metrics]
        for i, d in reversed(list(enumerate(report["trend_days"])))
    ]
    freshness = [
        [
            f["table"],
            f.get("taken", ""),  # archived reports from before it was recorded have none
            f"{f['rows']:,}" if f.get("rows") is not None else "not extracted",
            f"{f['previous_rows']:,}" if f.get("previous_rows") is not None else "–",
        ]
        for f in report["freshness"]
    ]
    gate = report["gate"]
    passed = sum(v for k, v in (gate.get("counts") or {}).items() if k == "test:pass")
    status = gate.get("status", "unknown")
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            subject=subject,
            long_day=_long_day(day),
            timezone=report["timezone"],
            pipeline=report["pipeline"],
            trend_days=TREND_DAYS,
            kpi_headers=[
                "Metric",
                "Value",
                f"vs {_short_day(day - timedelta(days=1))}",
                f"vs {_short_day(day - timedelta(days=7))}",
                f"{TREND_DAYS} days",
            ],
            kpis=kpis,
            chart=chart,
            trend_headers=["Day"] + [m["label"] for m in metrics],
            trend=trend,
            freshness=freshness,
            gate_text={"passed": f"Passed: {passed} test(s) held", "unknown": "Gate results unavailable"}.get(
                status, status
            ),
            warnings=[
                {"test": str(w["test"]), "failures": _rows(w.get("failures"))}
                for w in gate.get("warnings") or []
            ],
            lineage={
                k: str(report["lineage"].get(k))
                for k in ("spec_file", "spec_hash", "dbt_project", "gate_verdict")
            },
            model=report["model"],
        )
    )
