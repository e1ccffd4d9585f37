"""Local stand-ins for the demo and the local stack: a real SMTP server and a PagerDuty receiver.

- SMTP: aiosmtpd on loopback, saving every message as ``<outbox>/<NNNN>.eml``. It is a real SMTP
  server; only the delivery (to a folder instead of mailboxes) differs from a mail relay.
- PagerDuty: an HTTP server answering ``POST /v2/enqueue`` the way the Events API v2 does (202 with
  ``{"status": "success", "dedup_key": ...}``; 400 for a malformed event), appending each event to
  ``<pagerduty_dir>/events.jsonl``. The routing key is replaced by ``***`` before it is written.

Run: ``python airflow/local/local_services.py --smtp-port 1025 --outbox .demo/outbox
--pagerduty-port 9095 --pagerduty-dir .demo/pagerduty``. Stops on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

EVENT_ACTIONS = {"trigger", "acknowledge", "resolve"}


class OutboxHandler:
    """aiosmtpd handler: one .eml file per message, numbered in arrival order."""

    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd API)
        with self.lock:
            n = len(list(self.outbox.glob("*.eml")))
            (self.outbox / f"{n:04d}.eml").write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def pagerduty_handler(folder: Path) -> type[BaseHTTPRequestHandler]:
    log = folder / "events.jsonl"
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server API)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                event = json.loads(body)
                ok = (
                    self.path == "/v2/enqueue"
                    and isinstance(event.get("routing_key"), str)
                    and event.get("event_action") in EVENT_ACTIONS
                    and (event["event_action"] != "trigger" or "payload" in event)
                )
            except (ValueError, AttributeError):
                ok, event = False, {}
            if not ok:
                self._answer(400, {"status": "invalid event", "message": "Event object is invalid"})
                return
            dedup_key = event.get("dedup_key") or f"local-{id(event)}"
            with lock, log.open("a") as f:
                redacted = {**event, "routing_key": "***", "dedup_key": dedup_key}
                f.write(json.dumps(redacted, sort_keys=True) + "\n")
            self._answer(202, {"status": "success", "message": "Event processed", "dedup_key": dedup_key})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server API)
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--outbox", type=Path, required=True)
    parser.add_argument("--pagerduty-port", type=int, default=9095)
    parser.add_argument("--pagerduty-dir", type=Path, required=True)
    args = parser.parse_args()

    from aiosmtpd.controller import Controller

    args.outbox.mkdir(parents=True, exist_ok=True)
    args.pagerduty_dir.mkdir(parents=True, exist_ok=True)
    smtp = Controller(OutboxHandler(args.outbox), hostname="127.0.0.1", port=args.smtp_port)
    smtp.start()
    http = ThreadingHTTPServer(("127.0.0.1", args.pagerduty_port), pagerduty_handler(args.pagerduty_dir))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=http.serve_forever, daemon=True).start()
    print(f"smtp on 127.0.0.1:{args.smtp_port} -> {args.outbox}", flush=True)
    pd_url = f"http://127.0.0.1:{args.pagerduty_port}"
    print(f"pagerduty events api on {pd_url} -> {args.pagerduty_dir}", flush=True)
    stop.wait()
    http.shutdown()
    smtp.stop()


if __name__ == "__main__":
    main()
