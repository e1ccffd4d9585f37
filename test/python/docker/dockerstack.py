"""The dockerised stack as the tests see it: the REST API, docker commands against the test's own
engine, the metadata database in the postgres container, the shared data folder (bind-mounted at
/opt/airflow/data), and what the SMTP / PagerDuty stand-ins received. The REST calls are the shared
ones of test/python/airflow_rest.py."""

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

REPO = Path(__file__).resolve().parents[3]
TIMEZONE = "America/New_York"  # the seed's, which the test variants keep


@dataclass
class DockerStack(AirflowRest):
    env: dict[str, str]  # what `gen airflow ... --docker` runs with (DOCKER_HOST included)
    home: Path  # DAGSPEC_DOCKER_STACK_HOME: secrets.env, outbox/, pagerduty/
    engine_home: Path  # DAGSPEC_DOCKER_HOME: the test's private engine and its data root
    data: Path  # bind-mounted at /opt/airflow/data in every Airflow container
    api: str
    project: str
    sources: dict[str, str]  # dag id -> conninfo of its source database
    timings: dict[str, float] = field(default_factory=dict)

    # -- gen and docker ----------------------------------------------------------------------------

    def gen(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["node", "bin/gen.js", "airflow", *args], cwd=REPO, env=self.env, capture_output=True,
            text=True, timeout=timeout,
        )  # fmt: skip

    def docker(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["docker", *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )

    def containers(self, service: str | None = None) -> list[dict[str, Any]]:
        """This project's containers (docker inspect), optionally of one service."""
        label = f"label=com.docker.compose.project={self.project}"
        flt = ["--filter", label] + (
            ["--filter", f"label=com.docker.compose.service={service}"] if service else []
        )
        ids = self.docker("ps", "-a", "-q", *flt).stdout.split()
        return json.loads(self.docker("inspect", *ids).stdout) if ids else []

    # -- REST API ----------------------------------------------------------------------------------

    def secrets(self) -> dict[str, str]:
        lines = (self.home / "secrets.env").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line)

    def rest_login(self) -> tuple[str, str]:
        return "admin", self.secrets()["AIRFLOW_ADMIN_PASSWORD"]

    # -- metadata database (the postgres container, on the host network) ---------------------------

    def metadata(self, text: str, params: Any = None) -> list[tuple[Any, ...]]:
        conninfo = (
            f"host=127.0.0.1 port={self.env['DAGSPEC_POSTGRES_PORT']} user=airflow dbname=airflow "
            f"password={self.secrets()['DAGSPEC_METADATA_PASSWORD']}"
        )
        with psycopg.connect(conninfo) as conn:
            return conn.execute(text, params).fetchall()

    def deadlines(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        rows = self.metadata(
            """
            select d.deadline_time, d.missed, c.state, c.output
            from deadline d
            join dag_run r on r.id = d.dagrun_id
            left join callback c on c.id = d.callback_id
            where r.dag_id = %s and r.run_id = %s
            order by d.deadline_time
            """,
            (dag_id, run_id),
        )
        return [
            {"deadline_time": t, "missed": m, "callback_state": s, "callback_output": o}
            for t, m, s, o in rows
        ]

    # -- sources, stand-ins, data ------------------------------------------------------------------

    def set_maintenance(self, dag_id: str, on: bool) -> None:
        with psycopg.connect(self.sources[dag_id], autocommit=True) as conn:
            conn.execute("delete from ops.maintenance")
            if on:
                conn.execute(
                    "insert into ops.maintenance (starts_at, ends_at, reason)"
                    " values (now() - interval '1 hour', null, 'docker test')"
                )

    def pagerduty_events(self, dedup_key: str | None = None) -> list[dict[str, Any]]:
        path = self.home / "pagerduty" / "events.jsonl"
        events = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        return [e for e in events if dedup_key is None or e["dedup_key"] == dedup_key]

    def all_emails(self) -> list[Message]:
        return [message_from_bytes(p.read_bytes()) for p in sorted((self.home / "outbox").glob("*.eml"))]

    def emails(self, pipeline_id: str) -> list[Message]:
        """The reports of one pipeline (failure alerts carry no pipeline header)."""
        return [m for m in self.all_emails() if m.get("X-Dagspec-Pipeline") == pipeline_id]

    def source(self, dag_id: str, ops: list[dict[str, Any]]) -> list[Any]:
        """Operations on the DAG's demo_shop source (test/python/e2e/demo_source.mjs), in order."""
        url = "postgresql://postgres@127.0.0.1:5432/" + self.sources[dag_id].rsplit("dbname=", 1)[1]
        done = subprocess.run(
            ["node", "test/python/e2e/demo_source.mjs", url, json.dumps(ops)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return list(json.loads(done.stdout))

    def oracle(self, dag_id: str, day: str) -> dict[str, Any]:
        """``sourceKpis`` (airflow/local/demo_shop) on the DAG's source: the KPIs straight from it."""
        return dict(self.source(dag_id, [{"op": "kpis", "day": day, "timezone": TIMEZONE}])[0])

    def report_json(self, dag_id: str, day: str) -> dict[str, Any] | None:
        found = sorted(self.data.glob(f"lake/*/reports/{dag_id}/ds={day}/report.json"))
        return json.loads(found[0].read_text()) if found else None
