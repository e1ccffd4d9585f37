"""``LoadRawOperator``: the report day's lake partitions into a warehouse that cannot read the lake."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dagspec_runtime import tasks
from dagspec_runtime.layout import raw_partition
from dagspec_runtime.operators.base import DagspecOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["LoadRawOperator"]


class LoadRawOperator(DagspecOperator):
    """Loads each table's partition of the report day into the warehouse's raw schema (the compiler
    adds this task only for warehouses that need it). Returns ``{table: {rows, ...}}``."""

    template_fields = ("report_day", "partitions")
    template_fields_renderers = {"partitions": "json"}
    ui_color = "#e0e7ff"

    def describe(self, day: str) -> None:
        layout = self.pipeline.names.raw_partition
        self.partitions = [raw_partition(t.name, day, layout) + "/" for t in self.pipeline.source.tables]

    def execute(self, context: Context) -> dict[str, Any]:
        return tasks.load_raw(self.pipeline, context)
