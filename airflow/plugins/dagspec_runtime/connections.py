"""Airflow connection -> libpq conninfo, for the Airflow-facing wrappers.

The core functions take a conninfo string so they run (and are tested) without Airflow. The
password passes through here into the string and nowhere else: it is never logged, and
``describe`` gives a safe label for log lines.
"""

from __future__ import annotations

__all__ = ["describe", "postgres_conninfo"]

# Connection-extra keys that are libpq parameters; anything else in the extra (Airflow's own
# options such as "cursor" or "iam") must not reach libpq, which rejects unknown keys.
_LIBPQ_EXTRA_KEYS = (
    "sslmode",
    "sslcert",
    "sslkey",
    "sslrootcert",
    "sslcrl",
    "connect_timeout",
    "application_name",
    "options",
    "target_session_attrs",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
)


def postgres_conninfo(conn_id: str, *, application_name: str = "dagspec") -> str:
    """A libpq conninfo for the Airflow Postgres connection ``conn_id`` (schema = database)."""
    from airflow.sdk import BaseHook
    from psycopg.conninfo import make_conninfo

    conn = BaseHook.get_connection(conn_id)
    params: dict[str, object] = {
        "host": conn.host or None,
        "port": conn.port or None,
        "dbname": conn.schema or None,
        "user": conn.login or None,
        "password": conn.password or None,
        "application_name": application_name,
    }
    extra = conn.extra_dejson or {}
    params.update({k: extra[k] for k in _LIBPQ_EXTRA_KEYS if k in extra})
    return make_conninfo(**{k: v for k, v in params.items() if v is not None})


def describe(conninfo: str) -> str:
    """``user@host:port/dbname`` for logs, without the password."""
    from psycopg.conninfo import conninfo_to_dict

    d = conninfo_to_dict(conninfo)
    return f"{d.get('user', '')}@{d.get('host', '')}:{d.get('port', '5432')}/{d.get('dbname', '')}"
