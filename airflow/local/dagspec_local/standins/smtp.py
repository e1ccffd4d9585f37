"""A real SMTP server on loopback (aiosmtpd) that delivers every message to a folder.

Each message is saved as ``<outbox>/<NNNN>.eml``, numbered in arrival order after what the folder
already holds (so a restarted stack keeps counting), and kept parsed in ``messages`` with its
envelope in ``envelopes`` and its arrival (``time.time()``) in ``received_at`` for tests that run
the server in-process.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from dagspec_local.net import LOOPBACK, free_port


class SmtpOutbox:
    """aiosmtpd handler: one .eml file per message."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []  # (mail from, recipients) per message
        self.received_at: list[float] = []
        # Seconds between taking a message and answering 250: a relay that is slow to confirm (the
        # window in which a sender cannot know whether its message went out).
        self.answer_delay = 0.0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd API)
        raw: bytes = envelope.original_content or envelope.content
        with self._lock:
            n = len(list(self.folder.glob("*.eml")))
            (self.folder / f"{n:04d}.eml").write_bytes(raw)
            self.messages.append(email.message_from_bytes(raw, policy=email.policy.default))  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.received_at.append(time.time())
        if self.answer_delay:
            await asyncio.sleep(self.answer_delay)
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server(folder: Path, port: int = 0) -> Iterator[tuple[SmtpOutbox, int]]:
    """The server for the duration of the block: ``(outbox, port)``; port 0 picks a free one."""
    from aiosmtpd.controller import Controller

    folder.mkdir(parents=True, exist_ok=True)
    outbox = SmtpOutbox(folder)
    port = port or free_port()
    controller = Controller(outbox, hostname=LOOPBACK, port=port)
    controller.start()
    try:
        yield outbox, port
    finally:
        controller.stop()
