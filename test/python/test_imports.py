"""The package is safe to import where Airflow imports it: DAG parsing and the plugin manager."""

from __future__ import annotations

import subprocess
import sys

from testenv import PLUGINS, REPO

HEAVY = ("pyarrow", "psycopg", "fsspec", "s3fs", "boto3", "botocore", "aiobotocore", "airflow")


def test_importing_modules_pulls_in_nothing_heavy() -> None:
    # A fresh interpreter: this test process has imported everything already.
    code = (
        "import sys\n"
        "import dagspec_runtime, dagspec_runtime.days, dagspec_runtime.lake, dagspec_runtime.spec\n"
        "import dagspec_runtime.manifest, dagspec_runtime.extract, dagspec_runtime.warehouse_load\n"
        "import dagspec_runtime.connections\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={},
        cwd=REPO / "test",  # nowhere near the sources: the installed package is what is imported
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "[]"


def test_plugins_folder_holds_only_the_docs_plugin() -> None:
    """Airflow's plugin loader imports every .py under the plugins folder as a top-level module in
    every Airflow process; the runtime is an installed package instead, and the folder's only module
    is the dagspec_docs plugin."""
    # Private in 3.3 (what plugins_manager calls); the lock pins the version this is checked against.
    from airflow._shared.plugins_manager.plugins_manager import _load_plugins_from_plugin_directory

    plugins, import_errors = _load_plugins_from_plugin_directory(str(PLUGINS))
    # The one real plugin is dagspec_docs.py (it serves the dbt docs).
    assert ([p.name for p in plugins], import_errors) == (["dagspec_docs"], {})
    assert not {"days", "lake", "extract", "spec", "__init__"} & set(sys.modules)
