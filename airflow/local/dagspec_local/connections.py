"""The connections a local run defines, built in one place.

Each builder returns Airflow's JSON connection form (``conn_type``, ``host``, ``extra`` as an object,
...). ``as_env`` turns a set into ``AIRFLOW_CONN_<ID>`` variables (the demo, the end-to-end tests and
the dockerised stack: nothing stored); ``write_import_file`` into a file for ``airflow connections
import`` (the native stack: the connections show in the UI). ``stack_connections`` is the set both
stacks define (the native one and the dockerised one, whose ``gen airflow up --docker`` reads it from
``python -m dagspec_local.connections``, printed as ``AIRFLOW_CONN_*`` JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

Connection = dict[str, Any]


def postgres_connection(url: str, description: str | None = None) -> Connection:
    """A postgres connection from ``postgresql://user[:password]@host[:port]/dbname``."""
    parts = urlsplit(url)
    conn: Connection = {
        "conn_type": "postgres",
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        # urlsplit leaves percent-escapes in place: a password with '@' or ':' arrives as %40, %3A.
        "login": unquote(parts.username) if parts.username else "postgres",
        "schema": unquote(parts.path.lstrip("/")),
    }
    if parts.password:
        conn["password"] = unquote(parts.password)
    if description:
        conn["description"] = description
    return conn


def smtp_connection(
    port: int,
    *,
    from_email: str = "dagspec@localhost",
    retry_limit: int | None = None,
    timeout: int | None = None,
    description: str | None = None,
) -> Connection:
    """Plain SMTP on loopback: the provider turns SSL and STARTTLS on unless told otherwise."""
    extra: dict[str, Any] = {"disable_ssl": True, "disable_tls": True, "from_email": from_email}
    if retry_limit is not None:
        extra["retry_limit"] = retry_limit
    if timeout is not None:
        extra["timeout"] = timeout
    conn: Connection = {"conn_type": "smtp", "host": "127.0.0.1", "port": port, "extra": extra}
    if description:
        conn["description"] = description
    return conn


def pagerduty_connection(base_url: str, routing_key: str, description: str | None = None) -> Connection:
    """Events API v2: the routing key is the password; the host is the API's base URL (our alert code
    reads it, since the provider's hooks cannot be pointed at another URL)."""
    conn: Connection = {"conn_type": "pagerduty_events", "host": base_url, "password": routing_key}
    if description:
        conn["description"] = description
    return conn


def aws_connection(key: str, secret: str, endpoint_url: str, region: str = "us-east-1") -> Connection:
    """An S3-compatible store on loopback (``endpoint_url`` in extra)."""
    return {
        "conn_type": "aws",
        "login": key,
        "password": secret,
        "extra": {"endpoint_url": endpoint_url, "region_name": region},
    }


# The PagerDuty stand-in takes any routing key; this one is never a real one.
LOCAL_ROUTING_KEY = "local-routing-key"


def stack_connections(source_url: str, smtp_port: int, pagerduty_port: int) -> dict[str, Connection]:
    """What a local stack's DAGs use: the demo source, and the SMTP and PagerDuty stand-ins on loopback
    (the native stack's, or the ones ``gen airflow up --docker`` runs for host-network containers)."""
    return {
        "app_db": postgres_connection(
            source_url, "dagspec demo source (demo_shop); bin/demo-shop.js seeds it"
        ),
        "smtp_default": smtp_connection(
            smtp_port, description="local SMTP server of the stack: mail lands in <stack home>/outbox/"
        ),
        "pagerduty_default": pagerduty_connection(
            f"http://127.0.0.1:{pagerduty_port}",
            LOCAL_ROUTING_KEY,
            "local PagerDuty Events API v2 receiver: events land in pagerduty/events.jsonl",
        ),
    }


def env_value(connection: Connection) -> str:
    """The value of an ``AIRFLOW_CONN_<ID>`` variable holding ``connection``."""
    return json.dumps(connection)


def as_env(connections: dict[str, Connection]) -> dict[str, str]:
    """``{conn_id: connection}`` as ``AIRFLOW_CONN_<CONN_ID>`` variables."""
    return {f"AIRFLOW_CONN_{conn_id.upper()}": env_value(conn) for conn_id, conn in connections.items()}


def write_import_file(connections: dict[str, Connection], path: Path) -> Path:
    """The file ``airflow connections import`` reads (extra as a JSON string there); owner-only, as it
    may hold passwords."""
    rows = {
        conn_id: {**conn, "extra": json.dumps(conn["extra"])} if "extra" in conn else conn
        for conn_id, conn in connections.items()
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(rows, f, indent=2)
    return path


def main(argv: list[str]) -> int:
    """``python -m dagspec_local.connections --source-url URL --smtp-port N --pagerduty-port N``: the
    stack's connections as one JSON object of ``AIRFLOW_CONN_*`` variables on stdout (for callers in
    other languages: ``gen airflow up --docker``)."""
    parser = argparse.ArgumentParser(prog="python -m dagspec_local.connections", description=main.__doc__)
    parser.add_argument("--source-url", required=True, help="postgresql://user[:password]@host[:port]/db")
    parser.add_argument("--smtp-port", type=int, required=True)
    parser.add_argument("--pagerduty-port", type=int, required=True)
    args = parser.parse_args(argv)
    conns = stack_connections(args.source_url, args.smtp_port, args.pagerduty_port)
    json.dump(as_env(conns), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
