"""Run one ``dbt build`` (models and tests in graph order) and turn its results into a gate verdict.

One invocation per run, not one per model. dbt runs in a child process (``dbt_child``, with dbt's
own Python) that:

- dies with its task: the kernel kills it when the task process dies, even by SIGKILL
  (``PR_SET_PDEATHSIG``), and every other way out of ``run_build`` (an exception, a timeout, the
  task being stopped) kills its process group here;
- is fenced: a leftover of a killed task holds the warehouse's dbt lease (``Warehouse.dbt_lease``)
  until it is gone, and the next build of the pipeline waits for it;
- does not pay dbt's start-up on every build: by default it is forked by the warm dbt server
  (``dbt_server``, through ``dbt_warm``), a process that has imported dbt and holds the project's
  parse, so a build runs only the nodes (``DAGSPEC_DBT_WARM=off``: a new process every build);
- does not pay a full parse every day: the project is parsed once (the first build after a deploy)
  and the saved parse (``partial_parse.msgpack``, checked by dbt against the files, profile and
  env vars) is reused by every later build, the day going in as a var of the build alone
  (``dbt_child`` says how). Each build still gets a fresh target directory of its own, so parallel
  backfill runs share nothing mutable; the cache is only ever replaced whole.

The verdict comes from ``run_results.json``, not from dbt's exit code alone: a test with severity
``error`` reports ``fail`` (or ``error`` when its SQL broke), with severity ``warn`` it reports
``warn``; models report ``error``; nodes downstream of a failure are ``skipped``.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow.sdk.exceptions import AirflowException, AirflowFailException

from dagspec_runtime import dbt_warm
from dagspec_runtime.dbt_args import build_args, build_vars
from dagspec_runtime.gate import GateNode, GateSummary
from dagspec_runtime.warehouse import Lease

__all__ = [
    "BuildResult",
    "GateFailed",
    "GateTestsFailed",
    "Lease",
    "RangeNotClean",
    "build_args",
    "build_vars",
    "parse_range_results",
    "parse_results",
    "run_build",
]

log = logging.getLogger(__name__)

_TAIL_LINES = 60
# dbt must not phone home or check versions from a worker that has no internet.
_QUIET_ENV = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DO_NOT_TRACK": "1",
    "DBT_VERSION_CHECK": "false",
    "DBT_USE_COLORS": "false",
    "DBT_PRINTER_WIDTH": "120",
}


class GateFailed(AirflowException):
    """Error-severity tests failed or models errored: nothing downstream may publish.

    ``gate_failures`` (a list of ``{node, kind, status, failures, message}``) is read by the
    failure alert to name the failing tests.
    """

    def __init__(self, message: str, gate_failures: list[GateNode], summary: GateSummary) -> None:
        super().__init__(message)
        self.gate_failures = gate_failures
        self.summary = summary


class GateTestsFailed(GateFailed, AirflowFailException):
    """Only data tests failed (every model built): the same data fails the same way, so Airflow does
    not retry; the failure alert goes out at once instead of after the retry delays. Node errors
    (``GateFailed`` alone) may be transient, such as a dropped connection, and are retried.
    """


class RangeNotClean(Exception):
    """A build of a range of days failed, warned or skipped a node: the range's results cannot say
    which day it was, so each day is to be gated by its own build. ``reasons`` names the nodes."""

    def __init__(self, span: str, reasons: list[str]) -> None:
        super().__init__(f"the build of ds={span} was not clean: " + "; ".join(reasons))
        self.reasons = reasons


@dataclass
class BuildResult:
    returncode: int
    run_results: dict[str, Any] | None
    manifest: dict[str, Any] | None
    target_dir: str
    log_tail: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # The child's own split of ``seconds``: dbt import, parse (or reuse), build.
    timing: dict[str, float] = field(default_factory=dict)


_CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dbt_child.py")
_TIMING = "dagspec-dbt-timing "
_KILL_GRACE_SECONDS = 10.0


def run_build(
    *,
    dbt_bin: str,
    project_dir: str,
    target: str,
    ds: str,
    work_dir: str,
    env: Mapping[str, str],
    first_day: str | None = None,
    extra_args: Sequence[str] = (),
    lease: Lease | None = None,
    parse_cache_root: str | None = None,
    warm: float | None = None,
) -> BuildResult:
    """Run ``dbt build`` with target and log paths under ``work_dir``; its output goes to the task log.

    ``first_day``: build the days from ``first_day`` to ``ds`` in this one build (``dbt_args.build_vars``).

    ``lease`` (from ``Warehouse.dbt_lease``) is handed to the dbt process; ``parse_cache_root``
    (default ``settings.dbt_parse_cache_root()``; ``None`` there means a full parse every build)
    is where the project's parse is kept between builds. ``warm``: the warm dbt server's idle timeout
    in seconds, ``0`` for none (default ``settings.dbt_warm_idle_seconds()``).
    """
    if not os.path.isfile(os.path.join(project_dir, "dbt_project.yml")):
        raise FileNotFoundError(
            f"no dbt project at {project_dir} (set DAGSPEC_DBT_ROOT or deploy dbt/ next to dags/)"
        )
    from dagspec_runtime.settings import dbt_parse_cache_root, dbt_warm_idle_seconds

    if parse_cache_root is None:
        parse_cache_root = dbt_parse_cache_root()
    target_dir = os.path.join(work_dir, "target")
    args = {
        "parent_pid": os.getpid(),
        "project_dir": project_dir,
        "profiles_dir": project_dir,
        "target": target,
        "ds": ds,
        "vars": build_vars(ds, first_day),
        "target_path": target_dir,
        "log_path": os.path.join(work_dir, "logs"),
        "extra_args": list(extra_args),
        "parse_cache": _parse_cache(parse_cache_root, project_dir, target) if parse_cache_root else None,
    }
    full_env = {**os.environ, **_QUIET_ENV, **env, **(lease.env if lease else {})}
    if lease and "DAGSPEC_DBT_LEASE_PG_KEY" in lease.env:
        args["pg_lease_key"] = int(lease.env["DAGSPEC_DBT_LEASE_PG_KEY"])
    log.info("running dbt build: %s", json.dumps(args))
    started = time.perf_counter()
    tail: collections.deque[str] = collections.deque(maxlen=_TAIL_LINES)
    timing: dict[str, float] = {}
    python = _python_of(dbt_bin)
    returncode: int | None = None
    idle_s = dbt_warm_idle_seconds() if warm is None else warm
    if idle_s:
        returncode = _run_warm(python, args, full_env, project_dir, lease, idle_s, tail, timing)
    if returncode is None:
        returncode = _run_child(python, args, full_env, project_dir, lease, tail, timing)
    seconds = time.perf_counter() - started
    log.info("dbt build exited %d after %.1fs (%s)", returncode, seconds, timing)
    return BuildResult(
        returncode=returncode,
        run_results=_read_json(os.path.join(target_dir, "run_results.json")),
        manifest=_read_json(os.path.join(target_dir, "manifest.json")),
        target_dir=target_dir,
        log_tail=list(tail),
        seconds=round(seconds, 3),
        timing=timing,
    )


def _run_child(
    python: str,
    args: Mapping[str, Any],
    env: Mapping[str, str],
    project_dir: str,
    lease: Lease | None,
    tail: collections.deque[str],
    timing: dict[str, float],
) -> int:
    """The build in a new process (``dbt_child``): dbt imported and the parse loaded by it."""
    proc = subprocess.Popen(
        [python, _CHILD, json.dumps(args)],
        cwd=project_dir,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        # Its own process group, so that every way out below can stop dbt and anything it started.
        start_new_session=True,
        pass_fds=lease.fds if lease else (),
    )
    log.info("dbt runs as pid %d", proc.pid)
    try:
        assert proc.stdout is not None
        _follow(proc.stdout, tail, timing)
        return proc.wait()
    except BaseException:
        # The task was stopped, timed out or failed here: do not leave dbt writing to the warehouse.
        _stop(proc)
        raise


def _run_warm(
    python: str,
    args: Mapping[str, Any],
    env: Mapping[str, str],
    project_dir: str,
    lease: Lease | None,
    idle_s: float,
    tail: collections.deque[str],
    timing: dict[str, float],
) -> int | None:
    """The build in a process forked by the warm dbt server (``dbt_warm``); ``None`` when there is no
    server to be had or it could not run the build (nothing was built: the caller builds without it)."""
    build = dbt_warm.start(
        python=python, args=args, env=env, cwd=project_dir, fds=lease.fds if lease else (), idle_s=idle_s
    )
    if build is None:
        return None
    try:
        _follow(build.lines(), tail, timing)
        returncode = build.wait()
    except BaseException:
        build.stop(_KILL_GRACE_SECONDS)
        raise
    if not build.started:
        log.warning(
            "the warm dbt server did not run this build (%s); building without it",
            build.error or "it closed the request",
        )
        tail.clear()
        timing.clear()
        return None
    return returncode


def _follow(lines: Iterable[str], tail: collections.deque[str], timing: dict[str, float]) -> None:
    """dbt's output into the task log (and its last lines into ``tail``); the timing line into ``timing``."""
    for line in lines:
        line = line.rstrip("\n")
        if line.startswith(_TIMING):
            timing.update(json.loads(line[len(_TIMING) :]))
            continue
        tail.append(line)
        log.info("dbt | %s", line)


def _stop(proc: subprocess.Popen[str]) -> None:
    """SIGTERM to dbt's process group, SIGKILL after a grace period."""
    if proc.poll() is not None:
        return  # already exited and reaped: its process group id may belong to another by now
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=_KILL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _python_of(dbt_bin: str) -> str:
    """The interpreter dbt was installed with (its entry script's ``#!`` line), else ours."""
    try:
        with open(dbt_bin, "rb") as f:
            first = f.readline(4096)
    except OSError:
        return sys.executable
    if first.startswith(b"#!"):
        interpreter = first[2:].decode(errors="replace").strip().split(" ")[0]
        if os.path.basename(interpreter).startswith("python") and os.access(interpreter, os.X_OK):
            return interpreter
    return sys.executable


def _parse_cache(root: str, project_dir: str, target: str) -> str:
    """``<root>/<project>-<hash>/partial_parse.msgpack``: one saved parse per version of the project
    files, place and target, so two deployed versions or targets never take turns replacing it.
    (dbt checks the file against the project again before using it.)"""
    digest = hashlib.sha256(f"{os.path.abspath(project_dir)}\0{target}\0".encode())
    for folder, dirs, files in os.walk(project_dir):
        dirs[:] = sorted(
            d for d in dirs if d not in ("target", "logs", "dbt_packages") and not d.startswith(".")
        )
        for name in sorted(files):
            path = os.path.join(folder, name)
            digest.update(os.path.relpath(path, project_dir).encode() + b"\0")
            with open(path, "rb") as f:
                digest.update(hashlib.sha256(f.read()).digest())
    name = os.path.basename(os.path.normpath(project_dir))
    return os.path.join(root, f"{name}-{digest.hexdigest()[:16]}", "partial_parse.msgpack")


def _read_json(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def _node_name(unique_id: str, manifest: Mapping[str, Any] | None) -> str:
    node = ((manifest or {}).get("nodes") or {}).get(unique_id) or {}
    if node.get("name"):
        return str(node["name"])
    parts = unique_id.split(".")  # <resource>.<package>.<name>[.<hash>]
    return parts[2] if len(parts) >= 3 else unique_id


def parse_results(result: BuildResult, *, ds: str) -> GateSummary:
    """The gate summary (JSON-serialisable, for XCom and the report); raises ``GateFailed`` on failure."""
    if result.run_results is None:
        tail = "\n".join(result.log_tail[-20:])
        raise AirflowException(
            f"dbt build for ds={ds} exited {result.returncode} without run_results.json "
            f"(it failed before running any node):\n{tail}"
        )
    manifest = result.manifest
    counts: collections.Counter[str] = collections.Counter()
    failures: list[GateNode] = []
    warnings: list[GateNode] = []
    skipped: list[str] = []
    for r in result.run_results.get("results", []):
        uid = str(r.get("unique_id", ""))
        kind = uid.split(".", 1)[0]
        status = str(r.get("status", ""))
        counts[f"{kind}:{status}"] += 1
        entry: GateNode = {
            "node": _node_name(uid, manifest),
            "unique_id": uid,
            "kind": kind,
            "status": status,
            "failures": int(r["failures"]) if r.get("failures") is not None else None,
            "message": (str(r.get("message") or "").strip().splitlines() or [""])[0][:500],
        }
        if status in ("fail", "error", "runtime error"):
            failures.append(entry)
        elif status == "warn":
            warnings.append(entry)
        elif status == "skipped":
            skipped.append(entry["node"])
    failures.sort(key=lambda e: e["unique_id"])
    warnings.sort(key=lambda e: e["unique_id"])
    metadata = result.run_results.get("metadata") or {}
    summary: GateSummary = {
        "ds": ds,
        "status": "failed" if failures or result.returncode != 0 else "passed",
        "invocation_id": metadata.get("invocation_id"),
        "dbt_version": metadata.get("dbt_version"),
        "seconds": result.seconds,
        "counts": dict(sorted(counts.items())),
        "failures": failures,
        "warnings": warnings,
        "skipped": sorted(skipped),
    }
    if failures:
        errored = [f for f in failures if f["status"] != "fail"]
        cls = GateFailed if errored else GateTestsFailed
        raise cls(_failure_message(ds, failures, skipped), failures, summary)
    if result.returncode != 0:
        tail = "\n".join(result.log_tail[-20:])
        raise AirflowException(
            f"dbt build for ds={ds} exited {result.returncode} with no failing node:\n{tail}"
        )
    return summary


def parse_range_results(result: BuildResult, *, days: Sequence[str]) -> dict[str, GateSummary]:
    """Each day's gate summary from one clean build of ``days`` (``first_day`` = ``days[0]``,
    ``ds`` = ``days[-1]``); raises ``RangeNotClean`` unless every node ran and passed without warning
    and dbt exited 0, and ``AirflowException`` when there are no results (dbt ran no node).

    Clean is all the range's results can vouch for: a range-capable project (``Dbt.range_build``)
    tests each day at least as strictly as that day's own build, so when the range is clean every
    day's own gate would have passed with no warning; when it is not, no node says which day. The
    project also builds a daily build's nodes (each covering every day of the range), so a day's
    summary is the range's with its own ``ds``: the ``gate.json`` its own passing build archives.
    """
    span = f"{days[0]}..{days[-1]}"
    if result.run_results is not None and not _takes_ranges(result.manifest):
        # A project that ignores dagspec_first_day built and tested the last day alone: a clean
        # result would vouch for days nothing tested.
        raise RangeNotClean(span, ["the project defines no macro dagspec_range_build: it builds one day"])
    try:
        summary = parse_results(result, ds=span)
    except GateFailed as exc:
        reasons = [f"{n['status']} {n['kind']} {n['node']}" for n in exc.gate_failures]
        reasons += [f"skipped {name}" for name in exc.summary["skipped"]]
        raise RangeNotClean(span, reasons) from exc
    except AirflowException as exc:
        if result.run_results is None:
            raise
        raise RangeNotClean(span, [f"dbt exited {result.returncode} with no failing node"]) from exc
    reasons = [f"warn {n['kind']} {n['node']}" for n in summary["warnings"]]
    reasons += [f"skipped {name}" for name in summary["skipped"]]
    if reasons:
        raise RangeNotClean(span, reasons)
    summaries: dict[str, GateSummary] = {}
    for day in days:
        summaries[day] = copy.deepcopy(summary)  # one dict per day: XCom and report may add to it
        summaries[day]["ds"] = day
    return summaries


def _takes_ranges(manifest: Mapping[str, Any] | None) -> bool:
    """Whether the built project's own macros include ``dagspec_range_build`` (emitted with the
    forms that take a range; ``macros/dagspec_range.sql``)."""
    meta = (manifest or {}).get("metadata") or {}
    project = meta.get("project_name")
    macros = (manifest or {}).get("macros") or {}
    return any(
        m.get("name") == "dagspec_range_build" and (project is None or m.get("package_name") == project)
        for m in macros.values()
    )


def _failure_message(ds: str, failures: list[GateNode], skipped: list[str]) -> str:
    tests = [f for f in failures if f["kind"] == "test"]
    others = [f for f in failures if f["kind"] != "test"]
    parts = []
    failed = [f for f in tests if f["status"] == "fail"]
    if failed:
        parts.append(
            f"{len(failed)} error-severity test(s) failed: "
            + ", ".join(f"{f['node']} ({_rows(f['failures'])})" for f in failed)
        )
    broken = [f for f in tests if f["status"] != "fail"]
    if broken:
        parts.append(
            f"{len(broken)} test(s) errored: " + ", ".join(f"{f['node']} ({f['message']})" for f in broken)
        )
    if others:
        parts.append(
            f"{len(others)} node(s) errored: "
            + ", ".join(f"{f['kind']} {f['node']} ({f['message']})" for f in others)
        )
    if skipped:
        parts.append(f"{len(skipped)} downstream node(s) skipped")
    return f"dbt build gate failed for ds={ds}: " + "; ".join(parts)


def _rows(n: int | None) -> str:
    if n is None:
        return "failing rows unknown"
    return f"{n} failing row{'' if n == 1 else 's'}"
