"""A small source database for the tests: ``app.orders`` (incremental) and ``app.customers`` (snapshot).

The orders cover every column type of the table contract, NULL next to '' in text, text with
commas, quotes and newlines, numeric(12,2) at its limits, and rows on both sides of a DST day's
bounds.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg

TZ = "America/New_York"
DST_SPRING = "2026-03-08"  # 23-hour day in New York
DST_FALL = "2026-11-01"  # 25-hour day

ORDERS_COLUMNS = [
    ("id", "bigint"),
    ("customer_id", "integer"),
    ("qty", "smallint"),
    ("amount", "numeric(12,2)"),
    ("score", "double precision"),
    ("rating", "real"),
    ("status", "varchar"),
    ("note", "text"),
    ("paid", "boolean"),
    ("ordered_on", "date"),
    ("local_ts", "timestamp"),
    ("created_at", "timestamptz"),
    ("ext_id", "uuid"),
    ("meta", "jsonb"),
]
CUSTOMERS_COLUMNS = [("id", "integer"), ("name", "varchar(100)"), ("tier", "text"), ("created_on", "date")]


def table_spec(
    name: str, columns: Sequence[tuple[str, str]], mode: str, cursor: str | None
) -> dict[str, Any]:
    """A table dict exactly as the compiler emits it."""
    return {
        "name": name,
        "schema": "app",
        "columns": [{"name": n, "type": t} for n, t in columns],
        "primary_key": ["id"],
        "mode": mode,
        "cursor_column": cursor,
    }


ORDERS = table_spec("orders", ORDERS_COLUMNS, "incremental", "created_at")
CUSTOMERS = table_spec("customers", CUSTOMERS_COLUMNS, "snapshot", None)
TABLES = [ORDERS, CUSTOMERS]


def create_schema(conninfo: str) -> None:
    def ddl(name: str, cols: Sequence[tuple[str, str]]) -> str:
        body = ", ".join(f"{n} {t}" for n, t in cols)
        return f"CREATE TABLE app.{name} ({body}, PRIMARY KEY (id))"

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA app")
        conn.execute(ddl("orders", ORDERS_COLUMNS))
        conn.execute(ddl("customers", CUSTOMERS_COLUMNS))


def order_row(order_id: int, created_at: datetime, **overrides: Any) -> tuple[Any, ...]:
    """A deterministic order; ``overrides`` replace single columns."""
    row = {
        "id": order_id,
        "customer_id": order_id % 97,
        "qty": order_id % 7,
        "amount": Decimal(order_id * 37 % 100_000) / 100,
        "score": order_id / 3,
        "rating": float(order_id % 5) + 0.5,
        "status": ("new", "paid", "shipped")[order_id % 3],
        "note": None if order_id % 4 == 0 else f"note {order_id}",
        "paid": order_id % 2 == 0,
        "ordered_on": created_at.date(),
        "local_ts": created_at.replace(tzinfo=None),
        "created_at": created_at,
        "ext_id": uuid.UUID(int=order_id),
        "meta": json.dumps({"n": order_id, "tags": ["a", "b"]}),
    }
    row.update(overrides)
    return tuple(row[n] for n, _ in ORDERS_COLUMNS)


def day_orders(day: str, count: int, first_id: int = 1) -> list[tuple[Any, ...]]:
    """``count`` orders spread over the New York local day ``day`` (UTC 12:00 +- hours)."""
    base = datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    return [order_row(first_id + i, base + timedelta(seconds=i % 36_000)) for i in range(count)]


def edge_orders(first_id: int = 10_001) -> list[tuple[Any, ...]]:
    """Awkward values, all inside DST_SPRING's window (2026-03-08T05:00Z .. 2026-03-09T04:00Z)."""
    t = datetime(2026, 3, 8, 15, 30, 0, 123456, tzinfo=UTC)
    return [
        order_row(first_id, t, amount=Decimal("9999999999.99"), note="", score=float("inf"), meta="{}"),
        order_row(
            first_id + 1,
            t,
            amount=Decimal("-9999999999.99"),
            note='a "quoted", comma\nnew line',
            score=1e-300,
            rating=0.33333334,
        ),
        order_row(
            first_id + 2,
            t,
            amount=Decimal("0.01"),
            note="ünïcødé ✓",
            status="",
            paid=None,
            qty=None,
            customer_id=None,
            ext_id=None,
            meta=None,
            ordered_on=None,
            local_ts=None,
        ),
        order_row(
            first_id + 3, t, amount=None, score=-0.0, meta=json.dumps({"nested": {"x": [1, 2.5, None]}})
        ),
    ]


def insert(conninfo: str, table: str, rows: Iterable[Sequence[Any]]) -> None:
    cols = ORDERS_COLUMNS if table == "orders" else CUSTOMERS_COLUMNS
    names = ", ".join(n for n, _ in cols)
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY app.{table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def customers(count: int) -> list[tuple[Any, ...]]:
    return [
        (i, f"customer {i}", ("gold", "silver", None)[i % 3], date(2025, 1, 1) + timedelta(days=i))
        for i in range(1, count + 1)
    ]


def fetch(conninfo: str, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(query, params).fetchall()  # type: ignore[arg-type]
