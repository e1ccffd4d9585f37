"""The lake's folder names, filled in from the layout patterns the compiler puts in the contract
(``CONFIG["names"]``): ``raw/{table}/ds={ds}`` and ``reports/{pipeline}/ds={ds}``.

Plain formatting, no checks, so an operator can show the layout with the report-day template in it
before a run; ``manifest.partition_dir`` and ``manifest.report_dir`` check the day before a path is
used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dagspec_runtime.contract import Pipeline

__all__ = ["RAW_PARTITION", "raw_partition", "report_folder"]

# The raw layout the lake code writes and reads (extract, warehouse_load, manifests), which is called
# with a table and a day but no pipeline. ``contract.load_pipeline`` refuses a config whose
# ``names.raw_partition`` differs, naming both, so a compiler that moves the layout cannot drift
# silently from this runtime.
RAW_PARTITION = "raw/{table}/ds={ds}"


def raw_partition(table: str, ds: str, pattern: str = RAW_PARTITION) -> str:
    return pattern.format(table=table, ds=ds)


def report_folder(pipeline: Pipeline, ds: str) -> str:
    return pipeline.names.report_folder.format(pipeline=pipeline.id, ds=ds)
