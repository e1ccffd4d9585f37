"""The ``airflow`` command for dagspec's local runs (demo, local stack), with one upstream fix applied.

Airflow 3.3.2's ``airflow dags test`` exits non-zero for every DAG that declares a ``deadline``,
after the run has succeeded: ``DAG.test()`` leaves encoded alerts (dicts) in ``dag.deadline`` where
the scheduler has ``deadline_alert`` ids, and ``DagRun.update_state()`` looks the dicts up by id
(apache/airflow#73428, fix proposed in apache/airflow#73430). This wrapper teaches
``DeadlineAlertModel.get_by_id`` to read such a dict directly, as the proposed fix does, and leaves
the id lookup the scheduler uses untouched. Remove it once a release carries the fix.

Usage: ``python -m dagspec_local.airflow_cli dags test <dag_id> <logical_date>`` (any airflow args);
``dagspec_local.airflow_env.airflow_command`` builds that command line.
"""

from __future__ import annotations

import sys
from typing import Any


class _EncodedAlert:
    """Enough of a DeadlineAlertModel for DagRun.update_state(): the reference and its class."""

    def __init__(self, encoded: dict[str, Any]) -> None:
        from airflow.models.deadline_alert import DeadlineAlert as DeadlineAlertModel

        data = encoded.get("__var", encoded)
        self.reference = data.get("reference", {})
        self._model = DeadlineAlertModel

    @property
    def reference_class(self) -> Any:
        return self._model.reference_class.fget(self)  # type: ignore[union-attr]


def _patch_deadline_lookup() -> None:
    from airflow.models.deadline_alert import DeadlineAlert as DeadlineAlertModel

    lookup = DeadlineAlertModel.get_by_id

    def get_by_id(deadline_alert_id: Any, **kwargs: Any) -> Any:
        if isinstance(deadline_alert_id, dict):
            return _EncodedAlert(deadline_alert_id)
        return lookup(deadline_alert_id, **kwargs)

    DeadlineAlertModel.get_by_id = get_by_id  # type: ignore[method-assign]


if __name__ == "__main__":
    _patch_deadline_lookup()
    from airflow.__main__ import main

    sys.exit(main())
