"""The environment every Airflow process of a local run gets, and the commands run in it.

One ``Layout`` says where a local Airflow keeps things; ``airflow_env`` turns it into ``AIRFLOW__*``
and ``DAGSPEC_*`` variables on top of a base environment. The demo, the local stack and the tests
differ only in their layout, their base environment and the connections they add.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dagspec_local import postgres
from dagspec_local.errors import LocalEnvError, log_tail
from dagspec_local.paths import LOCAL, PLUGINS, venv_bin


@dataclass(frozen=True)
class Layout:
    """Where one local Airflow keeps its state and finds its code."""

    home: Path  # AIRFLOW_HOME
    metadata_db: str  # a database on the local PostgreSQL
    dags: Path
    dbt_root: Path
    lake_root: Path
    warehouse_root: Path
    plugins: Path = PLUGINS

    def make_folders(self) -> None:
        for folder in (self.home, self.lake_root, self.warehouse_root):
            folder.mkdir(parents=True, exist_ok=True)


def isolated(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``environ`` (default: this process's) without any Airflow or dagspec setting: a test's Airflow
    must not pick up the user's AIRFLOW_HOME, connections or stack."""
    source = os.environ if environ is None else environ
    return {k: v for k, v in source.items() if not k.startswith(("AIRFLOW", "DAGSPEC_"))}


def airflow_env(layout: Layout, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) plus the layout's settings."""
    env = dict(os.environ if base is None else base)
    python_path = [str(LOCAL), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env.update(
        PYTHONPATH=os.pathsep.join(dict.fromkeys(python_path)),  # dagspec_local.airflow_cli runs with -m
        AIRFLOW_HOME=str(layout.home),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=postgres.sqlalchemy_url(layout.metadata_db),
        AIRFLOW__CORE__DAGS_FOLDER=str(layout.dags),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(layout.plugins),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        DAGSPEC_LAKE_ROOT=str(layout.lake_root),
        DAGSPEC_WAREHOUSE_ROOT=str(layout.warehouse_root),
        DAGSPEC_DBT_ROOT=str(layout.dbt_root),
    )
    return env


def airflow_command(*args: str) -> list[str]:
    """The ``airflow`` command through ``dagspec_local.airflow_cli`` (which carries an upstream fix)."""
    return [venv_bin("python"), "-m", "dagspec_local.airflow_cli", *args]


def run_logged(argv: list[str], env: Mapping[str, str], log: Path, what: str, timeout: float = 600) -> None:
    """Run a set-up command with its output in ``log``; on failure raise with the log's tail."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        done = subprocess.run(argv, env=dict(env), stdout=out, stderr=subprocess.STDOUT, timeout=timeout)
    if done.returncode != 0:
        raise LocalEnvError(f"{what} failed (log: {log}):\n{log_tail(log)}")


def migrate(env: Mapping[str, str], log: Path) -> None:
    """``airflow db migrate``: creates or upgrades the metadata database the environment names."""
    run_logged([venv_bin("airflow"), "db", "migrate"], env, log, "airflow db migrate", timeout=600)
