"""The lake's layout and partition manifests: ``<lake>/raw/<table>/ds=<YYYY-MM-DD>/part-*.parquet``
+ manifest, and ``<lake>/reports/<pipeline id>/ds=<YYYY-MM-DD>/`` for a day's report.

The manifest is what makes a partition exist: it lists every file with its row count and sha256,
and holds nothing that changes between two runs over the same data (no timestamps, no run ids),
so re-extracting unchanged data reproduces it byte for byte.
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dagspec_runtime.contract import Pipeline
    from dagspec_runtime.lake import Lake

__all__ = ["MANIFEST_NAME", "MANIFEST_VERSION", "dumps", "partition_dir", "read_manifest", "report_dir"]

MANIFEST_NAME = "_manifest.json"
MANIFEST_VERSION = 1


def partition_dir(table: str, ds: str) -> str:
    """The partition's directory, relative to the lake root."""
    date.fromisoformat(ds)  # a malformed ds must never become a path
    return f"raw/{table}/ds={ds}"


def report_dir(pipeline: Pipeline, day: str) -> str:
    """Where a day's report, its delivery marker and its dbt gate verdict live, relative to the lake root."""
    date.fromisoformat(day)
    return f"reports/{pipeline.id}/ds={day}"


def dumps(manifest: dict[str, Any]) -> bytes:
    """Canonical JSON: sorted keys, fixed indentation, trailing newline."""
    return (json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=True) + "\n").encode()


def read_manifest(lake: Lake, table: str, ds: str) -> dict[str, Any]:
    """The committed manifest of ``table`` for ``ds``; ``FileNotFoundError`` if it was never extracted."""
    rel = f"{partition_dir(table, ds)}/{MANIFEST_NAME}"
    manifest = lake.read_json(rel)
    if manifest is None:
        raise FileNotFoundError(f"no partition manifest at {lake.url(rel)}")
    if manifest.get("format_version") != MANIFEST_VERSION:
        raise ValueError(f"{lake.url(rel)}: unsupported manifest format {manifest.get('format_version')!r}")
    return manifest
