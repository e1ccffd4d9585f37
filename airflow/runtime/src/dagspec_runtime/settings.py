"""Where a pipeline's lake, warehouse and dbt project live on this machine, and dbt's environment.

The pipeline config of a generated DAG holds only machine-independent names (a lake path relative to the
lake root, a DuckDB file name, a dbt project name, connection ids). They are resolved here, at task
run time, from environment variables with Airflow-home defaults:

- ``DAGSPEC_LAKE_ROOT`` (default ``$AIRFLOW_HOME/lake``): root of relative local lake paths.
- ``DAGSPEC_WAREHOUSE_ROOT`` (default ``$AIRFLOW_HOME/warehouse``): root of relative DuckDB paths.
- ``DAGSPEC_DBT_ROOT`` (default ``<dags folder>/../dbt``): parent of the generated dbt projects.
- ``DAGSPEC_DBT_BIN`` (default ``dbt`` next to the running Python): the dbt executable.

Secrets read from Airflow connections go into the dbt subprocess environment only; nothing here
logs them.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dagspec_runtime.contract import Pipeline
    from dagspec_runtime.lake import Lake

__all__ = [
    "airflow_home",
    "dbt_env",
    "dbt_executable",
    "dbt_project_dir",
    "duckdb_path",
    "open_lake",
    "resolve_lake",
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


def resolve_lake(pipeline: Pipeline) -> tuple[str, str | None]:
    """``(lake root URI, AWS connection id or None)``: an absolute local path or ``s3://bucket/prefix``."""
    lake = pipeline.lake
    if lake.kind == "local":
        return _under("DAGSPEC_LAKE_ROOT", "lake", lake.path), None
    # The compiler strips the prefix's slashes.
    uri = f"s3://{lake.bucket}/{lake.prefix}" if lake.prefix else f"s3://{lake.bucket}"
    return uri, lake.conn_id


def open_lake(pipeline: Pipeline) -> Lake:
    from dagspec_runtime.lake import Lake

    uri, conn_id = resolve_lake(pipeline)
    return Lake.from_uri(uri, conn_id=conn_id)


def duckdb_path(pipeline: Pipeline) -> str:
    """Absolute path of the pipeline's DuckDB file (relative paths resolve under the warehouse root)."""
    warehouse = pipeline.warehouse
    if warehouse.kind != "duckdb":
        raise ValueError(f"pipeline {pipeline.id} has a {warehouse.kind} warehouse, not duckdb")
    return _under("DAGSPEC_WAREHOUSE_ROOT", "warehouse", warehouse.path)


def dbt_project_dir(pipeline: Pipeline, dag_fileloc: str | None = None) -> str:
    """``$DAGSPEC_DBT_ROOT/<project>``, else ``<dir of the DAG file>/../dbt/<project>``."""
    project = pipeline.dbt.project
    root = os.environ.get("DAGSPEC_DBT_ROOT")
    if root:
        return os.path.join(os.path.abspath(os.path.expanduser(root)), project)
    if not dag_fileloc:
        raise ValueError(
            "DAGSPEC_DBT_ROOT is not set and the DAG file location is unknown: cannot find the dbt project"
        )
    dags_dir = os.path.dirname(os.path.abspath(dag_fileloc))
    return os.path.normpath(os.path.join(dags_dir, os.pardir, "dbt", project))


def dbt_executable() -> str:
    explicit = os.environ.get("DAGSPEC_DBT_BIN")
    if explicit:
        return explicit
    # The dbt installed into the same environment as Airflow, not whatever is first on PATH.
    return os.path.join(os.path.dirname(sys.executable), "dbt")


def dbt_env(pipeline: Pipeline) -> dict[str, str]:
    """The ``DAGSPEC_*`` variables the generated ``profiles.yml`` and sources read.

    Always: ``DAGSPEC_LAKE_URI`` and the three schema names. DuckDB: ``DAGSPEC_DUCKDB_PATH``. S3
    lakes: ``DAGSPEC_S3_KEY``/``SECRET``/``REGION`` (region defaults to us-east-1) and
    ``DAGSPEC_S3_ENDPOINT_URL`` only when the connection sets one (an empty endpoint would break
    botocore, so profiles should read it with a default). Postgres: ``DAGSPEC_PG_*``.
    """
    uri, lake_conn = resolve_lake(pipeline)
    warehouse = pipeline.warehouse
    env = {
        "DAGSPEC_LAKE_URI": uri,
        "DAGSPEC_AUDIT_SCHEMA": warehouse.audit_schema,
        "DAGSPEC_PUBLISH_SCHEMA": warehouse.publish_schema,
    }
    if uri.startswith("s3://") and lake_conn:
        from dagspec_runtime.connections import aws_credentials

        creds = aws_credentials(lake_conn)
        env["DAGSPEC_S3_KEY"] = creds.get("key", "")
        env["DAGSPEC_S3_SECRET"] = creds.get("secret", "")
        env["DAGSPEC_S3_REGION"] = creds.get("region", "us-east-1")
        if "endpoint_url" in creds:
            env["DAGSPEC_S3_ENDPOINT_URL"] = creds["endpoint_url"]
    if warehouse.kind == "duckdb":
        env["DAGSPEC_DUCKDB_PATH"] = duckdb_path(pipeline)
    else:
        env["DAGSPEC_RAW_SCHEMA"] = warehouse.raw_schema
        env.update(postgres_env(warehouse.conn_id))
    return env


def postgres_env(conn_id: str) -> dict[str, str]:
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    return {
        "DAGSPEC_PG_HOST": conn.host or "localhost",
        "DAGSPEC_PG_PORT": str(conn.port or 5432),
        "DAGSPEC_PG_USER": conn.login or "",
        "DAGSPEC_PG_PASSWORD": conn.password or "",
        "DAGSPEC_PG_DBNAME": conn.schema or "",
    }


def run_artifacts_dir(pipeline: Pipeline, day: str, invocation: str) -> str:
    """Where one dbt invocation's artefacts are kept: ``$DAGSPEC_ARTIFACTS_ROOT`` (default
    ``$AIRFLOW_HOME/dagspec-artifacts``) / pipeline / ``ds=<day>`` / invocation id. Operational
    records of a run, outside the lake (whose contents depend on the data only)."""
    root = os.environ.get("DAGSPEC_ARTIFACTS_ROOT") or os.path.join(airflow_home(), "dagspec-artifacts")
    return os.path.join(root, pipeline.id, f"ds={day}", invocation)
