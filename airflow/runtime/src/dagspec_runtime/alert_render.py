"""The HTML of the engineers' alert emails and of the notice on a corrected report, from Jinja2
templates shipped in the wheel (``dagspec_runtime/templates/alerts/``).

Rendering only: what to send, to whom and through which channel is ``dagspec_runtime.alerts``'s.
Autoescaping is on and undefined names are errors: every value (exception text, test names, KPI
labels from the spec) reaches the HTML escaped, and a template typo fails the test that renders it
instead of sending an empty cell.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Environment

    from dagspec_runtime.contract import Pipeline

__all__ = [
    "correction_alert_html",
    "correction_notice_html",
    "failure_html",
    "kpi_change_rows",
    "with_notice",
]

# The facts shown as a table in the failure email; the failing tests and the exception have their own.
_TABLE_EXCLUDES = ("failing_tests", "exception")


@functools.cache
def _env() -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("dagspec_runtime", "templates/alerts"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def failure_html(facts: Mapping[str, Any], summary: str) -> str:
    """The engineers' email for a failed task: the summary, failing tests, the facts, the exception."""
    return (
        _env()
        .get_template("failure.html.j2")
        .render(
            summary=summary,
            failing_tests=list(facts.get("failing_tests") or []),
            facts=[(k, v) for k, v in facts.items() if k not in _TABLE_EXCLUDES],
            exception=facts.get("exception"),
        )
    )


def correction_alert_html(
    summary: str,
    rows: Sequence[Mapping[str, str]],
    delivered: Mapping[str, Any],
    corrected: Mapping[str, Any],
) -> str:
    """The engineers' email when a re-run changed numbers already delivered (``corrections: alert``).

    ``rows``: one per KPI, ``label``, ``delivered`` and ``now`` as shown in the report, and
    ``changed`` ("yes"/""); ``delivered``/``corrected``: each version's facts (version, run, archive).
    """
    return (
        _env()
        .get_template("correction_alert.html.j2")
        .render(summary=summary, rows=list(rows), delivered=dict(delivered), corrected=dict(corrected))
    )


def correction_notice_html(day: str, version: int, rows: Sequence[Mapping[str, str]], sent_at: str) -> str:
    """The banner at the top of a corrected report (``corrections: send``): what changed since ``sent_at``."""
    return (
        _env()
        .get_template("correction_notice.html.j2")
        .render(day=day, version=version, rows=list(rows), sent_at=sent_at)
    )


def kpi_change_rows(
    pipeline: Pipeline, before: Mapping[str, Any], now: Mapping[str, Any]
) -> list[dict[str, str]]:
    """One row per KPI of the report: its label, both values as the report shows them, changed or not."""
    from dagspec_runtime.report_html import format_value

    currency = pipeline.report.currency
    return [
        {
            "label": k.label,
            "delivered": format_value(before.get(k.column), k.format, currency),
            "now": format_value(now.get(k.column), k.format, currency),
            "changed": "yes" if before.get(k.column) != now.get(k.column) else "",
        }
        for k in pipeline.report.kpis
    ]


_BODY_OPEN = re.compile(r"<body[^>]*>", re.IGNORECASE)


def with_notice(html: str, notice: str) -> str:
    """The report with ``notice`` as the first thing in its body (the report's own HTML unchanged)."""
    match = _BODY_OPEN.search(html)
    at = match.end() if match else 0
    return html[:at] + notice + html[at:]
