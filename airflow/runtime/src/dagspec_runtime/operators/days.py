"""The operators of a one-pass backfill (the ``<pipeline id>__backfill`` DAG): a range of report days.

Their templated fields are the range, ``first_day`` and ``last_day``, rendered from the run's params
(the DAG's trigger form asks for them); ``days`` is derived from the rendered range, never rendered
as Jinja itself. The steps are ``dagspec_runtime.backfill``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperator

if TYPE_CHECKING:
    import jinja2
    from airflow.sdk import Context

    from dagspec_runtime.contract import Pipeline

__all__ = ["BuildDaysOperator", "DaysOperator", "ExtractDaysOperator"]

FIRST_DAY = "{{ params.first_day }}"
LAST_DAY = "{{ params.last_day }}"


class DaysOperator(BaseOperator):
    """Base of the range operators: the compiled pipeline and the range of report days."""

    template_fields: Sequence[str] = ("first_day", "last_day", "days")
    jinja_fields: ClassVar[tuple[str, ...]] = ("first_day", "last_day")

    def __init__(
        self, *, pipeline: Pipeline, first_day: str = FIRST_DAY, last_day: str = LAST_DAY, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.pipeline = pipeline
        self.first_day = first_day
        self.last_day = last_day
        self.days = f"{first_day}..{last_day}"

    def render_template_fields(self, context: Context, jinja_env: jinja2.Environment | None = None) -> None:
        self._do_render_template_fields(
            self, self.jinja_fields, context, jinja_env or self.get_template_env(), set()
        )
        self.days = self._describe_days()

    def _describe_days(self) -> str:
        from datetime import date

        try:
            count = (date.fromisoformat(self.last_day) - date.fromisoformat(self.first_day)).days + 1
        except ValueError:
            return f"{self.first_day}..{self.last_day} (not a range of YYYY-MM-DD days)"
        return f"{self.first_day}..{self.last_day} ({count} report day{'' if count == 1 else 's'})"


class ExtractDaysOperator(DaysOperator):
    """Copies every report day of the range from one snapshot of the source into the lake, several
    days at a time, each day committed on its own. Returns ``{day: {table: rows}}``."""

    ui_color = "#dbeafe"

    def execute(self, context: Context) -> dict[str, Any]:
        from dagspec_runtime.backfill import extract_days

        return extract_days(self.pipeline, self.first_day, self.last_day)


class BuildDaysOperator(DaysOperator):
    """Takes each report day of the range, in date order, through the daily run's steps after the
    extract: the dbt gate, publish, the report's archive. One dbt build gates the whole range when
    the project can and every day passes cleanly; else each day is gated by its own build
    (``backfill``). A day whose gate (or any step) fails publishes nothing more and the others go
    on; the task then fails naming those days (``backfill.RangeFailed``). Returns ``{day: outcome}``."""

    ui_color = "#fde68a"

    def execute(self, context: Context) -> dict[str, Any]:
        from dagspec_runtime.backfill import build_days

        return build_days(self.pipeline, self.first_day, self.last_day, context)
