"""Airflow connections read through the provider hooks: libpq parameters, S3 settings, SMTP delivery."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from dagspec_local.connections import env_value, smtp_connection
from dagspec_local.standins import smtp_server
from dagspec_runtime.connections import aws_credentials, describe, postgres_conninfo, postgres_env
from dagspec_runtime.mail import send_email
from runtime_fixture import pipeline


def _set(monkeypatch: pytest.MonkeyPatch, conn_id: str, conn: dict[str, object]) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


def test_postgres_conninfo_keeps_libpq_extras_and_drops_the_hooks_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _set(
        monkeypatch,
        "dagspec_test_pg",
        {
            "conn_type": "postgres",
            "host": "db.example",
            "port": 6543,
            "schema": "shop",
            "login": "reader",
            "password": "pa ss'word",
            # libpq parameters reach the conninfo; PostgresHook's own options (cursor,
            # sqlalchemy_scheme) would make libpq refuse to connect, so they must not.
            "extra": {
                "sslmode": "require",
                "connect_timeout": 7,
                "cursor": "dictcursor",
                "sqlalchemy_scheme": "postgresql",
            },
        },
    )
    conninfo = postgres_conninfo("dagspec_test_pg", application_name="dagspec-test")
    assert conninfo_to_dict(conninfo) == {
        "host": "db.example",
        "port": "6543",
        "dbname": "shop",
        "user": "reader",
        "password": "pa ss'word",
        "sslmode": "require",
        "connect_timeout": "7",
        "application_name": "dagspec-test",
    }
    assert describe(conninfo) == "reader@db.example:6543/shop"
    assert "pa ss" not in describe(conninfo)
    assert postgres_env("dagspec_test_pg", pipeline().names.env) == {
        "DAGSPEC_PG_HOST": "db.example",
        "DAGSPEC_PG_PORT": "6543",
        "DAGSPEC_PG_USER": "reader",
        "DAGSPEC_PG_PASSWORD": "pa ss'word",
        "DAGSPEC_PG_DBNAME": "shop",
    }


def test_aws_credentials_follow_the_amazon_provider(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    base = {"conn_type": "aws", "login": "AKIDTEST", "password": "secret-test"}
    _set(
        monkeypatch,
        "dagspec_test_aws",
        {
            **base,
            "extra": {
                "endpoint_url": "http://global.example:9000",
                "region_name": "eu-west-1",
                "aws_session_token": "tok",
                # The S3 service's own endpoint wins over the connection-wide one, as in the provider.
                "service_config": {"s3": {"endpoint_url": "http://s3.example:9000"}},
                "config_kwargs": {"s3": {"addressing_style": "path"}},
            },
        },
    )
    assert aws_credentials("dagspec_test_aws") == {
        "key": "AKIDTEST",
        "secret": "secret-test",
        "token": "tok",
        "endpoint_url": "http://s3.example:9000",
        "region": "eu-west-1",
        "config_kwargs": {"s3": {"addressing_style": "path"}},
    }
    _set(monkeypatch, "dagspec_test_aws2", {**base, "extra": {"endpoint_url": "http://global.example:9000"}})
    assert aws_credentials("dagspec_test_aws2") == {
        "key": "AKIDTEST",
        "secret": "secret-test",
        "endpoint_url": "http://global.example:9000",
    }
    # The hooks log which source the credentials came from, never the secret itself.
    out, err = capfd.readouterr()
    assert "secret-test" not in caplog.text + out + err


def test_send_email_through_the_smtp_hook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with smtp_server(tmp_path / "mail") as (outbox, port):
        monkeypatch.setenv(
            "AIRFLOW_CONN_DAGSPEC_TEST_SMTP", env_value(smtp_connection(port, retry_limit=0, timeout=5))
        )
        send_email("dagspec_test_smtp", ["a@example.com"], "Subject <1>", "<p>body</p>", {"X-Dagspec": "yes"})
    (message,) = outbox.messages
    assert message["Subject"] == "Subject <1>" and message["X-Dagspec"] == "yes"
    assert message["To"] == "a@example.com"
    assert message.get_body(("html",)).get_content().strip() == "<p>body</p>"
