"""``npm run demo`` once node_modules and .venv are in place (scripts/demo.sh installs them).

demo_shop on the local PostgreSQL (seeded, ~60 days) -> ``gen build`` -> Airflow metadata database
-> local SMTP server and PagerDuty receiver -> ``airflow dags test`` of daily_metrics_pipeline for the
latest complete day -> the KPI table (pipeline vs. source), the archived report and the saved email.
Everything it writes lives under ``.demo/`` (git-ignored); running it again is safe.

Scale: ``DEMO_DAYS`` (60), ``DEMO_ORDERS_PER_DAY`` (100000). The stand-ins listen on free loopback
ports unless ``DEMO_SMTP_PORT`` / ``DEMO_PAGERDUTY_PORT`` choose them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import ExitStack
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dagspec_local import connections, postgres
from dagspec_local.airflow_env import Layout, airflow_command, airflow_env, migrate
from dagspec_local.errors import LocalEnvError, log_tail
from dagspec_local.paths import GENERATED, REPO, venv_bin
from dagspec_local.standins import pagerduty_server, smtp_server

PIPELINE = "daily_metrics_pipeline"
TIMEZONE = "America/New_York"
DEMO = REPO / ".demo"
SOURCE_DB = "demo_shop"
HISTORY_DAYS = 14  # the first report's trend needs two weeks before its day


def step(message: str) -> None:
    print(f"\n== {message}", flush=True)


def run_demo() -> int:
    days = int(os.environ.get("DEMO_DAYS", "60"))
    orders_per_day = int(os.environ.get("DEMO_ORDERS_PER_DAY", "100000"))
    zone = ZoneInfo(TIMEZONE)
    # The latest complete day in New York is yesterday; today's 06:00 run reports on it.
    today = datetime.now(zone).date()
    day = today - timedelta(days=1)
    logical_date = datetime.combine(today, time(6), zone).isoformat()
    layout = Layout(
        home=DEMO / "airflow",
        metadata_db="dagspec_demo_airflow",
        dags=GENERATED / "dags",
        dbt_root=GENERATED / "dbt",
        lake_root=DEMO / "lake",
        warehouse_root=DEMO / "warehouse",
    )
    outbox, pagerduty_dir = DEMO / "outbox", DEMO / "pagerduty"

    step(f"demo_shop: {days} days of orders ending {day} ({orders_per_day} orders/day)")
    seed = subprocess.run(
        ["node", "bin/demo-shop.js", "--end-day", day.isoformat(), "--days", str(days),
         "--orders-per-day", str(orders_per_day), "--timezone", TIMEZONE],
        cwd=REPO, capture_output=True, text=True,
    )  # fmt: skip
    if seed.returncode != 0:
        print(seed.stdout + seed.stderr, flush=True)
        return 1
    DEMO.mkdir(exist_ok=True)
    (DEMO / "seed.json").write_text(seed.stdout)
    if '"action": "seeded"' in seed.stdout:
        # A new source means earlier extracts, tables and sent mail describe other data: start clean.
        for folder in (layout.lake_root, layout.warehouse_root, outbox, pagerduty_dir):
            shutil.rmtree(folder, ignore_errors=True)

    step("gen build")
    if subprocess.run(["node", "bin/gen.js", "build"], cwd=REPO).returncode != 0:
        return 1

    step("Airflow metadata database and connections")
    layout.make_folders()
    postgres.ensure(layout.metadata_db)
    env = airflow_env(layout)
    # The demo runs one day and ends: the warm dbt server its build starts goes a minute later,
    # not after a long-running worker's half hour.
    env.setdefault("DAGSPEC_DBT_WARM", "60")
    migrate(env, DEMO / "airflow-db-migrate.log")

    step("local SMTP server (saves to .demo/outbox) and PagerDuty receiver (.demo/pagerduty)")
    with ExitStack() as standins:
        _, smtp_port = standins.enter_context(smtp_server(outbox, _port("DEMO_SMTP_PORT")))
        _, pd_url = standins.enter_context(pagerduty_server(pagerduty_dir, _port("DEMO_PAGERDUTY_PORT")))
        conns = {
            "app_db": connections.postgres_connection(postgres.url(SOURCE_DB)),
            "smtp_default": connections.smtp_connection(smtp_port, from_email="dagspec-demo@localhost"),
            "pagerduty_default": connections.pagerduty_connection(pd_url, "demo-routing-key"),
        }
        env.update(connections.as_env(conns))
        if not (layout.warehouse_root / f"{PIPELINE}.duckdb").exists():
            # The first build is a full build over the lake: give it two weeks of history for the trend.
            step(f"history: the {HISTORY_DAYS} days before {day} into the lake (first run only)")
            _history(env, day - timedelta(days=1))

        step(f"airflow dags test {PIPELINE} {logical_date} (reports on {day})")
        log = DEMO / "dags-test.log"
        with log.open("wb") as out:
            run = subprocess.run(
                airflow_command("dags", "test", PIPELINE, logical_date),
                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        if run.returncode != 0:
            print(log_tail(log, 60))
            print("the run failed: full log in .demo/dags-test.log", flush=True)
            return 1
        outcome = [line for line in log.read_text(errors="replace").splitlines() if _is_outcome(line)]
        if outcome:
            print(outcome[-1], flush=True)

    report = layout.lake_root / PIPELINE / "reports" / PIPELINE / f"ds={day}"
    return subprocess.run(
        ["node", "bin/demo-shop.js", "report", "--report", str(report), "--day", day.isoformat(),
         "--outbox", str(outbox), "--timezone", TIMEZONE],
        cwd=REPO,
    ).returncode  # fmt: skip


def _port(variable: str) -> int:
    """A port chosen by ``variable``, or 0: the stand-in picks a free one."""
    return int(os.environ.get(variable) or 0)


def _is_outcome(line: str) -> bool:
    """A line of ``airflow dags test`` output saying how the run ended."""
    return "Marking run" in line or "state=" in line


def _history(env: dict[str, str], through: date) -> None:
    """The pipeline's own extract for each earlier day (dagspec_local.history), last lines shown."""
    done = subprocess.run(
        [venv_bin("python"), "-m", "dagspec_local.history", str(GENERATED / "dags" / f"{PIPELINE}.py"),
         "--through", through.isoformat(), "--days", str(HISTORY_DAYS)],
        cwd=REPO, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise LocalEnvError(f"extracting the history failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    print("\n".join(done.stdout.splitlines()[-3:]), flush=True)
