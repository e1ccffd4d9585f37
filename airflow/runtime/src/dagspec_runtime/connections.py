"""Airflow connections, read through the installed provider hooks: libpq conninfo (PostgresHook) and
AWS credentials for the S3 lake (the Amazon provider's S3Hook).

The core functions elsewhere take a conninfo string so they run (and are tested) without Airflow.
Secrets pass through here into the returned values and nowhere else: they are never logged
(``describe`` gives a safe label for log lines; the AWS hook masks what it resolves).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dagspec_runtime.contract import EnvNames

__all__ = ["aws_credentials", "describe", "postgres_conninfo", "postgres_env"]


def postgres_conninfo(conn_id: str, *, application_name: str = "dagspec") -> str:
    """A libpq conninfo for the Airflow Postgres connection ``conn_id`` (schema = database).

    The same parameters ``PostgresHook.get_conn`` would connect with: host, port, database, login,
    password (an IAM token when the extra says ``iam``), ``options``, and every extra key except
    the hook's own (``cursor``, ``iam``, ``sqlalchemy_*``...), which libpq would reject. We need a
    string rather than the hook's connection: COPY, advisory locks and the extract's parallel
    snapshot connections open their own psycopg 3 connections, tested without Airflow.
    """
    from airflow.providers.postgres.hooks.postgres import PostgresHook
    from psycopg.conninfo import make_conninfo

    hook = PostgresHook(postgres_conn_id=conn_id)
    conn = hook.connection
    login, password, port = conn.login, conn.password, conn.port
    extra = conn.extra_dejson or {}
    if extra.get("iam", False):
        login, password, port = hook.get_iam_token(conn)
    params: dict[str, Any] = {"application_name": application_name}
    params.update({k: v for k, v in extra.items() if k not in hook.ignored_extra_options})
    params.update(
        host=conn.host or None,
        port=port or None,
        dbname=hook.database or conn.schema or None,
        user=login or None,
        password=password or None,
    )
    if hook.options:
        params["options"] = hook.options
    return make_conninfo(**{k: v for k, v in params.items() if v is not None})


def describe(conninfo: str) -> str:
    """``user@host:port/dbname`` for logs, without the password."""
    from psycopg.conninfo import conninfo_to_dict

    d = conninfo_to_dict(conninfo)
    return f"{d.get('user', '')}@{d.get('host', '')}:{d.get('port', '5432')}/{d.get('dbname', '')}"


def aws_credentials(conn_id: str) -> dict[str, Any]:
    """``{key, secret, token, endpoint_url, region, config_kwargs}`` (only those set) for S3 from an
    Airflow AWS connection, as the Amazon provider reads it.

    The one reading of an AWS connection: the lake's s3fs options and dbt's ``DAGSPEC_S3_*``
    variables are both built from it. Credentials come from the hook's boto3 session (login and
    password, extra keys, a profile, an assumed role or the environment's chain); the endpoint is
    ``service_config.s3.endpoint_url`` or else the connection's ``endpoint_url``. Never logged.
    """
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    hook = S3Hook(aws_conn_id=conn_id)
    wrapper = hook.conn_config
    values: dict[str, Any] = {
        "endpoint_url": wrapper.get_service_endpoint_url("s3"),
        "region": wrapper.region_name,
        # botocore options such as {"s3": {"addressing_style": "path"}}, for S3-compatible servers.
        "config_kwargs": (wrapper.extra_config or {}).get("config_kwargs"),
    }
    # get_credentials fails on a session that found no credentials at all (anonymous access).
    if hook.get_session().get_credentials() is not None:
        creds = hook.get_credentials()  # masks the secret and token in task logs
        values.update(key=creds.access_key, secret=creds.secret_key, token=creds.token)
    return {k: (v if k == "config_kwargs" else str(v)) for k, v in values.items() if v}


def postgres_env(conn_id: str, env: EnvNames) -> dict[str, str]:
    """The connection's variables the generated profiles.yml reads (``DAGSPEC_PG_*``, named by the
    contract's ``names.env``); for the dbt subprocess only."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    hook = PostgresHook(postgres_conn_id=conn_id)
    conn = hook.connection
    return {
        env.pg_host: conn.host or "localhost",
        env.pg_port: str(conn.port or 5432),
        env.pg_user: conn.login or "",
        env.pg_password: conn.password or "",
        env.pg_dbname: hook.database or conn.schema or "",
    }
