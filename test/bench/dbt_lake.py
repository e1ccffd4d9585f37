"""A lake in the demo's shape and scale for the dbt benchmarks, without seeding a source database.

One report day of the demo (``npm run demo``: about 124k orders, 190k active users) is written
once as Parquet (orders, events, users; the columns the generated sources declare) and every other
day of the history is a hard link to the same files under its own ``ds=`` folder: dbt reads ``ds``
from the folder name (``hive_partitioning``), so each day holds a full day of rows and the history
costs no extra disk. Ids repeat across days, which no test sees: the seed spec's tests filter on
the report day. ``users`` is kept as a history (the seed spec's ``mode: "history"``): the oldest
day holds the whole table, every later day its changed rows.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from dagspec_runtime.manifest import (
    COMMITTED_BY,
    COMMITTED_BY_DAY_RECORD,
    DAY_VERSION,
    MANIFEST_VERSION,
    dumps,
)

ORDERS_PER_DAY = 124_000
EVENTS_PER_DAY = 600_000
USERS = 400_000
ACTIVE_USERS = 190_000
CHANGED_USERS = 3_000
_STATUSES = ["paid", "paid", "paid", "paid", "shipped", "shipped", "refunded", "cancelled"]
_EVENT_TYPES = ["page_view", "page_view", "page_view", "add_to_cart", "checkout", "purchase"]
_COUNTRIES = ["US", "US", "US", "CA", "GB", "DE", "FR", "MX"]


def _users(n: int, created: Any) -> Any:
    import pyarrow as pa

    return pa.table(
        {
            "id": pa.array(range(1, n + 1), pa.int64()),
            "email": pa.array([f"user{i}@example.com" for i in range(1, n + 1)]),
            "country": pa.array([_COUNTRIES[i % len(_COUNTRIES)] for i in range(n)]),
            "created_at": created,
            "updated_at": created,
        }
    )


def _one_day(out: Path) -> dict[str, Path]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    midnight = datetime(2026, 1, 1, 5, tzinfo=UTC)  # a New York midnight
    ts = pa.timestamp("us", tz="UTC")

    def stamps(n: int, step_us: int) -> pa.Array:
        start = int(midnight.timestamp() * 1_000_000)
        return pa.array([start + i * step_us for i in range(n)], ts)

    tables = {
        "orders": pa.table(
            {
                "id": pa.array(range(1, ORDERS_PER_DAY + 1), pa.int64()),
                "user_id": pa.array(
                    [1 + (i * 7919) % ACTIVE_USERS for i in range(ORDERS_PER_DAY)], pa.int64()
                ),
                "amount": pa.array(
                    [Decimal(500 + (i * 104729) % 9000).scaleb(-2) for i in range(ORDERS_PER_DAY)],
                    pa.decimal128(12, 2),
                ),
                "status": pa.array([_STATUSES[i % len(_STATUSES)] for i in range(ORDERS_PER_DAY)]),
                "created_at": stamps(ORDERS_PER_DAY, 86_400_000_000 // ORDERS_PER_DAY),
                "updated_at": stamps(ORDERS_PER_DAY, 86_400_000_000 // ORDERS_PER_DAY),
            }
        ),
        "events": pa.table(
            {
                "id": pa.array(range(1, EVENTS_PER_DAY + 1), pa.int64()),
                "user_id": pa.array(
                    [1 + (i * 7919) % ACTIVE_USERS for i in range(EVENTS_PER_DAY)], pa.int64()
                ),
                "event_type": pa.array([_EVENT_TYPES[i % len(_EVENT_TYPES)] for i in range(EVENTS_PER_DAY)]),
                "occurred_at": stamps(EVENTS_PER_DAY, 86_400_000_000 // EVENTS_PER_DAY),
            }
        ),
        "users": _users(USERS, stamps(USERS, 1_000_000)),
        "users-changed": _users(CHANGED_USERS, stamps(CHANGED_USERS, 1_000_000)),
    }
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, table in tables.items():
        path = out / f"{name}.parquet"
        pq.write_table(table, path, row_group_size=128 * 1024)
        files[name] = path
    return files


def make_lake(root: Path, *, last_day: date, days: int) -> Path:
    """``root/raw/<table>/ds=<day>/part-00000.parquet`` for the ``days`` days ending ``last_day``,
    each day committed by its record ``root/_days/ds=<day>.json`` as an extract commits it (dbt
    reads the files the records list, nothing else)."""
    files = _one_day(root / ".one-day")
    described = {name: _describe(path) for name, path in files.items()}
    for back in range(days):
        day = (last_day - timedelta(days=back)).isoformat()
        oldest = back == days - 1
        tables: dict[str, Any] = {}
        for name, src in files.items():
            if name.startswith("users"):
                if (name == "users") != oldest:
                    continue
            table = "users" if name.startswith("users") else name
            folder = root / "raw" / table / f"ds={day}"
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / "part-00000.parquet"
            if not target.exists():
                os.link(src, target)
            tables[table] = _manifest(table, day, described[name])
        record = root / "_days" / f"ds={day}.json"
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_bytes(dumps({"format_version": DAY_VERSION, "ds": day, "tables": tables}))
    return root


def _describe(path: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    return {
        "path": "part-00000.parquet",
        "rows": pq.ParquetFile(path).metadata.num_rows,
        "bytes": path.stat().st_size,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }


def _manifest(table: str, day: str, file: dict[str, Any]) -> dict[str, Any]:
    """The partition's manifest as the day record holds it (the fields dbt and the runtime read)."""
    return {
        "format_version": MANIFEST_VERSION,
        COMMITTED_BY: COMMITTED_BY_DAY_RECORD,
        "pipeline_id": "daily_metrics_pipeline",
        "table": table,
        "source": f"app.{table}",
        "ds": day,
        "rows": file["rows"],
        "files": [file],
    }
