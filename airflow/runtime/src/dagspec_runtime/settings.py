"""Where a pipeline's lake, warehouse and dbt project live on this machine.

The pipeline config of a generated DAG holds only machine-independent names (a lake path relative to the
lake root, a DuckDB file name, a dbt project name, connection ids). They are resolved here, at task
run time, from environment variables with Airflow-home defaults. The variables' names come from the
contract (``pipeline.names.env``, compiled from ``src/ir/names.ts``); today they are:

- ``DAGSPEC_LAKE_ROOT`` (``lake_root``, default ``$AIRFLOW_HOME/lake``): root of relative local lake paths.
- ``DAGSPEC_WAREHOUSE_ROOT`` (``warehouse_root``, default ``$AIRFLOW_HOME/warehouse``): root of
  relative DuckDB paths.
- ``DAGSPEC_DBT_ROOT`` (``dbt_root``, default ``<dags folder>/../dbt``): parent of the dbt projects.
- ``DAGSPEC_DBT_BIN`` (``dbt_bin``, default ``dbt`` next to the running Python): the dbt executable.
- ``DAGSPEC_ARTIFACTS_ROOT`` (``artifacts_root``, default ``$AIRFLOW_HOME/dagspec-artifacts``).
- ``DAGSPEC_DBT_PARSE_CACHE`` (not in the contract: a deployment setting, default
  ``$AIRFLOW_HOME/dagspec-dbt-parse``): where each dbt project's parse is kept between builds;
  ``off`` makes every build parse in full.
- ``DAGSPEC_DBT_WARM`` (a deployment setting, default ``1800``): seconds the warm dbt server
  (``dbt_server``) waits for the next build before it exits; ``off`` runs every build in a new
  process.

Which kind of lake or warehouse a pipeline has is not asked here: ``adapters`` does that.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dagspec_runtime.contract import EnvNames, Pipeline

__all__ = [
    "airflow_home",
    "dbt_executable",
    "dbt_parse_cache_root",
    "dbt_project_dir",
    "dbt_warm_idle_seconds",
    "duckdb_file",
    "local_lake_path",
    "run_artifacts_dir",
]


def airflow_home() -> str:
    # Airflow's own default; reading airflow.configuration would import all of Airflow.
    return os.path.abspath(os.path.expanduser(os.environ.get("AIRFLOW_HOME") or "~/airflow"))


def _under(root_var: str, default_leaf: str, path: str) -> str:
    path = os.path.expanduser(path)
    if os.path.isabs(path):
        return os.path.normpath(path)
    root = os.environ.get(root_var) or os.path.join(airflow_home(), default_leaf)
    return os.path.normpath(os.path.join(os.path.abspath(os.path.expanduser(root)), path))


def local_lake_path(path: str, env: EnvNames) -> str:
    """A local lake folder: relative paths resolve under the lake root (``$DAGSPEC_LAKE_ROOT``)."""
    return _under(env.lake_root, "lake", path)


def duckdb_file(path: str, env: EnvNames) -> str:
    """A DuckDB file: relative paths resolve under the warehouse root (``$DAGSPEC_WAREHOUSE_ROOT``)."""
    return _under(env.warehouse_root, "warehouse", path)


def dbt_project_dir(pipeline: Pipeline, dag_fileloc: str | None = None) -> str:
    """``$DAGSPEC_DBT_ROOT/<project>``, else ``<dir of the DAG file>/../dbt/<project>``."""
    project = pipeline.dbt.project
    var = pipeline.names.env.dbt_root
    root = os.environ.get(var)
    if root:
        return os.path.join(os.path.abspath(os.path.expanduser(root)), project)
    if not dag_fileloc:
        raise ValueError(
            f"{var} is not set and the DAG file location is unknown: cannot find the dbt project"
        )
    dags_dir = os.path.dirname(os.path.abspath(dag_fileloc))
    return os.path.normpath(os.path.join(dags_dir, os.pardir, "dbt", project))


def dbt_executable(pipeline: Pipeline) -> str:
    explicit = os.environ.get(pipeline.names.env.dbt_bin)
    if explicit:
        return explicit
    # The dbt installed into the same environment as Airflow, not whatever is first on PATH.
    return os.path.join(os.path.dirname(sys.executable), "dbt")


def dbt_parse_cache_root() -> str | None:
    """Where dbt projects' saved parses live (``None``: parse in full every build)."""
    root = os.environ.get("DAGSPEC_DBT_PARSE_CACHE") or os.path.join(airflow_home(), "dagspec-dbt-parse")
    if root.strip().lower() in ("off", "0", "false", "no"):
        return None
    return os.path.abspath(os.path.expanduser(root))


def dbt_warm_idle_seconds() -> float:
    """How long the warm dbt server waits for the next build before it exits; ``0``: no server."""
    value = (os.environ.get("DAGSPEC_DBT_WARM") or "1800").strip().lower()
    if value in ("off", "0", "false", "no"):
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"DAGSPEC_DBT_WARM={value!r}: expected seconds or off") from None
    if not seconds > 0:
        raise ValueError(f"DAGSPEC_DBT_WARM={value!r}: expected seconds > 0 or off")
    return seconds


def run_artifacts_dir(pipeline: Pipeline, day: str, invocation: str) -> str:
    """Where one dbt invocation's artefacts are kept: the artifacts root (``$DAGSPEC_ARTIFACTS_ROOT``, default
    ``$AIRFLOW_HOME/dagspec-artifacts``) / pipeline / ``ds=<day>`` / invocation id. Operational
    records of a run, outside the lake (whose contents depend on the data only)."""
    var = pipeline.names.env.artifacts_root
    root = os.environ.get(var) or os.path.join(airflow_home(), "dagspec-artifacts")
    return os.path.join(root, pipeline.id, f"ds={day}", invocation)
