"""A real local Airflow stack for the live tests: ``airflow/local/stack.sh up``, once per session.

api-server, scheduler, dag-processor and triggerer (LocalExecutor) run with an AIRFLOW_HOME, a
metadata database, ports and a lake of their own, next to any stack or demo the user has running.
The DAGs are the test-only spec variants in ``specs/`` beside this file, compiled by ``gen build`` into
a temporary folder; each reads its own tiny demo_shop source database. The stack starts the local
SMTP server and PagerDuty Events API v2 receiver too; the tests read what they received.

The scheduler creates no scheduled runs here (``[scheduler] use_job_schedule = False``): every run
is one a test triggers, with the logical date it chooses. Stack logs and received events are copied
to ``test-artifacts/live/`` at the end.
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
from livestack import TIMEZONE, LiveStack, wait_for
from psycopg import sql

from dagspec_runtime.days import report_day

REPO = Path(__file__).resolve().parents[3]
STACK = REPO / "airflow" / "local" / "stack.sh"
SPECS = "test/python/live/specs"
# The source connection each test DAG reads (see specs/).
SOURCES = {
    "sla_live_late": "app_db_late",
    "sla_live_ontime": "app_db_ontime",
    "live_backfill": "app_db_backfill",
}
SEED_DAYS = 6  # through the report day of "now": the SLA runs' day and the backfill's older days


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "live: starts a real local Airflow stack (deselect with -m 'not live')"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
    port, smtp_port, pd_port = _free_port(), _free_port(), _free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "DAGSPEC_"))
    }
    env.pop("AIRFLOW_HOME", None)
    env.update(
        DAGSPEC_STACK_HOME=str(home),
        DAGSPEC_STACK_DB=metadata_db,
        DAGSPEC_STACK_PORT=str(port),
        DAGSPEC_STACK_SMTP_PORT=str(smtp_port),
        DAGSPEC_STACK_PAGERDUTY_PORT=str(pd_port),
        DAGSPEC_STACK_DAGS=str(generated / "dags"),
        DAGSPEC_STACK_DBT_ROOT=str(generated / "dbt"),
        DAGSPEC_STACK_SOURCE_URL=f"postgresql://postgres@127.0.0.1:5432/{source_dbs['sla_live_late']}",
        DAGSPEC_STACK_PASSWORD=uuid.uuid4().hex,
        DAGSPEC_STACK_TIMEOUT="180",
        # Only the runs a test triggers; the test DAGs start unpaused.
        AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
    )
    for dag, conn_id in SOURCES.items():
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = f"postgresql://postgres@127.0.0.1:5432/{source_dbs[dag]}"

    # Seed through the report day of "now", so the SLA runs (even near midnight) and the backfilled
    # days all have their data.
    end_day = report_day(datetime.now(UTC), TIMEZONE, 1).isoformat()
    stack: LiveStack | None = None
    try:
        for db in source_dbs.values():
            _seed_source(f"postgres://postgres@127.0.0.1:5432/{db}", env, end_day)
        _run(
            ["node", "bin/gen.js", "build", "--specs", SPECS, "--out", str(generated)], env, "gen build", 120
        )
        t_up = time.monotonic()
        up = _run(["bash", str(STACK), "up"], env, "stack.sh up", 300)
        assert f"http://127.0.0.1:{port}" in up.stdout and "login:" in up.stdout, up.stdout
        stack = LiveStack(
            home=home,
            api=f"http://127.0.0.1:{port}",
            metadata_db=f"host=127.0.0.1 port=5432 user=postgres dbname={metadata_db}",
            sources={
                dag: f"host=127.0.0.1 port=5432 user=postgres dbname={db}" for dag, db in source_dbs.items()
            },
            user="admin",
            password=env["DAGSPEC_STACK_PASSWORD"],
            env=env,
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
        down = subprocess.run(["bash", str(STACK), "down"], cwd=REPO, env=env, capture_output=True, text=True)
        artifacts = REPO / "test-artifacts" / "live"
        artifacts.mkdir(parents=True, exist_ok=True)
        for log in (home / "logs" / "stack").glob("*.log"):
            shutil.copy(log, artifacts / log.name)
        if (home / "pagerduty" / "events.jsonl").exists():
            shutil.copy(home / "pagerduty" / "events.jsonl", artifacts / "pagerduty-events.jsonl")
        with psycopg.connect(pg_admin, autocommit=True) as conn:
            for db in [metadata_db, *source_dbs.values()]:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
        if stack is not None:
            stack.timings["stack_down_s"] = round(time.monotonic() - t_down, 1)
            (artifacts / "timings.json").write_text(json.dumps(stack.timings, indent=2) + "\n")
        assert down.returncode == 0, f"stack.sh down failed:\n{down.stdout}\n{down.stderr}"
