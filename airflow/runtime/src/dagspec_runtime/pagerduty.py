"""PagerDuty Events API v2 client: trigger and resolve, with retries, against a configurable base URL.

We POST Events API v2 JSON ourselves instead of using the provider's hook because the hook cannot
be pointed at another URL: the base URL is the PagerDuty connection's host (default
``https://events.pagerduty.com``), the routing key its password (or extra ``routing_key``). The
routing key is a secret: it goes into the request body and nowhere else, never into a log line or
an exception message. Tests point the connection at a local receiver speaking the same wire format.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from datetime import date
from typing import Any

__all__ = ["DEFAULT_EVENTS_URL", "PagerDutyError", "asend_event", "dedup_key", "send_event"]

log = logging.getLogger(__name__)

DEFAULT_EVENTS_URL = "https://events.pagerduty.com"
_SEVERITIES = ("critical", "error", "warning", "info")
_ATTEMPTS = 4
_BACKOFF_SECONDS = 1.0
_TIMEOUT_SECONDS = 10.0


class PagerDutyError(RuntimeError):
    """The Events API refused the event, or could not be reached after retries."""


def dedup_key(pipeline_id: str, day: date | str) -> str:
    return f"{pipeline_id}/{day.isoformat() if isinstance(day, date) else day}"


# -- Events API v2 ---------------------------------------------------------------------------------


def _target(conn: Any) -> tuple[str, str]:
    """``(enqueue URL, routing key)`` from a PagerDuty connection."""
    extra = conn.extra_dejson or {}
    key = conn.password or extra.get("routing_key") or extra.get("integration_key")
    if not key:
        raise PagerDutyError(
            f"PagerDuty connection {conn.conn_id!r} has no routing key (password or extra 'routing_key')"
        )
    host = (conn.host or "").strip().rstrip("/")
    if not host:
        base = DEFAULT_EVENTS_URL
    elif "://" in host:
        base = host
    else:
        base = f"{extra.get('scheme') or 'https'}://{host}"
    if conn.port and base.count(":") < 2:  # only scheme's colon so far: the host carries no port
        base = f"{base}:{conn.port}"
    return f"{base}/v2/enqueue", str(key)


def _body(
    key: str,
    action: str,
    dedup: str,
    summary: str | None,
    severity: str,
    source: str,
    details: Mapping[str, Any] | None,
) -> dict[str, Any]:
    if action not in ("trigger", "acknowledge", "resolve"):
        raise ValueError(f"unknown event action {action!r}")
    body: dict[str, Any] = {"routing_key": key, "event_action": action, "dedup_key": dedup}
    if action == "trigger":
        if severity not in _SEVERITIES:
            raise ValueError(f"severity must be one of {_SEVERITIES}, got {severity!r}")
        body["payload"] = {
            "summary": (summary or dedup)[:1024],  # the API's limit
            "severity": severity,
            "source": source,
            # Exceptions and datetimes must not break the event: stringify what JSON cannot hold.
            "custom_details": json.loads(json.dumps(dict(details or {}), default=str)),
        }
    return body


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


def _outcome(status: int, text: str, key: str, url: str, action: str, dedup: str) -> dict[str, Any]:
    if status == 202:
        log.info("PagerDuty %s accepted for %s (%s)", action, dedup, url)
        try:
            return dict(json.loads(text))
        except ValueError:
            return {}
    # Error bodies do not echo the key today; scrub anyway before it reaches a log or exception.
    raise PagerDutyError(
        f"PagerDuty {action} for {dedup} refused by {url}: HTTP {status} {text[:300].replace(key, '***')}"
    )


def send_event(
    conn_id: str,
    *,
    action: str,
    dedup: str,
    summary: str | None = None,
    severity: str = "critical",
    source: str = "dagspec",
    details: Mapping[str, Any] | None = None,
    attempts: int = _ATTEMPTS,
    backoff: float | None = None,
) -> dict[str, Any]:
    """POST one event; retries connection errors, timeouts, 429 and 5xx with exponential backoff."""
    import httpx
    from airflow.sdk import BaseHook

    url, key = _target(BaseHook.get_connection(conn_id))
    backoff = _BACKOFF_SECONDS if backoff is None else backoff
    body = _body(key, action, dedup, summary, severity, source, details)
    last = ""
    for attempt in range(attempts):
        try:
            response = httpx.post(url, json=body, timeout=_TIMEOUT_SECONDS)
            if not _retryable(response.status_code):
                return _outcome(response.status_code, response.text, key, url, action, dedup)
            last = f"HTTP {response.status_code}"
        except httpx.TransportError as exc:
            last = f"{type(exc).__name__}: {exc}".replace(key, "***")
        if attempt + 1 < attempts:
            log.warning(
                "PagerDuty %s for %s: %s; retrying (%d/%d)", action, dedup, last, attempt + 1, attempts
            )
            time.sleep(backoff * 2**attempt)
    raise PagerDutyError(
        f"PagerDuty {action} for {dedup} failed after {attempts} attempt(s) at {url}: {last}"
    )


async def asend_event(
    conn_id: str,
    *,
    action: str,
    dedup: str,
    summary: str | None = None,
    severity: str = "critical",
    source: str = "dagspec",
    details: Mapping[str, Any] | None = None,
    attempts: int = _ATTEMPTS,
    backoff: float | None = None,
) -> dict[str, Any]:
    """``send_event`` for the triggerer's event loop (non-blocking I/O and connection lookup)."""
    import asyncio

    import httpx
    from airflow.sdk import BaseHook

    url, key = _target(await BaseHook.aget_connection(conn_id))
    backoff = _BACKOFF_SECONDS if backoff is None else backoff
    body = _body(key, action, dedup, summary, severity, source, details)
    last = ""
    async with httpx.AsyncClient(timeout=_TIMEOUT_SECONDS) as client:
        for attempt in range(attempts):
            try:
                response = await client.post(url, json=body)
                if not _retryable(response.status_code):
                    return _outcome(response.status_code, response.text, key, url, action, dedup)
                last = f"HTTP {response.status_code}"
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}".replace(key, "***")
            if attempt + 1 < attempts:
                log.warning(
                    "PagerDuty %s for %s: %s; retrying (%d/%d)", action, dedup, last, attempt + 1, attempts
                )
                await asyncio.sleep(backoff * 2**attempt)
    raise PagerDutyError(
        f"PagerDuty {action} for {dedup} failed after {attempts} attempt(s) at {url}: {last}"
    )
