"""The local environment tool (airflow/local/dagspec_local) below Airflow: the stand-ins' wire
behaviour, connection files, stack settings, and starting and stopping a component process."""

from __future__ import annotations

import json
import os
import smtplib
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from email.message import EmailMessage
from pathlib import Path

import pytest

from dagspec_local import connections
from dagspec_local.errors import LocalEnvError
from dagspec_local.net import free_port, port_is_free
from dagspec_local.paths import venv_bin
from dagspec_local.processes import Processes
from dagspec_local.settings import StackSettings
from dagspec_local.stack import status_lines
from dagspec_local.standins import pagerduty_server, smtp_server
from testenv import LOCAL


def _post(url: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def _mail(port: int, subject: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.com", "b@example.com", subject
    message.set_content("body")
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
        smtp.send_message(message)


def test_pagerduty_receiver_answers_like_the_events_api_and_keeps_no_secret(tmp_path: Path) -> None:
    with pagerduty_server(tmp_path) as (receiver, base):
        trigger = {
            "routing_key": "secret-key",
            "event_action": "trigger",
            "dedup_key": "p/2026-11-01",
            "payload": {"summary": "s", "severity": "error", "source": "dagspec"},
        }
        assert _post(f"{base}/v2/enqueue", json.dumps(trigger).encode()) == (
            202,
            {"status": "success", "message": "Event processed", "dedup_key": "p/2026-11-01"},
        )
        # A trigger needs a payload; a resolve does not; other paths do not exist.
        assert _post(f"{base}/v2/enqueue", b'{"routing_key": "k", "event_action": "trigger"}')[0] == 400
        assert _post(f"{base}/v2/enqueue", b"not json")[0] == 400
        assert _post(f"{base}/v1/enqueue", json.dumps(trigger).encode())[0] == 404
        receiver.statuses = [429]
        assert _post(f"{base}/v2/enqueue", json.dumps(trigger).encode())[0] == 429
        status, answer = _post(f"{base}/v2/enqueue", b'{"routing_key": "k", "event_action": "resolve"}')
        assert status == 202 and answer["dedup_key"].startswith("local-")
    assert receiver.events[0] == trigger  # as sent, for tests in-process
    assert len(receiver.events) == 2 and len(receiver.paths) == 6
    written = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [e["routing_key"] for e in written] == ["***", "***"]
    assert "secret-key" not in (tmp_path / "events.jsonl").read_text()


def test_smtp_outbox_numbers_messages_after_what_the_folder_holds(tmp_path: Path) -> None:
    (tmp_path / "0000.eml").write_text("Subject: from an earlier run\n\n")
    with smtp_server(tmp_path) as (outbox, port):
        _mail(port, "first")
        _mail(port, "second")
    assert sorted(p.name for p in tmp_path.glob("*.eml")) == ["0000.eml", "0001.eml", "0002.eml"]
    assert [m["Subject"] for m in outbox.messages] == ["first", "second"]
    assert outbox.envelopes[0] == ("a@example.com", ["b@example.com"])


def test_connection_file_for_airflow_import_is_private_and_env_values_are_json(tmp_path: Path) -> None:
    conns = {
        "app_db": connections.postgres_connection("postgresql://u:pw@db.example:6543/shop"),
        "smtp_default": connections.smtp_connection(2526),
    }
    path = connections.write_import_file(conns, tmp_path / "connections.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rows = json.loads(path.read_text())
    assert rows["app_db"] == {
        "conn_type": "postgres", "host": "db.example", "port": 6543, "login": "u", "password": "pw",
        "schema": "shop",
    }  # fmt: skip
    # `airflow connections import` wants extra as a JSON string; AIRFLOW_CONN_* JSON takes an object.
    assert json.loads(rows["smtp_default"]["extra"])["disable_tls"] is True
    env = connections.as_env(conns)
    assert json.loads(env["AIRFLOW_CONN_SMTP_DEFAULT"])["extra"]["disable_ssl"] is True


def test_stack_connections_are_one_set_for_both_stacks_and_print_as_env_json() -> None:
    """The native stack imports them; ``gen airflow up --docker`` reads them from the module's CLI."""
    conns = connections.stack_connections("postgresql://reader:p%40ss@db.local:6543/shop", 2600, 9100)
    assert sorted(conns) == ["app_db", "pagerduty_default", "smtp_default"]
    # Percent-escapes in the URL are decoded, as Airflow decodes a connection URI.
    assert conns["app_db"] | {"description": None} == {
        "conn_type": "postgres", "host": "db.local", "port": 6543, "login": "reader", "password": "p@ss",
        "schema": "shop", "description": None,
    }  # fmt: skip
    assert conns["smtp_default"]["port"] == 2600
    assert conns["pagerduty_default"]["host"] == "http://127.0.0.1:9100"
    done = subprocess.run(
        [sys.executable, "-m", "dagspec_local.connections", "--source-url", "postgresql://u@h/db",
         "--smtp-port", "2600", "--pagerduty-port", "9100"],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(LOCAL)}, check=True,
    )  # fmt: skip
    printed = json.loads(done.stdout)
    expected = connections.as_env(connections.stack_connections("postgresql://u@h/db", 2600, 9100))
    assert printed == expected
    assert json.loads(printed["AIRFLOW_CONN_APP_DB"])["login"] == "u"


def test_stack_settings_from_the_environment_survive_a_save_and_load(tmp_path: Path) -> None:
    settings = StackSettings.from_env(
        {
            "DAGSPEC_STACK_HOME": str(tmp_path / "home"),
            "DAGSPEC_STACK_PORT": "8181",
            "DAGSPEC_STACK_DB": "dagspec_other",
            "DAGSPEC_STACK_DAGS": str(tmp_path / "dags"),
            "DAGSPEC_STACK_TIMEOUT": "30",
        }
    )
    assert (settings.port, settings.metadata_db, settings.timeout) == (8181, "dagspec_other", 30.0)
    assert settings.dags == tmp_path / "dags" and settings.smtp_port == 2526
    settings.save()
    assert StackSettings.load(tmp_path / "home") == settings
    lines = status_lines(settings, "pw")
    assert "  UI:     http://127.0.0.1:8181" in lines and "  login:  admin / pw" in lines
    with pytest.raises(LocalEnvError, match="no stack at"):
        StackSettings.load(tmp_path / "elsewhere")
    with pytest.raises(LocalEnvError, match="plain database name"):
        StackSettings.from_env({"DAGSPEC_STACK_HOME": str(tmp_path), "DAGSPEC_STACK_DB": "x; drop"})


def test_a_component_starts_in_its_own_group_and_stops(tmp_path: Path) -> None:
    processes = Processes(tmp_path / "run", tmp_path / "logs")
    smtp_port, pd_port = free_port(), free_port()
    argv = [
        venv_bin("python"), "-m", "dagspec_local.standins", "--smtp-port", str(smtp_port),
        "--outbox", str(tmp_path / "outbox"), "--pagerduty-port", str(pd_port),
        "--pagerduty-dir", str(tmp_path / "pd"),
    ]  # fmt: skip
    env = {"PYTHONPATH": str(Path(connections.__file__).parents[1])}
    pid = processes.start("local-services", argv, env)
    try:
        deadline = time.monotonic() + 20
        while port_is_free(pd_port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert processes.pid("local-services") == pid
        _mail(smtp_port, "to the outbox")
        assert (tmp_path / "outbox" / "0000.eml").exists()
    finally:
        assert processes.stop(["local-services"], grace=10) == ["local-services"]
    assert processes.pid("local-services") is None
    assert port_is_free(pd_port) and port_is_free(smtp_port)
    # A pid file naming a process that is not ours (here: this test) is ignored.
    (tmp_path / "run" / "other.pid").write_text("1\n")
    assert processes.pid("other") is None


def test_a_starting_component_is_alive_whatever_its_title_until_it_exits(tmp_path: Path) -> None:
    """The start-up wait asks ``alive``: a process that renames itself (the api-server's setproctitle)
    is not taken for one that exited, and one that exited (a zombie child) is not taken for alive."""
    processes = Processes(tmp_path / "run", tmp_path / "logs")
    # Started under another name (exec -a), as a process that has set its own title looks.
    retitled = f"exec -a uvicorn {venv_bin('python')} -c 'import time; time.sleep(1.5)'"
    processes.start("renamed", ["/bin/bash", "-c", retitled], {})  # bash: dash has no exec -a
    assert processes.alive("renamed")
    assert processes.pid("renamed") is None  # its title names neither airflow nor dagspec_local
    deadline = time.monotonic() + 10
    while processes.alive("renamed") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not processes.alive("renamed")
    assert not processes.alive("never_started")
