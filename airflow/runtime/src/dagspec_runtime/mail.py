"""Email through an Airflow SMTP connection, with the SMTP provider's hook.

The one place the runtime sends mail (the report, the engineers' failure alerts): SmtpHook reads
host, port, login, SSL/STARTTLS, timeout, retry limit and the sender from the connection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["send_email"]


def send_email(
    conn_id: str,
    to: Sequence[str],
    subject: str,
    html: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Send ``html`` to ``to`` through the Airflow SMTP connection ``conn_id``; raises if it fails."""
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    with SmtpHook(smtp_conn_id=conn_id) as hook:
        hook.send_email_smtp(
            to=list(to), subject=subject, html_content=html, custom_headers=dict(headers or {})
        )
