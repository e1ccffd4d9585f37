"""The runtime contract: the one config a generated DAG passes, parsed once into frozen typed objects.

A generated DAG file holds ``CONFIG = {...}`` (compiled from the spec by dagspec for one contract
version) and calls ``PIPELINE = load_pipeline(CONFIG)`` at parse time. Everything the runtime does
afterwards reads attributes of these dataclasses; nothing re-applies a default, because the compiler
applied every default already: every field is required, unknown fields are errors.

The compiler side of the contract is ``src/ir/contract.ts`` (a zod schema). Its JSON schema is
committed beside this module (``contract.schema.json``) and ``test_contract.py`` checks it against
these dataclasses field by field, so the two halves cannot drift. Bump ``CONTRACT_VERSION`` here
and there together.

Importing this module costs only the standard library's ``dataclasses`` and ``typing``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Union

from dagspec_runtime import __version__

__all__ = [
    "CONTRACT_VERSION",
    "Alerts",
    "Column",
    "ContractError",
    "ContractVersionError",
    "Dbt",
    "DeadlineKwargs",
    "DuckDBConfig",
    "EnvNames",
    "Kpi",
    "LocalLakeConfig",
    "Mart",
    "Names",
    "Pipeline",
    "PostgresConfig",
    "Report",
    "S3LakeConfig",
    "Source",
    "Table",
    "load_deadline_kwargs",
    "load_pipeline",
]

CONTRACT_VERSION = 4


class ContractError(ValueError):
    """The config does not match the contract this runtime speaks."""


class ContractVersionError(ContractError):
    """The DAG was compiled for another contract version than this runtime's."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # the spec's Postgres type; dagspec_runtime.spec maps it to Arrow and DDL


@dataclass(frozen=True)
class Table:
    name: str
    schema: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    mode: Literal["incremental", "snapshot", "history"]
    cursor_column: str | None  # incremental: places a row in a day; history: marks its change


@dataclass(frozen=True)
class Source:
    conn_id: str
    name: str
    tables: tuple[Table, ...]


@dataclass(frozen=True)
class LocalLakeConfig:
    kind: Literal["local"]
    path: str  # relative paths resolve under $DAGSPEC_LAKE_ROOT


@dataclass(frozen=True)
class S3LakeConfig:
    kind: Literal["s3"]
    bucket: str
    prefix: str
    conn_id: str


@dataclass(frozen=True)
class DuckDBConfig:
    kind: Literal["duckdb"]
    path: str  # relative paths resolve under $DAGSPEC_WAREHOUSE_ROOT
    audit_schema: str
    publish_schema: str


@dataclass(frozen=True)
class PostgresConfig:
    kind: Literal["postgres"]
    conn_id: str
    audit_schema: str
    publish_schema: str
    raw_schema: str


@dataclass(frozen=True)
class Dbt:
    project: str
    target: Literal["duckdb", "postgres"]
    # One dbt build can gate a range of report days: the compiler emitted a range-capable project
    # (it reads the var ``dagspec_first_day`` and builds and tests each day of the range exactly).
    # The one-pass backfill then builds the range once (``backfill.build_days``).
    range_build: bool


@dataclass(frozen=True)
class Mart:
    name: str
    materialized: Literal["view", "table", "incremental"]
    partition_column: str | None
    unique_key: tuple[str, ...]


@dataclass(frozen=True)
class Kpi:
    column: str
    label: str
    format: Literal["currency", "count", "percent", "ratio"]


@dataclass(frozen=True)
class Report:
    model: str
    day_column: str
    kpis: tuple[Kpi, ...]
    subject: str  # "{ds}" is replaced by the report day
    recipients: tuple[str, ...]
    smtp_conn_id: str
    currency: str
    email_backfills: bool
    # A re-run that changes a delivered day's KPIs: send a corrected report, or alert the engineers.
    corrections: Literal["send", "alert"]


@dataclass(frozen=True)
class Alerts:
    pagerduty_conn_id: str | None  # None: no SLA, nothing pages
    severity: Literal["critical", "error", "warning", "info"]
    engineers: tuple[str, ...]
    smtp_conn_id: str  # the engineers' SMTP connection (the report's unless the spec names another)
    deliver_by: str | None


@dataclass(frozen=True)
class EnvNames:
    """Environment variable names by role, as the compiler derives them (``src/ir/names.ts``)."""

    lake_root: str
    warehouse_root: str
    dbt_root: str
    dbt_bin: str
    artifacts_root: str
    lake_uri: str
    audit_schema: str
    publish_schema: str
    raw_schema: str
    duckdb_path: str
    pg_host: str
    pg_port: str
    pg_user: str
    pg_password: str
    pg_dbname: str
    s3_key: str
    s3_secret: str
    s3_region: str
    s3_endpoint_url: str


@dataclass(frozen=True)
class Names:
    """Every name the compiler derives beyond the spec's; the runtime never spells these itself."""

    env: EnvNames
    raw_partition: str  # "raw/{table}/ds={ds}", relative to the lake root
    report_folder: str  # "reports/{pipeline}/ds={ds}"


@dataclass(frozen=True)
class Pipeline:
    contract_version: int
    id: str
    timezone: str
    report_lag_days: int
    spec_file: str
    spec_hash: str
    source: Source
    lake: LocalLakeConfig | S3LakeConfig
    warehouse: DuckDBConfig | PostgresConfig
    dbt: Dbt
    marts: tuple[Mart, ...]
    report: Report
    alerts: Alerts
    names: Names


def load_pipeline(config: Mapping[str, Any]) -> Pipeline:
    """Check the contract version, then parse the whole config; raises ``ContractError``."""
    if not isinstance(config, Mapping):
        raise ContractError(f"a dagspec pipeline config is a dict, got {type(config).__name__}")
    version = config.get("contract_version")
    if version != CONTRACT_VERSION:
        raise ContractVersionError(
            f"pipeline {config.get('id')!r} was compiled by dagspec for runtime contract {version!r}, "
            f"but the installed dagspec-runtime {__version__} speaks contract {CONTRACT_VERSION}. "
            "Install the dagspec-runtime built from the same dagspec checkout as the DAG "
            "(pip install --no-deps <that checkout>/airflow/runtime), or rebuild the DAGs with this "
            f"runtime's dagspec ({__version__}: `npx gen build`)."
        )
    pipeline: Pipeline = _parse(Pipeline, config, "CONFIG")
    from dagspec_runtime.layout import RAW_PARTITION

    if pipeline.names.raw_partition != RAW_PARTITION:
        raise ContractError(
            f"CONFIG.names.raw_partition: the DAG's lake layout {pipeline.names.raw_partition!r} is not "
            f"the {RAW_PARTITION!r} dagspec-runtime {__version__} reads and writes"
        )
    return pipeline


@dataclass(frozen=True)
class DeadlineKwargs:
    """The kwargs of a generated DAG's SLA DeadlineAlert callback (``alerts.on_deadline_miss``).

    Stored with the serialized DAG and handed to the callback in the triggerer, which has no
    PIPELINE; ``$defs.deadline_kwargs`` of the contract's JSON schema.
    """

    pipeline_id: str
    stage: Literal["at_risk", "breach"]
    deliver_by: str  # local HH:MM
    timezone: str
    report_lag_days: int
    pagerduty_conn_id: str
    severity: Literal["critical", "error", "warning", "info"]
    task_order: tuple[str, ...]  # the DAG's task ids, upstream first


def load_deadline_kwargs(kwargs: Mapping[str, Any]) -> DeadlineKwargs:
    """Parse a deadline callback's kwargs strictly; raises ``ContractError`` naming the field."""
    return _parse(DeadlineKwargs, kwargs, "deadline kwargs")


# -- a strict parser driven by the dataclasses' annotations ----------------------------------------


def _parse(tp: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return _parse_dataclass(tp, value, path)
    if origin is Literal:
        if value not in typing.get_args(tp):
            raise ContractError(f"{path}: {value!r} is not one of {list(typing.get_args(tp))}")
        return value
    if origin in (Union, types.UnionType):
        return _parse_union(tp, value, path)
    if origin is tuple:
        (item,) = (a for a in typing.get_args(tp) if a is not Ellipsis)
        if not isinstance(value, list | tuple):
            raise ContractError(f"{path}: expected a list, got {type(value).__name__}")
        return tuple(_parse(item, v, f"{path}[{i}]") for i, v in enumerate(value))
    if tp is type(None):
        if value is not None:
            raise ContractError(f"{path}: expected None, got {value!r}")
        return None
    # bool is an int in Python: check it first, and refuse it where an int is meant.
    if tp is bool or tp is int:
        if type(value) is not tp:
            raise ContractError(f"{path}: expected {tp.__name__}, got {type(value).__name__}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ContractError(f"{path}: expected a string, got {type(value).__name__}")
        return value
    raise TypeError(f"{path}: the contract uses an unsupported type {tp!r}")  # a bug in this module


def _parse_union(tp: Any, value: Any, path: str) -> Any:
    options = typing.get_args(tp)
    if value is None and type(None) in options:
        return None
    classes = [o for o in options if dataclasses.is_dataclass(o)]
    if classes:
        # Tagged by "kind": pick the class whose kind literal matches.
        kind = value.get("kind") if isinstance(value, Mapping) else None
        for cls in classes:
            if kind in typing.get_args(_hints(cls)["kind"]):
                return _parse(cls, value, path)
        kinds = [typing.get_args(_hints(c)["kind"])[0] for c in classes]
        raise ContractError(f"{path}.kind: {kind!r} is not one of {kinds}")
    (other,) = (o for o in options if o is not type(None))
    return _parse(other, value, path)


def _parse_dataclass(cls: Any, value: Any, path: str) -> Any:
    if not isinstance(value, Mapping):
        raise ContractError(f"{path}: expected an object, got {type(value).__name__}")
    hints = _hints(cls)
    fields = [f.name for f in dataclasses.fields(cls)]
    if missing := [f for f in fields if f not in value]:
        raise ContractError(f"{path}: missing {missing} (the compiler writes every field)")
    if unknown := sorted(set(value) - set(fields)):
        raise ContractError(f"{path}: unknown {unknown}")
    return cls(**{f: _parse(hints[f], value[f], f"{path}.{f}") for f in fields})


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]
