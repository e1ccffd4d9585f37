"""The PostgreSQL warehouse adapter: a database reached through an Airflow connection.

Builds and publishes into one audit schema are serialised by a session advisory lock keyed by
database and audit schema (concurrent dbt builds into one schema would otherwise collide on dbt's
``__dbt_tmp`` relations); readers need no lock (MVCC). dbt cannot read the lake from PostgreSQL, so
the day's partitions are loaded into the raw schema first (``load_raw``).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from psycopg import sql

from dagspec_runtime.locks import wait_for
from dagspec_runtime.warehouse import Warehouse, by_partition

if TYPE_CHECKING:
    from dagspec_runtime.contract import EnvNames, Mart, PostgresConfig

__all__ = ["PostgresWarehouse"]


class PostgresWarehouse(Warehouse):
    def __init__(self, config: PostgresConfig) -> None:
        super().__init__(config.audit_schema, config.publish_schema)
        self.conn_id = config.conn_id
        self.raw_schema = config.raw_schema

    def __repr__(self) -> str:
        return f"PostgresWarehouse({self.conn_id})"

    def conninfo(self) -> str:
        from dagspec_runtime.connections import postgres_conninfo

        return postgres_conninfo(self.conn_id, application_name="dagspec-warehouse")

    @contextlib.contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[Any]:
        import psycopg

        with psycopg.connect(self.conninfo()) as conn:
            if read_only:
                conn.read_only = True
            yield conn

    @contextlib.contextmanager
    def exclusive(self, purpose: str) -> Iterator[None]:
        import psycopg

        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            dbname = conn.info.dbname
            key = int.from_bytes(
                hashlib.sha256(f"dagspec-audit:{dbname}:{self.audit_schema}".encode()).digest()[:8],
                "big",
                signed=True,
            )
            wait_for(
                lambda: bool(conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]),
                f"advisory lock of {dbname}.{self.audit_schema}",
                purpose,
            )
            try:
                yield
            finally:
                # Closing the session would release it too; say so explicitly while it is healthy.
                with contextlib.suppress(Exception):
                    conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    @contextlib.contextmanager
    def shared(self, purpose: str) -> Iterator[None]:
        yield  # MVCC: readers see the last committed publish

    def columns(self, conn: Any, schema: str, table: str) -> list[tuple[str, str]]:
        cur = conn.cursor()
        cur.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY a.attnum",
            (schema, table),
        )
        return [(str(r[0]), str(r[1])) for r in cur.fetchall()]

    def create_published(self, cur: Any, dst: sql.Composable, src: sql.Composable, mart: Mart) -> None:
        self.execute(cur, sql.SQL("CREATE TABLE {} AS SELECT * FROM {} WITH NO DATA").format(dst, src))
        if by_partition(mart) and mart.partition_column:  # each publish deletes one day's rows
            index = sql.Identifier(f"{mart.name[:50]}_{mart.partition_column[:8]}_idx")
            column = sql.Identifier(mart.partition_column)
            self.execute(cur, sql.SQL("CREATE INDEX {} ON {} ({})").format(index, dst, column))

    def dbt_env(self, env: EnvNames) -> dict[str, str]:
        from dagspec_runtime.connections import postgres_env

        return {env.raw_schema: self.raw_schema, **postgres_env(self.conn_id, env)}

    def load_raw(
        self, *, lake_uri: str, lake_conn_id: str | None, ds: str, tables: Sequence[Any]
    ) -> dict[str, Any]:
        from dagspec_runtime.warehouse_load import load_raw

        return load_raw(
            warehouse_conn_id=self.conn_id,
            lake_uri=lake_uri,
            lake_conn_id=lake_conn_id,
            ds=ds,
            tables=tables,
            raw_schema=self.raw_schema,
        )
