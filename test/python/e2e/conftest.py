"""End-to-end stack for the morning report: the real generated DAG run by ``airflow dags test``.

Per session (built once, cloned per test):
- ``e2e_build``: the DAGs and dbt projects to run: the repository's committed ``generated/`` seed
  pipeline (duckdb + local lake, exactly what ``npm run demo`` runs) plus the test-only variants in
  ``test/python/e2e/specs`` compiled by ``gen build --root test/python/e2e`` into a tmp folder.
- a migrated Airflow metadata database and a seeded demo_shop source (``node bin/demo-shop.js``,
  3 days x 2000 orders/day), both kept as PostgreSQL template databases.
- moto's S3 server on loopback (``s3_endpoint`` from test/python/conftest.py) with the bucket the
  S3 variants name.

Per test (``stack``): its own source database, Airflow metadata database and (for the PostgreSQL
warehouse) warehouse database, all ``dagspec_e2e_*`` clones or scratch databases dropped
afterwards; its own AIRFLOW_HOME, lake and warehouse folders; a real SMTP server and a PagerDuty
Events API v2 receiver on loopback. All of it is set up by the local environment tool
(``airflow/local/dagspec_local``) that the demo and the local stack use; connections go in as
``AIRFLOW_CONN_*`` variables as in the demo.

Each run's full Airflow output is kept under ``test-artifacts/e2e/<test>/`` (git-ignored).
Set ``DAGSPEC_E2E_KEEP=1`` to keep the scratch databases of a session for inspection.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_stack import (
    E2E,
    LAST_DAY,
    ORDERS_PER_DAY,
    REPO,
    S3_BUCKET,
    S3_KEY,
    S3_SECRET,
    SEED_DAYS,
    SEED_PIPELINE,
    SESSION,
    TZ,
    Build,
    Stack,
    drop_db,
    node,
    open_stack,
    pipeline_of,
)

from dagspec_local import postgres
from dagspec_local.airflow_env import Layout, airflow_env, isolated, migrate


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "s3: the scenario runs a pipeline whose lake is on S3 (moto)")


# -- wall time per scenario ------------------------------------------------------------------------

_WALL: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _WALL[report.nodeid] = _WALL.get(report.nodeid, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter: Any) -> None:
    rows = {k: v for k, v in _WALL.items() if "/e2e/" in k}
    if not rows:
        return
    terminalreporter.section("e2e wall time per scenario (setup + run + teardown)")
    for nodeid, seconds in rows.items():
        terminalreporter.write_line(f"{seconds:7.1f}s  {nodeid.split('::', 1)[-1]}")
    terminalreporter.write_line(f"{sum(rows.values()):7.1f}s  total")


@pytest.fixture(scope="session")
def e2e_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    out = tmp_path_factory.mktemp("e2e-build") / "generated"
    done = node("bin/gen.js", "build", "--root", str(E2E), "--out", str(out))
    assert done.returncode == 0, f"gen build of the e2e specs failed:\n{done.stdout}\n{done.stderr}"
    # The seed pipeline as committed (what `npm run demo` and a deployment run).
    shutil.copy2(REPO / "generated" / "dags" / f"{SEED_PIPELINE}.py", out / "dags")
    shutil.copytree(REPO / "generated" / "dbt" / SEED_PIPELINE, out / "dbt" / SEED_PIPELINE)
    pipelines = {f.stem: pipeline_of(f) for f in sorted((out / "dags").glob("*.py"))}
    return Build(root=out, dags=out / "dags", dbt=out / "dbt", pipelines=pipelines)


@pytest.fixture(scope="session")
def airflow_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated Airflow metadata database, cloned by every test (``airflow db migrate`` once)."""
    name = postgres.create(f"dagspec_e2e_tpl_airflow_{SESSION}")
    home = tmp_path_factory.mktemp("airflow-template-home")
    # Only the metadata database matters to a migration; the folders are the (empty) home.
    layout = Layout(
        home=home, metadata_db=name, dags=home, dbt_root=home, lake_root=home, warehouse_root=home
    )
    migrate(airflow_env(layout, isolated()), home / "db-migrate.log")
    yield name
    drop_db(name)


@pytest.fixture(scope="session")
def source_template() -> Iterator[str]:
    """demo_shop seeded by its own generator: SEED_DAYS days ending LAST_DAY, cloned by every test."""
    name = f"dagspec_e2e_tpl_src_{SESSION}"
    done = node(
        "bin/demo-shop.js",
        "--end-day",
        LAST_DAY.isoformat(),
        "--days",
        str(SEED_DAYS),
        "--orders-per-day",
        str(ORDERS_PER_DAY),
        "--timezone",
        TZ,
        "--database-url",
        postgres.url(name),
    )
    assert done.returncode == 0, f"demo-shop seed failed:\n{done.stdout}\n{done.stderr}"
    seed = json.loads(done.stdout)
    assert seed["window"]["lastDay"] == LAST_DAY.isoformat()
    yield name
    drop_db(name)


@pytest.fixture(scope="session")
def e2e_s3(s3_endpoint: str) -> str:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=S3_KEY,
        aws_secret_access_key=S3_SECRET,
    )
    client.create_bucket(Bucket=S3_BUCKET)
    return s3_endpoint


@pytest.fixture
def stack(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    e2e_build: Build,
    airflow_template: str,
    source_template: str,
) -> Iterator[Stack]:
    # Only scenarios marked s3 (they run an S3-lake variant) start moto and get an AWS connection.
    s3_endpoint = request.getfixturevalue("e2e_s3") if request.node.get_closest_marker("s3") else None
    with open_stack(
        request.node.name, tmp_path, e2e_build, airflow_template, source_template, s3_endpoint
    ) as s:
        yield s
