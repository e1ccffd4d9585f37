"""dagspec's operators in the DAGs the compiler generates: what the UI's Rendered Template view shows.

Every committed generated DAG (generated/ and each golden case's expected/) is loaded in Airflow's
DagBag; each dagspec task is a dagspec operator under its own name, and rendering its templates for a
logical date (as the task runner does before ``execute``) yields the report day of that date in the
pipeline's timezone, with every derived field (tables, lake partitions, dbt command and vars, marts,
recipients, subject) filled in for that day. Spec text is never evaluated as Jinja.
"""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dagspec_runtime.days import report_day
from dagspec_runtime.operators.base import DagspecOperator
from test_generated_output import TREE_IDS, TREES, dagbag, emit_ir

OPERATOR_OF_TASK = {
    "extract": "ExtractOperator",
    "load_raw": "LoadRawOperator",
    "dbt_build": "DbtBuildOperator",
    "publish_tables": "PublishTablesOperator",
    "publish_report": "PublishReportOperator",
}
LOGICAL = datetime(2026, 3, 9, 11, 0, tzinfo=UTC)  # the day after a US DST change


def rendered(task: DagspecOperator) -> DagspecOperator:
    """Render like the task runner: a copy of the task, the DAG's Jinja environment (its macros)."""
    copy = task.prepare_for_execution()
    copy.render_template_fields({"logical_date": LOGICAL}, jinja_env=task.dag.get_template_env())
    return copy


@pytest.mark.parametrize(("root", "tree"), TREES, ids=TREE_IDS)
def test_each_step_is_a_dagspec_operator_that_renders_the_report_day(root: Path, tree: Path) -> None:
    bag = dagbag(tree / "dags")
    assert bag.import_errors == {}
    for ir in emit_ir(root):
        dag = bag.dags[ir["id"]]
        pipeline = dag.get_task("extract").pipeline
        day = report_day(LOGICAL, pipeline.timezone, pipeline.report_lag_days).isoformat()
        for t in ir["tasks"]:
            task = dag.get_task(t["id"])
            if t["kind"] == "wait_for_source":
                continue
            assert isinstance(task, DagspecOperator), t["id"]
            assert task.operator_name == OPERATOR_OF_TASK[t["kind"]]
            assert task.ui_color != "#fff"
            assert task.report_day == "{{ dagspec_window(logical_date).report_day }}"
            done = rendered(task)
            assert done.report_day == day
            # Every field the UI shows is JSON, and the day is in the fields that depend on it.
            for field in done.template_fields:
                json.dumps(getattr(done, field))
            assert task.report_day != day  # the DAG's own task keeps its template

        tables = [tb["name"] for tb in ir["source"]["tables"]]
        extract = rendered(dag.get_task("extract"))
        assert extract.partitions == [f"raw/{name}/ds={day}/" for name in tables]
        assert sorted(extract.tables) == sorted(
            f"{tb['schema']}.{tb['name']}" for tb in ir["source"]["tables"]
        )
        for tb in ir["source"]["tables"]:
            described = extract.tables[f"{tb['schema']}.{tb['name']}"]
            assert (day in described) == (tb["mode"] == "incremental"), described

        build = rendered(dag.get_task("dbt_build"))
        assert build.dbt_vars == {"ds": day}
        args = shlex.split(build.dbt_command)
        assert args[:4] == ["dbt", "build", "--target", ir["dbt"]["target"]]
        assert json.loads(args[args.index("--vars") + 1]) == {"ds": day}

        publish = rendered(dag.get_task("publish_tables"))
        marts = [m for m in ir["models"] if m["layer"] == "marts"]
        assert len(publish.marts) == len(marts)

        report = rendered(dag.get_task("publish_report"))
        assert report.recipients == ir["report"]["recipients"]
        assert report.subject == ir["report"]["subject"].replace("{ds}", day)
        assert report.archive == f"reports/{ir['id']}/ds={day}/"


def test_spec_text_with_braces_is_shown_as_written() -> None:
    # test/cases/escaping puts Jinja in a recipient address (the checker refuses it in the subject
    # only): rendered as a template, the UI's account of the run would name "49@example.com".
    root = next(r for r, _ in TREES if r.name == "escaping")
    # The file holds the daily DAG and its backfill DAG; the report task is the daily DAG's.
    dag = next(
        d for d in dagbag(root / "expected" / "dags").dags.values() if not d.dag_id.endswith("__backfill")
    )
    report = rendered(dag.get_task("publish_report"))
    assert "{{7*7}}@example.com" in report.recipients
    assert "49@example.com" not in report.recipients
