"""`npm run bench -- --only backfill`: 30 report days of the seed pipeline backfilled in a real
local Airflow stack, today's way (``airflow backfill create``: one DAG run per day) against one pass
(the ``<pipeline_id>__backfill`` DAG triggered once with ``first_day``/``last_day``).

The stack is the one ``gen airflow up`` runs and the live tests use (``dagspec_local.native``:
api-server, scheduler, dag-processor, triggerer, LocalExecutor) with an AIRFLOW_HOME, a metadata
database and ports of its own. The DAGs are the seed spec compiled by ``gen build`` into a scratch
folder; their source is a demo_shop database of its own (``dagspec_bench_backfill``, seeded by
``bin/demo-shop.js`` as ``npm run demo`` seeds ``demo_shop``, re-used while its parameters are the
same); the lake is the stack's local folder and the warehouse its DuckDB file.

Each contender starts from an empty lake and warehouse (both are wiped before it, and the daily
DAG's earlier runs deleted, so ``backfill create`` has every day to run) and is timed from the
command until Airflow says it is done: today's way from ``airflow backfill create`` (the CLI command
``gen airflow backfill`` runs, with the arguments it prints) until the REST API shows the backfill
completed; one pass from ``airflow dags trigger <id>__backfill --conf`` (what ``gen airflow backfill
--one-pass`` runs) until its DAG run ends. The stack's start-up is timed apart.
Rounds (``--backfill-reps``) alternate the order; the first round runs one pass first, so the
warm dbt server's start (a few seconds: the first build on a worker) falls on it.
After each contender the section reads the KPI rows ``fct_daily_metrics`` published for the 30 days
and the task instances' durations (summed per task id) from the REST API; the published rows must
be the same for both contenders and match the source's own revenue and order counts.

Until the compiler emits the one-pass DAG, that contender is reported as not available.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "airflow" / "local"))

PIPELINE = "daily_metrics_pipeline"
ONE_PASS = f"{PIPELINE}__backfill"
TIMEZONE = "America/New_York"
SOURCE_DB = "dagspec_bench_backfill"
SOURCE_END_DAY = dt.date(2026, 11, 26)
REPORT_DAYS = 30
# The source holds two days before the first report day (the users history's day before).
SOURCE_DAYS = REPORT_DAYS + 2
TODAY = "today's way (airflow backfill create)"
ONE = "one pass (__backfill DAG)"
TIMEOUT_S = 1500


def report_range() -> tuple[str, str]:
    last = SOURCE_END_DAY
    first = last - dt.timedelta(days=REPORT_DAYS - 1)
    return first.isoformat(), last.isoformat()


class Rest:
    """The stack's /api/v2 with a SimpleAuthManager token (as test/python/airflow_rest.py)."""

    def __init__(self, api: str, user: str, password: str) -> None:
        import httpx

        self.api, self.httpx = api, httpx
        r = httpx.post(f"{api}/auth/token", json={"username": user, "password": password}, timeout=30)
        r.raise_for_status()
        self.headers = {"Authorization": f"Bearer {r.json()['access_token']}"}

    def request(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        r = self.httpx.request(
            method, f"{self.api}/api/v2{path}", headers=self.headers, json=body, params=params, timeout=60
        )
        if r.status_code >= 300:
            raise RuntimeError(f"{method} {path}: HTTP {r.status_code} {r.text[:2000]}")
        return r.json() if r.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, **params)

    def status(self, path: str) -> int:
        return int(self.httpx.get(f"{self.api}/api/v2{path}", headers=self.headers, timeout=30).status_code)

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return list(self.get(f"/dags/{dag_id}/dagRuns", order_by="logical_date", limit=1000)["dag_runs"])

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            page = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=100, offset=len(out))
            out += page["task_instances"]
            if not page["task_instances"] or len(out) >= page["total_entries"]:
                return out


def wait_for(what: str, probe: Callable[[], Any], timeout: float, every: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")
        time.sleep(every)


def _parse_time(s: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00")) if s else None


def task_breakdown(rest: Rest, dag_id: str, run_ids: list[str]) -> dict[str, Any]:
    """Seconds per task id summed over the runs' task instances (every map index, the last try),
    with the count of instances and of tries beyond the first."""
    per: dict[str, dict[str, float]] = {}
    for run_id in run_ids:
        for ti in rest.task_instances(dag_id, run_id):
            t = per.setdefault(ti["task_id"], {"seconds": 0.0, "instances": 0, "retries": 0})
            t["seconds"] += float(ti.get("duration") or 0.0)
            t["instances"] += 1
            t["retries"] += max(0, int(ti.get("try_number") or 1) - 1)
    return {
        k: {"seconds": round(v["seconds"], 1), "instances": int(v["instances"]), "retries": int(v["retries"])}
        for k, v in per.items()
    }


def gates_of(rest: Rest, dag_id: str, run_id: str) -> dict[str, int]:
    """How the one pass gated its days, from ``build_days``' XCom: ``range`` (one dbt build for the
    range) or ``day`` (each day its own build), counted; empty when the XCom cannot be read."""
    try:
        entry = rest.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/build_days/xcomEntries/return_value")
    except RuntimeError:
        return {}
    value = entry.get("value")
    if isinstance(value, str):
        value = json.loads(value)
    counts: dict[str, int] = {}
    for outcome in (value or {}).values():
        gate = str(outcome.get("gate", "unknown"))
        counts[gate] = counts.get(gate, 0) + 1
    return counts


def published(warehouse: Path, first: str, last: str) -> list[list[str]]:
    """The KPI rows fct_daily_metrics holds for the range, as text (exact decimals)."""
    import duckdb

    if not warehouse.exists():
        return []
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select ds, revenue, orders, aov, dau from main.fct_daily_metrics"
            " where ds between ?::date and ?::date order by ds",
            [first, last],
        ).fetchall()
    finally:
        con.close()
    return [[str(v) for v in row] for row in rows]


def source_kpis(conninfo: str, first: str, last: str) -> dict[str, tuple[Decimal, int]]:
    """Revenue and orders per local day straight from the source: the oracle."""
    import psycopg

    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            """
            select (created_at at time zone %(tz)s)::date as ds, coalesce(sum(amount), 0), count(*)
            from app.orders
            where status <> 'cancelled'
              and created_at >= (%(first)s::date)::timestamp at time zone %(tz)s
              and created_at < (%(last)s::date + 1)::timestamp at time zone %(tz)s
            group by 1
            """,
            {"first": first, "last": last, "tz": TIMEZONE},
        ).fetchall()
    return {r[0].isoformat(): (Decimal(r[1]), int(r[2])) for r in rows}


class BackfillBench:
    def __init__(self, scratch: Path, log: Callable[[str], None], orders_per_day: int) -> None:
        self.scratch, self.log, self.orders_per_day = scratch, log, orders_per_day
        self.first, self.last = report_range()
        self.facts: dict[str, Any] = {}

    # -- set-up ------------------------------------------------------------------------------------
    def seed(self) -> None:
        from dagspec_local import postgres

        t = time.monotonic()
        out = subprocess.run(
            ["node", "bin/demo-shop.js", "--database-url", postgres.url(SOURCE_DB),
             "--days", str(SOURCE_DAYS), "--end-day", SOURCE_END_DAY.isoformat(),
             "--orders-per-day", str(self.orders_per_day), "--timezone", TIMEZONE],
            cwd=REPO, capture_output=True, text=True,
        )  # fmt: skip
        if out.returncode != 0:
            raise RuntimeError(f"seeding {SOURCE_DB} failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
        import json

        seeded = json.loads(out.stdout)
        self.facts["source"] = {
            "database": SOURCE_DB,
            "days": SOURCE_DAYS,
            "end_day": SOURCE_END_DAY.isoformat(),
            "orders_per_day": self.orders_per_day,
            "counts": seeded.get("counts"),
            "action": seeded.get("action"),
        }
        self.log(
            f"  source {SOURCE_DB}: {seeded.get('action')} in {time.monotonic() - t:.0f}s, "
            f"{seeded.get('counts')}"
        )

    def compile(self) -> Path:
        generated = self.scratch / "backfill-generated"
        out = subprocess.run(
            ["node", "bin/gen.js", "build", "--out", str(generated)], cwd=REPO, capture_output=True, text=True
        )
        if out.returncode != 0:
            raise RuntimeError(f"gen build failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
        return generated

    def backfill_args(self, *extra: str) -> list[str]:
        """What ``gen airflow backfill [--one-pass]`` runs for the report days (it prints them with
        --print, quoted for a shell)."""
        import shlex

        out = subprocess.run(
            ["node", "bin/gen.js", "airflow", "backfill", PIPELINE, "--from", self.first, "--to", self.last,
             *extra, "--print"],
            cwd=REPO, capture_output=True, text=True,
        )  # fmt: skip
        marker = " -> airflow "
        line = next((x for x in out.stdout.splitlines() if marker in x), None)
        if out.returncode != 0 or line is None:
            raise RuntimeError(
                f"gen airflow backfill {' '.join(extra)} --print failed:\n{out.stdout}\n{out.stderr}"
            )
        return shlex.split(line.split(marker, 1)[1])

    @contextlib.contextmanager
    def stack(self, generated: Path):  # type: ignore[no-untyped-def]
        from dagspec_local import postgres
        from dagspec_local.airflow_env import isolated
        from dagspec_local.native import NativeStack
        from dagspec_local.net import free_port
        from dagspec_local.settings import StackSettings

        home = self.scratch / "backfill-airflow"
        metadata_db = f"dagspec_bench_backfill_airflow_{os.getpid()}"
        password = uuid.uuid4().hex
        settings = StackSettings(
            home=home,
            metadata_db=metadata_db,
            port=free_port(),
            smtp_port=free_port(),
            pagerduty_port=free_port(),
            dags=generated / "dags",
            dbt_root=generated / "dbt",
            source_url=postgres.url(SOURCE_DB),
            timeout=240,
        )
        env = isolated()
        env.update(
            DAGSPEC_STACK_PASSWORD=password,
            # Only the runs the bench starts; the DAGs start unpaused (as in the live tests).
            AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
            AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
            # The warm dbt server a build starts goes ten minutes after the bench, not half an hour.
            DAGSPEC_DBT_WARM="600",
        )
        native = NativeStack(settings, environ=env, say=lambda m: self.log(f"  stack: {m}"))
        self.settings, self.native = settings, native
        try:
            t = time.monotonic()
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                up = native.up()
            if up != 0:
                raise RuntimeError(f"the stack did not come up:\n{printed.getvalue()}")
            up_s = time.monotonic() - t
            self.rest = Rest(settings.url, "admin", password)
            dags = [PIPELINE] + ([ONE_PASS] if self.one_pass_available(generated) else [])
            for dag in dags:
                wait_for(f"the dag-processor to parse {dag}", lambda d=dag: self.parsed(d), 180)
            self.facts["stack"] = {
                "up_s": round(up_s, 1),
                "ready_s": round(time.monotonic() - t, 1),
                "parallelism": settings.parallelism,
                "executor": "LocalExecutor",
            }
            self.log(f"  stack up in {up_s:.1f}s, DAGs parsed after {time.monotonic() - t:.1f}s")
            yield
        finally:
            native.down()
            logs = REPO / "test-artifacts" / "bench" / "backfill-stack-logs"
            shutil.rmtree(logs, ignore_errors=True)
            logs.mkdir(parents=True, exist_ok=True)
            for f in settings.log_dir.glob("*.log"):
                shutil.copy(f, logs / f.name)
            postgres.drop(metadata_db)

    def parsed(self, dag_id: str) -> bool:
        """Whether the DAG is in the API; a DAG file that failed to import (the dags folder holds the
        pipeline's file alone) fails the bench at once."""
        if self.rest.status(f"/dags/{dag_id}") == 200:
            return True
        errors = self.rest.get("/importErrors")["import_errors"]
        if errors:
            raise RuntimeError(f"{errors[0]['filename']} does not import:\n{errors[0]['stack_trace']}")
        return False

    def alerts(self) -> tuple[int, int]:
        """Mails the stack's SMTP stand-in saved and events its PagerDuty stand-in received so far."""
        outbox = self.settings.outbox
        events = self.settings.pagerduty_dir / "events.jsonl"
        mails = len(list(outbox.glob("*.eml"))) if outbox.is_dir() else 0
        return mails, len(events.read_text().splitlines()) if events.exists() else 0

    @staticmethod
    def one_pass_available(generated: Path) -> bool:
        # gen build writes the backfill DAG into the pipeline's own file, after the daily DAG.
        return f'dag_id="{ONE_PASS}"' in (generated / "dags" / f"{PIPELINE}.py").read_text()

    @property
    def warehouse(self) -> Path:
        return self.settings.layout.warehouse_root / f"{PIPELINE}.duckdb"

    def fresh(self) -> None:
        """An empty lake and warehouse and no earlier daily runs: each contender does all the work."""
        for run in self.rest.runs(PIPELINE):
            self.rest.request("DELETE", f"/dags/{PIPELINE}/dagRuns/{run['dag_run_id']}")
        layout = self.settings.layout
        for root in (layout.lake_root, layout.warehouse_root, self.settings.home / "dagspec-artifacts"):
            shutil.rmtree(root, ignore_errors=True)
        layout.make_folders()

    # -- contenders --------------------------------------------------------------------------------
    def todays_way(self, args: list[str]) -> dict[str, Any]:
        before = {b["id"] for b in self.rest.get("/backfills", dag_id=PIPELINE)["backfills"]}
        started = time.monotonic()
        out = self.native.airflow(*args, timeout=300)
        cli_s = time.monotonic() - started
        if out.returncode != 0:
            raise RuntimeError(
                f"airflow {' '.join(args)} failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}"
            )

        def completed() -> dict[str, Any] | None:
            new = [
                b for b in self.rest.get("/backfills", dag_id=PIPELINE)["backfills"] if b["id"] not in before
            ]
            return new[0] if new and new[0]["completed_at"] else None

        backfill = wait_for(f"the backfill of {PIPELINE} to complete", completed, TIMEOUT_S, every=1)
        wall = time.monotonic() - started
        runs = [r for r in self.rest.runs(PIPELINE) if r["run_type"] == "backfill"]
        failed = [(r["dag_run_id"], r["state"]) for r in runs if r["state"] != "success"]
        starts = [_parse_time(r["start_date"]) for r in runs if r["start_date"]]
        ends = [_parse_time(r["end_date"]) for r in runs if r["end_date"]]
        span = (max(ends) - min(starts)).total_seconds() if starts and ends else None  # type: ignore[type-var]
        return {
            "wall_s": round(wall, 1),
            "cli_s": round(cli_s, 1),
            "backfill_span_s": round(
                (_parse_time(backfill["completed_at"]) - _parse_time(backfill["created_at"])).total_seconds(),
                1,  # type: ignore[operator]
            ),
            "runs_span_s": round(span, 1) if span is not None else None,
            "dag_runs": len(runs),
            "failed_runs": failed,
            "tasks": task_breakdown(self.rest, PIPELINE, [r["dag_run_id"] for r in runs]),
        }

    def one_pass(self, args: list[str]) -> dict[str, Any]:
        before = {r["dag_run_id"] for r in self.rest.runs(ONE_PASS)}
        started = time.monotonic()
        out = self.native.airflow(*args, timeout=300)
        cli_s = time.monotonic() - started
        if out.returncode != 0:
            raise RuntimeError(
                f"airflow {shlex_join(args)} failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}"
            )

        def ended() -> dict[str, Any] | None:
            new = [r for r in self.rest.runs(ONE_PASS) if r["dag_run_id"] not in before]
            return new[0] if new and new[0]["state"] in ("success", "failed") else None

        run = wait_for(f"the {ONE_PASS} run to end", ended, TIMEOUT_S, every=1)
        wall = time.monotonic() - started
        run_id = run["dag_run_id"]
        span = None
        if run["start_date"] and run["end_date"]:
            span = (_parse_time(run["end_date"]) - _parse_time(run["start_date"])).total_seconds()  # type: ignore[operator]
        return {
            "wall_s": round(wall, 1),
            "cli_s": round(cli_s, 1),
            "runs_span_s": round(span, 1) if span is not None else None,
            "dag_runs": 1,
            "failed_runs": [] if run["state"] == "success" else [(run_id, run["state"])],
            "tasks": task_breakdown(self.rest, ONE_PASS, [run_id]),
            "gates": gates_of(self.rest, ONE_PASS, run_id),
        }

    # -- the section -------------------------------------------------------------------------------
    def run(self, reps: int) -> dict[str, Any]:
        self.log(f"\nbackfill: report days {self.first}..{self.last} of the seed pipeline in a local stack")
        self.seed()
        t = time.monotonic()
        generated = self.compile()
        self.log(f"  gen build into scratch in {time.monotonic() - t:.1f}s")
        available = self.one_pass_available(generated)
        args = {TODAY: self.backfill_args(), ONE: self.backfill_args("--one-pass") if available else []}
        gen = f"node bin/gen.js airflow backfill {PIPELINE} --from {self.first} --to {self.last}"
        shown = {
            TODAY: f"{gen} (runs: airflow {shlex_join(args[TODAY])})",
            ONE: f"{gen} --one-pass (runs: airflow {shlex_join(args[ONE])})"
            if available
            else f"{gen} --one-pass",
        }
        samples: dict[str, list[dict[str, Any]]] = {TODAY: [], ONE: []}
        with self.stack(generated):
            from dagspec_local import postgres

            oracle = source_kpis(postgres.conninfo(SOURCE_DB), self.first, self.last)
            # One pass first in the first round: it pays the warm dbt server's start, not today's way.
            names = [ONE, TODAY] if available else [TODAY]
            for rep in range(reps):
                order = names[rep % len(names) :] + names[: rep % len(names)]
                for name in order:
                    self.fresh()
                    sent = self.alerts()
                    sample = self.todays_way(args[TODAY]) if name == TODAY else self.one_pass(args[ONE])
                    # What the contender e-mailed and paged: a backfill of past days should do neither.
                    sample["emails"], sample["pages"] = (
                        a - b for a, b in zip(self.alerts(), sent, strict=True)
                    )
                    sample["kpis"] = published(self.warehouse, self.first, self.last)
                    sample["matches_source"] = _matches(sample["kpis"], oracle)
                    samples[name].append(sample)
                    self.log(
                        f"  [{rep + 1}/{reps}] {name:<40} wall {sample['wall_s']:7.1f}s  "
                        f"{len(sample['kpis'])} KPI rows, matches source: {sample['matches_source']}"
                        + (f"  FAILED RUNS {sample['failed_runs']}" if sample["failed_runs"] else "")
                    )
        results = []
        for name in (TODAY, ONE):
            rs = samples[name]
            if not rs:
                results.append({"name": name, "command": shown[name], "available": False,
                                "reason": f"not available (no {ONE_PASS} DAG)"})  # fmt: skip
                continue
            walls = [r["wall_s"] for r in rs]
            tasks: dict[str, dict[str, float]] = {}
            for task, v in rs[-1]["tasks"].items():
                tasks[task] = {
                    **v,
                    "seconds": round(
                        statistics.median(r["tasks"].get(task, {}).get("seconds", 0) for r in rs), 1
                    ),
                }
            results.append(
                {
                    "name": name,
                    "command": shown[name],
                    "available": True,
                    "runs": len(rs),
                    "median_s": round(statistics.median(walls), 1),
                    "min_s": round(min(walls), 1),
                    "samples_s": walls,
                    "runs_span_median_s": _median(r.get("runs_span_s") for r in rs),
                    "backfill_span_median_s": _median(r.get("backfill_span_s") for r in rs),
                    "cli_median_s": _median(r.get("cli_s") for r in rs),
                    "dag_runs": rs[-1]["dag_runs"],
                    "failed_runs": [f for r in rs for f in r["failed_runs"]],
                    "task_seconds_median": round(sum(v["seconds"] for v in tasks.values()), 1),
                    "tasks": tasks,
                    "kpi_rows": len(rs[-1]["kpis"]),
                    "emails": sum(r["emails"] for r in rs),
                    # Tries beyond the first, every task of every run: a retry waits retry_delay (5 min).
                    "retries": sum(t["retries"] for r in rs for t in r["tasks"].values()),
                    "pages": sum(r["pages"] for r in rs),
                    "kpis": rs[-1]["kpis"],
                    "matches_source": all(r["matches_source"] for r in rs),
                    "same_kpis_every_run": all(r["kpis"] == rs[0]["kpis"] for r in rs),
                    "gates": [r.get("gates") for r in rs if "gates" in r],
                }
            )
        done = [r for r in results if r["available"]]
        same = None
        if len(done) == 2:
            same = (
                done[0]["kpis"] == done[1]["kpis"]
                and done[0]["same_kpis_every_run"]
                and done[1]["same_kpis_every_run"]
            )
            if not same:
                self.log(
                    "\n  !!! MISMATCH: the two contenders published different KPI rows for the same days !!!"
                )
                for a, b in zip(done[0]["kpis"], done[1]["kpis"], strict=False):
                    if a != b:
                        self.log(f"    {TODAY}: {a}\n    {ONE}: {b}")
        for r in done:
            if (
                r["failed_runs"]
                or not r["matches_source"]
                or r["kpi_rows"] != REPORT_DAYS
                or r["emails"]
                or r["pages"]
                or r["retries"]
            ):
                self.log(
                    f"\n  !!! {r['name']}: failed runs {r['failed_runs']}, {r['kpi_rows']} of {REPORT_DAYS} "
                    f"KPI rows, matches source: {r['matches_source']}, {r['emails']} e-mail(s), "
                    f"{r['pages']} page(s), {r['retries']} retried task(s) (retry delays are in the time) "
                    "!!!"
                )
        return {
            "first_day": self.first,
            "last_day": self.last,
            "days": REPORT_DAYS,
            **self.facts,
            "same_kpis": same,
            "contenders": results,
        }


def shlex_join(args: list[str]) -> str:
    import shlex

    return shlex.join(args)


def _median(values: Any) -> float | None:
    vs = [v for v in values if v is not None]
    return round(statistics.median(vs), 1) if vs else None


def _matches(kpis: list[list[str]], oracle: dict[str, tuple[Decimal, int]]) -> bool:
    """Every day of the range published once, with the source's revenue and order count."""
    got = {row[0]: (Decimal(row[1]), int(row[2])) for row in kpis}
    return (
        len(kpis) == REPORT_DAYS
        and all(got.get(day) == want for day, want in oracle.items())
        and len(oracle) == REPORT_DAYS
    )


def backfill_section(
    reps: int, scratch: Path, log: Callable[[str], None], orders_per_day: int
) -> dict[str, Any]:
    return BackfillBench(scratch, log, orders_per_day).run(reps)


def render(b: dict[str, Any]) -> list[str]:
    """The markdown of the section (run.py's render)."""
    st = b.get("stack", {})
    src = b.get("source", {})
    counts = src.get("counts") or {}
    lines = [
        f"## Backfill of {b['days']} report days ({b['first_day']}..{b['last_day']}) in a local stack",
        "",
        f"Seed pipeline on a demo_shop source of {src.get('days')} days "
        f"({src.get('orders_per_day'):,} orders a day; "
        f"{', '.join(f'{k} {v:,}' for k, v in counts.items() if isinstance(v, int))}), "
        "DuckDB warehouse, local lake; "
        f"native stack ({st.get('executor')}, parallelism {st.get('parallelism')}); "
        "lake and warehouse emptied "
        "before each contender. Wall: from the command until Airflow says it is done. Stack start-up "
        f"(not in either): {st.get('up_s')} s up, {st.get('ready_s')} s until the DAGs were parsed.",
        "",
        "| contender | runs | median wall s | min s | runs' span s | DAG runs | task s (sum) | KPI rows "
        "| matches source | failed runs | retries | emails / pages |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---|",
    ]
    for c in b["contenders"]:
        if not c["available"]:
            lines.append(f"| {c['name']} | 0 | {c['reason']} | | | | | | | | | |")
            continue
        lines.append(
            f"| {c['name']} | {c['runs']} | {c['median_s']:.1f} | {c['min_s']:.1f} "
            f"| {c['runs_span_median_s']} "
            f"| {c['dag_runs']} | {c['task_seconds_median']:.1f} | {c['kpi_rows']} "
            f"| {'yes' if c['matches_source'] else '**no**'} | {len(c['failed_runs']) or 'none'} "
            f"| {c.get('retries', 'n/a')} | {c.get('emails', 'n/a')} / {c.get('pages', 'n/a')} |"
        )
    same = {True: "yes", False: "**NO: MISMATCH**", None: "n/a (one contender)"}[b["same_kpis"]]
    lines += ["", f"Both published the same KPI rows: {same}.", ""]
    for c in b["contenders"]:
        if c.get("gates"):
            per_run = [
                ", ".join(f"{n} day(s) by {k}" for k, n in sorted(g.items())) or "unknown" for g in c["gates"]
            ]
            lines += [
                f"How {c['name']} gated its days (range: one dbt build for the range): {'; '.join(per_run)}.",
                "",
            ]
    done = [c for c in b["contenders"] if c["available"]]
    task_ids = list(dict.fromkeys(t for c in done for t in c["tasks"]))
    if task_ids:
        lines += [
            "Task seconds per task id (task instances' durations summed, median over runs; instances):",
            "",
            "| task | " + " | ".join(c["name"] for c in done) + " |",
            "|---|" + "---:|" * len(done),
        ]
        for t in task_ids:
            cells = []
            for c in done:
                v = c["tasks"].get(t)
                cells.append(f"{v['seconds']:.1f} ({v['instances']})" if v else "")
            lines.append(f"| {t} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["Commands:", ""] + [f"- {c['name']}: `{c['command']}`" for c in b["contenders"]] + [""]
    return lines


def target(b: dict[str, Any]) -> str:
    cs = {c["name"]: c for c in b["contenders"]}
    today, one = cs[TODAY], cs[ONE]
    if not one["available"]:
        return (
            f"{b['days']}-day backfill: today's way {today['median_s']:.1f} s; one pass {one['reason']} "
            "(target <= 1/4 of today's time): not measured"
        )
    ratio = one["median_s"] / today["median_s"]
    ok = ratio <= 0.25 and b["same_kpis"] and one["matches_source"] and not one["failed_runs"]
    return (
        f"{b['days']}-day backfill, one pass / today's way: "
        f"{one['median_s']:.1f} / {today['median_s']:.1f} s "
        f"= {ratio:.2f} (target <= 0.25, same KPIs: {'yes' if b['same_kpis'] else 'no'}): "
        f"{'met' if ok else 'missed'}"
    )
