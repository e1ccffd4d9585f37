"""Databases on the local PostgreSQL (127.0.0.1:5432, trust auth): metadata databases of Airflow,
sources and warehouses of tests. Names go through ``psycopg.sql.Identifier``."""

from __future__ import annotations

import os
import time

import psycopg
from psycopg import sql

# The maintenance database to connect to for CREATE/DROP DATABASE.
ADMIN = os.environ.get("DAGSPEC_TEST_PG", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
SERVER_URL = "postgresql://postgres@127.0.0.1:5432"


def url(name: str) -> str:
    """``postgresql://`` URL of a database on the local server (connections, demo-shop)."""
    return f"{SERVER_URL}/{name}"


def sqlalchemy_url(name: str) -> str:
    """What ``[database] sql_alchemy_conn`` takes for an Airflow metadata database."""
    return f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"


def conninfo(name: str) -> str:
    return f"host=127.0.0.1 port=5432 user=postgres dbname={name}"


def _admin(statement: sql.Composable, *, attempts: int = 10) -> None:
    """Run one statement on the maintenance database. CREATE ... TEMPLATE fails while anyone is
    connected to the template (another test cloning it a moment ago): retry a few times."""
    for attempt in range(attempts):
        try:
            with psycopg.connect(ADMIN, autocommit=True) as conn:
                conn.execute(statement)
            return
        except psycopg.errors.ObjectInUse:
            if attempt + 1 == attempts:
                raise
            time.sleep(0.5)


def exists(name: str) -> bool:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


def create(name: str, template: str | None = None) -> str:
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    _admin(statement)
    return name


def ensure(name: str) -> str:
    """The database, created if missing (a restarted stack keeps its metadata)."""
    if not exists(name):
        create(name)
    return name


def drop(name: str) -> None:
    _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
