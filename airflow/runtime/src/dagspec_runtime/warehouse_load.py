"""Load one day's lake partitions into a Postgres warehouse (the postgres-warehouse target).

For each table, ``<raw_schema>.<table>`` (the spec's typed columns plus ``ds date``) gets that
day's rows replaced: ``DELETE ... WHERE ds = <ds>`` and then ``COPY ... FROM STDIN`` streamed from
the Parquet files the partition's manifest lists, one record batch at a time. All tables of the
day are replaced in one transaction and checked against the manifests' row counts before it
commits, so the warehouse holds either the previous load or the complete new one. Snapshot tables
keep one snapshot per ds, so they are replaced the same way.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from dagspec_runtime.manifest import partition_dir, read_manifests
from dagspec_runtime.spec import TableSpec, parse_tables

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

    from dagspec_runtime.lake import Lake

__all__ = ["LoadMismatchError", "load_partitions_to_postgres", "load_raw"]

log = logging.getLogger(__name__)

_BATCH_ROWS = 65_536


class LoadMismatchError(RuntimeError):
    """The warehouse holds a different number of rows than the manifest; the load was rolled back."""


def load_partitions_to_postgres(
    conninfo: str,
    lake: Lake,
    *,
    ds: str,
    tables: Sequence[Mapping[str, Any]],
    raw_schema: str,
) -> dict[str, dict[str, Any]]:
    """Replace day ``ds`` of every table in ``<raw_schema>``.

    Returns ``{table: {rows, deleted, files, seconds}}``.
    """
    import psycopg
    from psycopg import sql

    specs = parse_tables(tables)
    day = date.fromisoformat(ds)
    # Read every manifest before touching the warehouse: a missing partition fails fast.
    # One read of the day's commit record for all tables: a commit of the day between two reads
    # could otherwise pair tables from different runs.
    manifests = read_manifests(lake, [s.name for s in specs], ds)
    for spec in specs:
        _check_columns(spec, manifests[spec.name])

    summary: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    with psycopg.connect(conninfo) as conn, conn.transaction(), conn.cursor() as cur:
        cur.execute("SET LOCAL TimeZone = 'UTC'")
        cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(raw_schema)))
        for spec in specs:
            _create_table(cur, spec, raw_schema)
        # Serialise loaders of the same tables (readers are not blocked): without it two
        # concurrent loads of one day could each delete before the other inserts, and both commit.
        # Sorted, so two loads of overlapping table sets cannot deadlock.
        for spec in sorted(specs, key=lambda s: s.name):
            lock = sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE")
            cur.execute(lock.format(_target(spec, raw_schema)))
        for spec in specs:
            summary[spec.name] = _load_table(cur, lake, spec, manifests[spec.name], day, raw_schema)
    elapsed = time.perf_counter() - started
    rows = sum(s["rows"] for s in summary.values())
    log.info(
        "loaded ds=%s: %d table(s), %d rows into schema %s in %.2fs (%.0f rows/s)",
        ds,
        len(specs),
        rows,
        raw_schema,
        elapsed,
        rows / max(elapsed, 1e-9),
    )
    return summary


def load_raw(
    *,
    warehouse_conn_id: str,
    lake_uri: str,
    lake_conn_id: str | None,
    ds: str,
    tables: Sequence[Mapping[str, Any]],
    raw_schema: str,
) -> dict[str, dict[str, Any]]:
    """Airflow task entry point: resolve the connections by id and run ``load_partitions_to_postgres``."""
    from dagspec_runtime.connections import describe, postgres_conninfo
    from dagspec_runtime.lake import Lake

    conninfo = postgres_conninfo(warehouse_conn_id, application_name="dagspec-load")
    lake = Lake.from_uri(lake_uri, conn_id=lake_conn_id)
    log.info(
        "loading %d table(s) for ds=%s from %s into %s (%s) schema %s",
        len(tables),
        ds,
        lake.uri,
        warehouse_conn_id,
        describe(conninfo),
        raw_schema,
    )
    return load_partitions_to_postgres(conninfo, lake, ds=ds, tables=tables, raw_schema=raw_schema)


def _check_columns(spec: TableSpec, manifest: Mapping[str, Any]) -> None:
    expected = [{"name": c.name, "type": c.pg_type} for c in spec.columns]
    if manifest.get("columns") != expected:
        raise ValueError(
            f"{spec.name} ds={manifest.get('ds')}: the partition was extracted with columns "
            f"{manifest.get('columns')}, the spec now says {expected}; re-extract the day first"
        )


def _target(spec: TableSpec, raw_schema: str) -> sql.Composed:
    from psycopg import sql

    return sql.SQL("{}.{}").format(sql.Identifier(raw_schema), sql.Identifier(spec.name))


def _create_table(cur: psycopg.Cursor[Any], spec: TableSpec, raw_schema: str) -> None:
    from psycopg import sql

    # pg_type is the canonical spelling validated against the closed type list in spec.py.
    columns = [sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.pg_type)) for c in spec.columns]
    columns.append(sql.SQL("ds date NOT NULL"))
    cur.execute(
        sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(
            _target(spec, raw_schema), sql.SQL(", ").join(columns)
        )
    )
    cur.execute(
        sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (ds)").format(
            sql.Identifier(f"{spec.name[:56]}_ds_idx"), _target(spec, raw_schema)
        )
    )


def _load_table(
    cur: psycopg.Cursor[Any],
    lake: Lake,
    spec: TableSpec,
    manifest: Mapping[str, Any],
    day: date,
    raw_schema: str,
) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq
    from psycopg import sql

    started = time.perf_counter()
    target = _target(spec, raw_schema)
    cur.execute(sql.SQL("DELETE FROM {} WHERE ds = %s").format(target), (day,))
    deleted = cur.rowcount
    names = spec.column_names
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        target, sql.SQL(", ").join(sql.Identifier(n) for n in [*names, "ds"])
    )
    # Quote every non-null value, so that NULL (an unquoted empty field) and '' ("") stay apart.
    options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
    ds_scalar = pa.scalar(day, pa.date32())
    rel_dir = partition_dir(spec.name, day.isoformat())
    with cur.copy(copy_sql) as copy:
        for f in manifest["files"]:
            with lake.local_file(f"{rel_dir}/{f['path']}", sha256=f["sha256"]) as local:
                parquet = pq.ParquetFile(local)
                if parquet.metadata.num_rows != f["rows"]:
                    raise LoadMismatchError(
                        f"{rel_dir}/{f['path']}: {parquet.metadata.num_rows} rows, manifest says {f['rows']}"
                    )
                for batch in parquet.iter_batches(batch_size=_BATCH_ROWS, columns=names):
                    batch = batch.append_column("ds", pa.repeat(ds_scalar, batch.num_rows))
                    buf = io.BytesIO()
                    pacsv.write_csv(batch, buf, options)
                    copy.write(buf.getbuffer())
    cur.execute(sql.SQL("SELECT count(*) FROM {} WHERE ds = %s").format(target), (day,))
    row = cur.fetchone()
    loaded = int(row[0]) if row else -1
    if loaded != manifest["rows"]:
        raise LoadMismatchError(
            f"{raw_schema}.{spec.name} ds={day}: {loaded} rows after load, "
            f"manifest says {manifest['rows']}; rolled back"
        )
    elapsed = time.perf_counter() - started
    log.info(
        "loaded %s.%s ds=%s: %d rows (replaced %d) from %d file(s) in %.2fs (%.0f rows/s)",
        raw_schema,
        spec.name,
        day,
        loaded,
        deleted,
        len(manifest["files"]),
        elapsed,
        loaded / max(elapsed, 1e-9),
    )
    return {"rows": loaded, "deleted": deleted, "files": len(manifest["files"]), "seconds": round(elapsed, 3)}
