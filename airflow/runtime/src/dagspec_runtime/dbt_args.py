"""The machine-independent arguments of a pipeline's ``dbt build``: ``dbt_runner`` runs them and
``DbtBuildOperator`` shows them in the UI. Apart from ``dbt_runner`` (which imports the warehouse
adapters) so that building an operator at DAG parse time imports nothing but the standard library.
"""

from __future__ import annotations

import json

__all__ = ["build_args", "build_vars"]


def build_vars(ds: str) -> dict[str, str]:
    """The ``--vars`` of a build: the report day the models select."""
    return {"ds": ds}


def build_args(*, target: str, ds: str) -> list[str]:
    """The machine-independent arguments of a build; ``DbtBuildOperator`` shows them in the UI."""
    return ["build", "--target", target, "--vars", json.dumps(build_vars(ds))]
