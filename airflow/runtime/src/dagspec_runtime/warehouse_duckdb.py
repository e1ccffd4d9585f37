"""The DuckDB warehouse adapter: one file, one writing process at a time.

DuckDB allows a single writing process per file, so every writer (dbt build, publish) and every
reader (the report) holds an ``flock`` on ``<file>.lock`` (readers share it). ``flock`` is per host:
a DuckDB warehouse needs its workers on one machine (or an Airflow pool with one slot around the
tasks that touch it).

A dbt build also holds ``<file>.dbt-lease``: the task locks it and the dbt process inherits the
locked descriptor, so the lock lasts until both have exited. A dbt process left by a killed task
keeps it, and the next build waits for it (``dbt_lease``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from psycopg import sql

from dagspec_runtime.locks import wait_for
from dagspec_runtime.warehouse import Lease, Warehouse

if TYPE_CHECKING:
    from dagspec_runtime.contract import DuckDBConfig, EnvNames, Mart

__all__ = ["DuckDBWarehouse"]


class DuckDBWarehouse(Warehouse):
    def __init__(self, config: DuckDBConfig, path: str) -> None:
        super().__init__(config.audit_schema, config.publish_schema)
        self.path = path  # absolute: settings.duckdb_file resolved it under the warehouse root

    def __repr__(self) -> str:
        return f"DuckDBWarehouse({self.path})"

    @contextlib.contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[Any]:
        import duckdb

        if read_only and not os.path.exists(self.path):
            raise FileNotFoundError(f"DuckDB warehouse {self.path} does not exist (nothing built yet)")
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        conn = duckdb.connect(self.path, read_only=read_only)
        try:
            yield conn
        finally:
            conn.close()

    def cursor(self, conn: Any) -> Any:
        # A DuckDB "cursor" is a second connection with its own transaction: use the connection.
        return conn

    def begin(self, conn: Any) -> Any:
        conn.execute("BEGIN TRANSACTION")  # DuckDB autocommits unless told
        return conn

    @contextlib.contextmanager
    def exclusive(self, purpose: str) -> Iterator[None]:
        with _flock(f"{self.path}.lock", exclusive=True, purpose=purpose):
            yield

    @contextlib.contextmanager
    def dbt_lease(self, purpose: str) -> Iterator[Lease]:
        with _flock(f"{self.path}.dbt-lease", exclusive=True, purpose=purpose, what="dbt lease") as fd:
            yield Lease(fds=(fd,))

    @contextlib.contextmanager
    def shared(self, purpose: str) -> Iterator[None]:
        # DuckDB cannot open a file another process writes: readers share the lock.
        with _flock(f"{self.path}.lock", exclusive=False, purpose=purpose):
            yield

    def columns(self, conn: Any, schema: str, table: str) -> list[tuple[str, str]]:
        conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [schema, table],
        )
        return [(str(r[0]), str(r[1])) for r in conn.fetchall()]

    def execute(self, cur: Any, statement: sql.Composable) -> None:
        # DuckDB quotes identifiers and strings as PostgreSQL does (E'' strings included), so
        # psycopg renders the statement without a PostgreSQL connection.
        cur.execute(statement.as_string(None))

    def create_published(self, cur: Any, dst: sql.Composable, src: sql.Composable, mart: Mart) -> None:
        self.execute(cur, sql.SQL("CREATE TABLE {} AS SELECT * FROM {} LIMIT 0").format(dst, src))

    def dbt_env(self, env: EnvNames) -> dict[str, str]:
        return {env.duckdb_path: self.path}


@contextlib.contextmanager
def _flock(path: str, *, exclusive: bool, purpose: str, what: str = "") -> Iterator[int]:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH

    def attempt() -> bool:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    try:
        wait_for(attempt, f"{what or ('writer' if exclusive else 'reader') + ' lock'} {path}", purpose)
        yield fd
    finally:
        os.close(fd)  # closing the descriptor releases the lock
