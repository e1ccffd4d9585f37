"""The settings of a long-running local stack: chosen by ``DAGSPEC_STACK_*`` variables when it comes
up, kept in ``<home>/stack.json`` so ``down``, ``status`` and ``cli`` act on the same stack.

  DAGSPEC_STACK_HOME           .local-airflow     everything of the stack lives here (AIRFLOW_HOME)
  DAGSPEC_STACK_DB             dagspec_local_airflow   the metadata database on the local PostgreSQL
  DAGSPEC_STACK_PORT           8080               UI and API
  DAGSPEC_STACK_USER           admin              DAGSPEC_STACK_PASSWORD  admin
  DAGSPEC_STACK_PARALLELISM    4                  DAGSPEC_STACK_TIMEOUT   240 (s `up` waits)
  DAGSPEC_STACK_SMTP_PORT      2526               DAGSPEC_STACK_PAGERDUTY_PORT  9096
  DAGSPEC_STACK_DAGS           generated/dags     DAGSPEC_STACK_DBT_ROOT  generated/dbt
  DAGSPEC_STACK_SOURCE_URL     postgresql://postgres@127.0.0.1:5432/demo_shop  (the app_db connection)
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dagspec_local.airflow_env import Layout
from dagspec_local.errors import LocalEnvError
from dagspec_local.paths import GENERATED, REPO

SETTINGS_FILE = "stack.json"


def stack_home(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("DAGSPEC_STACK_HOME") or REPO / ".local-airflow").resolve()


@dataclass(frozen=True)
class StackSettings:
    home: Path
    metadata_db: str = "dagspec_local_airflow"
    port: int = 8080
    user: str = "admin"
    parallelism: int = 4
    smtp_port: int = 2526
    pagerduty_port: int = 9096
    dags: Path = GENERATED / "dags"
    dbt_root: Path = GENERATED / "dbt"
    source_url: str = "postgresql://postgres@127.0.0.1:5432/demo_shop"
    timeout: float = 240

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", self.metadata_db):
            raise LocalEnvError(f"DAGSPEC_STACK_DB must be a plain database name, got '{self.metadata_db}'")
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", self.user):
            raise LocalEnvError("DAGSPEC_STACK_USER must be letters, digits, '_', '.', '-'")

    # -- where things are ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs" / "stack"

    @property
    def outbox(self) -> Path:
        return self.home / "outbox"

    @property
    def pagerduty_dir(self) -> Path:
        return self.home / "pagerduty"

    @property
    def docs_root(self) -> Path:
        return self.home / "dbt-docs"

    @property
    def layout(self) -> Layout:
        return Layout(
            home=self.home,
            metadata_db=self.metadata_db,
            dags=self.dags,
            dbt_root=self.dbt_root,
            lake_root=self.home / "lake",
            warehouse_root=self.home / "warehouse",
        )

    # -- reading and keeping ---------------------------------------------------------------------
    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StackSettings:
        env = os.environ if environ is None else environ
        home = stack_home(env)
        fields = {f.name: f for f in dataclasses.fields(cls)}
        names = {"metadata_db": "DB", "dbt_root": "DBT_ROOT", "source_url": "SOURCE_URL"}
        values: dict[str, object] = {}
        for name, field in fields.items():
            raw = env.get(f"DAGSPEC_STACK_{names.get(name, name.upper())}")
            if name == "home" or raw is None or raw == "":
                continue
            kind = type(field.default)
            try:
                values[name] = Path(raw).resolve() if kind is type(GENERATED) else kind(raw)
            except ValueError:
                raise LocalEnvError(f"DAGSPEC_STACK_{name.upper()}: not a {kind.__name__}: {raw!r}") from None
        return cls(home=home, **values)  # type: ignore[arg-type]

    def save(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        data = {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(self).items()}
        (self.home / SETTINGS_FILE).write_text(json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, home: Path) -> StackSettings:
        path = home / SETTINGS_FILE
        if not path.exists():
            raise LocalEnvError(f"no stack at {home} (run: npx gen airflow up)")
        data = json.loads(path.read_text())
        paths = {"home", "dags", "dbt_root"}
        return cls(**{k: Path(v) if k in paths else v for k, v in data.items()})
