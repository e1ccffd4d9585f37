"""The end-to-end stack's pieces: building the pipelines, one isolated stack per scenario, running
the real generated DAG through ``airflow dags test``, reading back the source oracle, the lake, the
warehouse, the metadata database, the mail and the pages. Fixtures live in conftest.py.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import ROUND_HALF_UP, Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from dagspec_local import connections, postgres
from dagspec_local.airflow_env import Layout, airflow_command, airflow_env, isolated
from dagspec_local.standins import PagerDutyReceiver, SmtpOutbox, pagerduty_server, smtp_server

REPO = Path(__file__).resolve().parents[3]
E2E = Path(__file__).resolve().parent
ARTIFACTS = REPO / "test-artifacts" / "e2e"
DEMO_SOURCE = E2E / "demo_source.mjs"

TZ = "America/New_York"
# The seeded source: three New York days ending LAST_DAY, whose watermark is the end of LAST_DAY.
# Scenarios 1, 4 and 5 report on GOOD_DAY; the gate scenarios use all three days.
LAST_DAY = date(2026, 11, 12)
SEED_DAYS = 3
ORDERS_PER_DAY = 2000
GOOD_DAY = LAST_DAY - timedelta(days=1)

SEED_PIPELINE = "daily_metrics_pipeline"
S3_BUCKET = "dagspec-e2e-lake"  # named by the S3 variants in specs/
S3_KEY, S3_SECRET = "dagspec-e2e-key", "dagspec-e2e-secret"
ROUTING_KEY = "e2e-routing-key"
ENGINEERS = ["data-eng@example.com"]
RECIPIENTS = ["ceo@example.com", "exec-team@example.com"]
RUN_TIMEOUT_S = float(os.environ.get("DAGSPEC_E2E_RUN_TIMEOUT", "300"))
KEEP = os.environ.get("DAGSPEC_E2E_KEEP") == "1"
SESSION = f"{os.getpid()}_{uuid.uuid4().hex[:4]}"

# -- PostgreSQL helpers ----------------------------------------------------------------------------


def drop_db(name: str) -> None:
    if not KEEP:
        postgres.drop(name)


def query(dbname: str, text: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(postgres.conninfo(dbname)) as conn:
        return conn.execute(text, params).fetchall()  # type: ignore[arg-type]


def node(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)


# -- the compiled pipelines ------------------------------------------------------------------------


@dataclass(frozen=True)
class Build:
    root: Path
    dags: Path
    dbt: Path
    pipelines: dict[str, dict[str, Any]]  # dag id -> the CONFIG dict of its generated DAG file


def pipeline_of(dag_file: Path) -> dict[str, Any]:
    """The literal ``CONFIG = {...}`` of a generated DAG file, read without importing Airflow."""
    for node_ in ast.parse(dag_file.read_text()).body:
        if isinstance(node_, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "CONFIG" for t in node_.targets
        ):
            return ast.literal_eval(node_.value)
    raise AssertionError(f"no CONFIG literal in {dag_file}")


# -- one run of the DAG ----------------------------------------------------------------------------


def logical_date_for(day: date) -> str:
    """The scheduled start (06:00 New York, the next day) of the run that reports on ``day``."""
    return datetime.combine(day + timedelta(days=1), dtime(6, 0), tzinfo=ZoneInfo(TZ)).isoformat()


def day_end(day: date) -> datetime:
    """The end (exclusive) of the New York calendar ``day``: the next local midnight, in UTC."""
    return datetime.combine(day + timedelta(days=1), dtime(0, 0), tzinfo=ZoneInfo(TZ)).astimezone(UTC)


@dataclass
class Run:
    dag_id: str
    day: date
    returncode: int
    seconds: float
    log_path: Path

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.splitlines()[-lines:]) + f"\n(full log: {self.log_path})"


# -- the per-test stack ----------------------------------------------------------------------------


@dataclass
class Stack:
    name: str
    build: Build
    home: Path
    lake_root: Path
    warehouse_root: Path
    artifacts: Path
    source_db: str
    airflow_db: str
    warehouse_db: str
    smtp: SmtpOutbox
    smtp_engineers: SmtpOutbox  # the relay of pipelines that name one for the engineers (smtp_engineers)
    pagerduty: PagerDutyReceiver
    s3_endpoint: str | None
    env: dict[str, str]
    runs: list[Run] = field(default_factory=list)

    @property
    def source_url(self) -> str:
        return postgres.url(self.source_db)

    def pipeline(self, dag_id: str) -> dict[str, Any]:
        return self.build.pipelines[dag_id]

    # -- running -------------------------------------------------------------------------------
    def run(self, dag_id: str, day: date, *, timeout: float = RUN_TIMEOUT_S) -> Run:
        """``airflow dags test <dag_id> <logical date of day's run>`` through the repo's wrapper."""
        log_path = self.artifacts / f"{len(self.runs):02d}-{dag_id}-{day}.log"
        started = time.perf_counter()
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                airflow_command("dags", "test", dag_id, logical_date_for(day)),
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # dbt runs as a child: kill the whole group on timeout
            )
            try:
                rc = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                pytest.fail(f"airflow dags test {dag_id} {day} did not finish in {timeout:.0f}s: {log_path}")
        run = Run(dag_id, day, rc, time.perf_counter() - started, log_path)
        self.runs.append(run)
        return run

    # -- the source, through the repository's TypeScript helpers -------------------------------
    def source(self, *ops: dict[str, Any]) -> list[Any]:
        done = node(str(DEMO_SOURCE), self.source_url, json.dumps(list(ops)))
        assert done.returncode == 0, f"demo_source {ops} failed:\n{done.stderr}"
        return json.loads(done.stdout)

    def oracle(self, day: date) -> dict[str, Any]:
        """``sourceKpis`` (airflow/local/demo_shop/source-kpis.ts): the KPIs straight from the source."""
        return self.source({"op": "kpis", "day": day.isoformat(), "timezone": TZ})[0]

    # -- the Airflow metadata database ---------------------------------------------------------
    def metadata(self, text: str, params: Any = None) -> list[tuple[Any, ...]]:
        return query(self.airflow_db, text, params)

    def run_state(self, dag_id: str) -> str:
        rows = self.metadata(
            "SELECT state FROM dag_run WHERE dag_id = %s ORDER BY id DESC LIMIT 1", (dag_id,)
        )
        assert rows, f"no dag run of {dag_id} in the metadata database"
        return str(rows[0][0])

    def task_states(self, dag_id: str) -> dict[str, str]:
        rows = self.metadata(
            "SELECT ti.task_id, ti.state FROM task_instance ti JOIN dag_run dr "
            "ON dr.dag_id = ti.dag_id AND dr.run_id = ti.run_id "
            "WHERE dr.id = (SELECT max(id) FROM dag_run WHERE dag_id = %s)",
            (dag_id,),
        )
        return {str(t): str(s) for t, s in rows}

    # -- the lake ------------------------------------------------------------------------------
    def lake_files(self, dag_id: str, under: str = "") -> dict[str, bytes]:
        """Every file below the pipeline's lake root (optionally below ``under``): path -> bytes."""
        lake = self.pipeline(dag_id)["lake"]
        prefix = f"{under.strip('/')}/" if under else ""
        if lake["kind"] == "local":
            root = self.lake_root / lake["path"]
            return {
                p.relative_to(root).as_posix(): p.read_bytes()
                for p in sorted((root / prefix).rglob("*") if (root / prefix).exists() else [])
                if p.is_file() and not p.relative_to(root).as_posix().startswith("_tmp/")
            }
        client = self.s3_client()
        base = f"{lake['prefix'].strip('/')}/"
        out: dict[str, bytes] = {}
        for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=lake["bucket"], Prefix=base + prefix
        ):
            for obj in page.get("Contents", []):
                body = client.get_object(Bucket=lake["bucket"], Key=obj["Key"])["Body"].read()
                out[obj["Key"][len(base) :]] = body
        return dict(sorted(out.items()))

    def report_folder(self, dag_id: str, day: date) -> str:
        return f"reports/{dag_id}/ds={day.isoformat()}"

    def report_json(self, dag_id: str, day: date) -> dict[str, Any] | None:
        files = self.lake_files(dag_id, self.report_folder(dag_id, day))
        data = files.get(f"{self.report_folder(dag_id, day)}/report.json")
        return json.loads(data) if data is not None else None

    def s3_client(self) -> Any:
        import boto3

        assert self.s3_endpoint, "this stack has no S3 server"
        return boto3.client(
            "s3",
            endpoint_url=self.s3_endpoint,
            region_name="us-east-1",
            aws_access_key_id=S3_KEY,
            aws_secret_access_key=S3_SECRET,
        )

    # -- the warehouse -------------------------------------------------------------------------
    def published(self, dag_id: str) -> list[tuple[str, Decimal, int, Decimal | None, int]]:
        """The published fct_daily_metrics, normalised: (ds, revenue, orders, aov, dau) by ds."""
        wh = self.pipeline(dag_id)["warehouse"]
        text = (
            "SELECT CAST(ds AS VARCHAR), CAST(revenue AS VARCHAR), orders, CAST(aov AS VARCHAR), dau "
            f'FROM "{wh["publish_schema"]}".fct_daily_metrics ORDER BY ds'
        )
        if wh["kind"] == "duckdb":
            import duckdb

            path = self.warehouse_root / wh["path"]
            if not path.exists():
                return []
            conn = duckdb.connect(str(path), read_only=True)
            try:
                exists = conn.execute(
                    "SELECT count(*) FROM information_schema.tables "
                    "WHERE table_schema = ? AND table_name = 'fct_daily_metrics'",
                    [wh["publish_schema"]],
                ).fetchone()
                rows = conn.execute(text).fetchall() if exists and exists[0] else []
            finally:
                conn.close()
        else:
            found = query(
                self.warehouse_db,
                "SELECT to_regclass(%s) IS NOT NULL",
                (f"{wh['publish_schema']}.fct_daily_metrics",),
            )
            rows = query(self.warehouse_db, text) if found[0][0] else []
        return [
            (str(ds), Decimal(rev), int(orders), Decimal(aov) if aov is not None else None, int(dau))
            for ds, rev, orders, aov, dau in rows
        ]

    # -- mail and pages ------------------------------------------------------------------------
    def report_mails(self, day: date | None = None) -> list[EmailMessage]:
        mails = [m for m in self.smtp.messages if m.get("X-Dagspec-Report-Day")]
        return [m for m in mails if day is None or m["X-Dagspec-Report-Day"] == day.isoformat()]


@contextmanager
def open_stack(
    name: str,
    tmp_path: Path,
    build: Build,
    airflow_template: str,
    source_template: str,
    s3_endpoint: str | None,
) -> Iterator[Stack]:
    """Everything one scenario needs, isolated from every other test (see the module doc)."""
    slug = "".join(c if c.isalnum() else "_" for c in name.lower())[:24].strip("_")
    artifacts = ARTIFACTS / "".join(c if c.isalnum() or c in "-_[]" else "_" for c in name)
    shutil.rmtree(artifacts, ignore_errors=True)
    artifacts.mkdir(parents=True)
    with ExitStack() as cleanup:
        dbs = {
            "source": postgres.create(f"dagspec_e2e_{slug}_src_{SESSION}", template=source_template),
            "airflow": postgres.create(f"dagspec_e2e_{slug}_af_{SESSION}", template=airflow_template),
            "warehouse": postgres.create(f"dagspec_e2e_{slug}_wh_{SESSION}"),
        }
        for db in dbs.values():
            cleanup.callback(drop_db, db)
        smtp, smtp_port = cleanup.enter_context(smtp_server(tmp_path / "outbox"))
        smtp_engineers, engineers_port = cleanup.enter_context(smtp_server(tmp_path / "outbox-engineers"))
        pagerduty, pd_url = cleanup.enter_context(pagerduty_server())
        layout = Layout(
            home=tmp_path / "airflow",
            metadata_db=dbs["airflow"],
            dags=build.dags,
            dbt_root=build.dbt,
            lake_root=tmp_path / "lake",
            warehouse_root=tmp_path / "warehouse",
        )
        layout.make_folders()
        conns = {
            "app_db": connections.postgres_connection(postgres.url(dbs["source"])),
            "warehouse_db": connections.postgres_connection(postgres.url(dbs["warehouse"])),
            "smtp_default": connections.smtp_connection(smtp_port, retry_limit=0, timeout=5),
            "smtp_engineers": connections.smtp_connection(engineers_port, retry_limit=0, timeout=5),
            "pagerduty_default": connections.pagerduty_connection(pd_url, ROUTING_KEY),
        }
        if s3_endpoint:
            conns["aws_e2e"] = connections.aws_connection(S3_KEY, S3_SECRET, s3_endpoint)
        env = airflow_env(layout, isolated())
        env.update(connections.as_env(conns), DAGSPEC_LOCK_TIMEOUT_SECONDS="120")
        home, lake_root, warehouse_root = layout.home, layout.lake_root, layout.warehouse_root
        yield Stack(
            name=name,
            build=build,
            home=home,
            lake_root=lake_root,
            warehouse_root=warehouse_root,
            artifacts=artifacts,
            source_db=dbs["source"],
            airflow_db=dbs["airflow"],
            warehouse_db=dbs["warehouse"],
            smtp=smtp,
            smtp_engineers=smtp_engineers,
            pagerduty=pagerduty,
            s3_endpoint=s3_endpoint,
            env=env,
        )


# -- shared assertions -----------------------------------------------------------------------------


def cents(value: Any) -> Decimal:
    """A money value at 2 decimals (half away from zero, as PostgreSQL's and DuckDB's round)."""
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def expected_row(oracle: dict[str, Any]) -> tuple[str, Decimal, int, Decimal | None, int]:
    """The published fct_daily_metrics row the source says the day must have."""
    aov = cents(oracle["aov"]) if oracle["aov"] is not None else None
    return (oracle["day"], cents(oracle["revenue"]), int(oracle["orders"]), aov, int(oracle["dau"]))


def assert_run_ok(stack: Stack, run: Run) -> None:
    assert run.returncode == 0, f"{run.dag_id} {run.day} exited {run.returncode}:\n{run.tail()}"
    assert stack.run_state(run.dag_id) == "success"


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, poll: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f}s waiting for {what}")
        time.sleep(poll)


def assert_report_matches_source(stack: Stack, dag_id: str, day: date) -> dict[str, Any]:
    """report.json's KPIs and the published row for ``day`` equal ``sourceKpis`` on the source.

    revenue, orders and dau exactly (money as report.json's decimal strings, counts as integers); aov
    as the pipeline rounds it (2 decimals) from the oracle's exact quotient. Returns the oracle's answer.
    """
    oracle = stack.oracle(day)
    assert oracle["orders"] > ORDERS_PER_DAY // 2, f"the seeded day {day} looks empty: {oracle}"
    report = stack.report_json(dag_id, day)
    assert report is not None, (
        f"no report.json archived for {day}: {sorted(stack.lake_files(dag_id, 'reports'))}"
    )
    assert report["ds"] == day.isoformat()
    kpis = report["kpis"]
    # report.json carries money as exact decimal strings and counts as integers: read them as such,
    # never through a float.
    assert isinstance(kpis["revenue"], str) and isinstance(kpis["aov"], (str, type(None))), kpis
    assert type(kpis["orders"]) is int and type(kpis["dau"]) is int, kpis
    got = {
        "revenue": Decimal(kpis["revenue"]),
        "orders": kpis["orders"],
        "aov": Decimal(kpis["aov"]) if kpis["aov"] is not None else None,
        "dau": kpis["dau"],
    }
    want = {
        "revenue": Decimal(oracle["revenue"]),
        "orders": oracle["orders"],
        "aov": cents(oracle["aov"]) if oracle["aov"] is not None else None,
        "dau": oracle["dau"],
    }
    assert got == want, f"report.json KPIs {kpis} differ from the source's {oracle}"
    published = [r for r in stack.published(dag_id) if r[0] == day.isoformat()]
    assert published == [expected_row(oracle)], f"published fct_daily_metrics for {day}: {published}"
    return oracle
