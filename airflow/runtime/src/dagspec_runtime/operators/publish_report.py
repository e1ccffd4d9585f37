"""``PublishReportOperator``: the day's executive report, archived in the lake and e-mailed once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dagspec_runtime import tasks
from dagspec_runtime.layout import report_folder
from dagspec_runtime.operators.base import DagspecOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["PublishReportOperator"]


class PublishReportOperator(DagspecOperator):
    """Builds the report from the published model, archives it, and e-mails it unless the day was
    delivered already or the run is a backfill (``dagspec_runtime.report_task``). Returns
    ``{ds, report, kpis, delivered, ...}``."""

    template_fields = ("report_day", "recipients", "subject", "archive")
    template_fields_renderers = {"recipients": "json"}
    ui_color = "#fbcfe8"

    def describe(self, day: str) -> None:
        report = self.pipeline.report
        self.recipients = list(report.recipients)
        # str.replace, as the report task does: a subject is spec text, not a template.
        self.subject = report.subject.replace("{ds}", day)
        self.archive = report_folder(self.pipeline, day) + "/"

    def execute(self, context: Context) -> dict[str, Any]:
        return tasks.publish_report(self.pipeline, context)
