"""dbt docs for the local stack: a self-contained ``static_index.html`` per generated project, which
the ``dagspec_docs`` plugin (airflow/plugins/dagspec_docs.py) serves from the api-server."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

from dagspec_local.paths import venv_bin


def generate(dbt_root: Path, docs_root: Path, log_dir: Path, env: Mapping[str, str]) -> list[str]:
    """Docs for every project under ``dbt_root`` into ``docs_root/<project>``; returns the projects
    whose docs failed (their output is in ``log_dir/dbt-docs.log``)."""
    failed: list[str] = []
    log_dir.mkdir(parents=True, exist_ok=True)
    for project in sorted(p.parent for p in dbt_root.glob("*/dbt_project.yml")):
        with (log_dir / "dbt-docs.log").open("ab") as log:
            done = subprocess.run(
                # --empty-catalog: the lineage graph needs the manifest only, not a warehouse to read.
                [venv_bin("dbt"), "docs", "generate", "--static", "--empty-catalog", "--profiles-dir", ".",
                 "--target-path", str(docs_root / project.name),
                 "--log-path", str(log_dir / "dbt-docs"), "-q"],
                cwd=project,
                env={**env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        if done.returncode != 0:
            failed.append(project.name)
    return failed
