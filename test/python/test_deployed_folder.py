"""A ``gen deploy --to <folder>`` installation as Airflow and the runtime see it: the DAG files
(symlinks through the release swap) import in Airflow's DagBag with no import errors, the deployed
``runtime/`` holds the sources of the ``dagspec_runtime`` package (what ``pip install --no-deps
<folder>/runtime`` installs), ``plugins/`` the docs plugin, and a task finds its dbt project from
the DAG file's location (``dags/../dbt/<id>``), as the runtime resolves it."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dagspec_runtime.contract import load_pipeline
from dagspec_runtime.settings import dbt_project_dir

REPO = Path(__file__).resolve().parents[2]


def config_of(dag_file: Path) -> dict:
    """The DAG file's ``CONFIG = {...}`` literal."""
    for node in ast.parse(dag_file.read_text()).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["CONFIG"]:
            return ast.literal_eval(node.value)
    raise AssertionError(f"no CONFIG in {dag_file}")


def dagbag(dag_folder: Path):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(dag_folder), safe_mode=False)


def test_a_deployed_folder_is_what_airflow_and_the_runtime_expect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "airflow"
    subprocess.run(
        ["node", str(REPO / "bin" / "gen.js"), "deploy", "--to", str(home)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    dag_file = home / "dags" / "daily_metrics_pipeline.py"
    assert dag_file.is_symlink()

    bag = dagbag(home / "dags")
    assert bag.import_errors == {}
    assert sorted(bag.dag_ids) == ["daily_metrics_pipeline", "daily_metrics_pipeline__backfill"]

    monkeypatch.delenv("DAGSPEC_DBT_ROOT", raising=False)
    project = Path(dbt_project_dir(load_pipeline(config_of(dag_file)), str(dag_file)))
    assert project == home / "dbt" / "daily_metrics_pipeline"
    assert (project / "dbt_project.yml").read_bytes() == (
        REPO / "generated" / "dbt" / "daily_metrics_pipeline" / "dbt_project.yml"
    ).read_bytes()

    assert (home / "plugins" / "dagspec_docs.py").is_file()
    assert (home / "runtime" / "pyproject.toml").read_bytes() == (
        REPO / "airflow" / "runtime" / "pyproject.toml"
    ).read_bytes()
    # The deployed runtime sources first on the path (as an install of them would be): they import.
    probe = "import dagspec_runtime.tasks, dagspec_runtime; print(dagspec_runtime.__file__)"
    out = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(home / 'runtime' / 'src')!r}); {probe}"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": ""},
        check=True,
        capture_output=True,
        text=True,
    )
    assert out.stdout.strip().startswith(str(home / "runtime" / "src" / "dagspec_runtime"))
