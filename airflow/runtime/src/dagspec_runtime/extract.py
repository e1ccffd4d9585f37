"""Streaming, consistent extract of one run's tables from live Postgres into the lake as Parquet.

Path of the data: ``COPY (SELECT ... ORDER BY <pk>) TO STDOUT (FORMAT csv)``, started by psycopg 3's
``cursor.copy()`` and drained straight from libpq into chunks of whole rows; a worker thread parses
each chunk with pyarrow's CSV parser (explicit column types, never inferred), re-cuts the batches
into fixed-size row groups and writes them with ``ParquetWriter`` (zstd). Memory stays flat
whatever the day's size: a few CSV chunks in flight (bounded queue), one pending row group, one
open Parquet file per table being read.

Consistency: one task, one ``REPEATABLE READ READ ONLY`` transaction that every table of the run is
read in, so they all see the same snapshot even while the source keeps committing. Tables are read
in parallel (``DEFAULT_PARALLEL_TABLES``) by further connections of the same task whose transactions
import that transaction's exported snapshot (``pg_export_snapshot()`` + ``SET TRANSACTION
SNAPSHOT``, as ``pg_dump -j`` does), while it stays open. Sharing a snapshot across separate
Airflow tasks was rejected: the exported snapshot lives only as long as the exporting transaction,
so some process would have to hold a transaction open across task boundaries, workers and
retries, which Airflow does not coordinate; a retried task would find the snapshot gone and could
no longer reproduce the others' view. Within one task a retry re-reads every table consistently.

Publishing: each table's partition is staged, reconciled against ``SELECT count(*)`` of the same
predicate inside the same transaction, and only when every table of the run has passed are the
partitions published, all together with one commit point: the day record
(``dagspec_runtime.manifest``) is written last, and a failure on any table before it puts back the
partitions already swapped in (``Lake.commit_partitions``). So the day's tables become visible
together or not at all; any failure leaves the previous day exactly as it was, and errors name
the partition (``raw/orders/ds=...``), not where it was staged. Output is reproducible: same
source rows -> same Parquet bytes, file names, manifests and day record (given the same pyarrow
version, whose name Parquet records in each file).
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from dagspec_runtime.days import day_bounds
from dagspec_runtime.lake import PartitionWriteError
from dagspec_runtime.manifest import (
    COMMITTED_BY,
    COMMITTED_BY_DAY_RECORD,
    MANIFEST_NAME,
    MANIFEST_VERSION,
    day_record,
    day_record_path,
    dumps,
    legacy_manifest,
    partition_dir,
    read_day,
    read_manifest,
)
from dagspec_runtime.spec import TableSpec, parse_tables

if TYPE_CHECKING:
    import psycopg
    import pyarrow as pa
    from psycopg import sql

    from dagspec_runtime.lake import FileEntry, Lake, PartitionWriter

__all__ = ["ReconciliationError", "export_snapshot", "extract_tables", "extract_to_lake"]

log = logging.getLogger(__name__)

# 128 Ki rows per row group (a few MB to a few tens of MB of Arrow data for typical tables) and
# 8 row groups per file: big enough for efficient scans, small enough to keep memory flat.
DEFAULT_ROW_GROUP_ROWS = 131_072
DEFAULT_FILE_ROWS = 8 * DEFAULT_ROW_GROUP_ROWS
_CSV_CHUNK_BYTES = 4 << 20  # raw CSV parsed at a time
_ZSTD_LEVEL = 3  # pinned, not left to the codec default, so output bytes stay reproducible
# Tables read at once. Each pipeline keeps about one core busy between the COPY loop and parsing
# plus Parquet writing, and the server needs one per COPY: two suits the 2-core workers we run on.
DEFAULT_PARALLEL_TABLES = 2

TableCallback = Callable[[str, dict[str, Any]], None]


class ReconciliationError(RuntimeError):
    """Rows written differ from the source's count in the same snapshot; nothing was published."""


def extract_to_lake(
    conninfo: str,
    lake: Lake,
    *,
    pipeline_id: str,
    ds: str,
    timezone: str,
    tables: Sequence[Mapping[str, Any]],
    row_group_rows: int = DEFAULT_ROW_GROUP_ROWS,
    file_rows: int = DEFAULT_FILE_ROWS,
    on_table_extracted: TableCallback | None = None,
    parallel_tables: int = DEFAULT_PARALLEL_TABLES,
    snapshot: str | None = None,
    day_before_pending: bool = False,
    before_commit: Callable[[], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Extract ``tables`` for report day ``ds`` into ``<lake>/raw/<table>/ds=<ds>/``.

    Incremental tables take rows whose cursor column lies in the local day ``ds`` of ``timezone``
    (``[start, end)`` for timestamps, ``= ds`` for dates); snapshot tables take all rows; history
    tables take the rows whose cursor is at or after the day's start, or all rows when the day
    before has no partition to build on (see ``_history_base``).
    ``on_table_extracted(table, summary)`` is called after each table is staged and reconciled,
    while the source transaction is still open (progress reporting; tests use it to interleave
    concurrent writes). Returns ``{table: {rows, bytes, files, manifest, manifest_sha256, seconds}}``.

    Up to ``parallel_tables`` tables are read at once, each on its own connection whose
    transaction imports the snapshot this run's transaction exported (``pg_export_snapshot()``,
    as ``pg_dump -j`` does): every table still sees the same instant of the source.

    A range of days (``extract_range``) reads every day from one snapshot: ``snapshot`` is the id
    the range exported, imported here instead of a transaction of this day's own.
    ``day_before_pending`` says the day before is extracted by the same range, so a history table
    builds on it (``_history_base``); ``before_commit`` is called once every table is staged and
    reconciled, just before the day's commit point, and may raise to abort the day.
    """
    import psycopg
    from psycopg import IsolationLevel

    specs = parse_tables(tables)
    day = date.fromisoformat(ds)
    if row_group_rows <= 0 or file_rows <= 0 or file_rows % row_group_rows:
        raise ValueError("file_rows must be a positive multiple of row_group_rows")

    staged: list[tuple[PartitionWriter, bytes]] = []
    manifests: dict[str, dict[str, Any]] = {}
    summary: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    # Decided before the source is read, from what the lake held when the run began.
    bases = {
        s.name: _history_base(lake, s, day, day_before_pending=day_before_pending)
        for s in specs
        if s.mode == "history"
    }

    def committed(table: str) -> Callable[[], set[str]]:
        """The files of ``table`` that the committed day lists: an abort must keep them."""

        def files() -> set[str]:
            day_tables = read_day(lake, ds)
            if day_tables is None:  # a day written before day records: its partition's manifest
                legacy = legacy_manifest(lake, table, ds) or {}
                return {f["path"] for f in legacy.get("files", [])}
            return {f["path"] for f in day_tables.get(table, {}).get("files", [])}

        return files

    def stage(cur: psycopg.Cursor[Any], spec: TableSpec) -> tuple[PartitionWriter, bytes, dict[str, Any]]:
        """Extract one table into a staged partition; reconciled, not yet published."""
        writer = lake.begin_partition(
            partition_dir(spec.name, ds), manifest_name=MANIFEST_NAME, committed=committed(spec.name)
        )
        try:
            manifest, table_summary = _extract_table(
                cur,
                spec,
                writer,
                pipeline_id=pipeline_id,
                day=day,
                timezone=timezone,
                row_group_rows=row_group_rows,
                file_rows=file_rows,
                history_base=bases.get(spec.name, False),
            )
        except OSError as exc:
            writer.abort()
            if isinstance(exc, PartitionWriteError):
                raise
            # e.g. a Parquet file that cannot be written in the staging folder: the original
            # names that folder, whoever reads the error needs the partition.
            raise PartitionWriteError(
                exc.errno, f"staging partition {lake.url(writer.rel_dir)}: {exc.strerror or exc}"
            ) from None
        except BaseException:
            writer.abort()
            raise
        manifests[spec.name] = manifest
        manifest_bytes = dumps(manifest)
        table_summary["manifest"] = lake.url(f"{writer.rel_dir}/{MANIFEST_NAME}")
        table_summary["manifest_sha256"] = _sha256(manifest_bytes)
        if on_table_extracted is not None:
            on_table_extracted(spec.name, table_summary)
        return writer, manifest_bytes, table_summary

    def stage_all(cur: psycopg.Cursor[Any], shared_snapshot: Callable[[], str]) -> None:
        workers = min(parallel_tables, len(specs))
        if workers <= 1:
            for spec in specs:
                writer, manifest_bytes, table_summary = stage(cur, spec)
                staged.append((writer, manifest_bytes))
                summary[spec.name] = table_summary
        else:
            staged_summaries = _in_parallel(conninfo, shared_snapshot(), specs, stage, workers, staged)
            for spec, table_summary in zip(specs, staged_summaries, strict=True):
                summary[spec.name] = table_summary

    try:
        if snapshot is not None:
            with _snapshot_cursor(conninfo, snapshot) as cur:
                stage_all(cur, lambda: snapshot)
        else:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.isolation_level = IsolationLevel.REPEATABLE_READ
                conn.read_only = True
                with conn.transaction(), conn.cursor() as cur:
                    _fix_text_forms(cur)
                    stage_all(cur, lambda: export_snapshot(cur))
        if before_commit is not None:
            before_commit()
        # Every table passed its reconciliation: publish them together, after the source
        # transaction has ended, with the day record as the one commit point.
        record_rel = day_record_path(ds)
        try:
            record = day_record(lake, ds, manifests)  # merged with the committed record
        except Exception as exc:
            raise PartitionWriteError(f"reading {lake.url(record_rel)}: {type(exc).__name__}: {exc}") from exc
        lake.commit_partitions(staged, record=(record_rel, record))
        staged.clear()
    except BaseException:
        for writer, _ in staged:
            writer.abort()
        raise

    elapsed = time.perf_counter() - started
    total_rows = sum(s["rows"] for s in summary.values())
    total_bytes = sum(s["bytes"] for s in summary.values())
    log.info(
        "extract %s ds=%s: %d table(s), %d rows, %d bytes in %.2fs (%.0f rows/s) -> %s",
        pipeline_id,
        ds,
        len(specs),
        total_rows,
        total_bytes,
        elapsed,
        total_rows / max(elapsed, 1e-9),
        lake.uri,
    )
    return summary


def extract_tables(
    *,
    pipeline_id: str,
    source_conn_id: str,
    lake_uri: str,
    lake_conn_id: str | None,
    ds: str,
    timezone: str,
    tables: Sequence[Mapping[str, Any]],
) -> dict[str, dict[str, Any]]:
    """Airflow task entry point: resolve the connections by id and run ``extract_to_lake``."""
    from dagspec_runtime.connections import describe, postgres_conninfo
    from dagspec_runtime.lake import Lake

    conninfo = postgres_conninfo(source_conn_id, application_name=f"dagspec-extract:{pipeline_id}")
    lake = Lake.from_uri(lake_uri, conn_id=lake_conn_id)
    log.info(
        "extracting %d table(s) for ds=%s from %s (%s) into %s",
        len(tables),
        ds,
        source_conn_id,
        describe(conninfo),
        lake.uri,
    )
    return extract_to_lake(conninfo, lake, pipeline_id=pipeline_id, ds=ds, timezone=timezone, tables=tables)


def export_snapshot(cur: psycopg.Cursor[Any]) -> str:
    """The id other connections import to see exactly what ``cur``'s transaction sees."""
    row = cur.execute("SELECT pg_export_snapshot()").fetchone()
    assert row is not None
    return str(row[0])


def _fix_text_forms(cur: psycopg.Cursor[Any]) -> None:
    """Fix the text forms COPY emits, whatever the server or role defaults are: ISO dates, UTC
    offsets for timestamptz, shortest exact floats."""
    cur.execute("SET LOCAL TimeZone = 'UTC'")
    cur.execute("SET LOCAL DateStyle = 'ISO, YMD'")
    cur.execute("SET LOCAL extra_float_digits = 1")


def _in_parallel(
    conninfo: str,
    snapshot: str,
    specs: Sequence[TableSpec],
    stage: Callable[[psycopg.Cursor[Any], TableSpec], tuple[PartitionWriter, bytes, dict[str, Any]]],
    workers: int,
    staged: list[tuple[PartitionWriter, bytes]],
) -> list[dict[str, Any]]:
    """``stage`` every table on ``workers`` threads, each table on a connection that imported
    ``snapshot``. Staged partitions go to ``staged`` in ``specs`` order (the caller publishes or
    aborts them all); returns the tables' summaries. When a table fails, the tables already
    started finish first, then the first error in ``specs`` order is raised."""
    from concurrent.futures import ThreadPoolExecutor

    def run(spec: TableSpec) -> tuple[PartitionWriter, bytes, dict[str, Any]]:
        with _snapshot_cursor(conninfo, snapshot) as cur:
            return stage(cur, spec)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dagspec-extract") as pool:
        futures = [pool.submit(run, spec) for spec in specs]
    results = []
    error: BaseException | None = None
    for future in futures:
        if (exc := future.exception()) is not None:
            error = error or exc
            continue
        writer, manifest_bytes, table_summary = future.result()
        staged.append((writer, manifest_bytes))
        results.append(table_summary)
    if error is not None:
        raise error
    return results


@contextmanager
def _snapshot_cursor(conninfo: str, snapshot: str) -> Iterator[psycopg.Cursor[Any]]:
    """A cursor in a read-only REPEATABLE READ transaction that sees exactly ``snapshot``."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(conninfo, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            # Must come before any query of the transaction.
            cur.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
            _fix_text_forms(cur)
            yield cur
        finally:
            cur.execute("ROLLBACK")  # read only: nothing to commit


# -- one table ---------------------------------------------------------------------------------


def _history_base(lake: Lake, spec: TableSpec, day: date, *, day_before_pending: bool = False) -> bool:
    """Whether a history table's partition for ``day`` must hold the whole table (a base).

    Changed rows alone are enough only on top of the day before's partition, taken from the same
    columns as a whole table or as changes: then every row unchanged since that day began is in an
    earlier partition. The first day, a day after a gap (a day never extracted, or extracted
    before the table was kept as a history) and a day after a change of columns take the whole table.
    A parallel backfill whose day before is not committed yet takes a base too: costlier, never wrong.

    A day taken before keeps the kind it was taken as (a base stays a base), so that re-running a
    range takes every day as the first run did, whatever order the runs finish in: which day of a
    parallel backfill found its day before committed is an accident of scheduling, and a re-run of
    unchanged source data must leave the lake's bytes as they were.
    """
    columns = [{"name": c.name, "type": c.pg_type} for c in spec.columns]
    try:
        own = read_manifest(lake, spec.name, day.isoformat())
    except FileNotFoundError:
        own = None
    if own is not None and own.get("columns") == columns and own.get("taken") == "whole_table":
        return True
    if day_before_pending:
        # The same range extracts the day before from the same columns and commits it first
        # (``extract_range``), or this day is not committed at all.
        return False
    try:
        before = read_manifest(lake, spec.name, (day - timedelta(days=1)).isoformat())
    except FileNotFoundError:
        return True
    return before.get("mode") not in ("history", "snapshot") or before.get("columns") != columns


def _predicate(
    spec: TableSpec, day: date, timezone: str, *, history_base: bool = False
) -> tuple[sql.Composable, dict[str, str] | None]:
    """The WHERE clause selecting the day's rows, and the window to record in the manifest."""
    from psycopg import sql

    if spec.mode == "snapshot" or (spec.mode == "history" and history_base):
        return sql.SQL("true"), None
    assert spec.cursor_column is not None
    cursor = sql.Identifier(spec.cursor_column)
    if spec.mode == "history":
        # No upper bound: rows changed after the day ended but before this run are taken in their
        # newest form, as a snapshot taken now would hold them (their earlier form is gone).
        start, _ = day_bounds(day, timezone)
        where = sql.SQL("{c} >= {s}").format(c=cursor, s=sql.Literal(start))
        return where, {"since": start.isoformat()}
    cursor_type = spec.column(spec.cursor_column).pg_type
    if cursor_type == "date":
        return sql.SQL("{} = {}").format(cursor, sql.Literal(day)), {"date": day.isoformat()}
    if cursor_type == "timestamptz":
        start, end = day_bounds(day, timezone)
    else:
        # A timestamp without time zone holds wall-clock values: taken as local to the pipeline.
        start = datetime.combine(day, datetime.min.time())
        end = start + timedelta(days=1)
    window = {"start": start.isoformat(), "end": end.isoformat()}
    where = sql.SQL("{c} >= {s} AND {c} < {e}").format(c=cursor, s=sql.Literal(start), e=sql.Literal(end))
    return where, window


def _extract_table(
    cur: psycopg.Cursor[Any],
    spec: TableSpec,
    writer: PartitionWriter,
    *,
    pipeline_id: str,
    day: date,
    timezone: str,
    row_group_rows: int,
    file_rows: int,
    history_base: bool = False,
) -> tuple[dict[str, Any], dict[str, Any]]:
    from psycopg import sql

    started = time.perf_counter()
    where, window = _predicate(spec, day, timezone, history_base=history_base)
    source = sql.SQL("{}.{}").format(sql.Identifier(spec.schema), sql.Identifier(spec.name))
    select = sql.SQL("SELECT {cols} FROM {src} WHERE {where} ORDER BY {pk}").format(
        cols=sql.SQL(", ").join(sql.Identifier(c) for c in spec.column_names),
        src=source,
        where=where,
        pk=sql.SQL(", ").join(sql.Identifier(k) for k in spec.primary_key),
    )
    parts = _PartFiles(spec.arrow_schema(), writer, row_group_rows=row_group_rows, file_rows=file_rows)
    parser = _CsvParser(spec)
    csv_bytes = 0

    def write_chunk(chunk: bytearray) -> None:
        for batch in parser.parse(chunk):
            parts.add(batch)

    with _Worker(write_chunk) as worker:
        for chunk in _copy_chunks(cur, sql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(select)):
            csv_bytes += len(chunk)
            worker.put(chunk)
    entries = parts.close()

    # Same predicate, same snapshot: anything but equality means rows were lost or invented
    # between Postgres and Parquet (or the source is not a stable relation), so publish nothing.
    cur.execute(sql.SQL("SELECT count(*) FROM {} WHERE {}").format(source, where))
    row = cur.fetchone()
    expected = int(row[0]) if row else -1
    written = sum(rows for _, rows in entries)
    if written != expected:
        raise ReconciliationError(
            f"{spec.schema}.{spec.name} ds={day}: wrote {written} rows but count(*) in the same snapshot "
            f"is {expected}; the previous partition is left in place"
        )

    files = [{"path": e.path, "rows": rows, "bytes": e.bytes, "sha256": e.sha256} for e, rows in entries]
    manifest = {
        "format_version": MANIFEST_VERSION,
        # Committed by the day record alone: without it, the partition is not a (legacy) commit.
        COMMITTED_BY: COMMITTED_BY_DAY_RECORD,
        "pipeline_id": pipeline_id,
        "table": spec.name,
        "source": f"{spec.schema}.{spec.name}",
        "ds": day.isoformat(),
        "timezone": timezone,
        "mode": spec.mode,
        "cursor_column": spec.cursor_column,
        "window": window,
        "taken": _taken(spec, history_base),
        "primary_key": list(spec.primary_key),
        "columns": [{"name": c.name, "type": c.pg_type} for c in spec.columns],
        "rows": written,
        "files": files,
    }
    elapsed = time.perf_counter() - started
    size = sum(f["bytes"] for f in files)
    log.info(
        "extracted %s.%s ds=%s: %d rows, %d CSV bytes read, %d Parquet bytes in %d file(s), "
        "%.2fs, %.0f rows/s",
        spec.schema,
        spec.name,
        day,
        written,
        csv_bytes,
        size,
        len(files),
        elapsed,
        written / max(elapsed, 1e-9),
    )
    return manifest, {
        "rows": written,
        "bytes": size,
        "files": files,
        "seconds": round(elapsed, 3),
        "taken": manifest["taken"],
    }


def _taken(spec: TableSpec, history_base: bool) -> str:
    """How the partition was taken, as the manifest and the report's freshness section say it."""
    if spec.mode == "incremental":
        return "day_rows"
    return "changed_rows" if spec.mode == "history" and not history_base else "whole_table"


def _copy_chunks(cur: psycopg.Cursor[Any], statement: sql.Composable) -> Iterator[bytearray]:
    """COPY ... TO STDOUT output in chunks of about ``_CSV_CHUNK_BYTES``, each made of whole rows.

    libpq hands COPY data over one row per ``PQgetCopyData`` call, so chunk boundaries are row
    boundaries even when quoted values contain newlines. psycopg's ``Copy`` iterator costs a
    generator and a wait loop per row, which made this loop the extract's speed limit (about a
    third of ``psql \\copy``); here psycopg starts the COPY and checks it (``cursor.copy()``), then
    the rows are drained straight from libpq in non-blocking mode: per row one C call and one
    C-level append, and the GIL is released only while waiting for the socket, which lets the
    parsing thread run. On an error or an early exit, leaving ``cursor.copy()`` cancels the COPY
    and drains what is left, as it does for its own reads.
    """
    import selectors

    from psycopg import OperationalError, pq
    from psycopg.errors import error_from_result

    with cur.copy(statement), selectors.DefaultSelector() as selector:
        pgconn = cur.connection.pgconn
        selector.register(pgconn.socket, selectors.EVENT_READ)
        get_copy_data = pgconn.get_copy_data
        limit = _CSV_CHUNK_BYTES
        chunk = bytearray()
        while True:
            nbytes, row = get_copy_data(1)  # 1: never block inside libpq while holding the GIL
            if nbytes > 0:
                chunk += row
                if len(chunk) >= limit:
                    yield chunk
                    chunk = bytearray()
            elif nbytes == 0:  # no complete row buffered: wait for the socket
                selector.select()
                pgconn.consume_input()
            elif nbytes == -1:  # end of the COPY data
                break
            else:
                raise OperationalError(f"COPY failed: {pgconn.get_error_message()}")
        # The COPY's own result says whether the server finished it cleanly. Read every result
        # before raising, so the connection is idle again (in a failed transaction on error).
        results = []
        while True:
            while pgconn.is_busy():
                selector.select()
                pgconn.consume_input()
            if (result := pgconn.get_result()) is None:
                break
            results.append(result)
        for result in results:
            if result.status != pq.ExecStatus.COMMAND_OK:
                raise error_from_result(result, encoding=cur.connection.info.encoding)
        if chunk:  # no empty chunk: pyarrow refuses an empty CSV, and a day without rows is normal
            yield chunk


class _CsvParser:
    """Parses one chunk of Postgres CSV into record batches with the spec's exact Arrow types.

    pyarrow's streaming CSV reader over the COPY stream was measured and rejected: it reads ahead
    on a background thread by up to 32 blocks (100+ MB held at 4 MiB blocks whenever Parquet
    writing is the slower side), and it would drive the psycopg connection from a foreign thread.
    """

    def __init__(self, spec: TableSpec) -> None:
        import pyarrow.csv as pacsv

        self._names = spec.column_names
        self._label = f"{spec.schema}.{spec.name}"
        # Text and jsonb values may contain newlines (COPY quotes them).
        self._parse_options = pacsv.ParseOptions(newlines_in_values=True)
        self._convert_options = pacsv.ConvertOptions(
            column_types={c.name: c.arrow_type() for c in spec.columns},
            # COPY CSV writes NULL as an unquoted empty field and '' as "": keep them apart.
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            true_values=["t"],
            false_values=["f"],
        )

    def parse(self, chunk: bytearray) -> list[pa.RecordBatch]:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        try:
            table = pacsv.read_csv(
                pa.BufferReader(pa.py_buffer(chunk)),
                # One block for the whole chunk, parsed on the calling thread.
                read_options=pacsv.ReadOptions(
                    column_names=self._names, block_size=len(chunk) + 1, use_threads=False
                ),
                parse_options=self._parse_options,
                convert_options=self._convert_options,
            )
        except pa.ArrowInvalid as exc:
            # e.g. numeric 'NaN' (no decimal128 form) or a BC date: name the column, not its index.
            m = re.search(r"CSV column #(\d+)", str(exc))
            column = self._names[int(m[1])] if m and int(m[1]) < len(self._names) else "?"
            raise ValueError(
                f"{self._label}: column {column}: value does not fit its spec type: {exc}"
            ) from exc
        return table.to_batches()


class _Worker:
    """Runs ``handle(chunk)`` on one background thread, at most ``depth`` chunks behind.

    Parsing and Parquet encoding are C++ that releases the GIL, so they overlap with the
    connection-owning thread's COPY loop (two cores: roughly the sum becomes the maximum), and the
    bounded queue keeps memory flat. The first error in the worker is re-raised to the caller.
    """

    def __init__(self, handle: Callable[[bytearray], None], depth: int = 2) -> None:
        import queue
        import threading

        self._handle = handle
        self._queue: queue.Queue[bytearray | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="dagspec-extract-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is None:  # after a failure keep draining, so put() never blocks forever
                try:
                    self._handle(chunk)
                except BaseException as exc:
                    self._error = exc

    def put(self, chunk: bytearray) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(chunk)

    def __enter__(self) -> _Worker:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._queue.put(None)
        self._thread.join()
        if exc is None and self._error is not None:
            raise self._error


class _PartFiles:
    """Writes batches as fixed-size row groups into a sequence of Parquet part files.

    Row-group and file boundaries depend only on row counts (never on how the CSV reader happened
    to cut its batches), and each row group is written from one contiguous chunk, so the Parquet
    bytes depend only on the rows.
    """

    def __init__(
        self, schema: pa.Schema, writer: PartitionWriter, *, row_group_rows: int, file_rows: int
    ) -> None:
        import pyarrow as pa

        self._schema = schema
        # Dictionary encoding only for text: ids, amounts and timestamps are nearly all distinct, and
        # trying a dictionary first then falling back made Parquet writing cost about 3x the CPU
        # and 2x the bytes of plain encoding + zstd (1M orders: 0.58 s / 20 MB vs 0.21 s / 10 MB).
        self._dictionary_columns = [
            f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
        ]
        self._writer = writer
        self._row_group_rows = row_group_rows
        self._file_rows = file_rows
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._file: Any = None  # pyarrow.parquet.ParquetWriter of the open part
        self._file_path = ""
        self._file_row_count = 0
        self._entries: list[tuple[FileEntry, int]] = []

    def add(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        self._pending.append(batch)
        self._pending_rows += batch.num_rows
        while self._pending_rows >= self._row_group_rows:
            self._flush(self._row_group_rows)

    def close(self) -> list[tuple[FileEntry, int]]:
        """Flush the rest and stage every part; an empty day still yields one (empty) typed file."""
        if self._pending_rows:
            self._flush(self._pending_rows)
        if self._file is None and not self._entries:
            self._open()
        if self._file is not None:
            self._finish_file()
        return self._entries

    def _flush(self, rows: int) -> None:
        import pyarrow as pa

        table = pa.Table.from_batches(self._pending, schema=self._schema)
        group, rest = table.slice(0, rows), table.slice(rows)
        self._pending = rest.to_batches()
        self._pending_rows = rest.num_rows
        if self._file is None:
            self._open()
        self._file.write_table(group.combine_chunks(), row_group_size=rows)
        self._file_row_count += rows
        if self._file_row_count >= self._file_rows:
            self._finish_file()

    def _open(self) -> None:
        import pyarrow.parquet as pq

        index = len(self._entries)
        self._file_path = os.path.join(self._writer.scratch_dir, f".part-{index:05d}.inprogress")
        self._file = pq.ParquetWriter(
            self._file_path,
            self._schema,
            compression="zstd",
            compression_level=_ZSTD_LEVEL,
            use_dictionary=self._dictionary_columns or False,
            write_statistics=True,
        )
        self._file_row_count = 0

    def _finish_file(self) -> None:
        self._file.close()
        self._file = None
        entry = self._writer.add_file(self._file_path, f"part-{len(self._entries):05d}", ".parquet")
        self._entries.append((entry, self._file_row_count))


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()
