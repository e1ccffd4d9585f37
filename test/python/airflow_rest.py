"""The Airflow 3 REST API (/api/v2) as the stack tests use it, shared by the native live stack
(test/python/live/livestack.py) and the dockerised one (test/python/docker/dockerstack.py): a
SimpleAuthManager login, reads and calls, triggering a run and waiting for its state.

A stack's class mixes ``AirflowRest`` in and says where its api-server is (``api``) and how to log
in (``rest_login``); the token is fetched once and kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest


def wait_for(what: str, probe: Callable[[], Any], timeout: float, every: float = 1.0) -> Any:
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")
        time.sleep(every)


class AirflowRest:
    """REST calls against ``self.api``; the mixing class defines ``api`` and ``rest_login``."""

    api: str
    _rest_token: str | None = None

    def rest_login(self) -> tuple[str, str]:
        """The user and password SimpleAuthManager's /auth/token takes."""
        raise NotImplementedError

    def _headers(self) -> dict[str, str]:
        if self._rest_token is None:
            user, password = self.rest_login()
            login = {"username": user, "password": password}
            r = httpx.post(f"{self.api}/auth/token", json=login, timeout=30)
            r.raise_for_status()
            self._rest_token = r.json()["access_token"]
        return {"Authorization": f"Bearer {self._rest_token}"}

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
