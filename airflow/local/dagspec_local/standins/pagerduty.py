"""A PagerDuty Events API v2 receiver on loopback (http.server).

It answers ``POST /v2/enqueue`` as the real API does: 202 with ``{"status": "success", "dedup_key":
...}`` for a valid event (``routing_key``, ``event_action`` trigger|acknowledge|resolve, a ``payload``
for triggers), 400 for an invalid one, 404 for another path. ``events`` holds each accepted event as
sent; with a folder, each is also appended to ``<folder>/events.jsonl`` with the routing key replaced
by ``***`` (a file must not hold the secret). Tests queue other answers (503, 429, ...) in
``statuses`` to exercise the sender's retries, or set ``silent``: every request is then read and
held unanswered until the server stops (a PagerDuty that accepts connections and never answers).
``received_at`` holds each request's arrival (``time.time()``), answered or not.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from dagspec_local.net import LOOPBACK

EVENT_ACTIONS = {"trigger", "acknowledge", "resolve"}


def is_valid_event(event: Any) -> bool:
    return (
        isinstance(event, dict)
        and isinstance(event.get("routing_key"), str)
        and event.get("event_action") in EVENT_ACTIONS
        and (event["event_action"] != "trigger" or isinstance(event.get("payload"), dict))
    )


class PagerDutyReceiver:
    """What the receiver got: every request path, the accepted events, and answers queued by tests."""

    def __init__(self, folder: Path | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.statuses: list[int] = []  # answered first, in order, instead of processing the event
        self.silent = False  # hold every request unanswered until the server stops
        self.received_at: list[float] = []
        self.stopping = threading.Event()
        self.log = folder / "events.jsonl" if folder else None
        self.lock = threading.Lock()

    def receive(self, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """The status and JSON answer for one request."""
        with self.lock:
            self.paths.append(path)
            self.received_at.append(time.time())
            if path != "/v2/enqueue":
                return 404, {"status": "not found", "message": f"no route {path}"}
            if self.statuses:
                status = self.statuses.pop(0)
                return status, {"status": "error", "message": f"queued answer {status}"}
            try:
                event = json.loads(body)
            except ValueError:
                event = None
            if not is_valid_event(event):
                return 400, {"status": "invalid event", "message": "Event object is invalid"}
            self.events.append(event)
            dedup_key = event.get("dedup_key") or f"local-{uuid.uuid4().hex}"
            if self.log:
                with self.log.open("a") as f:
                    redacted = {**event, "routing_key": "***", "dedup_key": dedup_key}
                    f.write(json.dumps(redacted, sort_keys=True) + "\n")
            return 202, {"status": "success", "message": "Event processed", "dedup_key": dedup_key}


@contextmanager
def pagerduty_server(folder: Path | None = None, port: int = 0) -> Iterator[tuple[PagerDutyReceiver, str]]:
    """The receiver for the duration of the block: ``(receiver, base URL)``; port 0 picks a free one."""
    if folder:
        folder.mkdir(parents=True, exist_ok=True)
    receiver = PagerDutyReceiver(folder)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server API)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if receiver.silent:
                with receiver.lock:
                    receiver.paths.append(self.path)
                    receiver.received_at.append(time.time())
                receiver.stopping.wait()
                self.close_connection = True
                return
            status, answer = receiver.receive(self.path, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server API)
            pass

    server = ThreadingHTTPServer((LOOPBACK, port), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver, f"http://{LOOPBACK}:{server.server_address[1]}"
    finally:
        receiver.stopping.set()  # let held (silent) requests go before stopping
        server.shutdown()
        server.server_close()
