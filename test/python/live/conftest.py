"""A real local Airflow stack for the live tests: the local environment tool's native stack
(``dagspec_local.native``, what ``gen airflow up`` runs), once per session.

api-server, scheduler, dag-processor and triggerer (LocalExecutor) run with an AIRFLOW_HOME, a
metadata database, ports and a lake of their own, next to any stack or demo the user has running.
The DAGs are the test-only spec variants in ``specs/`` beside this file, compiled by ``gen build`` into
a temporary folder; each reads its own tiny demo_shop source database. The stack starts the local
SMTP server and PagerDuty Events API v2 receiver too; the tests read what they received.

The scheduler creates no scheduled runs here (``[scheduler] use_job_schedule = False``): every run
is one a test triggers, with the logical date it chooses. A try whose worker stops heartbeating is
failed after ``HEARTBEAT_TIMEOUT_S`` (the killed-worker test). Stack logs and received events are copied
to ``test-artifacts/live/`` at the end.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from livestack import TIMEZONE, LiveStack

from airflow_rest import wait_for
from dagspec_local import postgres
from dagspec_local.airflow_env import isolated
from dagspec_local.native import NativeStack
from dagspec_local.net import free_port
from dagspec_local.settings import StackSettings
from dagspec_runtime.days import report_day

REPO = Path(__file__).resolve().parents[3]
SPECS = "test/python/live/specs"
# The source connection each test DAG reads (see specs/).
SOURCES = {
    "sla_live_late": "app_db_late",
    "sla_live_ontime": "app_db_ontime",
    "live_backfill": "app_db_backfill",
    "live_killed": "app_db_killed",
}
# A running try whose worker stopped heartbeating is failed after this long (Airflow's default is
# 300 s); the killed-worker test waits for it twice. The supervisor heartbeats every 5 s.
HEARTBEAT_TIMEOUT_S = 30
SEED_DAYS = 6  # through the report day of "now": the SLA runs' day and the backfill's older days


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "live: starts a real local Airflow stack (deselect with -m 'not live')"
    )


def _run(cmd: list[str], env: dict[str, str], what: str, timeout: float) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f"{what} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def _seed_source(url: str, env: dict[str, str], end_day: str) -> None:
    _run(
        ["node", "bin/demo-shop.js", "--database-url", url, "--days", str(SEED_DAYS),
         "--orders-per-day", "500", "--end-day", end_day, "--timezone", TIMEZONE, "--parallelism", "1"],
        env, "seeding a demo_shop source", 120,
    )  # fmt: skip


@pytest.fixture(scope="session")
def live_stack(pg_admin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    t0 = time.monotonic()
    tag = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
    home = tmp_path_factory.mktemp("live-airflow")
    generated = home / "generated"
    metadata_db = f"dagspec_live_airflow_{tag}"
    source_dbs = {dag: f"dagspec_live_src_{dag.split('_')[-1]}_{tag}" for dag in SOURCES}
    password = uuid.uuid4().hex
    settings = StackSettings(
        home=home,
        metadata_db=metadata_db,
        port=free_port(),
        smtp_port=free_port(),
        pagerduty_port=free_port(),
        dags=generated / "dags",
        dbt_root=generated / "dbt",
        source_url=postgres.url(source_dbs["sla_live_late"]),
        timeout=180,
    )
    env = isolated()
    env.update(
        DAGSPEC_STACK_PASSWORD=password,
        # Only the runs a test triggers; the test DAGs start unpaused.
        AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
        AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT=str(HEARTBEAT_TIMEOUT_S),
    )
    for dag, conn_id in SOURCES.items():
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = postgres.url(source_dbs[dag])
    native = NativeStack(settings, environ=env)

    # Seed through the report day of "now", so the SLA runs (even near midnight) and the backfilled
    # days all have their data.
    end_day = report_day(datetime.now(UTC), TIMEZONE, 1).isoformat()
    stack: LiveStack | None = None
    try:
        for db in source_dbs.values():
            _seed_source(postgres.url(db), env, end_day)
        _run(
            ["node", "bin/gen.js", "build", "--specs", SPECS, "--out", str(generated)], env, "gen build", 120
        )
        t_up = time.monotonic()
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            up = native.up()
        assert up == 0, printed.getvalue()
        # What `gen airflow up` prints: the address and the login.
        assert f"UI:     {settings.url}" in printed.getvalue(), printed.getvalue()
        assert f"login:  admin / {password}" in printed.getvalue(), printed.getvalue()
        stack = LiveStack(
            home=home,
            api=settings.url,
            metadata_db=postgres.conninfo(metadata_db),
            sources={dag: postgres.conninfo(db) for dag, db in source_dbs.items()},
            user="admin",
            password=password,
            env=env,
            native=native,
        )
        stack.timings["stack_up_s"] = round(time.monotonic() - t_up, 1)
        for dag in SOURCES:
            wait_for(
                f"the dag-processor to parse {dag}",
                lambda d=dag: stack.get(f"/dags/{d}").status_code == 200,
                120,
            )
        stack.timings["ready_s"] = round(time.monotonic() - t0, 1)
        yield stack
    finally:
        t_down = time.monotonic()
        down = native.down()
        artifacts = REPO / "test-artifacts" / "live"
        artifacts.mkdir(parents=True, exist_ok=True)
        for log in settings.log_dir.glob("*.log"):
            shutil.copy(log, artifacts / log.name)
        if (settings.pagerduty_dir / "events.jsonl").exists():
            shutil.copy(settings.pagerduty_dir / "events.jsonl", artifacts / "pagerduty-events.jsonl")
        for db in [metadata_db, *source_dbs.values()]:
            postgres.drop(db)
        if stack is not None:
            stack.timings["stack_down_s"] = round(time.monotonic() - t_down, 1)
            (artifacts / "timings.json").write_text(json.dumps(stack.timings, indent=2) + "\n")
        assert down == 0, "stopping the live stack failed"
