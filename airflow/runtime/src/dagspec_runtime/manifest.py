"""The lake's layout and manifests: ``<lake>/raw/<table>/ds=<YYYY-MM-DD>/part-*.parquet`` +
``_manifest.json``, the day's commit record ``<lake>/_days/ds=<YYYY-MM-DD>.json``, and
``<lake>/reports/<pipeline id>/ds=<YYYY-MM-DD>/`` for a day's report.

A partition's manifest lists every file with its row count and sha256. The day record holds the
manifest of every table of the day and is written last, in one step, after all the day's
partitions are in place: it is the one commit point of the day, so a day's tables become visible
together or not at all, and readers (``read_manifest``, ``read_day``) resolve through it. A
partition's own ``_manifest.json`` is a copy for tools that look at one folder (and the only
manifest of lakes written before day records existed, which readers fall back to).

Which partition manifests are such legacy commits: those without ``"committed_by": "day_record"``.
Every manifest written since day records exist carries it, so a marked manifest counts only through
its day's record: a partition swapped into place by an extract killed before it wrote the record
(possible on a local lake, where folders are swapped in first and the record written last) is not
committed, and no reader sees it, even for a day with no record at all. Lakes from before keep
reading as they did (their manifests have no such field; the format version is unchanged).

Neither holds anything that changes between two runs over the same data (no timestamps, no run
ids), so re-extracting unchanged data reproduces them byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from dagspec_runtime.layout import raw_partition, report_folder

if TYPE_CHECKING:
    from dagspec_runtime.contract import Pipeline
    from dagspec_runtime.lake import Lake

__all__ = [
    "COMMITTED_BY",
    "COMMITTED_BY_DAY_RECORD",
    "DAYS_DIR",
    "MANIFEST_NAME",
    "MANIFEST_VERSION",
    "day_record",
    "day_record_path",
    "dumps",
    "legacy_manifest",
    "partition_dir",
    "read_day",
    "read_manifest",
    "read_manifests",
    "report_dir",
]

MANIFEST_NAME = "_manifest.json"
MANIFEST_VERSION = 1
DAYS_DIR = "_days"  # outside raw/: no table's glob (raw/<table>/ds=*/*.parquet) reaches it
DAY_VERSION = 1
# The field every partition manifest written in the day-record era has, and its value: such a
# manifest is committed by its day's record alone, never as a legacy day's own manifest.
COMMITTED_BY = "committed_by"
COMMITTED_BY_DAY_RECORD = "day_record"


def partition_dir(table: str, ds: str) -> str:
    """The partition's directory, relative to the lake root."""
    date.fromisoformat(ds)  # a malformed ds must never become a path
    return raw_partition(table, ds)


def day_record_path(ds: str) -> str:
    """The day's commit record, relative to the lake root."""
    date.fromisoformat(ds)
    return f"{DAYS_DIR}/ds={ds}.json"


def report_dir(pipeline: Pipeline, day: str) -> str:
    """Where a day's report, its delivery marker and its dbt gate verdict live, relative to the lake root."""
    date.fromisoformat(day)
    return report_folder(pipeline, day)


def dumps(manifest: dict[str, Any]) -> bytes:
    """Canonical JSON: sorted keys, fixed indentation, trailing newline."""
    return (json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=True) + "\n").encode()


def read_day(lake: Lake, ds: str) -> dict[str, dict[str, Any]] | None:
    """``{table: manifest}`` as the day's commit record has it, or ``None`` for a day without one
    (never extracted, or extracted before day records existed)."""
    rel = day_record_path(ds)
    record = lake.read_json(rel)
    if record is None:
        return None
    if record.get("format_version") != DAY_VERSION or record.get("ds") != ds:
        raise ValueError(f"{lake.url(rel)}: not a day record for ds={ds} in format {DAY_VERSION}")
    return dict(record["tables"])


def day_record(lake: Lake, ds: str, manifests: dict[str, dict[str, Any]]) -> bytes:
    """The record that commits ``manifests`` (``{table: manifest}``) for day ``ds``.

    Tables of the committed record that this write does not cover (a table dropped from the spec,
    or one written by another extract of the same day) keep their committed manifest.
    """
    tables = dict(read_day(lake, ds) or {})
    tables.update(manifests)
    return dumps({"format_version": DAY_VERSION, "ds": ds, "tables": tables})


def read_manifests(lake: Lake, tables: Sequence[str], ds: str) -> dict[str, dict[str, Any]]:
    """The committed manifests of ``tables`` for ``ds``, all from one read of the day's record, so
    they come from one commit; ``FileNotFoundError`` if any was never extracted."""
    day = read_day(lake, ds)
    return {table: _committed_manifest(lake, table, ds, day) for table in tables}


def read_manifest(lake: Lake, table: str, ds: str) -> dict[str, Any]:
    """The committed manifest of ``table`` for ``ds``; ``FileNotFoundError`` if it was never extracted."""
    return _committed_manifest(lake, table, ds, read_day(lake, ds))


def legacy_manifest(lake: Lake, table: str, ds: str) -> dict[str, Any] | None:
    """The partition's own manifest if it commits the partition by itself (a day extracted before
    day records existed), else ``None``: no manifest, or one written to be committed by a day
    record (``committed_by``), which without that record is not committed."""
    manifest = lake.read_json(f"{partition_dir(table, ds)}/{MANIFEST_NAME}")
    if manifest is None or COMMITTED_BY in manifest:
        return None
    return dict(manifest)


def _committed_manifest(
    lake: Lake, table: str, ds: str, day: dict[str, dict[str, Any]] | None
) -> dict[str, Any]:
    if day is not None:
        rel = day_record_path(ds)
        if table not in day:
            raise FileNotFoundError(f"{lake.url(rel)} commits no partition of {table}")
        manifest = day[table]
    else:  # a lake written before day records existed
        rel = f"{partition_dir(table, ds)}/{MANIFEST_NAME}"
        manifest = lake.read_json(rel)
        if manifest is None:
            raise FileNotFoundError(f"no partition manifest at {lake.url(rel)}")
        if COMMITTED_BY in manifest:  # written for a day record that was never written
            raise FileNotFoundError(
                f"{lake.url(rel)} is not committed: it waits for the day record "
                f"{lake.url(day_record_path(ds))}, which does not exist"
            )
    if manifest.get("format_version") != MANIFEST_VERSION:
        raise ValueError(f"{lake.url(rel)}: unsupported manifest format {manifest.get('format_version')!r}")
    return manifest
