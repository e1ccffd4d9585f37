"""Delivering a day's report: once to the recipients, kept as sent, corrections made visible.

Every version of a day's report that was made visible is archived under the day's report folder and
never overwritten::

    reports/<pipeline>/ds=<day>/delivered/v<k>/report.html   what was sent (or announced), as sent
                                              report.json
                                              event.json    kind, state, Message-ID, run, times
    reports/<pipeline>/ds=<day>/_delivered.json              the recipients' version (the marker)

``report.html``/``report.json`` beside them are the latest build, rewritten by every run so that
the archive matches the published tables; the ``delivered/`` versions are what people read.

The first delivery is v1. A later run of a delivered day whose KPIs differ from the latest version
is a correction, handled as the spec's ``report.corrections`` says: ``send`` emails the recipients a
report marked "Corrected" (the next version), ``alert`` pages and emails the engineers with both
versions' numbers and sends the recipients nothing (the next version is archived as announced).
A run whose KPIs equal the latest version's sends nothing.

Exactly once, as far as SMTP allows. Before a send, ``event.json`` records ``state: sending`` with
the message's Message-ID; after the relay accepts it, ``sent``; when the relay refused it (or could
not be reached), ``not_sent``. A run that finds a version still ``sending`` does not know whether
the relay took the message, so it sends nothing and fails without retries, naming the Message-ID
for a person to look up in the relay's log (see ``UnconfirmedDelivery``). That window is the time
between the relay's acceptance and the ``sent`` record reaching the lake (a killed worker; a lake
that stays unwritable through the bounded retries), plus SMTP's own: a connection lost after the
message's final dot and before the relay's answer. Two runs of one day delivering at the same
instant could both send; the scheduler does not start two runs of one logical date.
"""

from __future__ import annotations

import json
import logging
import smtplib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dagspec_runtime.runinfo import run_type

if TYPE_CHECKING:
    from dagspec_runtime.contract import Pipeline
    from dagspec_runtime.lake import Lake

__all__ = [
    "DELIVERED_DIR",
    "DELIVERED_MARKER",
    "Built",
    "UnconfirmedDelivery",
    "adopt_legacy_marker",
    "deliver",
]

log = logging.getLogger(__name__)

DELIVERED_MARKER = "_delivered.json"
DELIVERED_DIR = "delivered"
_RECORD_ATTEMPTS = 4  # lake writes after a send: a short outage must not lose the record


@dataclass(frozen=True)
class Built:
    """This run's report for the day: what ``report_task`` built and archived."""

    ds: str
    subject: str
    html: str
    json: bytes
    kpis: Mapping[str, Any]  # report.json's "kpis", as read back from JSON


class UnconfirmedDelivery(RuntimeError):
    """A send was started and never confirmed: sending again could deliver it twice."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _dumps(body: Mapping[str, Any]) -> bytes:
    return (json.dumps(body, sort_keys=True, indent=2) + "\n").encode()


def _record(lake: Lake, rel: str, body: Mapping[str, Any]) -> None:
    """Write a JSON record, retrying a failing lake a few times (tenacity) before giving up."""
    from tenacity import Retrying, stop_after_attempt, wait_exponential

    retrying = Retrying(
        stop=stop_after_attempt(_RECORD_ATTEMPTS),
        wait=wait_exponential(multiplier=0.5, max=4),
        reraise=True,
        before_sleep=lambda s: log.warning("writing %s: %s; retrying", rel, s.outcome.exception()),
    )
    retrying(lake.write_bytes, rel, _dumps(body))


def _run_facts(context: Mapping[str, Any]) -> dict[str, Any]:
    ti = context.get("ti")
    return {
        "run_id": getattr(ti, "run_id", None) or context.get("run_id"),
        "run_type": run_type(context),
        "try_number": getattr(ti, "try_number", None),
    }


# -- what the relay's error says about the message --------------------------------------------------


def _surely_not_sent(exc: BaseException) -> bool:
    """True when the relay cannot have accepted the message: it refused it, or was never reached.

    A lost connection or a timeout during the transaction may have come after the relay took the
    message: those stay ambiguous (``sending``).
    """
    if isinstance(exc, (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused)):
        return not isinstance(exc, smtplib.SMTPServerDisconnected)
    if isinstance(exc, (ConnectionRefusedError, smtplib.SMTPConnectError)):
        return True
    # SmtpHook raises AirflowException for a connection it cannot find or a relay it cannot reach.
    return type(exc).__name__ == "AirflowException" and (
        "not found" in str(exc) or "Unable to connect" in str(exc)
    )


# -- the day's versions ----------------------------------------------------------------------------


class _Day:
    """The delivered versions of one day's report in the lake."""

    def __init__(self, lake: Lake, folder: str) -> None:
        self.lake = lake
        self.folder = folder

    def version_dir(self, k: int) -> str:
        return f"{self.folder}/{DELIVERED_DIR}/v{k}"

    def marker(self) -> dict[str, Any] | None:
        return self.lake.read_json(f"{self.folder}/{DELIVERED_MARKER}")

    def event(self, k: int) -> dict[str, Any] | None:
        return self.lake.read_json(f"{self.version_dir(k)}/event.json")

    def kpis(self, k: int) -> dict[str, Any]:
        return dict((self.lake.read_json(f"{self.version_dir(k)}/report.json") or {}).get("kpis") or {})

    def latest(self) -> int:
        """The highest version whose event happened (sent or announced); 0 for none."""
        k = 0
        while (event := self.event(k + 1)) is not None and event.get("state") in ("sent", "alerted"):
            k += 1
        return k


def adopt_legacy_marker(lake: Lake, folder: str) -> None:
    """A day delivered before versions were kept: its archived report becomes v1, as it stands.

    Called before a run rewrites ``report.html``: the archive is then the best record of what was
    sent (the marker's ``report_sha256`` tells whether it still is).
    """
    day = _Day(lake, folder)
    marker = day.marker()
    if marker is None or "version" in marker:
        return
    for name in ("report.html", "report.json"):
        if lake.exists(f"{folder}/{name}"):
            lake.write_bytes(f"{day.version_dir(1)}/{name}", lake.read_bytes(f"{folder}/{name}"))
    event = {**marker, "kind": "delivery", "state": "sent", "version": 1, "adopted": True}
    _record(lake, f"{day.version_dir(1)}/event.json", event)
    _record(lake, f"{folder}/{DELIVERED_MARKER}", {**event, "latest_version": 1})


# -- delivering ------------------------------------------------------------------------------------


def deliver(
    pipeline: Pipeline,
    context: Mapping[str, Any],
    lake: Lake,
    folder: str,
    built: Built,
    *,
    may_email: Callable[[], str | None],
) -> dict[str, Any]:
    """Deliver ``built`` once, or make its correction visible; returns what happened.

    ``may_email`` says why a first delivery must not be emailed (a backfill, no recipients), or
    None. It does not apply to corrections: the recipients already have the day's numbers.
    """
    day = _Day(lake, folder)
    marker = day.marker()
    latest = day.latest()
    if marker is not None and latest == 0:  # never silently deliver a day the marker says went out
        raise UnconfirmedDelivery(
            f"{folder}/{DELIVERED_MARKER} says v{marker.get('version')} was delivered, but "
            f"{folder}/{DELIVERED_DIR}/ holds no sent version: not sending again"
        )
    _refuse_unconfirmed(day, latest + 1)

    if latest == 0:
        if (reason := may_email()) is not None:
            return {"delivered": False, "reason": reason}
        return _send(pipeline, context, day, built, 1, kind="delivery")

    if dict(built.kpis) == day.kpis(latest):
        sent = int((marker or {}).get("version") or latest)
        return {
            "delivered": False,
            "reason": f"already delivered (v{sent}, {(marker or {}).get('delivered_at')})",
        }

    if pipeline.report.corrections == "send":
        return _send(pipeline, context, day, built, latest + 1, kind="correction", before=latest)
    return _alert(pipeline, context, day, built, latest + 1, int((marker or {}).get("version") or 1))


def _refuse_unconfirmed(day: _Day, k: int) -> None:
    event = day.event(k)
    if event is None or event.get("state") != "sending":
        return
    raise UnconfirmedDelivery(
        f"the send of report v{k} for {day.folder} (Message-ID {event.get('message_id')}, started "
        f"{event.get('started_at')} by run {event.get('run_id')} try {event.get('try_number')}) was "
        "never confirmed, so it is not sent again. Look the Message-ID up in the mail relay's log: "
        f"if it was not delivered, delete {day.lake.url(f'{day.version_dir(k)}/event.json')} and "
        'clear publish_report; if it was, set that file\'s state to "sent".'
    )


def _send(
    pipeline: Pipeline,
    context: Mapping[str, Any],
    day: _Day,
    built: Built,
    k: int,
    *,
    kind: str,
    before: int | None = None,
) -> dict[str, Any]:
    from dagspec_runtime.alert_render import with_notice
    from dagspec_runtime.mail import send_email

    recipients = list(pipeline.report.recipients)
    subject, html = built.subject, built.html
    if before is not None:
        subject = f"Corrected: {built.subject}"
        html = with_notice(html, _correction_notice(pipeline, day, built, k, before))
    message_id = f"<{uuid.uuid4().hex}.v{k}.{built.ds}.{pipeline.id}@dagspec>"
    headers = {
        "X-Dagspec-Pipeline": pipeline.id,
        "X-Dagspec-Report-Day": built.ds,
        "X-Dagspec-Report-Version": str(k),
        "Message-ID": message_id,
    }
    vdir = day.version_dir(k)
    # What will be sent, before it is: a version in the lake is always the bytes people got.
    day.lake.write_bytes(f"{vdir}/report.html", html.encode())
    day.lake.write_bytes(f"{vdir}/report.json", built.json)
    event: dict[str, Any] = {
        "version": k,
        "kind": kind,
        "state": "sending",
        "ds": built.ds,
        "subject": subject,
        "recipients": recipients,
        "message_id": message_id,
        "started_at": _now(),
        **_run_facts(context),
    }
    if before is not None:
        event["corrects"] = before
    day.lake.write_bytes(f"{vdir}/event.json", _dumps(event))  # no send without this record
    try:
        send_email(pipeline.report.smtp_conn_id, recipients, subject, html, headers)
    except Exception as exc:
        if _surely_not_sent(exc):
            _record(day.lake, f"{vdir}/event.json", {**event, "state": "not_sent", "error": str(exc)[:500]})
        raise
    event.update(state="sent", delivered_at=_now())
    try:
        _record(day.lake, f"{vdir}/event.json", event)
        marker = {**event, "latest_version": k}
        _record(day.lake, f"{day.folder}/{DELIVERED_MARKER}", marker)
    except Exception as exc:
        raise UnconfirmedDelivery(
            f"report v{k} for {built.ds} WAS SENT (Message-ID {message_id}) but its record could not "
            f"be written ({exc}); it will not be sent again. Set the state in "
            f'{day.lake.url(f"{vdir}/event.json")} to "sent" once the lake is back.'
        ) from exc
    return {
        "delivered": True,
        "reason": "sent" if before is None else f"correction v{k} sent",
        "version": k,
        "recipients": recipients,
        "message_id": message_id,
    }


def _alert(
    pipeline: Pipeline, context: Mapping[str, Any], day: _Day, built: Built, k: int, sent: int
) -> dict[str, Any]:
    """``corrections: alert``: the engineers learn both versions' numbers; the recipients nothing."""
    from dagspec_runtime.alert_render import correction_alert_html, kpi_change_rows
    from dagspec_runtime.alerts import notify_engineers
    from dagspec_runtime.pagerduty import dedup_key

    vdir = day.version_dir(k)
    day.lake.write_bytes(f"{vdir}/report.html", built.html.encode())
    day.lake.write_bytes(f"{vdir}/report.json", built.json)
    delivered_event = day.event(sent) or {}
    rows = kpi_change_rows(pipeline, day.kpis(sent), built.kpis)
    changed = ", ".join(r["label"] for r in rows if r["changed"])
    summary = (
        f"{pipeline.id}: the numbers delivered for {built.ds} changed on a re-run ({changed}); "
        "the recipients were not sent a correction"
    )
    delivered = {
        "version": sent,
        "sent_at": delivered_event.get("delivered_at"),
        "run_id": delivered_event.get("run_id"),
        "archive": day.lake.url(f"{day.version_dir(sent)}/report.html"),
    }
    facts = _run_facts(context)
    corrected = {"version": k, "run_id": facts["run_id"], "archive": day.lake.url(f"{vdir}/report.html")}
    outcome = notify_engineers(
        pipeline,
        summary=summary,
        dedup=f"{dedup_key(pipeline.id, built.ds)}/correction-v{k}",
        severity="warning",
        details={"ds": built.ds, "delivered": delivered, "corrected": corrected, "kpis": rows},
        html=lambda: correction_alert_html(summary, rows, delivered, corrected),
        headers={"X-Dagspec-Pipeline": pipeline.id, "X-Dagspec-Correction-Day": built.ds},
    )
    if "sent" not in (outcome["pagerduty"], outcome["email"]):
        # Nobody heard of it: fail, so the retry (or the failure alert) tries again.
        raise RuntimeError(f"correction alert for {built.ds} reached nobody: {outcome}")
    event = {
        "version": k,
        "kind": "correction_alert",
        "state": "alerted",
        "ds": built.ds,
        "corrects": sent,
        "alerted_at": _now(),
        "outcome": outcome,
        **facts,
    }
    _record(day.lake, f"{vdir}/event.json", event)
    marker = day.marker() or {}
    _record(day.lake, f"{day.folder}/{DELIVERED_MARKER}", {**marker, "latest_version": k})
    return {
        "delivered": False,
        "reason": f"correction v{k}: engineers alerted",
        "version": k,
        "alert": outcome,
    }


# -- the correction's numbers ----------------------------------------------------------------------


def _correction_notice(pipeline: Pipeline, day: _Day, built: Built, k: int, before: int) -> str:
    from dagspec_runtime.alert_render import correction_notice_html, kpi_change_rows

    sent_at = (day.event(before) or {}).get("delivered_at") or "earlier"
    rows = kpi_change_rows(pipeline, day.kpis(before), built.kpis)
    return correction_notice_html(built.ds, k, rows, sent_at)
