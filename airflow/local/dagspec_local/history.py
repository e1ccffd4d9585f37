"""Loads the days before a demo run into the lake, so its first report has a trend to show.

A pipeline's first dbt build is a full build over every lake partition; with only one day extracted
the executive report would have no previous day, no week-ago comparison and no 14-day chart. This
runs the pipeline's own extract (``dagspec_runtime.tasks.extract``, the code the DAG's extract task
runs) for each earlier day. Connections come from ``AIRFLOW_CONN_*`` like everywhere else.

Usage: ``python -m dagspec_local.history generated/dags/<id>.py --through 2026-11-25 --days 14`` (the
demo runs it on its first run).
"""

from __future__ import annotations

import argparse
import importlib.util
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from dagspec_runtime.contract import Pipeline


def load_pipeline(dag_file: Path) -> Pipeline:
    """The DAG file's ``PIPELINE``: its config, parsed (and version-checked) by the runtime."""
    spec = importlib.util.spec_from_file_location(dag_file.stem, dag_file)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PIPELINE


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dag_file", type=Path)
    parser.add_argument("--through", type=date.fromisoformat, required=True, help="last day to extract")
    parser.add_argument("--days", type=int, default=14)
    args = parser.parse_args()

    from dagspec_runtime import tasks

    pipeline = load_pipeline(args.dag_file)
    tz = ZoneInfo(pipeline.timezone)
    lag = pipeline.report_lag_days
    for back in range(args.days - 1, -1, -1):
        day = args.through - timedelta(days=back)
        # The logical date whose run reports on `day`: any time on the day `lag` days later.
        logical = datetime.combine(day + timedelta(days=lag), time(12), tz)
        result = tasks.extract(pipeline, {"logical_date": logical})
        rows = ", ".join(f"{t}={r['rows']}" for t, r in sorted(result.get("tables", result).items()))
        print(f"extracted {day}: {rows}", flush=True)


if __name__ == "__main__":
    main()
