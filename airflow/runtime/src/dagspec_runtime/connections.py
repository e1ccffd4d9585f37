"""Airflow connection -> libpq conninfo, for the Airflow-facing wrappers.

The core functions take a conninfo string so they run (and are tested) without Airflow. The
password passes through here into the string and nowhere else: it is never logged, and
``describe`` gives a safe label for log lines.
"""

from __future__ import annotations

__all__ = ["aws_credentials", "describe", "postgres_conninfo", "postgres_env"]

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


def aws_credentials(conn_id: str) -> dict[str, str]:
    """``{key, secret, token, endpoint_url, region}`` (only those set) from an Airflow AWS connection.

    The one reading of an AWS connection: the lake's s3fs options and dbt's ``DAGSPEC_S3_*``
    variables are both built from it. Never logged.
    """
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    extra = conn.extra_dejson or {}
    s3_service = (extra.get("service_config") or {}).get("s3") or {}
    values = {
        "key": conn.login,
        "secret": conn.password,
        "token": extra.get("aws_session_token"),
        "endpoint_url": extra.get("endpoint_url") or s3_service.get("endpoint_url"),
        "region": extra.get("region_name"),
    }
    return {k: str(v) for k, v in values.items() if v}


def postgres_env(conn_id: str) -> dict[str, str]:
    """The ``DAGSPEC_PG_*`` variables the generated profiles.yml reads; for the dbt subprocess only."""
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    return {
        "DAGSPEC_PG_HOST": conn.host or "localhost",
        "DAGSPEC_PG_PORT": str(conn.port or 5432),
        "DAGSPEC_PG_USER": conn.login or "",
        "DAGSPEC_PG_PASSWORD": conn.password or "",
        "DAGSPEC_PG_DBNAME": conn.schema or "",
    }
