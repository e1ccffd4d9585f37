"""Local stand-ins for the mail relay and PagerDuty, shared by the demo, the local stack and the tests.

Both are real servers on loopback speaking the real wire protocol (SMTP; PagerDuty Events API v2 over
HTTP); only where a message ends up differs: a folder of ``.eml`` files and an ``events.jsonl`` file,
plus in-memory lists the tests read.
"""

from dagspec_local.standins.pagerduty import PagerDutyReceiver, pagerduty_server
from dagspec_local.standins.smtp import SmtpOutbox, smtp_server

__all__ = ["PagerDutyReceiver", "SmtpOutbox", "pagerduty_server", "smtp_server"]
