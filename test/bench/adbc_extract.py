"""The ADBC contender of the extract benchmark, run in a scratch venv holding only
adbc-driver-postgresql and pyarrow from PyPI (the bench creates it): the whole result fetched as
one Arrow table (``fetch_arrow_table``), then ``pyarrow.parquet.write_table``.

    python adbc_extract.py URI QUERY OUT_DIR

Prints one JSON line: rows, seconds of work (connect, fetch, write), Parquet bytes.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import adbc_driver_postgresql.dbapi
import pyarrow.parquet as pq


def main() -> None:
    uri, query, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    path = out / "orders.parquet"
    started = time.perf_counter()
    with adbc_driver_postgresql.dbapi.connect(uri) as conn, conn.cursor() as cur:
        cur.execute(query)
        table = cur.fetch_arrow_table()
    pq.write_table(table, path, compression="zstd")
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": table.num_rows, "seconds": seconds, "bytes": path.stat().st_size}))


if __name__ == "__main__":
    main()
