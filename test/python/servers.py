"""Real loopback servers for the delivery tests: an SMTP sink (aiosmtpd) and a PagerDuty Events API
v2 stand-in (http.server). Both record what they receive; the SMTP sink also saves each message
as an ``.eml`` file.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpSink:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd API)
        raw = envelope.original_content or envelope.content
        path = self.folder / f"{len(self.messages):04d}.eml"
        path.write_bytes(raw)
        self.messages.append(email.message_from_bytes(raw, policy=email.policy.default))  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server(folder: Path) -> Iterator[tuple[SmtpSink, int]]:
    from aiosmtpd.controller import Controller

    folder.mkdir(parents=True, exist_ok=True)
    sink = SmtpSink(folder)
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def smtp_conn(port: int) -> str:
    """An ``AIRFLOW_CONN_*`` value for the sink: plain SMTP (no SSL, no STARTTLS), no retries."""
    return json.dumps(
        {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "extra": {
                "disable_ssl": True,
                "disable_tls": True,
                "from_email": "dagspec@example.com",
                "retry_limit": 0,
                "timeout": 5,
            },
        }
    )


class PagerDutyReceiver:
    """Answers POST /v2/enqueue like the Events API; ``statuses`` queues non-202 answers first."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.statuses: list[int] = []
        self.lock = threading.Lock()


@contextmanager
def pagerduty_server() -> Iterator[tuple[PagerDutyReceiver, str]]:
    receiver = PagerDutyReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server API)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with receiver.lock:
                receiver.paths.append(self.path)
                status = receiver.statuses.pop(0) if receiver.statuses else 202
                event = json.loads(body)
                if status == 202:
                    receiver.events.append(event)
            if self.path != "/v2/enqueue":
                status = 404
            answer = (
                {"status": "success", "message": "Event processed", "dedup_key": event.get("dedup_key")}
                if status == 202
                else {"status": "invalid event", "message": "Event object is invalid"}
            )
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def pagerduty_conn(base_url: str, routing_key: str) -> str:
    return json.dumps({"conn_type": "pagerduty_events", "host": base_url, "password": routing_key})
