"""Waiting for a lock another run holds: the warehouse writer lock (an ``flock`` for DuckDB, an
advisory lock for PostgreSQL) is tried without blocking and retried with tenacity until
``DAGSPEC_LOCK_TIMEOUT_SECONDS`` (default six hours: a backfill may queue many day-builds).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

import tenacity

__all__ = ["wait_for"]

log = logging.getLogger(__name__)

_DEFAULT_LOCK_TIMEOUT = 6 * 3600.0
_POLL_SECONDS = 1.0


def _lock_timeout() -> float:
    return float(os.environ.get("DAGSPEC_LOCK_TIMEOUT_SECONDS") or _DEFAULT_LOCK_TIMEOUT)


def wait_for(try_acquire: Callable[[], bool], what: str, purpose: str) -> None:
    """Call ``try_acquire`` (non-blocking; True once it holds the lock) every second until it
    succeeds; ``TimeoutError`` after the lock timeout. An exception it raises is not retried."""
    timeout = _lock_timeout()
    started = time.monotonic()

    def waiting(state: tenacity.RetryCallState) -> None:
        if state.attempt_number == 1:
            log.info("%s: waiting for the %s (another run holds it)", purpose, what)

    def give_up(state: tenacity.RetryCallState) -> None:
        raise TimeoutError(f"{purpose}: gave up waiting for the {what} after {timeout:.0f}s")

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_result(lambda acquired: not acquired),
        wait=tenacity.wait_fixed(_POLL_SECONDS),
        stop=tenacity.stop_after_delay(timeout),
        before_sleep=waiting,
        retry_error_callback=give_up,
    )
    retrying(try_acquire)
    if retrying.statistics.get("attempt_number", 1) > 1:
        log.info("%s: got the %s after %.1fs", purpose, what, time.monotonic() - started)
