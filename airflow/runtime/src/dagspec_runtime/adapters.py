"""The adapter factory: the one place that knows which kinds of lake and warehouse exist.

Everything else gets a ``Lake`` (``lake.py``) or a ``Warehouse`` (``warehouse.py``, one subclass per
kind) from here and never asks which kind it has. Adding a warehouse is adding an adapter module,
its config dataclass in ``contract`` and one entry below (plus its dbt target in the compiler).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dagspec_runtime.settings import duckdb_file, local_lake_path

if TYPE_CHECKING:
    from dagspec_runtime.contract import (
        DuckDBConfig,
        EnvNames,
        LocalLakeConfig,
        Pipeline,
        PostgresConfig,
        S3LakeConfig,
    )
    from dagspec_runtime.lake import Lake
    from dagspec_runtime.warehouse import Warehouse

__all__ = ["dbt_env", "lake_location", "open_lake", "open_warehouse"]


# -- lakes: (root URI, AWS connection id or None), and what dbt needs to read the lake -------------


def _local_lake(config: LocalLakeConfig, env: EnvNames) -> tuple[str, str | None]:
    return local_lake_path(config.path, env), None


def _s3_lake(config: S3LakeConfig, env: EnvNames) -> tuple[str, str | None]:
    # The compiler strips the prefix's slashes.
    uri = f"s3://{config.bucket}/{config.prefix}" if config.prefix else f"s3://{config.bucket}"
    return uri, config.conn_id


def _no_env(config: Any, env: EnvNames) -> dict[str, str]:
    return {}


def _s3_dbt_env(config: S3LakeConfig, env: EnvNames) -> dict[str, str]:
    """dbt-duckdb reads s3:// through fsspec with these; region defaults to us-east-1, and the
    endpoint is set only when the connection has one (an empty endpoint would break botocore)."""
    from dagspec_runtime.connections import aws_credentials

    creds = aws_credentials(config.conn_id)
    values = {
        env.s3_key: creds.get("key", ""),
        env.s3_secret: creds.get("secret", ""),
        env.s3_region: creds.get("region", "us-east-1"),
    }
    if "endpoint_url" in creds:
        values[env.s3_endpoint_url] = creds["endpoint_url"]
    return values


_LakeFn = Callable[[Any, "EnvNames"], Any]
_LAKES: dict[str, tuple[_LakeFn, _LakeFn]] = {
    "local": (_local_lake, _no_env),
    "s3": (_s3_lake, _s3_dbt_env),
}


def lake_location(pipeline: Pipeline) -> tuple[str, str | None]:
    """``(lake root URI, AWS connection id or None)``: an absolute local path or ``s3://bucket/prefix``."""
    return _LAKES[pipeline.lake.kind][0](pipeline.lake, pipeline.names.env)


def open_lake(pipeline: Pipeline) -> Lake:
    from dagspec_runtime.lake import Lake

    uri, conn_id = lake_location(pipeline)
    return Lake.from_uri(uri, conn_id=conn_id)


# -- warehouses ------------------------------------------------------------------------------------


def _duckdb(config: DuckDBConfig, env: EnvNames) -> Warehouse:
    from dagspec_runtime.warehouse_duckdb import DuckDBWarehouse

    return DuckDBWarehouse(config, duckdb_file(config.path, env))


def _postgres(config: PostgresConfig, env: EnvNames) -> Warehouse:
    from dagspec_runtime.warehouse_postgres import PostgresWarehouse

    return PostgresWarehouse(config)


_WAREHOUSES: dict[str, Callable[[Any, EnvNames], Warehouse]] = {"duckdb": _duckdb, "postgres": _postgres}


def open_warehouse(pipeline: Pipeline) -> Warehouse:
    return _WAREHOUSES[pipeline.warehouse.kind](pipeline.warehouse, pipeline.names.env)


def dbt_env(pipeline: Pipeline) -> dict[str, str]:
    """The variables the generated ``profiles.yml`` and sources read, named as the contract names
    them (``pipeline.names.env``): the lake's URI, the schema names, then what the lake (S3
    credentials) and the warehouse (a DuckDB path, or the PostgreSQL connection and the raw schema)
    add. Secrets go to the dbt subprocess only."""
    env = pipeline.names.env
    uri, _ = lake_location(pipeline)
    warehouse = open_warehouse(pipeline)
    return {
        env.lake_uri: uri,
        env.audit_schema: warehouse.audit_schema,
        env.publish_schema: warehouse.publish_schema,
        **_LAKES[pipeline.lake.kind][1](pipeline.lake, env),
        **warehouse.dbt_env(env),
    }
