"""``PublishTablesOperator``: the audited marts of the report day, into the publish schema at once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dagspec_runtime import tasks
from dagspec_runtime.operators.base import DagspecOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["PublishTablesOperator"]


class PublishTablesOperator(DagspecOperator):
    """Copies each mart from the audit schema to the publish schema in one transaction (a day's rows
    of an incremental mart, a whole table otherwise). Returns ``{mart: {rows, ...}}``."""

    template_fields = ("report_day", "marts")
    template_fields_renderers = {"marts": "json"}
    ui_color = "#bbf7d0"

    def describe(self, day: str) -> None:
        wh = self.pipeline.warehouse
        self.marts = {
            f"{wh.audit_schema}.{m.name} -> {wh.publish_schema}.{m.name}": (
                f"{m.partition_column} = {day}" if m.partition_column else "whole table"
            )
            for m in self.pipeline.marts
        }

    def execute(self, context: Context) -> dict[str, Any]:
        return tasks.publish_tables(self.pipeline, context)
