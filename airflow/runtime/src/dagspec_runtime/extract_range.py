"""Extract a range of report days from one snapshot of the source, several days at a time.

A one-pass backfill (``dagspec_runtime.backfill``) reads every day of its range in one task. One
``REPEATABLE READ READ ONLY`` transaction exports its snapshot and stays open while the days run;
each day is an ordinary ``extract_to_lake`` on its own connection that imports that snapshot, so
the days together see one instant of the source, as one day's tables do. Each day stages,
reconciles and commits its partitions exactly as a daily run does (its own day record is its commit
point): a day that fails leaves nothing of itself visible, and the days committed before it stay.

History tables chain days: a day's changed rows are complete only on top of the day before. Inside
the range every day after the first builds on the day before (taken in the same pass), so days are
staged in parallel but committed in date order, and a day whose day before failed is not committed
(it would miss that day's changes). Days of tables without a history commit as soon as they are
staged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from dagspec_runtime.extract import DEFAULT_PARALLEL_TABLES, export_snapshot, extract_to_lake
from dagspec_runtime.spec import parse_tables

if TYPE_CHECKING:
    from dagspec_runtime.lake import Lake

__all__ = ["DayBeforeNotCommitted", "RangeExtractFailed", "extract_range"]

log = logging.getLogger(__name__)

# Days extracted at once; each reads its tables one after another. Two keeps two COPY streams in
# flight, as one day's extract does with its tables (``DEFAULT_PARALLEL_TABLES``).
DEFAULT_PARALLEL_DAYS = DEFAULT_PARALLEL_TABLES


class DayBeforeNotCommitted(RuntimeError):
    """A history table's day was staged on top of a day before that this range failed to commit."""


class RangeExtractFailed(RuntimeError):
    """Some days of the range failed; the others are committed. ``failed`` maps day -> error."""

    def __init__(self, failed: Mapping[str, BaseException], committed: Sequence[str]) -> None:
        self.failed = dict(failed)
        self.committed = list(committed)
        first, error = next(iter(self.failed.items()))
        super().__init__(
            f"{len(self.failed)} day(s) of the range were not extracted ({', '.join(self.failed)}); "
            f"{len(self.committed)} committed. First error, ds={first}: {type(error).__name__}: {error}"
        )


def extract_range(
    conninfo: str,
    lake: Lake,
    *,
    pipeline_id: str,
    days: Sequence[str],
    timezone: str,
    tables: Sequence[Mapping[str, Any]],
    parallel_days: int = DEFAULT_PARALLEL_DAYS,
    on_table_extracted: Callable[[str, str, dict[str, Any]], None] | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Extract every day of ``days`` (consecutive, ascending ISO dates) from one source snapshot.

    Returns ``{day: {table: summary}}`` (the summaries ``extract_to_lake`` returns). Raises
    ``RangeExtractFailed`` after every day has finished when any failed; the days that committed
    stay committed (re-running the range takes them again, byte for byte the same).
    ``on_table_extracted(day, table, summary)`` is ``extract_to_lake``'s callback with the day.
    """
    import psycopg
    from psycopg import IsolationLevel

    chained = any(s.mode == "history" for s in parse_tables(tables))
    done = {ds: threading.Event() for ds in days}
    committed: dict[str, bool] = {}
    started = time.perf_counter()

    def one(index: int, ds: str, snapshot: str) -> dict[str, dict[str, Any]]:
        def wait_for_day_before() -> None:
            # Days are handed to the workers in date order, so the day before is already running
            # or finished when this one waits: the wait cannot deadlock.
            if not chained or index == 0:
                return
            before = days[index - 1]
            done[before].wait()
            if not committed.get(before):
                raise DayBeforeNotCommitted(
                    f"ds={ds} is not committed: its history tables hold only the rows changed since "
                    f"{ds} began, and the day before ({before}) was not committed by this range"
                )

        try:
            result = extract_to_lake(
                conninfo,
                lake,
                pipeline_id=pipeline_id,
                ds=ds,
                timezone=timezone,
                tables=tables,
                parallel_tables=1,
                snapshot=snapshot,
                day_before_pending=chained and index > 0,
                before_commit=wait_for_day_before,
                on_table_extracted=None
                if on_table_extracted is None
                else lambda table, summary: on_table_extracted(ds, table, summary),
            )
            committed[ds] = True
            return result
        finally:
            done[ds].set()

    results: dict[str, dict[str, dict[str, Any]]] = {}
    failed: dict[str, BaseException] = {}
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.isolation_level = IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        # The exporting transaction stays open until every day has imported its snapshot and read.
        with conn.transaction(), conn.cursor() as cur:
            snapshot = export_snapshot(cur)
            with ThreadPoolExecutor(
                max_workers=max(1, parallel_days), thread_name_prefix="dagspec-days"
            ) as pool:
                futures = [pool.submit(one, i, ds, snapshot) for i, ds in enumerate(days)]
            for ds, future in zip(days, futures, strict=True):
                if (exc := future.exception()) is not None:
                    failed[ds] = exc
                    log.error("extract ds=%s failed: %s: %s", ds, type(exc).__name__, exc)
                else:
                    results[ds] = future.result()
    rows = sum(t["rows"] for day in results.values() for t in day.values())
    elapsed = time.perf_counter() - started
    log.info(
        "extract %s: %d of %d day(s) committed (%s..%s), %d rows in %.2fs (%.0f rows/s), one snapshot",
        pipeline_id,
        len(results),
        len(days),
        days[0] if days else "-",
        days[-1] if days else "-",
        rows,
        elapsed,
        rows / max(elapsed, 1e-9),
    )
    if failed:
        raise RangeExtractFailed(failed, sorted(results))
    return results
