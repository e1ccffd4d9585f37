"""What every kind of local stack offers: the command surface of ``gen airflow``.

The native backend (``native.NativeStack``) runs Airflow's processes from ``.venv``; a Docker
backend fits beside it by implementing the same four commands and printing the same status lines
(``status_lines``): UI address, login, where mail, pages and logs go.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from dagspec_local.settings import StackSettings

# The processes of a running stack, in start order. local-services = the SMTP and PagerDuty stand-ins.
COMPONENTS = ("local-services", "api-server", "scheduler", "dag-processor", "triggerer")


class StackBackend(Protocol):
    settings: StackSettings

    def up(self) -> int: ...
    def down(self) -> int: ...
    def status(self) -> int: ...
    def cli(self, args: Sequence[str]) -> int: ...


def status_lines(settings: StackSettings, password: str) -> list[str]:
    """Where to look, the same for every backend."""
    return [
        f"  UI:     {settings.url}",
        f"  login:  {settings.user} / {password}",
        f"  dags:   {settings.dags}",
        f"  mail:   {settings.outbox} (SMTP 127.0.0.1:{settings.smtp_port})",
        f"  pages:  {settings.pagerduty_dir / 'events.jsonl'} "
        f"(PagerDuty Events API v2 on 127.0.0.1:{settings.pagerduty_port})",
        f"  logs:   {settings.log_dir}",
        "  cli:    npx gen airflow cli <airflow args>",
    ]
