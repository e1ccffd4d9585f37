"""The dockerised Airflow, really running (issue 7): the image, the compose stack with two Celery
workers, the seed DAG's report, the deadline alert from the containerised triggerer, a backfill that
survives a killed worker, and a `down` that leaves nothing behind.

The tests run in file order against one stack (conftest.py); ``test_zz_down`` ends it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import httpx
import pytest
import yaml
from dockerstack import REPO, TIMEZONE, DockerStack

from airflow_rest import wait_for
from dagspec_runtime.days import report_day

pytestmark = pytest.mark.docker

SEED = "daily_metrics_pipeline"
SLA, BACKFILL = "docker_sla", "docker_backfill"
IMAGE = "dagspec-airflow:latest"
RUNTIME = re.compile(r"dagspec[-_]runtime\b", re.I)  # pip freeze: the package built from airflow/runtime
SERVICES = {"postgres", "redis", "airflow-init", "airflow-apiserver", "airflow-scheduler",
            "airflow-dag-processor", "airflow-triggerer", "airflow-worker"}  # fmt: skip
ZONE = ZoneInfo(TIMEZONE)


def _logical_for(day: date) -> datetime:
    """The seed's 06:00 New York run that reports on ``day`` (report lag: one day)."""
    return datetime.combine(day + timedelta(days=1), dtime(6), ZONE)


def _cents(x: Any) -> Decimal:
    return Decimal(str(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _assert_report_equals_source(stack: DockerStack, dag_id: str, day: str) -> None:
    oracle = stack.oracle(dag_id, day)
    assert oracle["orders"] > 0, f"the seeded day {day} looks empty: {oracle}"
    report = stack.report_json(dag_id, day)
    assert report is not None, f"no report.json for {dag_id} {day} under {stack.data}"
    assert report["ds"] == day
    kpis = report["kpis"]
    got = (Decimal(str(kpis["revenue"])), kpis["orders"], _cents(kpis["aov"]), kpis["dau"])
    want = (Decimal(oracle["revenue"]), oracle["orders"], _cents(oracle["aov"]), oracle["dau"])
    assert got == want, f"report.json KPIs {kpis} differ from the source's {oracle}"


def _canonical(pin: str) -> str:
    """``Name_x.y==1`` -> ``name-x-y==1``: pip freeze keeps a distribution's own spelling, the lock not."""
    name, _, version = pin.partition("==")
    return f"{re.sub(r'[-_.]+', '-', name).lower()}=={version}"


def _worker_ids(stack: DockerStack) -> dict[str, str]:
    """Worker container id[:12] (the hostname Airflow records) -> container name."""
    return {c["Id"][:12]: c["Name"].lstrip("/") for c in stack.containers("airflow-worker")}


# -- 1. the image and the compose file ---------------------------------------------------------------


def test_1_image_builds_from_a_clean_data_root(docker_stack: DockerStack) -> None:
    info = json.loads(docker_stack.docker("info", "--format", "{{json .}}").stdout)
    assert Path(info["DockerRootDir"]) == docker_stack.engine_home / "data"  # the session's own
    (image,) = json.loads(docker_stack.docker("image", "inspect", IMAGE).stdout)
    docker_stack.timings["image_size_mb"] = round(image["Size"] / 1e6)
    assert "Step " in docker_stack.up_output and "image built" in docker_stack.up_output  # type: ignore[attr-defined]

    # The official image's contract, honoured by the offline base.
    config = image["Config"]
    assert config["User"] in ("50000", "airflow", "50000:0")
    assert "AIRFLOW_HOME=/opt/airflow" in config["Env"]
    assert config["Entrypoint"] == ["/usr/bin/dumb-init", "--", "/entrypoint"]
    # No credentials, routing key or connections in the image.
    names = {e.split("=", 1)[0] for e in config["Env"]}
    assert not {
        n for n in names if n.startswith("AIRFLOW_CONN_") or "SECRET" in n or "FERNET" in n or "PASSWORD" in n
    }
    password = docker_stack.secrets()["AIRFLOW_ADMIN_PASSWORD"]
    leaked = docker_stack.docker(
        "run", "--rm", "--network", "host", "--entrypoint", "grep", IMAGE,
        "-rIl", "-e", "local-routing-key", "-e", password, "/opt/airflow",
    )  # fmt: skip
    assert leaked.returncode == 1 and leaked.stdout == "", leaked.stdout  # grep: 1 = nothing found

    # Exactly airflow/requirements.lock, and the dagspec-runtime package.
    # --all: setuptools is in the lock too; pip itself (the base's installer) is not.
    frozen = docker_stack.docker(
        "run", "--rm", "--network", "host", IMAGE, "pip", "freeze", "--all", timeout=180
    )
    assert frozen.returncode == 0, frozen.stderr
    lock = (REPO / "airflow" / "requirements.lock").read_text().splitlines()
    want = sorted(line.lower() for line in lock if line and not line.startswith("#"))
    frozen_pins = [
        _canonical(line)
        for line in frozen.stdout.splitlines()
        if not RUNTIME.match(line) and not line.startswith("pip==")
    ]
    assert sorted(frozen_pins) == sorted(_canonical(line) for line in want)
    assert any(
        line.startswith("dagspec-runtime") for line in frozen.stdout.splitlines()
    )  # the runtime package
    # The generated DAGs, dbt projects, runtime and docs plugin are where Airflow looks.
    listing = docker_stack.docker(
        "run", "--rm", "--network", "host", IMAGE, "bash", "-c",
        "ls /opt/airflow/dags /opt/airflow/dbt /opt/airflow/plugins",
    ).stdout  # fmt: skip
    for name in (f"{SEED}.py", SEED, "dagspec_docs.py"):
        assert name in listing.split(), listing


def test_1_compose_config_is_valid_for_both_variants(docker_stack: DockerStack) -> None:
    env = {**docker_stack.env, **docker_stack.secrets()}
    configs = {}
    base = "airflow/docker-compose.yaml"
    bridge, hostnet = "airflow/docker-compose.override.yaml", "airflow/docker-compose.hostnet.yaml"
    for variant, files in {"bridge": [base, bridge], "hostnet": [base, hostnet]}.items():
        args = [a for f in files for a in ("-f", f)]
        done = subprocess.run(
            ["docker-compose", *args, "config"], cwd=REPO, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, f"{variant}: {done.stderr}"
        configs[variant] = yaml.safe_load(done.stdout)["services"]
    assert set(configs["bridge"]) == set(configs["hostnet"]) == SERVICES
    assert all("network_mode" not in s for s in configs["bridge"].values())
    assert all(s["network_mode"] == "host" and "ports" not in s for s in configs["hostnet"].values())
    assert configs["bridge"]["airflow-apiserver"]["ports"]
    assert configs["bridge"]["airflow-worker"]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"


# -- 2. up with two workers ------------------------------------------------------------------------


def test_2_up_brings_every_service_to_healthy_and_the_ui_lists_the_seed_dag(
    docker_stack: DockerStack,
) -> None:
    out = docker_stack.up_output  # type: ignore[attr-defined]
    assert f"UI:     {docker_stack.api}" in out and "login:  admin / " in out, out[-2000:]
    by_service: dict[str, list[dict]] = {}
    for c in docker_stack.containers():
        by_service.setdefault(c["Config"]["Labels"]["com.docker.compose.service"], []).append(c)
    assert set(by_service) == SERVICES
    assert len(by_service["airflow-worker"]) == 2
    (init,) = by_service["airflow-init"]
    assert (init["State"]["Status"], init["State"]["ExitCode"]) == ("exited", 0)
    for service, cs in by_service.items():
        if service != "airflow-init":
            for c in cs:
                assert c["State"]["Status"] == "running", (c["Name"], c["State"])
                assert c["State"]["Health"]["Status"] == "healthy", (c["Name"], c["State"]["Health"])
    status = docker_stack.gen("status", "--docker")
    assert status.returncode == 0, status.stdout + status.stderr

    ui = httpx.get(docker_stack.api + "/", timeout=30)
    assert ui.status_code == 200 and "<html" in ui.text.lower()
    dags = {d["dag_id"] for d in docker_stack.get("/dags").json()["dags"]}
    assert {SEED, SLA, BACKFILL} <= dags, dags
    errors = docker_stack.get("/importErrors").json()
    assert errors["total_entries"] == 0, errors
    listed = docker_stack.gen("cli", "--docker", "dags", "list", "-o", "plain")
    assert listed.returncode == 0 and SEED in listed.stdout, listed.stdout + listed.stderr


# -- 3. a triggered run of the seed DAG -------------------------------------------------------------


def test_3_a_triggered_seed_run_delivers_the_report_and_one_email(docker_stack: DockerStack) -> None:
    day = report_day(datetime.now(UTC), TIMEZONE, 1) - timedelta(days=1)
    run_id = f"manual__docker_{day}"
    started = time.monotonic()
    docker_stack.trigger(SEED, _logical_for(day), run_id)
    run = docker_stack.wait_run(SEED, run_id, {"success", "failed"}, timeout=600)
    docker_stack.timings["seed_run_s"] = round(time.monotonic() - started, 1)
    assert run["state"] == "success", docker_stack.task_states(SEED, run_id)
    _assert_report_equals_source(docker_stack, SEED, day.isoformat())
    (mail,) = docker_stack.emails(SEED)
    assert mail["X-Dagspec-Report-Day"] == day.isoformat()
    assert mail["Subject"] == f"Daily metrics for {day}"
    # The tasks ran on the Celery workers (their container names), not in the scheduler.
    hosts = {
        h for (h,) in docker_stack.metadata("select hostname from task_instance where run_id = %s", (run_id,))
    }
    assert hosts and hosts <= set(_worker_ids(docker_stack)), (hosts, _worker_ids(docker_stack))


# -- 4. a missed deadline pages once, from the triggerer container ----------------------------------


def test_4_a_missed_deadline_pages_once_from_the_triggerer_and_delivery_resolves(
    docker_stack: DockerStack,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    logical = now - timedelta(seconds=90)  # at risk 1 minute after the logical date: already missed
    key = f"{SLA}/{report_day(logical, TIMEZONE, 1).isoformat()}"
    docker_stack.set_maintenance(SLA, on=True)  # the sensor waits: the run cannot deliver yet
    run_id = f"manual__docker_late_{now:%H%M%S}"
    started = time.monotonic()
    docker_stack.trigger(SLA, logical, run_id)
    wait_for(f"a PagerDuty trigger for {key}", lambda: docker_stack.pagerduty_events(key), timeout=180)
    docker_stack.timings["deadline_page_after_s"] = round(time.monotonic() - started, 1)
    time.sleep(5)  # a duplicate from a second scheduler loop or a retried callback would show by now
    events = docker_stack.pagerduty_events(key)
    assert [e["event_action"] for e in events] == ["trigger"], events
    assert events[0]["payload"]["custom_details"]["stage"] == "at_risk"
    assert docker_stack.emails(SLA) == []
    at_risk = docker_stack.deadlines(SLA, run_id)[0]
    assert at_risk["missed"] is True and at_risk["callback_state"] == "success"
    # The callback ran in the triggerer container: the only triggerer job is that container's.
    (triggerer,) = docker_stack.containers("airflow-triggerer")
    jobs = docker_stack.metadata("select distinct hostname from job where job_type = 'TriggererJob'")
    assert jobs == [(triggerer["Id"][:12],)], jobs

    docker_stack.set_maintenance(SLA, on=False)
    run = docker_stack.wait_run(SLA, run_id, {"success", "failed"}, timeout=300)
    assert run["state"] == "success", docker_stack.task_states(SLA, run_id)

    def resolved() -> list[dict] | None:
        evs = docker_stack.pagerduty_events(key)
        return evs if evs and evs[-1]["event_action"] == "resolve" else None

    events = wait_for(f"a PagerDuty resolve for {key}", resolved, timeout=60)
    assert [e["event_action"] for e in events] == ["trigger", "resolve"], events
    assert len(docker_stack.emails(SLA)) == 1


# -- 5. a backfill over both workers, one of them killed --------------------------------------------


def _published(stack: DockerStack) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(stack.data / "warehouse" / f"{BACKFILL}.duckdb"), read_only=True)
    try:
        return con.execute("select ds, revenue, orders from main.fct_daily_metrics order by ds").fetchall()
    finally:
        con.close()


def test_5_a_backfill_runs_on_both_workers_and_survives_a_killed_worker(docker_stack: DockerStack) -> None:
    today = datetime.now(ZONE).date()
    logical = [datetime.combine(today - timedelta(days=k), dtime(6), ZONE) for k in (4, 3, 2, 1)]
    days = [(d - timedelta(days=1)).date().isoformat() for d in logical]
    workers = _worker_ids(docker_stack)
    assert len(workers) == 2
    started = time.monotonic()
    created = docker_stack.gen(
        "cli", "--docker", "backfill", "create", "--dag-id", BACKFILL, "--max-active-runs", "4",
        "--from-date", logical[0].isoformat(), "--to-date", logical[-1].isoformat(), timeout=180,
    )  # fmt: skip
    assert created.returncode == 0, created.stdout[-2000:] + created.stderr[-2000:]

    # Kill (SIGKILL) the worker running a dbt build or an extract: its task dies with it.
    def busy() -> tuple[str, str, str] | None:
        rows = docker_stack.metadata(
            "select task_id, run_id, hostname from task_instance where dag_id = %s and state = 'running'"
            " and task_id in ('dbt_build', 'extract') and hostname = any(%s)",
            (BACKFILL, list(workers)),
        )
        return rows[0] if rows else None

    task_id, run_id, victim = wait_for(
        "a running dbt_build or extract on a worker", busy, timeout=300, every=0.3
    )
    killed = docker_stack.docker("kill", "--signal", "KILL", workers[victim])
    assert killed.returncode == 0, killed.stderr
    docker_stack.timings["killed_after_s"] = round(time.monotonic() - started, 1)
    survivor = next(w for w in workers if w != victim)

    def completed() -> bool:
        rows = docker_stack.metadata(
            "select count(*) filter (where state = 'success'), count(*) from dag_run where dag_id = %s",
            (BACKFILL,),
        )
        done, total = rows[0]
        failed = docker_stack.metadata(
            "select count(*) from dag_run where dag_id = %s and state = 'failed'", (BACKFILL,)
        )
        assert failed[0][0] == 0, docker_stack.metadata(
            "select run_id, task_id, state, try_number, hostname from task_instance where dag_id = %s",
            (BACKFILL,),
        )
        return total == 4 and done == 4

    wait_for("the 4 backfilled runs to succeed", completed, timeout=600, every=3)
    docker_stack.timings["backfill_4_days_with_kill_s"] = round(time.monotonic() - started, 1)

    # The interrupted task: first try on the killed worker, retried on the other, successfully.
    (retried,) = docker_stack.metadata(
        "select state, try_number, hostname from task_instance"
        " where dag_id = %s and run_id = %s and task_id = %s",
        (BACKFILL, run_id, task_id),
    )
    assert retried == ("success", 2, survivor), retried
    history = docker_stack.metadata(
        "select try_number, hostname from task_instance_history"
        " where dag_id = %s and run_id = %s and task_id = %s",
        (BACKFILL, run_id, task_id),
    )
    assert (1, victim) in history, history
    hosts = {h for (h,) in docker_stack.metadata(
        "select hostname from task_instance where dag_id = %s"
        " union select hostname from task_instance_history where dag_id = %s",
        (BACKFILL, BACKFILL),
    )}  # fmt: skip
    assert hosts == {victim, survivor}, hosts

    # 4 partitions, 4 archived (never delivered) reports, no email, the 4 days equal to the source.
    lake = docker_stack.data / "lake" / BACKFILL
    for table in ("events", "orders", "users"):
        assert sorted(p.name for p in (lake / "raw" / table).iterdir()) == [f"ds={d}" for d in days]
    reports = lake / "reports" / BACKFILL
    assert sorted(p.name for p in reports.iterdir()) == [f"ds={d}" for d in days]
    assert not list(reports.glob("*/_delivered.json"))
    assert docker_stack.emails(BACKFILL) == []
    for day in days:
        _assert_report_equals_source(docker_stack, BACKFILL, day)
    assert [str(r[0]) for r in _published(docker_stack)] == days


# -- docs and failure alerts work in the containers as in the native stack -----------------------


def test_5b_the_dbt_docs_page_is_served_from_the_containerised_api_server(docker_stack: DockerStack) -> None:
    doc_md = docker_stack.get(f"/dags/{SEED}/details").json()["doc_md"]
    link = re.search(r"\[dbt docs: the lineage graph\]\((/dagspec/dbt-docs/[a-z0-9_]+/)\)", doc_md)
    assert link, doc_md
    page = httpx.get(f"{docker_stack.api}{link.group(1)}", timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for node in ("source.", "stg_orders", "fct_daily_metrics"):  # the lineage the static page embeds
        assert node in page.text, node
    assert httpx.get(f"{docker_stack.api}/dagspec/dbt-docs/no_such_pipeline/", timeout=30).status_code == 404


def test_5c_a_failed_gate_pages_and_emails_the_engineers_from_a_worker(docker_stack: DockerStack) -> None:
    """A negative amount on a seeded day: dbt's gate fails on a worker, whose failure callback pages
    PagerDuty and emails the engineers, through the stand-ins on the host, as natively."""
    day = report_day(datetime.now(UTC), TIMEZONE, 1) - timedelta(days=3)
    poison_at = datetime.combine(day, dtime(10, 30), ZONE).astimezone(UTC).isoformat()
    order = {"userId": 1, "amount": "-12.34", "status": "paid", "createdAt": poison_at}
    docker_stack.source(SLA, [{"op": "insertOrder", "row": order}])
    run_id = f"manual__docker_gate_{day}"
    docker_stack.trigger(SLA, _logical_for(day), run_id)
    run = docker_stack.wait_run(SLA, run_id, {"success", "failed"}, timeout=600)
    states = docker_stack.task_states(SLA, run_id)
    assert run["state"] == "failed", states
    assert states["dbt_build"] == "failed" and states["publish_report"] == "upstream_failed", states
    assert docker_stack.report_json(SLA, day.isoformat()) is None

    key = f"{SLA}/{day}"

    def failure_pages() -> list[dict] | None:
        # A run of a past day also misses its deadline: those pages carry a stage, not a task.
        evs = [e for e in docker_stack.pagerduty_events(key) if e["payload"]["custom_details"].get("task_id")]
        return evs or None

    (page,) = wait_for(f"the failure page for {key}", failure_pages, timeout=120)
    assert page["event_action"] == "trigger"
    assert page["payload"]["custom_details"]["task_id"] == "dbt_build"
    assert "assert_positive_revenue" in page["payload"]["summary"]

    def alert_mails() -> list | None:
        got = [
            m
            for m in docker_stack.all_emails()
            if "assert_positive_revenue" in m["Subject"] and f"ds={day}" in m["Subject"]
        ]
        return got or None

    (mail,) = wait_for("the engineers' failure email", alert_mails, timeout=120)
    assert "data-eng@example.com" in mail["To"]


# -- 6. gen deploy --to docker: a spec change reaches the running stack ------------------------------


def _gen_in(stack: DockerStack, cwd: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """``gen <args>`` run in ``cwd`` (a project) with the stack's environment."""
    return subprocess.run(
        ["node", str(REPO / "bin" / "gen.js"), *args], cwd=cwd, env=stack.env, capture_output=True,
        text=True, timeout=timeout,
    )  # fmt: skip


def _status(stack: DockerStack, project: Path) -> tuple[int, dict[str, Any]]:
    password = stack.secrets()["AIRFLOW_ADMIN_PASSWORD"]
    airflow = stack.api.replace("http://", f"http://admin:{password}@")
    done = _gen_in(stack, project, "status", "--to", "docker", "--airflow", airflow, "--json", timeout=300)
    assert done.stdout, done.stderr
    assert password not in done.stdout + done.stderr
    return done.returncode, json.loads(done.stdout)


def test_6_deploy_to_docker_rebuilds_the_image_and_the_running_airflow_parses_the_new_spec(
    docker_stack: DockerStack, tmp_path: Path
) -> None:
    # A project whose seed spec differs from the one `up` baked in (generated/): its description.
    project = tmp_path / "project"
    shutil.copytree(REPO / "specs", project / "specs")
    spec = project / "specs" / "daily_metrics.pipeline.ts"
    text = spec.read_text()
    assert 'description: "Daily executive metrics' in text
    edited = 'description: "Deployed: daily executive metrics'
    spec.write_text(text.replace('description: "Daily executive metrics', edited, 1))
    baked = (REPO / "generated" / "dags" / f"{SEED}.py").read_text()
    baked_hash = re.search(r"^# spec-hash: (\w+)$", baked, re.M)
    assert baked_hash

    # Before: the image `up` built from generated/ carries no deploy manifest; Airflow runs the old spec.
    code, before = _status(docker_stack, project)
    assert code == 1 and before["deployment"]["releaseId"] is None, before
    assert [(p["id"], p["state"]) for p in before["deployment"]["pipelines"]] == [(SEED, "missing")]
    seed_before = next(p for p in before["airflow"]["pipelines"] if p["id"] == SEED)
    assert (seed_before["state"], seed_before["parsedSpecHash"]) == ("stale", baked_hash.group(1)), before
    new_hash = before["repo"]["pipelines"][SEED]
    assert new_hash != baked_hash.group(1)
    kept = {c["Config"]["Labels"]["com.docker.compose.service"]: c["Id"] for c in docker_stack.containers()}
    runs_before = {r["dag_run_id"] for r in docker_stack.runs(SEED)}

    started = time.monotonic()
    deployed = _gen_in(docker_stack, project, "deploy", "--to", "docker")
    docker_stack.timings["deploy_to_docker_s"] = round(time.monotonic() - started, 1)
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-5000:]
    progress = deployed.stderr
    for line in ("gen: compiling the specs", "gen: docker: building the image", "gen: docker: Step ",
                 "gen: docker: image built; recreating airflow-apiserver"):  # fmt: skip
        assert line in progress, progress[-3000:]
    target = rf"deployed release \w+ to docker \(compose project {docker_stack.project}, "
    assert re.search(target, deployed.stdout), deployed.stdout
    assert f"1 pipeline(s): {SEED}" in deployed.stdout, deployed.stdout

    # The Airflow services were recreated on the new image (two workers again); PostgreSQL and its
    # metadata stayed: the runs of the earlier tests are still there.
    after = docker_stack.containers()
    by_service: dict[str, list[dict[str, Any]]] = {}
    for c in after:
        by_service.setdefault(c["Config"]["Labels"]["com.docker.compose.service"], []).append(c)
    assert len(by_service["airflow-worker"]) == 2
    for service in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        (c,) = by_service[service]
        assert c["Id"] != kept[service] and c["State"]["Health"]["Status"] == "healthy", (service, c["State"])
    assert by_service["postgres"][0]["Id"] == kept["postgres"]
    airflow = [
        c for s, cs in by_service.items() if s.startswith("airflow-") and s != "airflow-init" for c in cs
    ]
    (image,) = {c["Image"] for c in airflow}
    assert image == json.loads(docker_stack.docker("image", "inspect", IMAGE).stdout)[0]["Id"]

    # The running Airflow parses the new spec: gen status finds the image's build and Airflow current.
    def current() -> tuple[int, dict[str, Any]] | None:
        code, report = _status(docker_stack, project)
        seed = next((p for p in report["airflow"]["pipelines"] if p["id"] == SEED), None)
        return (code, report) if seed and seed["state"] == "current" else None

    code, report = wait_for("Airflow to parse the deployed seed spec", current, timeout=180, every=5)
    docker_stack.timings["deploy_to_parsed_s"] = round(time.monotonic() - started, 1)
    deployment = report["deployment"]
    assert deployment["releaseId"] and deployment["runtime"] == "current", deployment
    assert [(p["id"], p["state"], p["deployedSpecHash"]) for p in deployment["pipelines"]] == [
        (SEED, "current", new_hash)
    ]
    parsed = {p["id"]: p["state"] for p in report["airflow"]["pipelines"]}
    # The test-only DAGs (mounted beside the image's) are dagspec DAGs this project does not hold.
    assert parsed == {SEED: "current", SLA: "orphaned", BACKFILL: "orphaned"}, report
    seed = next(p for p in report["airflow"]["pipelines"] if p["id"] == SEED)
    assert seed["parsedSpecHash"] == new_hash
    assert code == 1  # orphaned is not current
    assert docker_stack.get(f"/dags/{SEED}").json()["description"].startswith("Deployed: daily executive")
    assert runs_before <= {r["dag_run_id"] for r in docker_stack.runs(SEED)}

    # Again: the running image holds this build, nothing is rebuilt or recreated.
    ids = sorted(c["Id"] for c in docker_stack.containers())
    again = _gen_in(docker_stack, project, "deploy", "--to", "docker", "--json")
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads(again.stdout)["unchanged"] is True
    assert sorted(c["Id"] for c in docker_stack.containers()) == ids


# -- 7. down -------------------------------------------------------------------------------------------


def test_zz_down_removes_containers_networks_volumes_and_stops_the_engine(docker_stack: DockerStack) -> None:
    pid_file = docker_stack.engine_home / "dockerd.pid"
    dockerd = int(pid_file.read_text())
    started = time.monotonic()
    down = docker_stack.gen("down", "--docker", "--volumes", timeout=300)
    docker_stack.timings["down_s"] = round(time.monotonic() - started, 1)
    assert down.returncode == 0, down.stdout + down.stderr
    wait_for("the private dockerd to exit", lambda: not Path(f"/proc/{dockerd}").exists(), timeout=60)
    # Nothing of the test's engine is left running (dockerd, containerd, shims, containers).
    left = subprocess.run(
        ["pgrep", "-af", str(docker_stack.engine_home)], capture_output=True, text=True
    ).stdout
    assert left == "", left
    assert not (docker_stack.home / "local-services.pid").exists()
    # With the engine up again on the same data root: no container, volume or network of the project.
    engine = str(REPO / "airflow/docker/engine.sh")
    subprocess.run(
        ["bash", engine, "start"], env=docker_stack.env, check=True, capture_output=True, timeout=120
    )
    try:
        label = f"label=com.docker.compose.project={docker_stack.project}"
        assert docker_stack.docker("ps", "-aq", "--filter", label).stdout.split() == []
        assert docker_stack.docker("volume", "ls", "-q", "--filter", label).stdout.split() == []
        assert docker_stack.docker("network", "ls", "-q", "--filter", label).stdout.split() == []
        # An engine without the stack: a deploy says the stack is not up and what to run (exit 3).
        refused = _gen_in(docker_stack, REPO, "deploy", "--to", "docker", timeout=120)
        assert refused.returncode == 3, refused.stdout + refused.stderr
        assert "is not up: airflow-apiserver, airflow-scheduler" in refused.stderr, refused.stderr
        assert "hint: start it with gen airflow up --docker" in refused.stderr
    finally:
        subprocess.run(["bash", engine, "stop"], env=docker_stack.env, capture_output=True, timeout=120)
    assert os.path.isdir(docker_stack.engine_home / "data")  # removed by the session's finaliser
