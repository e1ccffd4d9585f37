"""Runtime helpers that dagspec-generated Airflow DAG tasks call.

This package is installed beside Airflow (``pip install airflow/runtime``, a wheel versioned with
the compiler) in every scheduler, dag-processor, API-server, triggerer and worker environment, and
generated DAG files import from it at parse time. Importing it (or any of its modules) must
therefore stay cheap: pyarrow, psycopg, fsspec/s3fs and boto are imported inside the functions that
need them, never at module level.

Modules:

- ``dagspec_runtime.contract``: the config a generated DAG passes (``load_pipeline``), parsed once
  into frozen dataclasses; refuses another contract version, naming both.
- ``dagspec_runtime.days``: which calendar day a run reports on, and that day's UTC bounds.
- ``dagspec_runtime.lake``: a small fsspec-backed lake (local paths or ``s3://``) with atomic
  partition commits.
- ``dagspec_runtime.operators``: the Airflow operators a generated DAG instantiates, one per step
  (``dagspec_runtime.tasks``).
- ``dagspec_runtime.extract``: consistent, streaming Postgres -> Parquet extract of one run's tables.
- ``dagspec_runtime.warehouse_load``: load one day's lake partitions into a Postgres warehouse.
"""

from dagspec_runtime.days import day_bounds, report_day, report_day_str

# The compiler's version (package.json), which the wheel's metadata carries too; a test keeps the
# three equal. A literal rather than importlib.metadata: DAG files import this at every parse.
__version__ = "0.1.0"

__all__ = ["__version__", "day_bounds", "report_day", "report_day_str"]
