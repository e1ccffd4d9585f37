"""Side-by-side measurement: contenders run interleaved, each run in its own child process.

Every run is a fresh process so its peak RSS is its own and no warm state leaks from one run into
the next. Runs are interleaved (A B C, A B C, ...) rather than batched (A A A, B B B) so that drift
in the machine's load hits every contender alike.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Contender:
    """One way of doing the job: a command line, run as a child process."""

    name: str
    argv: Sequence[str]
    # What the report shows as the command (the argv with scratch paths shortened).
    shown: str
    env: dict[str, str] | None = None
    cwd: str | None = None
    # Called after each run (e.g. to inspect and remove its output); returns facts for the report.
    after: Callable[[], dict[str, Any]] | None = None
    # Rounds this contender takes part in (a slow reference need not run every round).
    max_runs: int | None = None


@dataclass
class Run:
    wall_s: float
    peak_rss_mib: float
    # The child's own report (the last stdout line, when it is a JSON object): rows, work seconds.
    report: dict[str, Any] = field(default_factory=dict)


# Peak RSS comes from GNU time run between us and the contender: a child forked from this process
# starts with our resident set as its high-water mark (exec does not reset it), so wait4's
# ru_maxrss would report at least the harness's own size; GNU time itself is a few MB.
TIME = "/usr/bin/time"


def run_once(c: Contender) -> Run:
    """Runs ``c`` to completion; raises with its stderr when it fails."""
    import tempfile

    env = {**os.environ, **(c.env or {})}
    with tempfile.NamedTemporaryFile("r", prefix="dagspec-bench-rss-") as rss_file:
        argv = [TIME, "-f", "%M", "-o", rss_file.name, *c.argv]
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=c.cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = proc.communicate()
        wall = time.perf_counter() - started
        rss_lines = rss_file.read().strip().splitlines()
    if proc.returncode != 0:
        tail = err.decode(errors="replace")[-4000:]
        raise RuntimeError(f"{c.name} failed ({proc.returncode}): {c.shown}\n{tail}")
    report: dict[str, Any] = {}
    lines = out.decode(errors="replace").strip().splitlines()
    if lines and lines[-1].startswith("{"):
        report = json.loads(lines[-1])
    if c.after is not None:
        report.update(c.after())
    # GNU time's %M is the contender's ru_maxrss, in KiB on Linux.
    return Run(wall_s=wall, peak_rss_mib=int(rss_lines[-1]) / 1024, report=report)


def interleaved(
    contenders: Sequence[Contender], repetitions: int, log: Callable[[str], None]
) -> dict[str, list[Run]]:
    """``repetitions`` rounds; each round runs every contender once, in a rotated order."""
    runs: dict[str, list[Run]] = {c.name: [] for c in contenders}
    for rep in range(repetitions):
        # Rotate so no contender always runs right after the same neighbour (page cache, CPU heat).
        order = list(contenders[rep % len(contenders) :]) + list(contenders[: rep % len(contenders)])
        for c in order:
            if c.max_runs is not None and len(runs[c.name]) >= c.max_runs:
                continue
            r = run_once(c)
            runs[c.name].append(r)
            work = r.report.get("seconds")
            log(
                f"  [{rep + 1}/{repetitions}] {c.name:<28} wall {r.wall_s:7.2f}s"
                + (f"  work {work:7.2f}s" if work is not None else "")
                + f"  peak RSS {r.peak_rss_mib:7.0f} MiB"
            )
    return runs


def summarise(runs: Sequence[Run], *, seconds: Callable[[Run], float]) -> dict[str, Any]:
    """Median and min of the timed quantity, median and max of peak RSS."""
    times = [seconds(r) for r in runs]
    rss = [r.peak_rss_mib for r in runs]
    return {
        "runs": len(runs),
        "median_s": round(statistics.median(times), 3),
        "min_s": round(min(times), 3),
        "samples_s": [round(t, 3) for t in times],
        "peak_rss_mib_median": round(statistics.median(rss), 1),
        "peak_rss_mib_max": round(max(rss), 1),
    }
