"""The warehouse adapter interface, and what every warehouse does alike: the audit gate record and
the write-audit-publish copy. The kinds (locks, connections, catalogue queries) live in
``warehouse_duckdb`` and ``warehouse_postgres``.

Write-audit-publish: dbt builds every model into ``audit_schema`` and tests it there. Only after
the gate passed does ``publish`` copy the audited marts into ``publish_schema``, in one
transaction: incremental marts replace the report day's rows (``partition_column = ds``), other
marts (table, and view: published as a table, since a view would read the audit schema live) are
replaced whole. Readers of the published schema see the previous state or the new one,
never unaudited rows.

All runs of a pipeline share one audit schema, so builds and publishes are serialised by one
warehouse-wide lock:

- DuckDB allows a single writing process per file, so every writer (dbt build, publish) and
  every reader (the report) holds an ``flock`` on ``<file>.lock`` (readers share it). ``flock``
  is per host: a DuckDB warehouse needs its workers on one machine (or an Airflow pool with one
  slot around the tasks that touch it).
- Postgres: a session advisory lock keyed by database and audit schema. Concurrent dbt builds
  into one schema would otherwise collide on dbt's ``__dbt_tmp`` relations.

The lock is released between a run's build and its publish, and another run may rebuild the audit
schema in between. The gate record (table ``<audit_schema>._dagspec_gate``) tells publish whether
what sits in the audit schema now is audited: the report day's last build must have passed, and,
when whole-table marts are published, so must the most recent build of any day.
"""

from __future__ import annotations

import abc
import contextlib
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from psycopg import sql

if TYPE_CHECKING:
    from dagspec_runtime.contract import EnvNames, Mart

__all__ = ["GATE_TABLE", "GateNotPassedError", "Lease", "Warehouse", "by_partition"]

log = logging.getLogger(__name__)

GATE_TABLE = "_dagspec_gate"


class GateNotPassedError(RuntimeError):
    """The audit schema does not hold audited data for this day; nothing was published."""


@dataclass(frozen=True)
class Lease:
    """The warehouse's dbt lease as handed to the dbt process, which holds it for as long as it
    lives: descriptors it inherits (a locked file's) and variables naming a lock it takes itself."""

    fds: tuple[int, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)


class Warehouse(abc.ABC):
    """One pipeline's warehouse: the adapter interface, and what every warehouse does the same way
    (the gate record, write-audit-publish). One subclass per kind (``warehouse_duckdb``,
    ``warehouse_postgres``); ``adapters.open_warehouse`` picks it, nothing else asks which it is.

    Statements are composed with psycopg's ``sql`` module (``Identifier`` and ``Literal``), never
    by pasting strings; ``execute`` hands them to the kind's driver."""

    # Whether dbt reads the lake's committed partitions itself; a kind that cannot loads each day
    # into its raw schema first (``load_raw``; the compiler adds that task for such kinds).
    reads_lake: ClassVar[bool] = True

    def __init__(self, audit_schema: str, publish_schema: str) -> None:
        self.audit_schema = audit_schema
        self.publish_schema = publish_schema

    # -- what each kind provides -----------------------------------------------------------------
    @abc.abstractmethod
    def connect(self, *, read_only: bool = False) -> contextlib.AbstractContextManager[Any]:
        """A DB-API connection; the caller holds the matching lock (``exclusive`` or ``shared``)."""

    @abc.abstractmethod
    def exclusive(self, purpose: str) -> contextlib.AbstractContextManager[None]:
        """Hold the warehouse-wide writer lock (waits up to ``DAGSPEC_LOCK_TIMEOUT_SECONDS``)."""

    @abc.abstractmethod
    def dbt_lease(self, purpose: str) -> contextlib.AbstractContextManager[Lease]:
        """Wait until no dbt process of an earlier build (one whose task was killed) is left, and
        return the lease the next dbt process holds for its lifetime. Call under ``exclusive``:
        the task's lock ends with the task, the lease only with its dbt process."""

    @abc.abstractmethod
    def shared(self, purpose: str) -> contextlib.AbstractContextManager[None]:
        """What a reader (the report) holds while it reads."""

    @abc.abstractmethod
    def columns(self, conn: Any, schema: str, table: str) -> list[tuple[str, str]]:
        """``[(column, type)]`` in table order; empty if the table does not exist."""

    @abc.abstractmethod
    def create_published(self, cur: Any, dst: sql.Composable, src: sql.Composable, mart: Mart) -> None:
        """Create the published table ``dst`` empty, with the columns of the audited ``src``."""

    @abc.abstractmethod
    def dbt_env(self, env: EnvNames) -> dict[str, str]:
        """The variables the generated profiles.yml reads for this warehouse, named by ``env``
        (the contract's ``names.env``)."""

    def load_raw(
        self, *, lake_uri: str, lake_conn_id: str | None, ds: str, tables: Sequence[Any]
    ) -> dict[str, Any]:
        """Load the day's lake partitions into the raw schema, for warehouses that cannot read the lake."""
        raise ValueError(f"{self!r} reads the lake directly: it has no load_raw step")

    def execute(self, cur: Any, statement: sql.Composable) -> None:
        """Run a composed statement (psycopg takes it as it is; it quotes for the connection)."""
        cur.execute(statement)

    def cursor(self, conn: Any) -> Any:
        return conn.cursor()

    def begin(self, conn: Any) -> Any:
        """Start a transaction and return a cursor in it (psycopg starts one implicitly)."""
        return self.cursor(conn)

    # -- reading the published schema ------------------------------------------------------------
    def published_days(
        self, table: str, day_column: str, columns: Sequence[str], first: date, last: date
    ) -> list[tuple[Any, ...]]:
        """``(day, *columns)`` rows of the published ``table`` whose day lies in ``[first, last]``,
        by day; the caller holds ``shared``."""
        day = sql.SQL("CAST({} AS DATE)").format(sql.Identifier(day_column))
        query = sql.SQL("SELECT {}, {} FROM {} WHERE {} BETWEEN {} AND {} ORDER BY 1").format(
            day,
            sql.SQL(", ").join(sql.Identifier(c) for c in columns),
            sql.Identifier(self.publish_schema, table),
            day,
            sql.Literal(first),
            sql.Literal(last),
        )
        with self.connect(read_only=True) as conn:
            cur = self.cursor(conn)
            self.execute(cur, query)
            return [tuple(r) for r in cur.fetchall()]

    # -- gate record ---------------------------------------------------------------------------
    def _gate_table(self) -> sql.Identifier:
        return sql.Identifier(self.audit_schema, GATE_TABLE)

    def _gate_ddl(self, cur: Any) -> None:
        self.execute(cur, sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.audit_schema)))
        self.execute(
            cur,
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (key VARCHAR PRIMARY KEY, run_id VARCHAR, ds VARCHAR, "
                "status VARCHAR, invocation_id VARCHAR)"
            ).format(self._gate_table()),
        )

    def record_gate(self, *, run_id: str, ds: str, status: str, invocation_id: str = "") -> None:
        """Record a build of ``ds`` (``building``/``passed``/``failed``); call under ``exclusive``."""
        ds = date.fromisoformat(ds).isoformat()
        table = self._gate_table()
        with self.connect() as conn:
            cur = self.begin(conn)
            self._gate_ddl(cur)
            for key in ("last", f"ds:{ds}"):
                self.execute(cur, sql.SQL("DELETE FROM {} WHERE key = {}").format(table, sql.Literal(key)))
                values = (key, run_id, ds, status, invocation_id)
                self.execute(
                    cur,
                    sql.SQL("INSERT INTO {} VALUES ({})").format(
                        table, sql.SQL(", ").join(sql.Literal(v) for v in values)
                    ),
                )
            conn.commit()

    def gate_state(self, conn: Any, ds: str) -> dict[str, dict[str, str]]:
        day_key = f"ds:{date.fromisoformat(ds).isoformat()}"
        cur = self.cursor(conn)
        try:
            self.execute(
                cur,
                sql.SQL("SELECT key, run_id, ds, status, invocation_id FROM {} WHERE key IN ({}, {})").format(
                    self._gate_table(), sql.Literal("last"), sql.Literal(day_key)
                ),
            )
            rows = cur.fetchall()
        except Exception as exc:  # no gate table: nothing was ever built through dagspec
            raise GateNotPassedError(f"no dbt build recorded in {self.audit_schema}: {exc}") from exc
        return {r[0]: {"run_id": r[1], "ds": r[2], "status": r[3], "invocation_id": r[4]} for r in rows}

    # -- publish -------------------------------------------------------------------------------
    def missing_in_audit(self, names: Sequence[str]) -> list[str]:
        """The relations among ``names`` that do not exist in the audit schema yet (call under a lock)."""
        with self.connect() as conn:
            return sorted(n for n in names if not self.columns(conn, self.audit_schema, n))

    def publish(
        self,
        marts: Sequence[Mart],
        *,
        ds: str,
        run_id: str,
        full: set[str] | frozenset[str] = frozenset(),
    ) -> dict[str, dict[str, Any]]:
        """Copy the audited marts into the publish schema in one transaction; call under ``exclusive``.

        Incremental marts publish the report day's rows, except those in ``full``: this run's gate
        built them whole (their first build), so all their days are audited and published.
        """
        started = time.perf_counter()
        whole = [m.name for m in marts if not by_partition(m)]
        summary: dict[str, dict[str, Any]] = {}
        with self.connect() as conn:
            state = self.gate_state(conn, ds)
            _check_gate(state, ds, whole, self.audit_schema)
            cur = self.begin(conn)
            try:
                self.execute(
                    cur, sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.publish_schema))
                )
                for mart in sorted(marts, key=lambda m: m.name):
                    summary[mart.name] = self._publish_one(conn, cur, mart, ds, mart.name in full)
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
        log.info(
            "published %d mart(s) for ds=%s from %s to %s (gate: %s) in %.2fs: %s",
            len(summary),
            ds,
            self.audit_schema,
            self.publish_schema,
            state.get(f"ds:{ds}", {}).get("run_id"),
            time.perf_counter() - started,
            summary,
        )
        return summary

    def _publish_one(self, conn: Any, cur: Any, mart: Mart, ds: str, full: bool = False) -> dict[str, Any]:
        name = mart.name
        source_cols = self.columns(conn, self.audit_schema, name)
        if not source_cols:
            raise GateNotPassedError(f"mart {self.audit_schema}.{name} does not exist: was it built?")
        src = sql.Identifier(self.audit_schema, name)
        dst = sql.Identifier(self.publish_schema, name)
        target_cols = self.columns(conn, self.publish_schema, name)
        if not target_cols:
            self.create_published(cur, dst, src, mart)
            target_cols = source_cols
        known = {c for c, _ in target_cols}
        for col, col_type in source_cols:  # a column added to the model appears in the published table
            if col not in known:
                # The type is the catalogue's own spelling of the audited column's type, not input.
                add = sql.SQL("ALTER TABLE {} ADD COLUMN {} {}")
                self.execute(cur, add.format(dst, sql.Identifier(col), sql.SQL(col_type)))
        if dropped := sorted(known - {c for c, _ in source_cols}):
            log.warning(
                "%s.%s: published columns %s no longer exist in the model; new rows get NULL",
                self.publish_schema,
                name,
                dropped,
            )
        cols = sql.SQL(", ").join(sql.Identifier(c) for c, _ in source_cols)
        where: sql.Composable
        if by_partition(mart) and not full:
            column = mart.partition_column
            assert column is not None
            col_type = dict(source_cols).get(column)
            if col_type is None:
                raise ValueError(f"mart {name}: partition column {column!r} is not in the model")
            day = date.fromisoformat(ds)
            dated = "date" in col_type.lower() or "timestamp" in col_type.lower()
            value = sql.Literal(day if dated else day.isoformat())
            where = sql.SQL("{} = {}").format(sql.Identifier(column), value)
            self.execute(cur, sql.SQL("DELETE FROM {} WHERE {}").format(dst, where))
            insert = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} WHERE {}")
            self.execute(cur, insert.format(dst, cols, cols, src, where))
            mode = "partition"
        else:
            # DELETE, not DROP/TRUNCATE: concurrent readers keep their snapshot and never block.
            where = sql.SQL("true")
            self.execute(cur, sql.SQL("DELETE FROM {}").format(dst))
            self.execute(cur, sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(dst, cols, cols, src))
            mode = "replace"
        self.execute(cur, sql.SQL("SELECT count(*) FROM {} WHERE {}").format(dst, where))
        row = cur.fetchone()
        return {"mode": mode, "rows": int(row[0]) if row else 0}


def by_partition(mart: Mart) -> bool:
    return mart.materialized == "incremental" and mart.partition_column is not None


def _check_gate(state: Mapping[str, Mapping[str, str]], ds: str, whole: Sequence[str], schema: str) -> None:
    day = state.get(f"ds:{ds}")
    if not day or day.get("status") != "passed":
        status = day.get("status") if day else "never built"
        raise GateNotPassedError(
            f"the audit gate for ds={ds} is '{status}' in {schema}: "
            "re-run dbt_build for this day before publishing"
        )
    last = state.get("last") or {}
    if whole and last.get("status") != "passed":
        raise GateNotPassedError(
            f"whole-table marts {list(whole)} in {schema} were last rebuilt by run {last.get('run_id')} "
            f"(ds={last.get('ds')}), whose gate is '{last.get('status')}': they are not audited now; "
            "re-run dbt_build for this day before publishing"
        )
