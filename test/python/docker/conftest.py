"""The dockerised Airflow for the docker tests: `gen airflow up --docker --workers 2`, once per session.

The session starts a private Docker engine with a data root of its own (a temporary folder: the image
is built from a clean data root, from the cached Debian root file systems and wheelhouse), seeds three
demo_shop sources on the machine's PostgreSQL, and brings the stack up on the host network on free
ports with the seed DAG baked into the image plus two test-only DAGs (specs/ beside this file)
mounted beside it. The scheduler creates no scheduled runs (``[scheduler] use_job_schedule = False``);
a task whose worker disappears is declared lost after 30 s. ``test_zz_down`` takes the stack down
and checks nothing is left; the finaliser does the same if a test failed before it, stops the engine
and removes its data root.

Where no Docker engine can start, every test here is skipped with the engine's reason, and the
session's summary says so in capitals.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from dockerstack import REPO, TIMEZONE, DockerStack
from psycopg import sql

from dagspec_runtime.days import report_day

SPECS = "test/python/docker/specs"
SEED = "daily_metrics_pipeline"
# The source connection of each DAG (the seed's app_db, the test variants' own).
SOURCES = {SEED: "app_db", "docker_sla": "app_db_sla", "docker_backfill": "app_db_backfill"}
SEED_DAYS = 6
ENGINE = REPO / "airflow" / "docker" / "engine.sh"
_skipped_reason: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "docker: builds the image and runs the dockerised Airflow stack")


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001 (pytest hook)
    if _skipped_reason:
        terminalreporter.write_sep(
            "!", "DOCKER TESTS SKIPPED: NO DOCKER ENGINE COULD START", red=True, bold=True
        )
        terminalreporter.write_line(_skipped_reason[0], red=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(cmd: list[str], env: dict[str, str], what: str, timeout: float) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f"{what} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


def _override(generated: Path, data: Path, sources: dict[str, str]) -> str:
    """A compose override: the shared data folder on the host, the test DAGs and dbt projects mounted
    beside the image's, the test DAGs' source connections (JSON: the format the stack uses)."""
    mounts = [f"{data}:/opt/airflow/data", f"{generated / 'dags'}:/opt/airflow/dags/dagspec_test:ro"]
    mounts += [f"{p}:/opt/airflow/dbt/{p.name}:ro" for p in sorted((generated / "dbt").iterdir())]
    env = {
        f"AIRFLOW_CONN_{SOURCES[dag].upper()}": json.dumps(
            {"conn_type": "postgres", "host": "127.0.0.1", "port": 5432, "login": "postgres", "schema": db}
        )
        for dag, db in sources.items()
        if dag != SEED
    }
    # A task a killed worker had taken but not started stays queued: requeue it after 90 s, not 10 min.
    env["AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT"] = "90"
    services = ("airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                "airflow-triggerer", "airflow-worker")  # fmt: skip
    return json.dumps({"services": {s: {"volumes": mounts, "environment": env} for s in services}}, indent=2)


@pytest.fixture(scope="session")
def docker_stack(pg_admin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerStack]:
    base = tmp_path_factory.mktemp("docker")
    tag = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
    engine_home, home, data, generated = base / "engine", base / "stack", base / "data", base / "generated"
    data.mkdir()
    data.chmod(0o777)  # written by the containers' airflow user (uid 50000)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "DAGSPEC_", "DOCKER_"))
    }
    env.pop("AIRFLOW_HOME", None)
    env.update(
        DAGSPEC_DOCKER_HOME=str(engine_home),
        DAGSPEC_DOCKER_PRIVATE="1",  # this test's engine, even where another one runs
        DAGSPEC_DOCKER_STACK_HOME=str(home),
        DAGSPEC_DOCKER_PROJECT=f"dagspec-test-{tag.replace('_', '-')}",
        DAGSPEC_API_PORT=str(_free_port()),
        DAGSPEC_POSTGRES_PORT=str(_free_port()),
        DAGSPEC_REDIS_PORT=str(_free_port()),
        DAGSPEC_SCHEDULER_HEALTH_PORT=str(_free_port()),
        DAGSPEC_DOCKER_SMTP_PORT=str(_free_port()),
        DAGSPEC_DOCKER_PAGERDUTY_PORT=str(_free_port()),
        DAGSPEC_DOCKER_TIMEOUT="900",
        # Only the runs a test triggers; DAGs start unpaused; a killed worker's task is declared
        # lost after 30 s (Airflow's default is 5 minutes).
        AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
        AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT="30",
    )

    t0 = time.monotonic()
    started = subprocess.run(
        ["bash", str(ENGINE), "start"], env=env, capture_output=True, text=True, timeout=600
    )
    if started.returncode != 0:
        reason = f"no Docker engine can start here: {started.stderr.strip()[-1500:]}"
        _skipped_reason.append(reason)
        shutil.rmtree(engine_home, ignore_errors=True)
        pytest.skip(reason)
    env["DOCKER_HOST"] = (
        subprocess.run(["bash", str(ENGINE), "env"], env=env, capture_output=True, text=True, check=True)
        .stdout.strip()
        .removeprefix("export DOCKER_HOST=")
        .strip("'")
    )

    source_dbs = {dag: f"dagspec_docker_src_{dag.split('_')[-1]}_{tag}" for dag in SOURCES}
    env["DAGSPEC_DOCKER_SOURCE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{source_dbs[SEED]}"
    stack = DockerStack(
        env=env, home=home, engine_home=engine_home, data=data,
        api=f"http://127.0.0.1:{env['DAGSPEC_API_PORT']}", project=env["DAGSPEC_DOCKER_PROJECT"],
        sources={dag: f"host=127.0.0.1 user=postgres dbname={db}" for dag, db in source_dbs.items()},
    )  # fmt: skip
    try:
        end_day = report_day(datetime.now(UTC), TIMEZONE, 1).isoformat()
        for db in source_dbs.values():
            _run(
                ["node", "bin/demo-shop.js", "--database-url", f"postgres://postgres@127.0.0.1:5432/{db}",
                 "--days", str(SEED_DAYS), "--orders-per-day", "300", "--end-day", end_day,
                 "--timezone", TIMEZONE, "--parallelism", "1"],
                env, "seeding a demo_shop source", 180,
            )  # fmt: skip
        _run(
            ["node", "bin/gen.js", "build", "--specs", SPECS, "--out", str(generated)], env, "gen build", 120
        )
        override = base / "docker-compose.test.json"  # JSON is YAML
        override.write_text(_override(generated, data, source_dbs))
        env["DAGSPEC_DOCKER_COMPOSE_FILES"] = str(override)
        stack.timings["engine_and_seed_s"] = round(time.monotonic() - t0, 1)

        t_up = time.monotonic()
        # A machine's first run also makes the root file systems and the wheelhouse (measured: over
        # 15 minutes on a loaded 2-core machine); later runs take a few minutes.
        up = stack.gen("up", "--docker", "--workers", "2", timeout=2400)
        stack.timings["up_cold_s"] = round(time.monotonic() - t_up, 1)
        (base / "up.log").write_text(up.stdout + up.stderr)
        stack.up_output = up.stdout + up.stderr  # type: ignore[attr-defined]
        assert up.returncode == 0, (
            f"gen airflow up --docker failed:\n{up.stdout[-5000:]}\n{up.stderr[-3000:]}"
        )
        yield stack
    finally:
        artifacts = REPO / "test-artifacts" / "docker"
        artifacts.mkdir(parents=True, exist_ok=True)
        for c in stack.containers():
            name = c["Name"].lstrip("/")
            logs = stack.docker("logs", "--tail", "400", name)
            (artifacts / f"{name}.log").write_text(logs.stdout + logs.stderr)
        # Always: an `up` that failed before any container existed has still started the stand-ins.
        if stack.containers() or (home / "local-services.pid").exists():
            stack.gen("down", "--docker", "--volumes", timeout=300)
        subprocess.run(["bash", str(ENGINE), "stop"], env=env, capture_output=True, text=True, timeout=120)
        for f in ("up.log",):
            if (base / f).exists():
                shutil.copy(base / f, artifacts / f)
        if (home / "pagerduty" / "events.jsonl").exists():
            shutil.copy(home / "pagerduty" / "events.jsonl", artifacts / "pagerduty-events.jsonl")
        (artifacts / "timings.json").write_text(json.dumps(stack.timings, indent=2) + "\n")
        with psycopg.connect(pg_admin, autocommit=True) as conn:
            for db in source_dbs.values():
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
        shutil.rmtree(engine_home, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)
