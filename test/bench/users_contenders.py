"""Child processes of the users benchmark: one report day of the demo's ``app.users`` into the lake.

    python users_contenders.py snapshot|history CONNINFO DAY LAKE_DIR

``snapshot`` copies the whole table (``mode: "snapshot"``); ``history`` copies the rows changed
since the day began (``mode: "history"``, by ``updated_at``) on top of the day before's partition,
which the harness extracted into LAKE_DIR once beforehand. Each prints one JSON line: rows, Parquet
bytes of the day's partition and ``seconds`` of work (after the imports), as extract_contenders.py.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

TIMEZONE = "America/New_York"


def users_table(mode: str) -> dict[str, object]:
    """app.users as the seed spec declares it (specs/daily_metrics.pipeline.ts)."""
    columns = [("id", "bigint"), ("email", "text"), ("country", "text"), ("created_at", "timestamptz")]
    columns.append(("updated_at", "timestamptz"))
    return {
        "name": "users",
        "schema": "app",
        "columns": [{"name": n, "type": t} for n, t in columns],
        "primary_key": ["id"],
        "mode": mode,
        "cursor_column": None if mode == "snapshot" else "updated_at",
    }


def extract(mode: str, conninfo: str, day: str, lake_dir: Path) -> dict[str, object]:
    import psycopg  # noqa: F401  # the runtime imports these lazily: before the clock starts
    import pyarrow.csv  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    from dagspec_runtime.extract import extract_to_lake
    from dagspec_runtime.lake import Lake

    lake = Lake.from_uri(str(lake_dir))
    started = time.perf_counter()
    summary = extract_to_lake(
        conninfo, lake, pipeline_id="bench", ds=day, timezone=TIMEZONE, tables=[users_table(mode)]
    )["users"]
    seconds = time.perf_counter() - started
    return {"rows": summary["rows"], "bytes": summary["bytes"], "seconds": seconds, "taken": summary["taken"]}


def main() -> None:
    mode, conninfo, day, lake_dir = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4])
    print(json.dumps(extract(mode, conninfo, day, lake_dir)))


if __name__ == "__main__":
    main()
