"""The process that runs one ``dbt build`` for ``dbt_runner.run_build``: a script run by dbt's own
Python, importing nothing but dbt and the standard library (so a dbt installed in another
environment, ``DAGSPEC_DBT_BIN``, works the same).

Why not the ``dbt`` command: it parses the project on every invocation, and the parse never reuses
an earlier one because the report day is a CLI var (dbt hashes ``--vars`` into its parse state).
Here the parse runs without vars, reusing the saved parse of this project (``partial_parse.msgpack``
from the parse cache) after dbt's own checks (dbt version, file hashes, profile, env vars), and the
build gets that manifest through dbt's programmatic runner with the day as its var. The parse does
not depend on the day: model SQL is rendered at run time, and the generated tests' ``where`` holds a
placeholder that the project's ``get_where_subquery`` macro replaces with the day at run time.

Dying with the task: the first thing this process does is ask the kernel for SIGKILL when its
parent (the task) dies (``PR_SET_PDEATHSIG``), then checks that the parent is still the one that
started it (it may have died before the request). A leftover of a killed task also cannot overlap
the next build: on DuckDB it inherits the lease lock's descriptor from the task, on PostgreSQL it
holds the lease's advisory lock in its own session (``DAGSPEC_DBT_LEASE_PG_KEY``) until it exits.

Usage: ``python dbt_child.py '<json>'`` (see ``dbt_runner.run_build``); exit status as dbt's
(0 success, 1 failing nodes, 2 error). ``dbt_server`` (the warm server) runs the same steps
(``parse``, ``build``) in a process forked from one that has dbt imported already.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from typing import Any

TIMING = "dagspec-dbt-timing "

# Run as a script, Python puts this file's folder (the dagspec_runtime package) first on sys.path,
# which makes its siblings importable as top-level modules. dbt's plugin discovery imports every
# top-level module named ``dbt_*``: ``dbt_runner`` then imports Airflow, whose settings fail in a
# worker container (no metadata database URL) and cost seconds of start-up everywhere else.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0) != 0:
            print(f"dagspec: prctl(PR_SET_PDEATHSIG) failed: errno {ctypes.get_errno()}", flush=True)
    if os.getppid() != parent:  # the task died before the request took effect
        print("dagspec: the task that started this dbt build is gone; not building", flush=True)
        os._exit(2)


def pg_lease(key: int) -> object:
    """Hold the PostgreSQL lease (a session advisory lock) for this process's lifetime."""
    import psycopg2  # dbt-postgres's driver

    conn = psycopg2.connect(
        host=os.environ.get("DAGSPEC_PG_HOST", "127.0.0.1"),
        port=int(os.environ.get("DAGSPEC_PG_PORT", "5432")),
        user=os.environ.get("DAGSPEC_PG_USER", "postgres"),
        password=os.environ.get("DAGSPEC_PG_PASSWORD", ""),
        dbname=os.environ.get("DAGSPEC_PG_DBNAME", "postgres"),
        application_name=os.environ.get("DAGSPEC_DBT_APPLICATION_NAME", "dbt")[:50] + " lease",
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", (key,))
    return conn


def _publish_parse(target_path: str, cache: str) -> None:
    """dbt wrote ``partial_parse.msgpack`` only if it parsed (no usable cache): keep it for the next
    build. Replaced atomically, so a concurrent build reads the old file or the new one."""
    written = os.path.join(target_path, "partial_parse.msgpack")
    if not os.path.isfile(written):
        return
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    tmp = f"{cache}.{os.getpid()}.tmp"
    with open(written, "rb") as src, open(tmp, "wb") as dst:
        dst.write(src.read())
    os.replace(tmp, cache)
    print(f"dagspec: saved this project's parse for the next builds: {cache}", flush=True)


def common_args(args: dict[str, Any]) -> list[str]:
    return [
        "--project-dir", args["project_dir"],
        "--profiles-dir", args["profiles_dir"],
        "--target", args["target"],
        "--target-path", args["target_path"],
        "--log-path", args["log_path"],
    ]  # fmt: skip


def parse(args: dict[str, Any]) -> Any:
    """The project's manifest, from the saved parse when dbt finds it still valid (else a full parse,
    then saved for the next builds); ``None`` when the parse failed (dbt said why on stdout)."""
    from dbt.cli.main import dbtRunner

    cache = args.get("parse_cache")
    # The build writes manifest.json (with compiled nodes); the parse's own copy would be overwritten.
    command = ["parse", *common_args(args), "--no-write-json"]
    if not cache:
        command.append("--no-partial-parse")  # a full parse, every time
    elif os.path.isfile(cache):
        command += ["--partial-parse-file-path", cache]
    parsed = dbtRunner().invoke(command)
    if not parsed.success:
        print(f"dagspec: dbt parse failed: {parsed.exception or 'see above'}", flush=True)
        return None
    if cache:
        _publish_parse(args["target_path"], cache)
    return parsed.result


def build(args: dict[str, Any], manifest: Any) -> int:
    """``dbt build`` of the parsed project for the day; exit status as dbt's."""
    from dbt.cli.main import dbtRunner

    built = dbtRunner(manifest=manifest).invoke(
        ["build", *common_args(args), "--vars", json.dumps(args["vars"]), *args.get("extra_args", [])]
    )
    if built.success:
        return 0
    if built.exception is not None:
        print(f"dagspec: dbt build raised: {built.exception}", flush=True)
        return 2
    return 1


def print_timing(**seconds: float | bool) -> None:
    """The split of the run for ``dbt_runner`` (a line it takes out of the log)."""
    rounded = {k: round(v, 3) if isinstance(v, float) else v for k, v in seconds.items()}
    print(TIMING + json.dumps(rounded), flush=True)


def main(argv: list[str]) -> int:
    args = json.loads(argv[1])
    _die_with_parent(int(args["parent_pid"]))
    lease = pg_lease(int(args["pg_lease_key"])) if args.get("pg_lease_key") is not None else None
    started = time.perf_counter()
    import dbt.cli.main  # noqa: F401  (timed: what a warm process has done already)

    imported = time.perf_counter()
    manifest = parse(args)
    if manifest is None:
        return 2
    loaded = time.perf_counter()
    code = build(args, manifest)
    print_timing(import_s=imported - started, parse_s=loaded - imported, build_s=time.perf_counter() - loaded)
    del lease  # held until here
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
