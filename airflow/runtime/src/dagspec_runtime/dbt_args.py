"""The machine-independent arguments of a pipeline's ``dbt build``: ``dbt_runner`` runs them and
``DbtBuildOperator`` shows them in the UI. Apart from ``dbt_runner`` (which imports the warehouse
adapters) so that building an operator at DAG parse time imports nothing but the standard library.
"""

from __future__ import annotations

import json

__all__ = ["build_args", "build_vars"]


def build_vars(ds: str, first_day: str | None = None) -> dict[str, str]:
    """The ``--vars`` of a build: the report day the models select; with ``first_day``, a build of
    every day from ``first_day`` to ``ds`` (a range-capable project, ``Dbt.range_build``), each day
    built and tested as its own build would.

    Vars of the build only, never of the parse (``dbt_child``), so a range reuses the saved parse."""
    if first_day is None:
        return {"ds": ds}
    return {"ds": ds, "dagspec_first_day": first_day}


def build_args(*, target: str, ds: str, first_day: str | None = None) -> list[str]:
    """The machine-independent arguments of a build; ``DbtBuildOperator`` shows them in the UI."""
    return ["build", "--target", target, "--vars", json.dumps(build_vars(ds, first_day))]
