"""The generated code, checked by its real consumers.

Every committed generated DAG (the repository's generated/ and every golden case's expected/)
imports in Airflow's DagBag with no import errors and has the tasks, dependencies and deadlines its
spec implies (read from `gen build --emit-ir`), and beside it, from the same file, its one-pass
backfill DAG `<id>__backfill`; ruff (AIR rules included) is clean on it; and
`dbt parse` accepts every generated dbt project on both targets.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dagspec_runtime.days import day_bounds

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent

# (root that holds specs/, folder holding the generated tree)
TREES = [(REPO, REPO / "generated")] + [
    (case, case / "expected")
    for case in sorted((REPO / "test" / "cases").iterdir())
    if (case / "expected" / "dags").is_dir()
]
TREE_IDS = [str(root.relative_to(REPO)) or "repo" for root, _ in TREES]


def emit_ir(root: Path) -> list[dict]:
    out = subprocess.run(
        ["node", str(REPO / "bin" / "gen.js"), "build", "--emit-ir", "--root", str(root)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def dagbag(dag_folder: Path):
    try:  # Airflow 3.2+ moved DagBag; the old path still works but warns.
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # pragma: no cover
        from airflow.models.dagbag import DagBag
    return DagBag(dag_folder=str(dag_folder), safe_mode=False)


@pytest.mark.parametrize(("root", "tree"), TREES, ids=TREE_IDS)
def test_dags_import_with_the_tasks_the_spec_implies(root: Path, tree: Path) -> None:
    bag = dagbag(tree / "dags")
    assert bag.import_errors == {}
    pipelines = emit_ir(root)
    assert sorted(bag.dag_ids) == sorted(dag_id for p in pipelines for dag_id in (p["id"], backfill_id(p)))
    for ir in pipelines:
        dag = bag.dags[ir["id"]]
        assert sorted(dag.task_ids) == sorted(t["id"] for t in ir["tasks"])
        for t in ir["tasks"]:
            assert sorted(dag.get_task(t["id"]).upstream_task_ids) == sorted(t["upstream"]), t["id"]
        assert dag.owner == ir["owner"]
        # Text from the spec arrives unchanged, however it is quoted (see test/cases/escaping).
        assert dag.description == ir["description"]
        assert sorted(dag.tags) == sorted(ir["tags"])
        assert dag.doc_md and ir["specHash"] in dag.doc_md
        assert dag.max_active_runs == ir["schedule"]["maxActiveRuns"]
        assert dag.timetable.expression == ir["schedule"]["cron"]
        assert str(dag.timetable.timezone) == ir["schedule"]["timezone"]
        deadlines = dag.deadline or []
        if ir["sla"]:
            minutes = sorted(int(d.interval.total_seconds() // 60) for d in deadlines)
            assert minutes == sorted([ir["sla"]["atRiskAfterMinutes"], ir["sla"]["breachAfterMinutes"]])
            assert {d.callback.path for d in deadlines} == {"dagspec_runtime.alerts.on_deadline_miss"}
        else:
            assert deadlines == []
        for task in dag.tasks:
            # Shown as Markdown in the UI: text at the margin, or it renders as a code block.
            assert task.doc_md and not task.doc_md[0].isspace(), task.task_id
        sensor = dag.get_task("wait_for_source")
        assert sensor.mode == "reschedule"
        assert sensor.conn_id == ir["source"]["connId"]
        assert (
            sensor.sql.strip()
            == "\n".join(
                f"        {line}" if line else line for line in ir["source"]["readinessSql"].split("\n")
            ).strip()
        )


def backfill_id(ir: dict) -> str:
    return f"{ir['id']}__backfill"


@pytest.mark.parametrize(("root", "tree"), TREES, ids=TREE_IDS)
def test_each_file_holds_the_pipelines_one_pass_backfill_dag(root: Path, tree: Path) -> None:
    bag = dagbag(tree / "dags")
    for ir in emit_ir(root):
        daily, dag = bag.dags[ir["id"]], bag.dags[backfill_id(ir)]
        assert dag.fileloc == daily.fileloc
        assert [(t.task_id, sorted(t.upstream_task_ids)) for t in dag.tasks] == [
            ("wait_for_source", []),
            ("extract_days", ["wait_for_source"]),
            ("build_days", ["extract_days"]),
        ]
        assert type(dag.get_task("extract_days")).__name__ == "ExtractDaysOperator"
        assert type(dag.get_task("build_days")).__name__ == "BuildDaysOperator"
        # Triggered only, one range at a time, never judged against the daily SLA.
        assert not dag.timetable.can_be_scheduled and not dag.catchup and dag.max_active_runs == 1
        assert dag.deadline is None and dag.start_date == daily.start_date
        assert dag.owner == ir["owner"] and dag.default_args["retries"] == ir["schedule"]["retries"]
        assert dag.on_failure_callback is not None and dag.default_args["on_failure_callback"] is not None
        assert sorted(dag.tags) == sorted({*ir["tags"], "backfill"})
        assert dag.doc_md and ir["specHash"] in dag.doc_md and ir["id"] in dag.description
        for name in ("first_day", "last_day"):
            schema = dag.params.get_param(name).schema
            assert (schema["type"], schema["format"]) == ("string", "date"), name
        # The daily readiness query, conn and timing, over the range's window.
        sensor, daily_sensor = dag.get_task("wait_for_source"), daily.get_task("wait_for_source")
        for attr in ("conn_id", "sql", "mode", "poke_interval", "timeout"):
            assert getattr(sensor, attr) == getattr(daily_sensor, attr), attr
        assert sensor.parameters == {k: f"{{{{ dagspec_range(params)['{k}'] }}}}" for k in sensor.parameters}
        assert sorted(sensor.parameters) == sorted(daily_sensor.parameters)
        # The range across a clock change (in the US zones): the daily window's bounds, first to last day.
        dagspec_range = dag.user_defined_macros["dagspec_range"]
        window = dagspec_range({"first_day": "2026-03-07", "last_day": "2026-03-09"})
        first, last = date(2026, 3, 7), date(2026, 3, 9)
        tz = ir["schedule"]["timezone"]
        assert window == {
            "report_day": "2026-03-09",
            "day_start": day_bounds(first, tz)[0].isoformat(),
            "day_end": day_bounds(last, tz)[1].isoformat(),
            "first_day": "2026-03-07",
            "last_day": "2026-03-09",
        }
        # Rendered as the task runner renders them: the range comes from the run's params.
        params = {"first_day": "2026-03-07", "last_day": "2026-03-09"}
        for task_id in ("wait_for_source", "extract_days", "build_days"):
            task = dag.get_task(task_id).prepare_for_execution()
            task.render_template_fields({"params": params}, jinja_env=dag.get_template_env())
            if task_id == "wait_for_source":
                assert task.parameters == {k: window[k] for k in task.parameters}
            else:
                assert (task.first_day, task.last_day) == ("2026-03-07", "2026-03-09"), task_id


def test_ruff_is_clean_on_generated_python() -> None:
    paths = [str(tree / "dags") for _, tree in TREES]
    subprocess.run([str(VENV_BIN / "ruff"), "check", *paths], check=True, cwd=REPO)
    subprocess.run([str(VENV_BIN / "ruff"), "format", "--check", *paths], check=True, cwd=REPO)


PROJECTS = [
    p for _, tree in TREES for p in sorted((tree / "dbt").iterdir()) if (p / "dbt_project.yml").exists()
]


@pytest.mark.parametrize("project", PROJECTS, ids=[str(p.relative_to(REPO)) for p in PROJECTS])
@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_dbt_parse_accepts_the_project(project: Path, target: str, tmp_path: Path) -> None:
    work = tmp_path / project.name
    shutil.copytree(project, work, ignore=shutil.ignore_patterns("target", "logs"))
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    out = subprocess.run(
        [str(VENV_BIN / "dbt"), "parse", "--profiles-dir", ".", "--target", target, "--no-partial-parse"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    models = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    assert models == {p.stem for p in (work / "models").rglob("*.sql")}


@pytest.mark.parametrize(("root", "tree"), TREES, ids=TREE_IDS)
def test_deadlines_land_on_the_local_deliver_by_time_on_dst_days(root: Path, tree: Path) -> None:
    # A deadline is a fixed interval after the logical date (the scheduled start, in UTC). The
    # compiler only accepts windows no clock change falls into, so it lands on deliverBy local time
    # on every day, the two change days of the year included.
    from airflow.timetables.base import TimeRestriction
    from airflow.timetables.trigger import CronTriggerTimetable

    bag = dagbag(tree / "dags")
    for ir in emit_ir(root):
        if not ir["sla"]:
            continue
        dag = bag.dags[ir["id"]]
        tz = ZoneInfo(ir["schedule"]["timezone"])
        start = ir["schedule"]["startMinutes"][0]
        breach = max(dag.deadline, key=lambda d: d.interval).interval
        # The scheduler's view of the DAG's timetable (the SDK class only describes it).
        timetable = CronTriggerTimetable(dag.timetable.expression, timezone=dag.timetable.timezone)
        for day in ("2026-03-08", "2026-03-09", "2026-07-01", "2026-11-01", "2026-11-02", "2026-12-31"):
            when = datetime.combine(datetime.fromisoformat(day).date(), time(start // 60, start % 60), tz)
            restriction = TimeRestriction(earliest=when, latest=None, catchup=True)
            run = timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
            assert run is not None and run.logical_date == when.astimezone(ZoneInfo("UTC")), day
            due = (run.logical_date + breach).astimezone(tz)
            assert due.strftime("%H:%M") == ir["sla"]["deliverBy"] and due.date() == when.date(), day
