"""``gen status --airflow`` against the live stack's real api-server: it logs in through
SimpleAuthManager's /auth/token, reads the parsed DAGs, their sources' ``# spec-hash:`` headers and
paused state, and reports every pipeline the stack runs as current; against an edited copy of the
specs it reports stale, orphaned and missing pipelines, and exits 1."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from livestack import LiveStack

from airflow_rest import wait_for

pytestmark = pytest.mark.live

REPO = Path(__file__).resolve().parents[3]
SPECS = REPO / "test" / "python" / "live" / "specs"


def _status(stack: LiveStack, root: Path, specs: str) -> tuple[int, dict]:
    env = {**stack.env, "AIRFLOW_API_USER": stack.user, "AIRFLOW_API_PASSWORD": stack.password}
    proc = subprocess.run(
        ["node", str(REPO / "bin" / "gen.js"), "status", "--airflow", stack.api, "--json", "--specs", specs],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_status_reports_the_running_pipelines_as_current(live_stack: LiveStack) -> None:
    code, report = _status(live_stack, REPO, "test/python/live/specs")
    states = {p["id"]: (p["state"], p["paused"]) for p in report["airflow"]["pipelines"]}
    # Paused as Airflow says: the SLA tests before this one pause two of the DAGs.
    paused = {dag: live_stack.get(f"/dags/{dag}").json()["is_paused"] for dag in live_stack.sources}
    assert states == {dag: ("current", paused[dag]) for dag in live_stack.sources}, report
    for p in report["airflow"]["pipelines"]:
        assert p["parsedSpecHash"] == p["repoSpecHash"] == report["repo"]["pipelines"][p["id"]]
    assert code == 0 and report["ok"] is True
    assert live_stack.password not in json.dumps(report)


def test_status_reports_stale_orphaned_and_missing(live_stack: LiveStack, tmp_path: Path) -> None:
    # A copy of the repo's layout: the live specs import the seed by a relative path, and the spec
    # hash covers it, so the copy must keep the same paths to match what the stack parsed.
    specs = tmp_path / "test" / "python" / "live" / "specs"
    shutil.copytree(SPECS, specs)
    (tmp_path / "specs").mkdir()
    shutil.copy(
        REPO / "specs" / "daily_metrics.pipeline.ts", tmp_path / "specs" / "daily_metrics.pipeline.ts"
    )
    ontime = specs / "sla_live_ontime.pipeline.ts"
    ontime.write_text(ontime.read_text().replace("Live-stack SLA test:", "Live-stack SLA test (edited):"))
    (specs / "live_backfill.pipeline.ts").unlink()
    shutil.copy(REPO / "specs" / "daily_metrics.pipeline.ts", specs / "daily_metrics.pipeline.ts")
    code, report = _status(live_stack, tmp_path, "test/python/live/specs")
    states = {p["id"]: p["state"] for p in report["airflow"]["pipelines"]}
    assert states == {
        "daily_metrics_pipeline": "missing",
        "live_backfill": "orphaned",
        "sla_live_late": "current",
        "sla_live_ontime": "stale",
    }, report
    assert code == 1 and report["ok"] is False


def test_the_seed_deployed_into_the_running_airflow_is_current(live_stack: LiveStack) -> None:
    """``gen deploy --to`` the folder the stack reads: the dag-processor parses the symlinked seed DAG,
    and ``gen status`` finds it current both in the deploy manifest and in Airflow."""
    target = live_stack.home / "generated"
    deploy = subprocess.run(
        ["node", str(REPO / "bin" / "gen.js"), "deploy", "--to", str(target)],
        cwd=REPO,
        env=live_stack.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert deploy.returncode == 0, deploy.stderr
    link = target / "dags" / "daily_metrics_pipeline.py"
    try:
        assert link.is_symlink()
        wait_for(
            "the dag-processor to parse the deployed seed DAG",
            lambda: live_stack.get("/dags/daily_metrics_pipeline").status_code == 200,
            150,
        )
        env = {
            **live_stack.env,
            "AIRFLOW_API_USER": live_stack.user,
            "AIRFLOW_API_PASSWORD": live_stack.password,
        }
        proc = subprocess.run(
            [
                "node",
                str(REPO / "bin" / "gen.js"),
                "status",
                "--to",
                str(target),
                "--airflow",
                live_stack.api,
                "--json",
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        report = json.loads(proc.stdout)
        assert [(p["id"], p["state"]) for p in report["deployment"]["pipelines"]] == [
            ("daily_metrics_pipeline", "current")
        ]
        airflow = {p["id"]: p["state"] for p in report["airflow"]["pipelines"]}
        # The stack's own test DAGs are dagspec DAGs that the repo's specs/ does not hold.
        assert airflow == {
            "daily_metrics_pipeline": "current",
            **{dag: "orphaned" for dag in live_stack.sources},
        }, report
    finally:
        link.unlink(missing_ok=True)
