"""A task killed with SIGKILL in the middle of ``dbt build``: its dbt goes with it, and the next
build of the day (a retry) proceeds and passes. Issue 10, "a killed worker leaves dbt running".

Real processes throughout: the task is a Python process running ``tasks.dbt_build`` exactly as a
worker does, its dbt a real dbt process building into a real DuckDB file or PostgreSQL database. The
fixture project gets one extra model that runs for minutes when asked to (``DAGSPEC_TEST_SLOW``),
so the kill lands while dbt is busy in the warehouse.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import IO

import pytest

from dagspec_runtime import adapters, tasks
from runtime_fixture import ORDERS, context_for, order_rows, pipeline, write_dbt_project, write_partition

DAY = date(2024, 3, 9)
HERE = Path(__file__).resolve().parent

# The task process: tasks.dbt_build for one day, its log on stdout.
_TASK = f"""
import json, logging, sys
sys.path.insert(0, {str(HERE)!r})
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
from datetime import date
from dagspec_runtime import tasks
from runtime_fixture import context_for, pipeline
p = pipeline(warehouse=sys.argv[1], alerts={{"pagerduty_conn_id": None, "engineers": []}})
summary = tasks.dbt_build(p, context_for(date.fromisoformat(sys.argv[2])))
print("SUMMARY " + json.dumps(summary), flush=True)
"""

_SLOW = {
    # Seconds of CPU per row pair: far longer than the test waits, unless DAGSPEC_TEST_SLOW is 1.
    "duckdb": "{{ config(materialized='table') }}\n"
    "select count(*) as n from range({{ env_var('DAGSPEC_TEST_SLOW', '1') }}) a(i), "
    "range({{ env_var('DAGSPEC_TEST_SLOW', '1') }}) b(j) where (a.i * b.j) % 7 = 3\n",
    "postgres": "{{ config(materialized='table') }}\n"
    "select 1 as n from pg_sleep({{ env_var('DAGSPEC_TEST_SLOW', '1') }} - 1)\n",
}
_FOREVER = {"duckdb": "1000000000", "postgres": "3600"}


class Task:
    """One task process; its output is collected by a thread so the pipe never fills."""

    def __init__(self, warehouse: str, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _TASK, warehouse, DAY.isoformat()],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        assert self.proc.stdout is not None
        self._reader = threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def wait_for_line(self, pred: Callable[[str], bool], timeout: float = 240) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if pred(line):
                    return line
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.1)
        raise AssertionError("expected line not seen; task output:\n" + "\n".join(self.lines[-80:]))

    def finish(self, timeout: float = 300) -> int:
        code = self.proc.wait(timeout=timeout)
        self._reader.join(10)
        return code


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.fixture(params=["warm", "cold"])
def project(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project built by a process forked by the warm dbt server, or by a new dbt process."""
    monkeypatch.setenv("DAGSPEC_DBT_WARM", "240" if request.param == "warm" else "off")
    monkeypatch.setenv("DAGSPEC_LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("DAGSPEC_WAREHOUSE_ROOT", str(tmp_path / "warehouse"))
    monkeypatch.setenv("DAGSPEC_DBT_ROOT", str(tmp_path / "dbt"))
    monkeypatch.setenv("DAGSPEC_ARTIFACTS_ROOT", str(tmp_path / "artifacts"))
    monkeypatch.setenv("DAGSPEC_DBT_PARSE_CACHE", str(tmp_path / "parse"))
    write_dbt_project(tmp_path / "dbt")
    yield tmp_path / "dbt" / "fixture_pipeline"


def _kill_mid_build_then_retry(warehouse: str, project: Path) -> tuple[int, Task]:
    """Task 1 runs the slow model; task 2 (the retry) starts and queues; task 1 is SIGKILLed.
    Returns task 1's dbt pid and the finished retry."""
    (project / "models" / "slow.sql").write_text(_SLOW[warehouse])
    env = {k: v for k, v in os.environ.items() if k != "DAGSPEC_TEST_SLOW"}
    first = Task(warehouse, {**env, "DAGSPEC_TEST_SLOW": _FOREVER[warehouse]})
    started: list[Task] = [first]
    try:
        pid_line = first.wait_for_line(lambda s: "dbt runs as pid " in s)
        match = re.search(r"dbt runs as pid (\d+)", pid_line)
        warm = os.environ["DAGSPEC_DBT_WARM"] != "off"
        assert ("forked by the warm dbt server" in pid_line) == warm, pid_line
        assert match
        dbt_pid = int(match.group(1))
        first.wait_for_line(lambda s: "START" in s and ".slow" in s)
        time.sleep(1.0)  # the slow statement is running in the warehouse now
        retry = Task(warehouse, {**env, "DAGSPEC_TEST_SLOW": "1"})
        started.append(retry)
        retry.wait_for_line(lambda s: "waiting for the" in s)  # queued behind the running build
        assert _alive(dbt_pid)

        os.kill(first.proc.pid, signal.SIGKILL)
        assert first.finish(30) == -signal.SIGKILL
        deadline = time.monotonic() + 10
        while _alive(dbt_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(dbt_pid), f"dbt (pid {dbt_pid}) outlived its killed task"

        assert retry.finish() == 0, "\n".join(retry.lines[-60:])
        return dbt_pid, retry
    finally:
        for task in started:  # a failed assertion leaves no task behind (their dbt goes with them)
            if task.proc.poll() is None:
                task.proc.kill()
                task.proc.wait(30)


def _summary(task: Task) -> dict[str, object]:
    line = task.wait_for_line(lambda s: s.startswith("SUMMARY "), timeout=5)
    return json.loads(line[len("SUMMARY ") :])


def test_killed_task_takes_its_dbt_along_duckdb(project: Path) -> None:
    p = pipeline()
    write_partition(adapters.open_lake(p), ORDERS, DAY.isoformat(), order_rows(DAY, [10, 20, 30]))
    _, retry = _kill_mid_build_then_retry("duckdb", project)
    summary = _summary(retry)
    assert summary["status"] == "passed" and summary["counts"]["model:success"] == 3
    # What the retry built is what is published: the gate holds the retry's verdict.
    assert tasks.publish_tables(p, context_for(DAY))["fct_daily_metrics"]["rows"] == 1


def test_killed_task_takes_its_dbt_along_postgres(
    project: Path, make_db: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    conninfo = make_db("dbtkill")
    dbname = conninfo_to_dict(conninfo)["dbname"]
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_DB", f"postgresql://postgres@127.0.0.1:5432/{dbname}")
    p = pipeline(warehouse="postgres", alerts={"pagerduty_conn_id": None, "engineers": []})
    write_partition(adapters.open_lake(p), ORDERS, DAY.isoformat(), order_rows(DAY, [10, 20, 30]))
    tasks.load_raw(p, context_for(DAY))

    _, retry = _kill_mid_build_then_retry("postgres", project)
    assert _summary(retry)["status"] == "passed"
    with psycopg.connect(conninfo) as conn:
        left = conn.execute(
            "SELECT pid, application_name, query FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND (query ILIKE '%%pg_sleep%%' OR application_name LIKE 'dagspec-dbt%%')"
        ).fetchall()
    assert left == [], f"sessions of the killed build are still in the warehouse: {left}"
    assert tasks.publish_tables(p, context_for(DAY))["fct_daily_metrics"]["rows"] == 1


def test_a_leftover_dbt_holds_off_the_next_build(project: Path) -> None:
    """Should a dbt outlive its task anyway (its kill failed), the lease it inherited keeps the next
    build out until it is gone: here a process holding the lease as a dbt would, for 8 seconds."""
    p = pipeline()
    write_partition(adapters.open_lake(p), ORDERS, DAY.isoformat(), order_rows(DAY, [10, 20, 30]))
    warehouse = adapters.open_warehouse(p)
    with warehouse.exclusive("a task"), warehouse.dbt_lease("a task") as lease:
        leftover = subprocess.Popen(["sleep", "8"], pass_fds=lease.fds)
    # The task is gone (its locks closed); its "dbt" is not.
    started = time.monotonic()
    summary = tasks.dbt_build(p, context_for(DAY))
    assert leftover.poll() == 0, "the build ran while the leftover held the lease"
    assert summary["status"] == "passed" and time.monotonic() - started >= 5
