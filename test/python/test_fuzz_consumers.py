"""Fuzzed specs that the compiler accepted, judged by the real consumers, in batches.

test/fuzz/emit-batch.mjs mutates the golden cases' specs with hostile values (the generator of
test/fuzz/fuzz.test.ts) and writes the ones that built cleanly, with their generated trees. Each
tree must then import in Airflow's DagBag with no errors, pass ruff (check and format), and be
accepted by `dbt compile` on both targets (PostgreSQL: a scratch database on the local server),
and every statement compiled for each target must parse in that database's own parser (DuckDB's
json_serialize_sql; PostgreSQL's, through PL/pgSQL's validator). FUZZ_CONSUMER_SPECS sets the batch
size (default 6), FUZZ_SEED the sample.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
COUNT = int(os.environ.get("FUZZ_CONSUMER_SPECS", "6"))
SEED = int(os.environ.get("FUZZ_SEED", "20261130"))


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    if not (REPO / "node_modules" / "fast-check").is_dir():
        pytest.skip("node_modules has no fast-check: run `bash scripts/ensure-node.sh` (npm ci) first")
    out = tmp_path_factory.mktemp("fuzz-batch")
    run = subprocess.run(
        ["node", str(REPO / "test" / "fuzz" / "emit-batch.mjs"), str(out), str(COUNT), str(SEED)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    trees = sorted(p for p in out.iterdir() if (p / "generated").is_dir())
    assert len(trees) == COUNT, run.stdout
    return trees


def describe(tree: Path) -> str:
    return f"{tree.name}: {(tree / 'mutation.json').read_text()}"


def test_airflow_imports_every_fuzzed_dag(batch: list[Path]) -> None:
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # pragma: no cover
        from airflow.models.dagbag import DagBag
    for tree in batch:
        bag = DagBag(dag_folder=str(tree / "generated" / "dags"), safe_mode=False)
        assert bag.import_errors == {}, describe(tree)
        (dag_id,) = {d.removesuffix("__backfill") for d in bag.dag_ids}  # a pipeline and its backfill DAG
        assert sorted(bag.dag_ids) == [dag_id, f"{dag_id}__backfill"], describe(tree)


def test_ruff_accepts_every_fuzzed_dag(batch: list[Path]) -> None:
    dags = [str(tree / "generated" / "dags") for tree in batch]
    for args in (["check"], ["format", "--check"]):
        out = subprocess.run(
            [str(VENV_BIN / "ruff"), *args, "--config", str(REPO / "ruff.toml"), *dags],
            capture_output=True,
            text=True,
        )
        assert out.returncode == 0, out.stdout + out.stderr


def dbt(args: list[str], cwd: Path, env: dict[str, str]) -> None:
    # dbt's programmatic runner, in this process: a dbt subprocess spends seconds importing itself,
    # which for a batch of projects on two targets is most of the test's time.
    from dbt.cli.main import dbtRunner

    os.environ.update({"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1", **env})
    here = os.getcwd()
    os.chdir(cwd)
    try:
        where = ["--project-dir", str(cwd), "--profiles-dir", str(cwd)]
        res = dbtRunner().invoke([*args, *where, "--no-partial-parse", "--quiet"])
    finally:
        os.chdir(here)
    assert res.success, f"dbt {' '.join(args)} in {cwd.name}: {res.exception}"


def projects(batch: list[Path]) -> list[tuple[Path, Path]]:
    return [(tree, p) for tree in batch for p in sorted((tree / "generated" / "dbt").iterdir())]


def test_dbt_compiles_every_fuzzed_project_on_duckdb(batch: list[Path], tmp_path: Path) -> None:
    import duckdb

    con = duckdb.connect()
    for tree, project in projects(batch):
        work = tmp_path / tree.name / project.name
        shutil.copytree(project, work)
        try:
            dbt(["compile", "--target", "duckdb"], work, {"DAGSPEC_LAKE_URI": str(work / "lake")})
        except AssertionError as err:
            raise AssertionError(f"{err}\n{describe(tree)}") from None
        # Every compiled statement parses in DuckDB (json_serialize_sql parses without binding).
        for sql_file in sorted((work / "target" / "compiled").rglob("*.sql")):
            text = sql_file.read_text()
            where = sql_file.relative_to(work)
            if "hooks" in sql_file.parts:  # DDL (the committed_files macro), which json_serialize_sql refuses
                try:
                    assert con.extract_statements(text), f"{where}: no statement"
                except duckdb.ParserException as err:
                    raise AssertionError(f"{where}: {err}\n{describe(tree)}") from None
                continue
            result = json.loads(con.execute("select json_serialize_sql(?::varchar)", [text]).fetchall()[0][0])
            assert not result.get("error"), f"{where}: {result.get('error_message')}\n{describe(tree)}"


def parse_on_postgres(conninfo: str, text: str) -> str | None:
    """PostgreSQL's own parser on one statement, without binding it to tables that do not exist:
    PL/pgSQL's validator raw-parses every SQL statement of a function body when the function is
    created (check_function_bodies). Returns the server's error, or None."""
    import psycopg

    tag = f"$dagspec_{secrets.token_hex(8)}$"
    assert tag not in text
    with psycopg.connect(conninfo) as conn:  # one transaction, rolled back: nothing is kept
        try:
            body = f"{tag}BEGIN\n{text}\n;\nEND{tag}"
            conn.execute(f"CREATE FUNCTION pg_temp.dagspec_parse() RETURNS void LANGUAGE plpgsql AS {body}")
        except psycopg.Error as err:
            return str(err)
        finally:
            conn.rollback()
    return None


def test_dbt_compiles_every_fuzzed_project_on_postgres(batch: list[Path], tmp_path: Path, make_db) -> None:
    conninfo = make_db("fuzz")
    env = {
        "DAGSPEC_PG_HOST": "127.0.0.1",
        "DAGSPEC_PG_PORT": "5432",
        "DAGSPEC_PG_USER": "postgres",
        "DAGSPEC_PG_DBNAME": conninfo.rsplit("dbname=", 1)[1],
    }
    for tree, project in projects(batch):
        work = tmp_path / tree.name / project.name
        shutil.copytree(project, work)
        try:
            dbt(["compile", "--target", "postgres"], work, {**env, "DAGSPEC_LAKE_URI": str(work / "lake")})
        except AssertionError as err:
            raise AssertionError(f"{err}\n{describe(tree)}") from None
        # Every compiled statement parses in PostgreSQL (its own parser, in the server).
        for sql_file in sorted((work / "target" / "compiled").rglob("*.sql")):
            error = parse_on_postgres(conninfo, sql_file.read_text())
            assert error is None, f"{sql_file.relative_to(work)}: {error}\n{describe(tree)}"
