"""The live stack as the tests see it: REST API calls, what the local SMTP server and PagerDuty
receiver got, Deadline rows in the metadata database, and the sources' maintenance switch."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from dagspec_local.native import NativeStack

TIMEZONE = "America/New_York"  # the seed's, which the variants keep


def wait_for(what: str, probe: Callable[[], Any], timeout: float, every: float = 1.0) -> Any:
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")
        time.sleep(every)


@dataclass
class LiveStack:
    home: Path
    api: str
    metadata_db: str
    sources: dict[str, str]  # dag id -> conninfo of its source database
    user: str
    password: str
    env: dict[str, str]  # the environment the stack was started from
    native: NativeStack
    timings: dict[str, float] = field(default_factory=dict)
    _token: str | None = None

    # -- REST API ----------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        if self._token is None:
            r = httpx.post(f"{self.api}/auth/token", json={"username": self.user, "password": self.password})
            r.raise_for_status()
            self._token = r.json()["access_token"]
        return {"Authorization": f"Bearer {self._token}"}

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.api}/api/v2{path}", headers=self._headers(), params=params, timeout=30)

    def call(self, method: str, path: str, body: Any) -> dict[str, Any]:
        r = httpx.request(method, f"{self.api}/api/v2{path}", headers=self._headers(), json=body, timeout=30)
        assert r.status_code < 300, f"{method} {path}: HTTP {r.status_code} {r.text}"
        return dict(r.json())

    def trigger(self, dag_id: str, logical_date: datetime | None, run_id: str) -> dict[str, Any]:
        body = {"dag_run_id": run_id, "logical_date": logical_date.isoformat() if logical_date else None}
        return self.call("POST", f"/dags/{dag_id}/dagRuns", body)

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        r = self.get(f"/dags/{dag_id}/dagRuns/{run_id}")
        r.raise_for_status()
        return dict(r.json())

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        r = self.get(f"/dags/{dag_id}/dagRuns", order_by="logical_date", limit=100)
        r.raise_for_status()
        return list(r.json()["dag_runs"])

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        r = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")
        r.raise_for_status()
        return {ti["task_id"]: ti["state"] for ti in r.json()["task_instances"]}

    def wait_run(self, dag_id: str, run_id: str, states: set[str], timeout: float) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            run = self.run(dag_id, run_id)
            return run if run["state"] in states else None

        try:
            return wait_for(f"{dag_id} run {run_id} to reach {sorted(states)}", done, timeout, every=2)
        except pytest.fail.Exception as exc:
            raise AssertionError(f"{exc}; tasks: {self.task_states(dag_id, run_id)}") from None

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
