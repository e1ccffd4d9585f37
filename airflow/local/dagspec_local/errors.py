"""The one error the local environment raises: a message for a person, printed as ``stack: ...``."""

from __future__ import annotations

from pathlib import Path


class LocalEnvError(Exception):
    """Setting up or running the local environment failed; the message says what to do."""


def log_tail(log: Path, lines: int = 30) -> str:
    """The end of a log file, for an error message (empty if there is no log)."""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""
