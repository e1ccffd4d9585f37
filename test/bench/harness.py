"""Side-by-side measurement: contenders run interleaved, each run in its own child process.

Every run is a fresh process so its peak RSS (``ru_maxrss`` from ``os.wait4``) is its own and no
warm state leaks from one run into the next. Runs are interleaved (A B C, A B C, ...) rather than
batched (A A A, B B B) so that drift in the machine's load hits every contender alike.
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


@dataclass
class Run:
    wall_s: float
    peak_rss_mib: float
    # The child's own report (the last stdout line, when it is a JSON object): rows, work seconds.
    report: dict[str, Any] = field(default_factory=dict)


def run_once(c: Contender) -> Run:
    """Runs ``c`` to completion; raises with its stderr when it fails."""
    env = {**os.environ, **(c.env or {})}
    started = time.perf_counter()
    proc = subprocess.Popen(list(c.argv), cwd=c.cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # communicate() reaps the child itself, which would lose its rusage: read the pipes, then wait4.
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = err.decode(errors="replace")[-4000:]
        raise RuntimeError(f"{c.name} failed ({proc.returncode}): {c.shown}\n{tail}")
    report: dict[str, Any] = {}
    lines = out.decode(errors="replace").strip().splitlines()
    if lines and lines[-1].startswith("{"):
        report = json.loads(lines[-1])
    if c.after is not None:
        report.update(c.after())
    # Linux reports ru_maxrss in KiB.
    return Run(wall_s=wall, peak_rss_mib=usage.ru_maxrss / 1024, report=report)


def interleaved(
    contenders: Sequence[Contender], repetitions: int, log: Callable[[str], None]
) -> dict[str, list[Run]]:
    """``repetitions`` rounds; each round runs every contender once, in a rotated order."""
    runs: dict[str, list[Run]] = {c.name: [] for c in contenders}
    for rep in range(repetitions):
        # Rotate so no contender always runs right after the same neighbour (page cache, CPU heat).
        order = list(contenders[rep % len(contenders) :]) + list(contenders[: rep % len(contenders)])
        for c in order:
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
