"""The PostgreSQL warehouse adapter: a database reached through an Airflow connection.

Builds and publishes into one audit schema are serialised by a session advisory lock keyed by
database and audit schema (concurrent dbt builds into one schema would otherwise collide on dbt's
``__dbt_tmp`` relations); readers need no lock (MVCC). dbt cannot read the lake from PostgreSQL, so
the day's partitions are loaded into the raw schema first (``load_raw``).

The dbt lease is a second advisory lock, taken by the dbt process itself in a session of its own
and held until it exits; its sessions carry an application name of this audit schema, and ask the
server to check every second that their client is still there (``client_connection_check_interval``),
so a statement of a killed dbt is cancelled instead of running on. ``dbt_lease`` waits for the lease
and then ends any session of that name still left before the next build starts.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from psycopg import sql

from dagspec_runtime.locks import wait_for
from dagspec_runtime.warehouse import Lease, Warehouse, by_partition

if TYPE_CHECKING:
    from dagspec_runtime.contract import EnvNames, Mart, PostgresConfig

__all__ = ["PostgresWarehouse"]

log = logging.getLogger(__name__)

_LEFTOVER_WAIT_SECONDS = 60.0


def _key(purpose: str, dbname: str, schema: str) -> int:
    digest = hashlib.sha256(f"{purpose}:{dbname}:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PostgresWarehouse(Warehouse):
    reads_lake = False

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
            key = _key("dagspec-audit", dbname, self.audit_schema)
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

    def dbt_application_name(self) -> str:
        """The application name of this audit schema's dbt sessions (PostgreSQL keeps 63 bytes)."""
        digest = hashlib.sha256(self.audit_schema.encode()).hexdigest()[:12]
        return f"dagspec-dbt {digest} {self.audit_schema}"[:63]

    @contextlib.contextmanager
    def dbt_lease(self, purpose: str) -> Iterator[Lease]:
        import psycopg

        name = self.dbt_application_name()
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            key = _key("dagspec-dbt-lease", conn.info.dbname, self.audit_schema)

            def leftover_gone() -> bool:
                if not conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
                    return False
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
                return True

            wait_for(leftover_gone, f"dbt lease of {conn.info.dbname}.{self.audit_schema}", purpose)
            self._end_leftover_sessions(conn, name, purpose)
        options = f"{os.environ.get('PGOPTIONS', '')} -c client_connection_check_interval=1000".strip()
        yield Lease(
            env={
                "DAGSPEC_DBT_LEASE_PG_KEY": str(key),
                "DAGSPEC_DBT_APPLICATION_NAME": name,
                "PGOPTIONS": options,
            }
        )

    def _end_leftover_sessions(self, conn: Any, name: str, purpose: str) -> None:
        """Sessions of a dbt that no longer holds the lease belong to a killed build: end them."""
        query = (
            "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s AND pid <> pg_backend_pid()"
        )
        deadline = time.monotonic() + _LEFTOVER_WAIT_SECONDS
        while rows := conn.execute(query, (name,)).fetchall():
            log.warning("%s: ending %d session(s) left by a killed dbt build: %s", purpose, len(rows), rows)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{purpose}: sessions of a killed dbt build did not end: {rows}")
            time.sleep(0.2)

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
