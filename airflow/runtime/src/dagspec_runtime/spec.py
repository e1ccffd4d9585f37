"""The table contract the compiler emits, parsed and validated once.

A table dict looks like::

    {"name": "orders", "schema": "app",
     "columns": [{"name": "id", "type": "bigint"}, ...],
     "primary_key": ["id"], "mode": "incremental" | "snapshot" | "history",
     "cursor_column": "created_at" | None}

``history`` tables are taken by a change cursor (a timestamptz such as ``updated_at``): the rows
changed since the report day began, or the whole table when the day before has no partition.

Column types come from a closed list. Each one maps explicitly to an Arrow type (never inferred
from data, so an all-NULL day still has the right schema) and to a canonical Postgres DDL spelling
(the warehouse loader creates tables from it, so the spec's raw text never reaches SQL).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pyarrow as pa

    from dagspec_runtime import contract

__all__ = ["Column", "TableSpec", "parse_tables"]

Mode = Literal["incremental", "snapshot", "history"]

_SIMPLE_TYPES = {
    "bigint",
    "integer",
    "smallint",
    "double precision",
    "real",
    "text",
    "varchar",
    "boolean",
    "date",
    "timestamp",
    "timestamptz",
    "uuid",
    "jsonb",
}
_NUMERIC = re.compile(r"numeric\(\s*(\d+)\s*,\s*(\d+)\s*\)")
_VARCHAR_N = re.compile(r"varchar\(\s*(\d+)\s*\)")
# Arrow's decimal128 holds 38 digits; decimal256 holds 76, Postgres numeric allows up to 1000.
_MAX_DECIMAL_PRECISION = 76


@dataclass(frozen=True)
class Column:
    name: str
    pg_type: str  # canonical spelling, safe to splice into DDL (validated against the closed list)
    precision: int | None = None
    scale: int | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Column:
        name = _name(raw.get("name"), "column name")
        spelled = " ".join(str(raw.get("type", "")).lower().split())
        if spelled in _SIMPLE_TYPES:
            return cls(name, spelled)
        if m := _VARCHAR_N.fullmatch(spelled):
            return cls(name, f"varchar({int(m[1])})")
        if m := _NUMERIC.fullmatch(spelled):
            precision, scale = int(m[1]), int(m[2])
            if not 1 <= precision <= _MAX_DECIMAL_PRECISION or scale > precision:
                raise ValueError(f"column {name}: unsupported {spelled} (need 1 <= P <= 76, S <= P)")
            return cls(name, f"numeric({precision},{scale})", precision, scale)
        raise ValueError(f"column {name}: unsupported type {raw.get('type')!r}")

    def arrow_type(self) -> pa.DataType:
        import pyarrow as pa

        if self.precision is not None and self.scale is not None:
            factory = pa.decimal128 if self.precision <= 38 else pa.decimal256
            return factory(self.precision, self.scale)
        if self.pg_type.startswith("varchar"):
            return pa.string()
        return {
            "bigint": pa.int64(),
            "integer": pa.int32(),
            "smallint": pa.int16(),
            "double precision": pa.float64(),
            "real": pa.float32(),
            "text": pa.string(),
            "boolean": pa.bool_(),
            "date": pa.date32(),
            # Postgres keeps microseconds; naive timestamps stay naive (wall-clock values).
            "timestamp": pa.timestamp("us"),
            "timestamptz": pa.timestamp("us", tz="UTC"),
            # Arrow has no uuid/json logical type that every reader understands: keep the text.
            "uuid": pa.string(),
            "jsonb": pa.string(),
        }[self.pg_type]


@dataclass(frozen=True)
class TableSpec:
    name: str
    schema: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    mode: Mode
    cursor_column: str | None

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> TableSpec:
        name = _name(raw.get("name"), "table name")
        columns = tuple(Column.parse(c) for c in raw.get("columns") or ())
        if not columns:
            raise ValueError(f"table {name}: no columns")
        names = [c.name for c in columns]
        if len(set(names)) != len(names):
            raise ValueError(f"table {name}: duplicate column names")
        if "ds" in names:
            # The warehouse loader adds its own ds column next to the table's columns.
            raise ValueError(f"table {name}: a column may not be called 'ds' (reserved for the partition)")
        primary_key = tuple(raw.get("primary_key") or ())
        # ORDER BY the primary key is what makes the Parquet bytes reproducible.
        if not primary_key:
            raise ValueError(f"table {name}: primary_key is required (it orders the extract)")
        if missing := [k for k in primary_key if k not in names]:
            raise ValueError(f"table {name}: primary key columns not in columns: {missing}")
        mode = raw.get("mode")
        if mode not in ("incremental", "snapshot", "history"):
            raise ValueError(
                f"table {name}: mode must be 'incremental', 'snapshot' or 'history', got {mode!r}"
            )
        cursor = raw.get("cursor_column")
        if mode == "incremental":
            if cursor not in names:
                raise ValueError(f"table {name}: incremental needs a cursor_column among the columns")
            cursor_type = next(c.pg_type for c in columns if c.name == cursor)
            if cursor_type not in ("timestamptz", "timestamp", "date"):
                raise ValueError(f"table {name}: cursor column {cursor} is {cursor_type}, not a date/time")
        if mode == "history":
            if cursor not in names:
                raise ValueError(f"table {name}: history needs a cursor_column among the columns")
            if next(c.pg_type for c in columns if c.name == cursor) != "timestamptz":
                raise ValueError(f"table {name}: history cursor column {cursor} must be timestamptz")
        return cls(
            name=name,
            schema=_name(raw.get("schema") or "public", "schema name"),
            columns=columns,
            primary_key=primary_key,
            mode=mode,
            cursor_column=None if mode == "snapshot" else cursor,
        )

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def arrow_schema(self) -> pa.Schema:
        import pyarrow as pa

        return pa.schema([pa.field(c.name, c.arrow_type()) for c in self.columns])


def _name(value: object, what: str) -> str:
    # Identifiers are always quoted with psycopg.sql.Identifier; this only rejects what could never
    # be a Postgres identifier or a safe lake path segment.
    if (
        not isinstance(value, str)
        or value in ("", ".", "..")
        or len(value.encode()) > 63  # Postgres truncates longer identifiers (NAMEDATALEN - 1 bytes)
        or "/" in value
        or "\x00" in value
    ):
        raise ValueError(f"invalid {what}: {value!r}")
    return value


def parse_tables(tables: Sequence[Mapping[str, Any] | contract.Table]) -> list[TableSpec]:
    """Validated table specs from the contract's tables (or their dict form, as tests and tools hold them)."""
    specs = [TableSpec.parse(t if isinstance(t, Mapping) else dataclasses.asdict(t)) for t in tables]
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        # Partitions are laid out by table name alone, so two schemas' "orders" would collide.
        raise ValueError(f"duplicate table names in one run: {names}")
    return specs
