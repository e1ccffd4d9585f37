"""A ``gen deploy --to <folder>`` installation as Airflow and the runtime see it: the DAG files
(symlinks through the release swap) import in Airflow's DagBag with no import errors, the deployed
``plugins/`` holds an importable ``dagspec_runtime``, and a task finds its dbt project from the DAG
file's location (``dags/../dbt/<id>``), as the runtime resolves it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dagspec_runtime.settings import dbt_project_dir

REPO = Path(__file__).resolve().parents[2]


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
    assert sorted(bag.dag_ids) == ["daily_metrics_pipeline"]

    monkeypatch.delenv("DAGSPEC_DBT_ROOT", raising=False)
    project = Path(dbt_project_dir({"dbt": {"project": "daily_metrics_pipeline"}}, str(dag_file)))
    assert project == home / "dbt" / "daily_metrics_pipeline"
    assert (project / "dbt_project.yml").read_bytes() == (
        REPO / "generated" / "dbt" / "daily_metrics_pipeline" / "dbt_project.yml"
    ).read_bytes()

    # Only the deployed plugins folder on the path, as Airflow sets it: the runtime imports from there.
    probe = "import dagspec_runtime.tasks, dagspec_runtime; print(dagspec_runtime.__file__)"
    out = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(home / 'plugins')!r}); {probe}"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": ""},
        check=True,
        capture_output=True,
        text=True,
    )
    assert out.stdout.strip().startswith(str(home / "plugins" / "dagspec_runtime"))
