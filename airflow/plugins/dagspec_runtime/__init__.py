"""Runtime helpers that dagspec-generated Airflow DAG tasks call.

This package sits in Airflow's plugins folder, which Airflow puts on ``sys.path`` of every
scheduler, dag-processor, API-server and worker process, and generated DAG files import from it
at parse time. Importing it (or any of its modules) must therefore stay cheap: pyarrow, psycopg,
fsspec/s3fs and boto are imported inside the functions that need them, never at module level.

Modules:

- ``dagspec_runtime.days``: which calendar day a run reports on, and that day's UTC bounds.
- ``dagspec_runtime.lake``: a small fsspec-backed lake (local paths or ``s3://``) with atomic
  partition commits.
- ``dagspec_runtime.extract``: consistent, streaming Postgres -> Parquet extract of one run's tables.
- ``dagspec_runtime.warehouse_load``: load one day's lake partitions into a Postgres warehouse.

Every module imports its siblings absolutely (``from dagspec_runtime.x import y``): Airflow's
plugin manager may import plugin-folder files by path as top-level modules, where relative
imports would fail. The ``.airflowignore`` next to this file keeps the plugin manager out of it.
"""

from dagspec_runtime.days import day_bounds, report_day, report_day_str

__all__ = ["day_bounds", "report_day", "report_day_str"]
