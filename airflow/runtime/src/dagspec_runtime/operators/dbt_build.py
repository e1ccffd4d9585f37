"""``DbtBuildOperator``: one ``dbt build`` of the audit schema, the pipeline's quality gate."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from dagspec_runtime import tasks
from dagspec_runtime.operators.base import DagspecOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["DbtBuildOperator"]


class DbtBuildOperator(DagspecOperator):
    """Builds models and runs tests in graph order into the audit schema; raises ``GateFailed`` when
    an error-severity test fails. Returns the gate summary (``dagspec_runtime.gate.GateSummary``),
    which ``publish_tables`` and ``publish_report`` pull from XCom.

    ``dbt_command`` shows the dbt arguments of the run; the runner adds the machine's paths (project,
    profiles, target and log folders) and logs the full command.
    """

    template_fields = ("report_day", "dbt_command", "dbt_vars")
    template_fields_renderers = {"dbt_command": "bash", "dbt_vars": "json"}
    ui_color = "#fde68a"

    def describe(self, day: str) -> None:
        from dagspec_runtime.dbt_args import build_args, build_vars

        self.dbt_vars = build_vars(day)
        self.dbt_command = shlex.join(["dbt", *build_args(target=self.pipeline.dbt.target, ds=day)])

    def execute(self, context: Context) -> dict[str, Any]:
        return tasks.dbt_build(self.pipeline, context)
