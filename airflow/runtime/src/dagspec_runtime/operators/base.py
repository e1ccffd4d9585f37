"""What every dagspec operator shares: the compiled pipeline, and one templated field, the report day.

Only ``report_day`` is a Jinja template (by default the DAG's ``dagspec_window`` macro). The other
templated fields of a dagspec operator are derived from the rendered day and the compiled pipeline by
``describe``, never rendered as Jinja themselves: they hold spec text (an e-mail address, a subject)
that may contain braces, which must never be evaluated as a template.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperator

if TYPE_CHECKING:
    import jinja2
    from airflow.sdk import Context

    from dagspec_runtime.contract import Pipeline

__all__ = ["REPORT_DAY", "DagspecOperator"]

# The run's report day (YYYY-MM-DD) through the macro a generated DAG registers: the same function
# of the logical date (``dagspec_runtime.days.report_day``) that the steps use.
REPORT_DAY = "{{ dagspec_window(logical_date).report_day }}"


class DagspecOperator(BaseOperator):
    """Base of dagspec's operators; subclasses set ``template_fields`` and implement ``describe``."""

    template_fields: Sequence[str] = ("report_day",)
    # The fields Airflow renders as Jinja; the rest of ``template_fields`` is derived (see module doc).
    jinja_fields: ClassVar[tuple[str, ...]] = ("report_day",)

    def __init__(self, *, pipeline: Pipeline, report_day: str = REPORT_DAY, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pipeline = pipeline
        self.report_day = report_day
        self.describe(report_day)

    def describe(self, day: str) -> None:
        """Set the derived templated fields for ``day`` (the template itself until rendered)."""

    def render_template_fields(self, context: Context, jinja_env: jinja2.Environment | None = None) -> None:
        self._do_render_template_fields(
            self, self.jinja_fields, context, jinja_env or self.get_template_env(), set()
        )
        self.describe(self.report_day)
