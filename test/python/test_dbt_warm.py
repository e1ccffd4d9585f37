"""The warm dbt server (issue 11, target 2: dbt_build without dbt's start-up on every build).

Real processes throughout: ``run_build`` starts the server (``dbt_server.py`` with dbt's Python) or
reuses the one running, and the build runs in a process the server forks. What is held to account:
a warm build builds and gates exactly what a build in a new process does, pays neither the import
nor the parse, runs nothing for another user, falls back to a new process when the server cannot
take the build, and the server goes away when idle. A warm build killed with its task: the warm
cases of ``test_dbt_kill.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dagspec_runtime import adapters, dbt_warm
from dagspec_runtime.dbt_runner import BuildResult, _python_of, parse_results, run_build
from runtime_fixture import ORDERS, order_rows, pipeline, write_dbt_project, write_partition

DAY = date(2024, 3, 9)
BAD_DAY = date(2024, 3, 10)  # a negative amount: the gate fails
DBT = Path(sys.executable).with_name("dbt")
SERVER = Path(dbt_warm.__file__).with_name("dbt_server.py")


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Path]:
    monkeypatch.setenv("DAGSPEC_LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("DAGSPEC_WAREHOUSE_ROOT", str(tmp_path / "warehouse"))
    project = write_dbt_project(tmp_path / "dbt")
    (tmp_path / "warehouse").mkdir()
    p = pipeline()
    write_partition(adapters.open_lake(p), ORDERS, DAY.isoformat(), order_rows(DAY, [10, 20, 30]))
    write_partition(adapters.open_lake(p), ORDERS, BAD_DAY.isoformat(), order_rows(BAD_DAY, [10, -5]))
    return p, project


def _build(
    p: Any, project: Path, work: Path, *, warm: float, db: Path | None = None, day: date = BAD_DAY
) -> BuildResult:
    env = adapters.dbt_env(p)
    if db is not None:
        env = {**env, "DAGSPEC_DUCKDB_PATH": str(db)}
    return run_build(
        dbt_bin=str(DBT),
        project_dir=str(project),
        target="duckdb",
        ds=day.isoformat(),
        work_dir=str(work),
        env=env,
        parse_cache_root=str(work.parent / "parse"),
        warm=warm,
    )


def _verdict(result: BuildResult, day: date = BAD_DAY) -> dict[str, Any]:
    try:
        summary = parse_results(result, ds=day.isoformat())
    except Exception as exc:
        summary = getattr(exc, "summary", None) or {"error": str(exc)}
    return {k: summary.get(k) for k in ("status", "counts", "failures", "warnings", "skipped")}


def _rows(db: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute("SELECT * FROM audit.fct_daily_metrics ORDER BY ALL").fetchall()


def test_a_warm_build_gates_as_a_new_process_does_without_its_start_up(
    setup: tuple[Any, Path], tmp_path: Path
) -> None:
    p, project = setup
    cold_db, warm_db = tmp_path / "cold.duckdb", tmp_path / "warm.duckdb"
    for n, day in enumerate((DAY, BAD_DAY)):
        cold = _build(p, project, tmp_path / f"w-cold{n}", warm=0, db=cold_db, day=day)
        assert "warm" not in cold.timing and cold.timing["import_s"] > 0, cold.timing
        warm = _build(p, project, tmp_path / f"w-warm{n}", warm=240, db=warm_db, day=day)
        assert warm.timing.get("warm") is True and warm.timing["import_s"] == 0, warm.timing
        assert _verdict(warm, day) == _verdict(cold, day)
    assert _verdict(cold, BAD_DAY)["status"] == "failed"
    # The second warm build found the project parsed in the server: nothing was parsed for it.
    assert warm.timing["parse_s"] == 0, warm.timing
    assert not any("parse" in line.lower() for line in warm.log_tail), warm.log_tail
    assert _rows(warm_db) == _rows(cold_db) != []


def test_the_server_runs_nothing_for_another_user(setup: tuple[Any, Path], tmp_path: Path) -> None:
    if os.getuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to send a request as another user")
    p, project = setup
    _build(p, project, tmp_path / "w0", warm=240)  # the server is up
    name = dbt_warm.server_name(_python_of(str(DBT)))
    target = tmp_path / "intruder"
    target.mkdir(mode=0o777)
    request = {
        "args": {"project_dir": str(project), "target_path": str(target), "parse_cache": None},
        "env": {},
        "cwd": str(target),
    }
    intruder = textwrap.dedent(f"""
        import json, os, socket
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        conn.connect("\\0" + {name!r})
        read, write = os.pipe()
        socket.send_fds(conn, [{json.dumps(request).encode()!r}], [write])
        os.close(write)
        print(repr(os.read(read, 65536)), flush=True)
    """)
    done = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", intruder],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # It reached the server (connected, sent) and got its pipe closed with nothing run.
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "b''", done.stdout
    assert list(target.iterdir()) == []


def test_a_build_the_server_cannot_take_runs_in_a_new_process(
    setup: tuple[Any, Path], tmp_path: Path
) -> None:
    """dbt reinstalled under a running server: it stops rather than serve the old dbt, the build goes
    to a new process, and the next build starts a new server."""
    p, project = setup
    _build(p, project, tmp_path / "w0", warm=240)
    import dbt.version

    version = Path(dbt.version.__file__)
    stat = version.stat()
    os.utime(version, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    try:
        fallen_back = _build(p, project, tmp_path / "w1", warm=240)
    finally:
        os.utime(version, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert "warm" not in fallen_back.timing and fallen_back.returncode == 1, fallen_back.timing
    assert _verdict(fallen_back)["status"] == "failed"
    again = _build(p, project, tmp_path / "w2", warm=240)
    assert again.timing.get("warm") is True, again.timing


def test_the_server_exits_when_idle(tmp_path: Path) -> None:
    name = f"dagspec-dbt-warm-test/{os.getpid()}/{time.time_ns()}"
    python = _python_of(str(DBT))
    started = subprocess.run(
        [python, str(SERVER), name, "2"], capture_output=True, text=True, timeout=120, check=True
    )
    assert started.stdout.strip() == "ready", started
    again = subprocess.run(
        [python, str(SERVER), name, "2"], capture_output=True, text=True, timeout=120, check=True
    )
    assert again.stdout.strip() == "taken", again  # one server per name

    def answers() -> bool:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            conn.connect("\0" + name)
            return True
        except OSError:
            return False
        finally:
            conn.close()

    assert answers()
    deadline = time.monotonic() + 30
    while answers() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not answers(), "the idle server is still there after 30 s (idle timeout 2 s)"


def test_a_warm_build_longer_than_the_request_timeout_runs_to_its_end(
    setup: tuple[Any, Path], tmp_path: Path
) -> None:
    """The server waits 10 s at most for a request; the build it forks must not inherit that limit
    on the task's connection (its end of which it watches for the task's death): a model here
    reads a FIFO the test fills 11 s after dbt opened it."""
    p, project = setup
    fifo = tmp_path / "rows.fifo"
    os.mkfifo(fifo)
    (project / "models" / "waits.sql").write_text(
        "{{ config(materialized='table') }}\n"
        f"select * from read_csv('{fifo}', columns = {{'n': 'INTEGER'}}, header = false,"
        " auto_detect = false)\n"
    )
    results: list[BuildResult] = []
    builder = threading.Thread(
        target=lambda: results.append(_build(p, project, tmp_path / "w", warm=240, day=DAY)), daemon=True
    )
    builder.start()
    deadline = time.monotonic() + 120
    while True:  # until dbt has opened the FIFO for reading
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError:
            assert time.monotonic() < deadline and builder.is_alive(), "the build never read the FIFO"
            time.sleep(0.2)
    time.sleep(11)  # the forked build has now run for longer than the server's request timeout
    os.write(fd, b"1\n2\n")
    os.close(fd)
    builder.join(120)
    assert results, "the build did not finish"
    assert results[0].timing.get("warm") is True, results[0].timing
    assert results[0].returncode == 0, "\n".join(results[0].log_tail)
    with duckdb.connect(adapters.open_warehouse(p).path, read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM audit.waits").fetchone() == (2,)
