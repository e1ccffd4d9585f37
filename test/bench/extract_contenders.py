"""Child processes of the extract benchmark: one day of orders from Postgres into Parquet.

    python extract_contenders.py dagspec ROWS OUT_DIR   # dagspec_runtime.extract.extract_to_lake
    python extract_contenders.py pandas ROWS OUT_DIR    # what Airflow's SqlToS3Operator does

Each prints one JSON line: rows written, ``seconds`` of work (after the imports, the same span for
every contender: connect, read, write Parquet) and Parquet bytes. The ADBC contender is
adbc_extract.py (it runs in its own scratch venv); psql is run directly by the harness.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import orders_source as src  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def _import_runtime() -> None:
    """dagspec_runtime as installed in the venv (scripts/setup-python.sh), or from
    $DAGSPEC_BENCH_RUNTIME: another version's package folder, to compare two in one run."""
    import os

    if other := os.environ.get("DAGSPEC_BENCH_RUNTIME"):
        sys.path.insert(0, other)


def dagspec(rows: int, out_dir: Path) -> dict[str, object]:
    _import_runtime()
    # The runtime imports these lazily (a DAG file must import fast); load them before the clock
    # starts, as the other contenders' imports are.
    import psycopg  # noqa: F401
    import pyarrow.csv  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    from dagspec_runtime.extract import extract_to_lake
    from dagspec_runtime.lake import Lake

    lake = Lake.from_uri(str(out_dir))
    started = time.perf_counter()
    summary = extract_to_lake(
        src.conninfo(rows), lake, pipeline_id="bench", ds=src.DS, timezone=src.TIMEZONE, tables=[src.ORDERS]
    )
    seconds = time.perf_counter() - started
    return {"rows": summary["orders"]["rows"], "seconds": seconds, "bytes": summary["orders"]["bytes"]}


def pandas(rows: int, out_dir: Path) -> dict[str, object]:
    """SqlToS3Operator.execute with file_format=parquet, minus the S3 upload of the buffer.

    The hook reads the whole result into one DataFrame (PostgresHook.get_df), the operator's own
    _fix_dtypes turns object columns (numeric arrives as Decimal objects) into strings, then
    DataFrame.to_parquet writes an in-memory buffer, which here goes to a file instead of S3.
    """
    import io
    import os

    import pandas as pd  # noqa: F401  # imported inside get_df: load it before the clock starts
    import pyarrow.parquet  # noqa: F401
    from airflow.providers.amazon.aws.transfers.sql_to_s3 import FILE_FORMAT, SqlToS3Operator
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    os.environ["AIRFLOW_CONN_BENCH_SOURCE"] = src.uri(rows)
    started = time.perf_counter()
    df = PostgresHook(postgres_conn_id="bench_source").get_df(sql=src.QUERY, df_type="pandas")
    SqlToS3Operator._fix_dtypes(df, FILE_FORMAT.PARQUET)
    buf = io.BytesIO()
    df.to_parquet(buf)
    (out_dir / "orders.parquet").write_bytes(buf.getvalue())
    seconds = time.perf_counter() - started
    return {"rows": len(df), "seconds": seconds, "bytes": buf.tell()}


def main() -> None:
    kind, rows, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    result = {"dagspec": dagspec, "pandas": pandas}[kind](rows, out)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
