"""One timed dbt build of the seed project for ``npm run bench`` (a fresh process per run).

    dbt_contenders.py MODE PROJECT DAY WORK [PARSE_CACHE]

MODE:
- ``cli``: ``dbt build --vars '{"ds": ...}'`` with a fresh target directory, as ``run_build`` ran dbt
  before (a full parse every build; the vars change daily, so partial parsing never applies);
- ``run_build``: ``dagspec_runtime.dbt_runner.run_build`` as ``dbt_build`` calls it (by default a
  process forked by the warm dbt server; ``DAGSPEC_DBT_WARM=off`` for a new process with the
  project's saved parse reused; ``DAGSPEC_DBT_PARSE_CACHE=off`` as well for a full parse);
- ``inprocess``: the child's work (``dbtRunner`` parse + build) in this process, without a child.

Timed from just before the work (after this script's own imports; ``inprocess`` includes importing
dbt, which a task process has not done either). The warehouse and lake come from
``DAGSPEC_DUCKDB_PATH`` and ``DAGSPEC_LAKE_URI``. Prints one JSON line: wall seconds, the sum of the
nodes' execution times from ``run_results.json`` and the child's own split when there is one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

QUIET = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1", "DBT_VERSION_CHECK": "false"}


def main() -> None:
    mode, project, day, work = sys.argv[1:5]
    cache = sys.argv[5] if len(sys.argv) > 5 else ""
    target = Path(work) / "target"
    timing: dict[str, float] = {}
    if mode == "cli":
        dbt = str(Path(sys.executable).with_name("dbt"))
        cmd = [
            dbt, "build", "--project-dir", project, "--profiles-dir", project,
            "--vars", json.dumps({"ds": day}), "--target-path", str(target), "--log-path", f"{work}/logs",
        ]  # fmt: skip
        started = time.perf_counter()
        done = subprocess.run(cmd, env={**os.environ, **QUIET}, stdout=subprocess.DEVNULL, check=False)
        wall = time.perf_counter() - started
        code = done.returncode
    elif mode == "run_build":
        from dagspec_runtime.dbt_runner import run_build

        started = time.perf_counter()
        result = run_build(
            dbt_bin=str(Path(sys.executable).with_name("dbt")),
            project_dir=project,
            target="duckdb",
            ds=day,
            work_dir=work,
            env={},
            parse_cache_root=cache or None,
        )
        wall = time.perf_counter() - started
        code, timing = result.returncode, result.timing
    elif mode == "inprocess":
        from dagspec_runtime import dbt_child
        from dagspec_runtime.dbt_args import build_vars

        args = {
            "parent_pid": os.getppid(),
            "project_dir": project,
            "profiles_dir": project,
            "target": "duckdb",
            "ds": day,
            "vars": build_vars(day),
            "target_path": str(target),
            "log_path": f"{work}/logs",
            "parse_cache": f"{cache}/inprocess/partial_parse.msgpack" if cache else None,
        }
        os.environ.update(QUIET)
        started = time.perf_counter()
        code = dbt_child.main(["dbt_child", json.dumps(args)])
        wall = time.perf_counter() - started
    else:
        raise SystemExit(f"unknown mode {mode}")
    if code != 0:
        raise SystemExit(f"dbt build failed ({code}); see {work}/logs")
    results = json.loads((target / "run_results.json").read_text())["results"]
    nodes = sum(float(r["execution_time"]) for r in results)
    report = {"seconds": round(wall, 3), "nodes_s": round(nodes, 3), "nodes": len(results), **timing}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
