"""The pipeline in the Airflow UI, seen by a headless browser (Debian's chromium, playwright-core).

``ui_check.mjs`` logs into the live stack's UI (SimpleAuthManager), opens one test DAG, its docs
and its tasks, saves a screenshot of each into ``test-artifacts/live/ui/`` and prints what each
page showed; this test asserts on that visible text. The expected doc_md lines, owner and tags are
read from the DAG file ``gen build`` wrote, so the test follows the spec. chromium is installed by
``scripts/ensure-browser.sh`` when missing (apt-get); no Playwright browser is ever downloaded.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from livestack import LiveStack

pytestmark = pytest.mark.live

REPO = Path(__file__).resolve().parents[3]
SCRIPT = Path(__file__).with_name("ui_check.mjs")
ARTIFACTS = REPO / "test-artifacts" / "live" / "ui"
DAG = "sla_live_late"
TASKS = ["wait_for_source", "extract", "dbt_build", "publish_tables", "publish_report"]


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, installed by scripts/ensure-browser.sh when missing."""
    proc = subprocess.run(
        ["bash", str(REPO / "scripts" / "ensure-browser.sh")], capture_output=True, text=True, timeout=900
    )
    if proc.returncode != 0:
        pytest.fail(f"scripts/ensure-browser.sh failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    path = proc.stdout.strip().splitlines()[-1]
    assert Path(path).is_file(), path
    if not (REPO / "node_modules" / "playwright-core" / "package.json").is_file():
        pytest.fail("playwright-core is not installed: run npm ci (it is a devDependency)")
    return path


def _dag_file_facts(dag_file: Path, dag_id: str) -> dict[str, Any]:
    """doc_md, owner and tags as the generated DAG file declares them for ``dag_id`` (the file
    also holds the pipeline's backfill DAG, with tags and docs of its own)."""
    module = ast.parse(dag_file.read_text())
    facts: dict[str, Any] = {}
    for node in ast.walk(module):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "DOC_MD" for t in node.targets):
            facts["doc_md"] = ast.literal_eval(node.value)
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "DAG"):
            continue
        keywords = {k.arg: k.value for k in node.keywords}
        if ast.literal_eval(keywords["dag_id"]) != dag_id:
            continue
        facts["tags"] = ast.literal_eval(keywords["tags"])
        default_args = keywords["default_args"]
        assert isinstance(default_args, ast.Dict)
        for key, value in zip(default_args.keys, default_args.values, strict=True):
            if isinstance(key, ast.Constant) and key.value == "owner":
                facts["owner"] = ast.literal_eval(value)
    return facts


def _visible(markdown_line: str) -> str:
    """A markdown line as the browser shows it: no ``**``/backticks."""
    return re.sub(r"[*`]", "", markdown_line).strip()


def test_the_ui_shows_the_dag_its_docs_and_its_tasks(live_stack: LiveStack, chromium: str) -> None:
    facts = _dag_file_facts(live_stack.home / "generated" / "dags" / f"{DAG}.py", DAG)
    assert {"doc_md", "tags", "owner"} <= set(facts), facts
    sla_line = next(line for line in facts["doc_md"].splitlines() if line.startswith("Delivered by"))
    sla_text = _visible(sla_line.split(".")[0])  # "Delivered by 06:06 America/New_York"

    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    started = time.monotonic()
    proc = subprocess.run(
        ["node", str(SCRIPT)],
        cwd=REPO,
        env={
            **live_stack.env,
            "UI_BASE": live_stack.api,
            "UI_USER": live_stack.user,
            "UI_PASSWORD": live_stack.password,
            "UI_DAG": DAG,
            "UI_TASKS": ",".join(TASKS),
            "UI_OUT": str(ARTIFACTS),
            "UI_CHROMIUM": chromium,
        },
        capture_output=True,
        text=True,
        timeout=240,
    )
    live_stack.timings["ui_check_s"] = round(time.monotonic() - started, 1)
    assert proc.stdout.strip(), f"ui_check.mjs printed nothing ({proc.returncode}):\n{proc.stderr[-3000:]}"
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    (ARTIFACTS / "ui-check.json").write_text(json.dumps(result, indent=2) + "\n")
    assert proc.returncode == 0 and "error" not in result, (
        f"{result.get('error')}\nat {result.get('failed_url')}\n{proc.stderr[-2000:]}"
    )
    assert live_stack.password not in proc.stdout + proc.stderr
    pages = result["pages"]

    # The DAG's page: its id, owner and tags in the header.
    assert pages["dag_url"].rstrip("/").endswith(f"/dags/{DAG}")
    assert DAG in pages["dag"]
    assert facts["owner"] in pages["dag"]
    for tag in facts["tags"]:
        assert tag in pages["dag"], tag

    # Its doc_md, rendered: what it delivers, the SLA, lineage, the spec it was compiled from.
    docs = pages["docs"]
    for heading in ("What it delivers", "SLA", "Quality gates", "Lineage", "Source"):
        assert heading in docs, heading
    assert sla_text in docs, (sla_text, docs[:2000])
    assert "fct_daily_metrics" in docs
    assert f"{DAG}.pipeline.ts" in docs
    assert "**" not in docs  # markdown rendered, not shown raw

    # Its tasks, in the Tasks tab's table (task id, trigger rule, operator, ...).
    operators = {row[0]: row[2] for row in pages["task_rows"]}
    assert sorted(operators) == sorted(TASKS), pages["task_rows"]
    assert operators["wait_for_source"] == "SqlSensor"
    # Each step under its dagspec operator's own name (dagspec_runtime.operators), not "@task".
    assert operators == {
        "wait_for_source": "SqlSensor",
        "extract": "ExtractOperator",
        "dbt_build": "DbtBuildOperator",
        "publish_tables": "PublishTablesOperator",
        "publish_report": "PublishReportOperator",
    }
    assert f"{len(TASKS)} Tasks" in pages["tasks"]

    # The sensor's page and its own docs.
    assert "SqlSensor" in pages["task"] and TASKS[0] in pages["task"]
    assert "Task Documentation" in pages["task_docs"]
    assert "Waits (reschedule mode, holding no worker slot)" in pages["task_docs"], pages["task_docs"]

    names = sorted(Path(p).name for p in result["screenshots"])
    assert names == [
        "01-login.png",
        "02-dag.png",
        "03-dag-docs.png",
        "04-tasks.png",
        "05-task.png",
        "06-task-docs.png",
    ]
    for name in names:
        assert (ARTIFACTS / name).stat().st_size > 10_000, name  # a rendered page, not a blank one
