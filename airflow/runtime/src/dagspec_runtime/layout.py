"""The lake's folder names, as text: ``raw/<table>/ds=<day>`` and ``reports/<pipeline id>/ds=<day>``.

Plain formatting, no checks, so an operator can show the layout with the report-day template in it
before a run; ``manifest.partition_dir`` and ``manifest.report_dir`` check the day before a path is
used.
"""

from __future__ import annotations

__all__ = ["raw_partition", "report_folder"]


def raw_partition(table: str, ds: str) -> str:
    return f"raw/{table}/ds={ds}"


def report_folder(pipeline_id: str, ds: str) -> str:
    return f"reports/{pipeline_id}/ds={ds}"
