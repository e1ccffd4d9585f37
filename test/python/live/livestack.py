"""The live stack as the tests see it: REST API calls (the shared ones of test/python/airflow_rest.py),
what the local SMTP server and PagerDuty receiver got, Deadline rows in the metadata database, and
the sources' maintenance switch."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import psycopg

from airflow_rest import AirflowRest
from dagspec_local.native import NativeStack

TIMEZONE = "America/New_York"  # the seed's, which the variants keep


@dataclass
class LiveStack(AirflowRest):
    home: Path
    api: str
    metadata_db: str
    sources: dict[str, str]  # dag id -> conninfo of its source database
    user: str
    password: str
    env: dict[str, str]  # the environment the stack was started from
    native: NativeStack
    timings: dict[str, float] = field(default_factory=dict)

    # -- REST API ----------------------------------------------------------------------------------

    def rest_login(self) -> tuple[str, str]:
        return self.user, self.password

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """The airflow command against this stack (what ``gen airflow cli`` runs)."""
        return self.native.airflow(*args, timeout=timeout)

    # -- what the stack's local services received -------------------------------------------------

    def pagerduty_events(self, dedup_key: str | None = None) -> list[dict[str, Any]]:
        path = self.home / "pagerduty" / "events.jsonl"
        events = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        return [e for e in events if dedup_key is None or e["dedup_key"] == dedup_key]

    def emails(self, pipeline_id: str) -> list[Message]:
        out = [message_from_bytes(p.read_bytes()) for p in sorted((self.home / "outbox").glob("*.eml"))]
        return [m for m in out if m.get("X-Dagspec-Pipeline") == pipeline_id]

    # -- metadata database -------------------------------------------------------------------------

    def deadlines(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """The run's Deadline rows: when, whether missed, the state of the callback."""
        with psycopg.connect(self.metadata_db) as conn:
            rows = conn.execute(
                """
                select d.deadline_time, d.missed, c.state, c.output
                from deadline d
                join dag_run r on r.id = d.dagrun_id
                left join callback c on c.id = d.callback_id
                where r.dag_id = %s and r.run_id = %s
                order by d.deadline_time
                """,
                (dag_id, run_id),
            ).fetchall()
        return [
            {"deadline_time": t, "missed": m, "callback_state": s, "callback_output": o}
            for t, m, s, o in rows
        ]

    def set_maintenance(self, dag_id: str, on: bool) -> None:
        """Open (ends_at NULL: until further notice) or close the source's maintenance window."""
        with psycopg.connect(self.sources[dag_id], autocommit=True) as conn:
            conn.execute("delete from ops.maintenance")
            if on:
                conn.execute(
                    "insert into ops.maintenance (starts_at, ends_at, reason)"
                    " values (now() - interval '1 hour', null, 'live test')"
                )
