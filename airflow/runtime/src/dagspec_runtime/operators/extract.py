"""``ExtractOperator``: the source's tables for the report day, from one snapshot into the lake."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dagspec_runtime import tasks
from dagspec_runtime.layout import raw_partition
from dagspec_runtime.operators.base import DagspecOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["ExtractOperator"]


class ExtractOperator(DagspecOperator):
    """Copies the report day's rows of each source table (or a full snapshot) to the lake as Parquet.

    Returns ``{table: {rows, files, ...}}`` per table (``dagspec_runtime.extract``).
    """

    template_fields = ("report_day", "tables", "partitions")
    template_fields_renderers = {"tables": "json", "partitions": "json"}
    ui_color = "#dbeafe"

    def describe(self, day: str) -> None:
        source = self.pipeline.source
        self.tables = {
            f"{t.schema}.{t.name}": (
                f"rows of {day} by {t.cursor_column} ({self.pipeline.timezone})"
                if t.mode == "incremental"
                else "full snapshot"
            )
            for t in source.tables
        }
        layout = self.pipeline.names.raw_partition
        self.partitions = [raw_partition(t.name, day, layout) + "/" for t in source.tables]

    def execute(self, context: Context) -> dict[str, Any]:
        return tasks.extract(self.pipeline, context)
