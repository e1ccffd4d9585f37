"""The native local stack: Airflow's api-server, scheduler, dag-processor and triggerer
(LocalExecutor) and the local stand-ins, run as processes from this venv.

Everything lives under the stack's home (``StackSettings.home``): AIRFLOW_HOME, ``stack.json``,
``secrets.json``, ``run/*.pid``, ``logs/stack/*.log``, the lake, the DuckDB warehouse, ``outbox/``
(mail) and ``pagerduty/events.jsonl``. The metadata database is a database of its own on the local
PostgreSQL. Any ``AIRFLOW__SECTION__KEY`` or ``AIRFLOW_CONN_*`` in the caller's environment reaches
every component.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dagspec_local import connections, dbt_docs, postgres
from dagspec_local.airflow_env import airflow_command, airflow_env, migrate, run_logged
from dagspec_local.errors import LocalEnvError, log_tail
from dagspec_local.net import port_is_free
from dagspec_local.paths import SCRIPTS, venv_bin
from dagspec_local.processes import Processes
from dagspec_local.secrets_file import read_password, stack_secrets, write_passwords
from dagspec_local.settings import StackSettings
from dagspec_local.stack import COMPONENTS, status_lines

HEALTHY = ("metadatabase", "scheduler", "triggerer", "dag_processor")


def _say(message: str) -> None:
    print(f"stack: {message}", flush=True)


class NativeStack:
    def __init__(
        self,
        settings: StackSettings,
        environ: Mapping[str, str] | None = None,
        say: Callable[[str], None] = _say,
    ) -> None:
        self.settings = settings
        self.environ = dict(os.environ if environ is None else environ)
        self.say = say
        self.processes = Processes(settings.run_dir, settings.log_dir)

    # -- the environment of every component ------------------------------------------------------
    def env(self) -> dict[str, str]:
        s = self.settings
        env = airflow_env(s.layout, self.environ)
        env.update(stack_secrets(s.home))
        env.update(
            AIRFLOW__CORE__EXECUTOR="LocalExecutor",
            AIRFLOW__CORE__PARALLELISM=str(s.parallelism),
            AIRFLOW__CORE__AUTH_MANAGER=(
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{s.user}:admin",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(s.home / "passwords.json"),
            AIRFLOW__API__HOST="127.0.0.1",
            AIRFLOW__API__PORT=str(s.port),
            AIRFLOW__API__WORKERS="1",
            AIRFLOW__API__BASE_URL=s.url,
            # One parsing process; new files in the dags folder show up within 30 s of a `gen build`.
            AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES="1",
            AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="30",
            DAGSPEC_DBT_DOCS_ROOT=str(s.docs_root),
        )
        return env

    def connections(self) -> dict[str, connections.Connection]:
        s = self.settings
        return connections.stack_connections(s.source_url, s.smtp_port, s.pagerduty_port)

    # -- commands ----------------------------------------------------------------------------------
    def up(self) -> int:
        s = self.settings
        running = [c for c in COMPONENTS if self.processes.pid(c)]
        if len(running) == len(COMPONENTS):
            self.say("already running")
            return self.status()
        if running:
            raise LocalEnvError(
                f"partly running ({len(running)} of {len(COMPONENTS)} components): run 'down' first"
            )
        subprocess.run(["bash", str(SCRIPTS / "ensure-postgres.sh")], check=True)
        for port in (s.port, s.smtp_port, s.pagerduty_port):
            if not port_is_free(port):
                raise LocalEnvError(
                    f"port {port} on 127.0.0.1 is taken "
                    "(set DAGSPEC_STACK_PORT / _SMTP_PORT / _PAGERDUTY_PORT)"
                )
        if not s.dags.is_dir():
            raise LocalEnvError(f"no dags folder {s.dags} (run: npx gen build)")
        s.save()
        write_passwords(s.home, s.user, self.environ.get("DAGSPEC_STACK_PASSWORD") or "admin")
        s.layout.make_folders()
        env = self.env()

        started = time.monotonic()
        postgres.ensure(s.metadata_db)
        self.say(f"migrating the metadata database {s.metadata_db}")
        migrate(env, s.log_dir / "db-migrate.log")
        self.say("loading the demo connections (app_db, smtp_default, pagerduty_default)")
        conn_file = connections.write_import_file(self.connections(), s.home / "connections.json")
        run_logged(
            [venv_bin("airflow"), "connections", "import", "--overwrite", str(conn_file)],
            env,
            s.log_dir / "connections.log",
            "loading connections",
        )
        self.say(f"dbt docs (lineage graphs) for the projects in {s.dbt_root}")
        for project in dbt_docs.generate(s.dbt_root, s.docs_root, s.log_dir, env):
            self.say(f"dbt docs for {project} failed (log: {s.log_dir / 'dbt-docs.log'})")

        self.say("starting local services, api-server, scheduler, dag-processor, triggerer")
        try:
            for name in COMPONENTS:
                self.processes.start(name, self._command(name), env)
            self._wait_healthy()
        except BaseException:
            self.say("start-up failed: stopping what started")
            self.down()
            raise
        self.say(f"up in {time.monotonic() - started:.0f}s")
        return self.status()

    def down(self) -> int:
        if not self.settings.run_dir.is_dir():
            self.say(f"nothing runs at {self.settings.home}")
            return 0
        started = time.monotonic()
        stopped = self.processes.stop(list(COMPONENTS), say=self.say)
        if not stopped:
            self.say(f"nothing runs at {self.settings.home}")
        else:
            self.say(f"stopped {' '.join(stopped)} in {time.monotonic() - started:.0f}s")
        return 0

    def status(self) -> int:
        down = False
        for name in COMPONENTS:
            pid = self.processes.pid(name)
            print(f"  {name:<15} {f'running (pid {pid})' if pid else 'not running'}")
            down = down or pid is None
        for line in status_lines(self.settings, read_password(self.settings.home, self.settings.user)):
            print(line)
        return 1 if down else 0

    def cli(self, args: Sequence[str]) -> int:
        """Replaces this process with ``airflow <args>`` against the stack (interactive use)."""
        argv = airflow_command(*args)
        os.execve(argv[0], argv, self.env())

    def airflow(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """``airflow <args>`` against the stack, output captured (tests)."""
        return subprocess.run(
            airflow_command(*args), env=self.env(), capture_output=True, text=True, timeout=timeout
        )

    # -- helpers -----------------------------------------------------------------------------------
    def _command(self, name: str) -> list[str]:
        s = self.settings
        if name == "local-services":
            return [
                venv_bin("python"), "-m", "dagspec_local.standins",
                "--smtp-port", str(s.smtp_port), "--outbox", str(s.outbox),
                "--pagerduty-port", str(s.pagerduty_port), "--pagerduty-dir", str(s.pagerduty_dir),
            ]  # fmt: skip
        if name in ("scheduler", "triggerer"):
            # --skip-serve-logs: every component shares this machine's log folder, which the
            # api-server reads directly; log servers would only add processes listening on all interfaces.
            return [venv_bin("airflow"), name, "--skip-serve-logs"]
        return [venv_bin("airflow"), name]

    def _wait_healthy(self) -> None:
        """Until /api/v2/monitor/health says every component is healthy (or one of ours exits)."""
        url = f"{self.settings.url}/api/v2/monitor/health"
        deadline = time.monotonic() + self.settings.timeout
        body: Any = None
        while time.monotonic() < deadline:
            for name in COMPONENTS:
                if not self.processes.alive(name):
                    log = self.processes.log(name)
                    raise LocalEnvError(f"{name} exited during start-up (log: {log})\n{log_tail(log)}")
            try:
                with urllib.request.urlopen(url, timeout=5) as answer:
                    body = json.load(answer)
                if all(body.get(k, {}).get("status") == "healthy" for k in HEALTHY):
                    return
            except (OSError, ValueError):
                pass
            time.sleep(2)
        raise LocalEnvError(
            f"not healthy after {self.settings.timeout:.0f}s: {body or f'no answer from {url}'} "
            f"(logs: {self.settings.log_dir})"
        )
