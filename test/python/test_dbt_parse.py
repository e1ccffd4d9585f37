"""One parse of a dbt project serves every day's build (issue 11: dbt without its fixed tax).

``dbt_child`` parses without the day and reuses the saved parse; that is only correct if nothing
the parse records depends on the day. The first test holds the generated projects to that; the
second runs real builds through ``run_build`` and checks the parse is reused across days and redone
when the project changes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dagspec_runtime import adapters
from dagspec_runtime.dbt_runner import run_build
from runtime_fixture import ORDERS, order_rows, pipeline, write_dbt_project, write_partition
from testenv import REPO

GENERATED = REPO / "generated" / "dbt"
# What a node's parse records about it; everything else is timing, paths or ids.
_PARSED = ("raw_code", "config", "unrendered_config", "depends_on", "refs", "sources", "test_metadata")


def _parse(project: Path, target: Path, ds: str) -> dict[str, Any]:
    dbt = Path(sys.executable).with_name("dbt")
    subprocess.run(
        [str(dbt), "parse", "--project-dir", str(project), "--profiles-dir", str(project),
         "--vars", json.dumps({"ds": ds}), "--target-path", str(target), "--log-path", str(target / "logs"),
         "--no-partial-parse", "-q"],
        check=True, env={"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    manifest = json.loads((target / "manifest.json").read_text())
    return {
        uid: {k: node.get(k) for k in _PARSED}
        for uid, node in {**manifest["nodes"], **manifest.get("sources", {})}.items()
    }


@pytest.mark.parametrize("project", sorted(p.name for p in GENERATED.iterdir()))
def test_generated_parse_does_not_depend_on_the_day(project: str, tmp_path: Path) -> None:
    first = _parse(GENERATED / project, tmp_path / "a", "2024-03-09")
    second = _parse(GENERATED / project, tmp_path / "b", "2031-12-30")
    assert first == second
    text = json.dumps(first)
    assert "2024-03-09" not in text, "a node's parsed config holds the report day"
    # The generated tests' day filter waits for run time, as a placeholder.
    assert "__dagspec_ds__" in text


def _build(
    p: Any, project: Path, work: Path, day: str, extra_env: dict[str, str] | None = None
) -> tuple[int, str]:
    result = run_build(
        dbt_bin=str(Path(sys.executable).with_name("dbt")),
        project_dir=str(project),
        target="duckdb",
        ds=day,
        work_dir=str(work),
        env={**adapters.dbt_env(p), **(extra_env or {})},
        parse_cache_root=str(work.parent / "parse"),
    )
    assert result.manifest is not None and result.run_results is not None  # what the gate reads
    return result.returncode, "\n".join(result.log_tail)


def test_builds_reuse_the_parse_until_the_project_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSPEC_LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("DAGSPEC_WAREHOUSE_ROOT", str(tmp_path / "warehouse"))
    project = write_dbt_project(tmp_path / "dbt")
    (tmp_path / "warehouse").mkdir()
    p = pipeline()
    days = [date(2024, 3, 9), date(2024, 3, 10)]
    for day, amounts in zip(days, ([10, 20, 30], [40, 50, 60, 70]), strict=True):
        write_partition(adapters.open_lake(p), ORDERS, day.isoformat(), order_rows(day, amounts))

    code, out = _build(p, project, tmp_path / "w1", days[0].isoformat())
    assert code == 0 and "Starting full parse" in out and "saved this project's parse" in out, out
    code, out = _build(p, project, tmp_path / "w2", days[1].isoformat())
    # Another day, same project: no parse, and the day's own rows were built and tested.
    assert code == 0 and "partial parsing" not in out.lower() and "saved this project" not in out, out
    db = adapters.open_warehouse(p).path
    with duckdb.connect(db, read_only=True) as conn:
        assert conn.execute("SELECT ds, orders FROM audit.fct_daily_metrics ORDER BY ds").fetchall() == [
            (days[0], 3),
            (days[1], 4),
        ]

    # A changed model is a changed project: parsed again, and the build runs the new SQL.
    stg = project / "models" / "stg_orders.sql"
    stg.write_text(stg.read_text().replace("select id,", "select id, 1 as changed,"))
    code, out = _build(p, project, tmp_path / "w3", days[1].isoformat())
    assert code == 0 and "Starting full parse" in out, out
    with duckdb.connect(db, read_only=True) as conn:
        columns = [r[0] for r in conn.execute("DESCRIBE audit.stg_orders").fetchall()]
    assert "changed" in columns


@pytest.mark.parametrize("warm", ["240", "off"])
def test_the_dbt_process_imports_no_dagspec_module(
    warm: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dbt's plugin discovery imports every top-level ``dbt_*`` module on sys.path; run as a script,
    the child must not expose its siblings (``dbt_runner`` imports Airflow). In a worker container
    Airflow's settings cannot initialise there (no metadata database URL): reproduced here with an
    unparsable one, which failed every docker run's dbt_build before the child hid its folder. The
    warm server parses a project it has not seen in its own process, under the build's environment."""
    monkeypatch.setenv("DAGSPEC_DBT_WARM", warm)
    monkeypatch.setenv("DAGSPEC_LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("DAGSPEC_WAREHOUSE_ROOT", str(tmp_path / "warehouse"))
    project = write_dbt_project(tmp_path / "dbt")
    (tmp_path / "warehouse").mkdir()
    p = pipeline()
    day = date(2024, 3, 9)
    write_partition(adapters.open_lake(p), ORDERS, day.isoformat(), order_rows(day, [10, 20]))
    code, out = _build(
        p, project, tmp_path / "w", day.isoformat(),
        extra_env={"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "not a database url"},
    )  # fmt: skip
    assert code == 0, out
    assert "sqlalchemy" not in out.lower(), out
