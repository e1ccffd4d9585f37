"""PagerDuty Events API v2 client: trigger and resolve, with bounded retries (tenacity), against a
configurable base URL.

We POST Events API v2 JSON ourselves instead of using the provider's hook because the hook cannot
be pointed at another URL: the base URL is the PagerDuty connection's host (default
``https://events.pagerduty.com``), the routing key its password (or extra ``routing_key``). The
routing key is a secret: it goes into the request body and nowhere else, never into a log line or
an exception message. Tests point the connection at a local receiver speaking the same wire format.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import date
from typing import Any

__all__ = ["DEFAULT_EVENTS_URL", "PagerDutyError", "asend_event", "dedup_key", "send_event"]

log = logging.getLogger(__name__)

DEFAULT_EVENTS_URL = "https://events.pagerduty.com"
_SEVERITIES = ("critical", "error", "warning", "info")
_ATTEMPTS = 4
_BACKOFF_SECONDS = 1.0
_TIMEOUT_SECONDS = 10.0  # one request; a silent endpoint costs this much per attempt
_MAX_WAIT_SECONDS = 8.0
_BUDGET_SECONDS = 30.0  # no new attempt starts after this long


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


class _Transient(Exception):
    """One attempt that may succeed if repeated: a transport error, a timeout, HTTP 429 or 5xx."""


def _retrying(attempts: int, backoff: float) -> dict[str, Any]:
    """The retry policy (tenacity) both senders share: bounded in attempts and in total time.

    A PagerDuty that accepts connections and never answers costs ``_TIMEOUT_SECONDS`` per attempt;
    ``_BUDGET_SECONDS`` stops starting new attempts after that long, so a page gives up in under a
    minute. The caller sends the engineers' email at the same time, never after this gives up.
    """
    from tenacity import retry_if_exception_type, stop_after_attempt, stop_after_delay, wait_exponential

    return {
        "stop": stop_after_attempt(max(1, attempts)) | stop_after_delay(_BUDGET_SECONDS),
        "wait": wait_exponential(multiplier=backoff, max=_MAX_WAIT_SECONDS),
        "retry": retry_if_exception_type(_Transient),
        "reraise": False,
    }


def _classify(status: int, text: str, key: str, url: str, action: str, dedup: str) -> dict[str, Any]:
    """The answer's outcome: accepted (the API's JSON), a refusal (raised), or transient (raised)."""
    if status == 429 or status >= 500:
        raise _Transient(f"HTTP {status}")
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


def _transport_error(exc: Exception, key: str) -> _Transient:
    return _Transient(f"{type(exc).__name__}: {exc}".replace(key, "***"))


def _gave_up(error: Any, url: str, action: str, dedup: str) -> PagerDutyError:
    last = error.last_attempt
    return PagerDutyError(
        f"PagerDuty {action} for {dedup} failed after {last.attempt_number} attempt(s) at {url}: "
        f"{last.exception()}"
    )


def _log_retry(action: str, dedup: str) -> Any:
    def before_sleep(state: Any) -> None:
        log.warning(
            "PagerDuty %s for %s: %s; retrying in %.1fs (attempt %d)",
            action,
            dedup,
            state.outcome.exception(),
            state.next_action.sleep if state.next_action else 0.0,
            state.attempt_number,
        )

    return before_sleep


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
    from tenacity import RetryError, Retrying

    url, key = _target(BaseHook.get_connection(conn_id))
    body = _body(key, action, dedup, summary, severity, source, details)
    policy = _retrying(attempts, _BACKOFF_SECONDS if backoff is None else backoff)
    try:
        for attempt in Retrying(**policy, before_sleep=_log_retry(action, dedup)):
            with attempt:
                try:
                    response = httpx.post(url, json=body, timeout=_TIMEOUT_SECONDS)
                except httpx.TransportError as exc:
                    raise _transport_error(exc, key) from None
                return _classify(response.status_code, response.text, key, url, action, dedup)
    except RetryError as error:
        raise _gave_up(error, url, action, dedup) from None
    raise AssertionError("unreachable: tenacity either returns or raises")


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
    import httpx
    from airflow.sdk import BaseHook
    from tenacity import AsyncRetrying, RetryError

    url, key = _target(await BaseHook.aget_connection(conn_id))
    body = _body(key, action, dedup, summary, severity, source, details)
    policy = _retrying(attempts, _BACKOFF_SECONDS if backoff is None else backoff)
    async with httpx.AsyncClient(timeout=_TIMEOUT_SECONDS) as client:
        try:
            async for attempt in AsyncRetrying(**policy, before_sleep=_log_retry(action, dedup)):
                with attempt:
                    try:
                        response = await client.post(url, json=body)
                    except httpx.TransportError as exc:
                        raise _transport_error(exc, key) from None
                    return _classify(response.status_code, response.text, key, url, action, dedup)
        except RetryError as error:
            raise _gave_up(error, url, action, dedup) from None
    raise AssertionError("unreachable: tenacity either returns or raises")
