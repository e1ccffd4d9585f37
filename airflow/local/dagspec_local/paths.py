"""Where things are in the repository, and the executables of the venv this package runs in."""

from __future__ import annotations

import sys
from pathlib import Path

LOCAL = Path(__file__).resolve().parents[1]  # airflow/local: on PYTHONPATH for `-m dagspec_local`
REPO = LOCAL.parents[1]
PLUGINS = REPO / "airflow" / "plugins"
GENERATED = REPO / "generated"
SCRIPTS = REPO / "scripts"


def venv_bin(name: str) -> str:
    """An executable beside this interpreter (``airflow``, ``dbt``): the venv's, not whatever is on PATH."""
    return str(Path(sys.executable).with_name(name))
