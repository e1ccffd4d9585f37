"""The runtime contract: the compiler's JSON schema and the runtime's dataclasses are one contract,
configs are parsed strictly, and a DAG compiled for another contract version fails its import with
a message naming both versions."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import types
import typing
from pathlib import Path
from typing import Any, Literal, Union

import pytest

from dagspec_runtime import __version__, contract
from dagspec_runtime.contract import CONTRACT_VERSION, ContractError, ContractVersionError, load_pipeline
from runtime_fixture import compiled_config
from testenv import REPO

SCHEMA = json.loads((REPO / "airflow/runtime/src/dagspec_runtime/contract.schema.json").read_text())


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref:
        for part in ref.removeprefix("#/").split("/"):
            node = SCHEMA[part] if node is not None and part in SCHEMA else node[part]
    return node


def _check(tp: Any, node: dict[str, Any], path: str) -> None:
    """``node`` (JSON schema) describes exactly what ``tp`` (a contract annotation) parses."""
    node = _resolve(node)
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        assert node["type"] == "object" and node.get("additionalProperties") is False, path
        hints = typing.get_type_hints(tp)
        names = [f.name for f in dataclasses.fields(tp)]
        assert list(node["properties"]) == names, f"{path}: fields differ"
        assert sorted(node["required"]) == sorted(names), f"{path}: every field is required"
        for name in names:
            _check(hints[name], node["properties"][name], f"{path}.{name}")
    elif origin in (Union, types.UnionType):
        options = typing.get_args(tp)
        branches = node.get("anyOf") or node.get("oneOf")
        assert branches and len(branches) == len(options), path
        for option, branch in zip(options, branches, strict=True):
            _check(option, branch, path)
    elif origin is Literal:
        values = list(typing.get_args(tp))
        assert node.get("enum", [node.get("const")]) == values, path
    elif origin is tuple:
        assert node["type"] == "array", path
        _check(typing.get_args(tp)[0], node["items"], f"{path}[]")
    else:
        expected = {str: "string", bool: "boolean", int: "integer", type(None): "null"}[tp]
        if tp is int and "const" in node:  # contract_version: a number that is one constant
            assert node["const"] == CONTRACT_VERSION, path
        else:
            assert node["type"] == expected, f"{path}: {node['type']} vs {expected}"


def test_json_schema_from_the_compiler_matches_the_runtime_model() -> None:
    assert SCHEMA["properties"]["contract_version"]["const"] == CONTRACT_VERSION
    assert SCHEMA["$id"].endswith(f"/v{CONTRACT_VERSION}/runtime-config.schema.json")
    _check(contract.Pipeline, SCHEMA, "CONFIG")
    _check(contract.DeadlineKwargs, SCHEMA["$defs"]["deadline_kwargs"], "deadline kwargs")


def test_deadline_kwargs_in_the_generated_dag_parse_strictly() -> None:
    from test_generated_output import dagbag

    dag = dagbag(REPO / "generated" / "dags").dags["daily_metrics_pipeline"]
    parsed = [contract.load_deadline_kwargs(d.callback.kwargs) for d in dag.deadline]
    assert sorted(k.stage for k in parsed) == ["at_risk", "breach"]
    assert parsed[0].task_order == (
        "wait_for_source",
        "extract",
        "dbt_build",
        "publish_tables",
        "publish_report",
    )
    with pytest.raises(ContractError, match=r"deadline kwargs: missing \['task_order'\]"):
        contract.load_deadline_kwargs(
            {k: v for k, v in dag.deadline[0].callback.kwargs.items() if k != "task_order"}
        )


def test_a_lake_layout_this_runtime_does_not_write_is_refused() -> None:
    config = compiled_config()
    config["names"]["raw_partition"] = "raw/{table}/day={ds}"
    with pytest.raises(ContractError, match=r"names.raw_partition: .*'raw/\{table\}/day=\{ds\}'"):
        load_pipeline(config)


@pytest.mark.parametrize("warehouse", ["duckdb", "postgres"])
def test_compiled_configs_parse_into_frozen_typed_objects(warehouse: str) -> None:
    p = load_pipeline(compiled_config(warehouse))
    assert p.warehouse.kind == warehouse and p.dbt.target == warehouse
    assert isinstance(p.source.tables[0].columns, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.id = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["report"].pop("currency"), r"CONFIG.report: missing \['currency'\]"),
        (lambda c: c["alerts"].update(extra=1), r"CONFIG.alerts: unknown \['extra'\]"),
        (lambda c: c["lake"].update(kind="gcs"), r"CONFIG.lake.kind: 'gcs' is not one of"),
        (lambda c: c.update(report_lag_days=True), r"CONFIG.report_lag_days: expected int, got bool"),
        (lambda c: c["source"]["tables"][0].update(mode="cdc"), r"tables\[0\].mode: 'cdc' is not one of"),
        (lambda c: c["dbt"].pop("range_build"), r"CONFIG.dbt: missing \['range_build'\]"),
        (lambda c: c["dbt"].update(range_build=1), r"CONFIG.dbt.range_build: expected bool, got int"),
    ],
)
def test_a_config_off_the_contract_is_refused_with_its_path(change: Any, message: str) -> None:
    config = compiled_config()
    change(config)
    with pytest.raises(ContractError, match=message):
        load_pipeline(config)


def test_another_contract_version_is_refused_naming_both() -> None:
    config = {**compiled_config(), "contract_version": CONTRACT_VERSION + 1}
    with pytest.raises(ContractVersionError) as err:
        load_pipeline(config)
    text = str(err.value)
    assert f"runtime contract {CONTRACT_VERSION + 1}" in text
    assert f"dagspec-runtime {__version__} speaks contract {CONTRACT_VERSION}" in text
    assert "pip install" in text and "gen build" in text


def test_a_dag_compiled_for_the_next_contract_fails_its_import(tmp_path: Path) -> None:
    """The committed DAG as a compiler one contract version ahead would write it, imported by
    Airflow's DagBag against this runtime: an import error that names both versions."""
    dag = (REPO / "generated/dags/daily_metrics_pipeline.py").read_text()
    current = f'    "contract_version": {CONTRACT_VERSION},\n'
    assert dag.count(current) == 1
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "daily_metrics_pipeline.py").write_text(
        dag.replace(current, f'    "contract_version": {CONTRACT_VERSION + 1},\n')
    )
    shutil.copy(REPO / "generated/dags/daily_metrics_pipeline.py", dags / "unchanged.py")
    code = (
        "import json, sys\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        "bag = DagBag(dag_folder=sys.argv[1], safe_mode=False)\n"
        "print(json.dumps({'errors': bag.import_errors, 'dags': sorted(bag.dag_ids)}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(dags)], capture_output=True, text=True, check=True
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    # The file compiled for this contract: the pipeline and its backfill DAG.
    assert result["dags"] == ["daily_metrics_pipeline", "daily_metrics_pipeline__backfill"]
    (path, error), *rest = result["errors"].items()
    assert not rest and path.endswith("dags/daily_metrics_pipeline.py")
    assert "ContractVersionError" in error
    assert (
        f"runtime contract {CONTRACT_VERSION + 1}" in error and f"speaks contract {CONTRACT_VERSION}" in error
    )


def test_a_history_table_parses_and_its_cursor_is_checked() -> None:
    """``mode: "history"`` (a dimension kept by its change cursor) is part of the contract."""
    from dagspec_runtime.spec import parse_tables

    config = compiled_config("duckdb")
    table = {
        "name": "users",
        "schema": "app",
        "columns": [{"name": "id", "type": "bigint"}, {"name": "updated_at", "type": "timestamptz"}],
        "primary_key": ["id"],
        "mode": "history",
        "cursor_column": "updated_at",
    }
    config["source"]["tables"] = [*config["source"]["tables"], table]
    (users,) = (t for t in load_pipeline(config).source.tables if t.name == "users")
    assert users.mode == "history" and users.cursor_column == "updated_at"
    assert parse_tables([users])[0].cursor_column == "updated_at"
    with pytest.raises(ValueError, match="must be timestamptz"):
        dated = [{"name": "id", "type": "bigint"}, {"name": "updated_at", "type": "date"}]
        parse_tables([{**table, "columns": dated}])
    with pytest.raises(ContractError, match="not one of"):
        load_pipeline({**config, "source": {**config["source"], "tables": [{**table, "mode": "scd"}]}})
