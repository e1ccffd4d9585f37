"""Shared fixtures: scratch Postgres databases, a moto S3 server on loopback, and lakes.

Everything here is real: PostgreSQL 15 on 127.0.0.1:5432 (trust auth, user postgres) and moto's
S3-compatible HTTP server standing in for S3/MinIO. Each test gets its own scratch database
(``dagspec_pytest_*``, dropped afterwards) and its own bucket.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from testenv import LOCAL, REPO, S3_KEY, S3_SECRET  # noqa: E402,F401

# The tests import dagspec_runtime as the DAGs do: the wheel installed in .venv, not the source tree.
# Rebuild it first when airflow/runtime changed (a no-op taking milliseconds otherwise), so an edit
# is never tested against a stale install.
subprocess.run(["bash", str(REPO / "scripts" / "setup-python.sh")], check=True)
# The local environment tool (stand-ins, connections, stacks) the tests set Airflow up with.
sys.path.insert(0, str(LOCAL))
# Keep Airflow (imported by the wrapper tests) from writing into the user's ~/airflow.
if "AIRFLOW_HOME" not in os.environ:
    _airflow_home = tempfile.mkdtemp(prefix="dagspec-pytest-airflow-")
    atexit.register(shutil.rmtree, _airflow_home, True)
    os.environ["AIRFLOW_HOME"] = _airflow_home
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
# The warm dbt servers that builds under test start exit a few minutes after the last build, not
# the deployment default of half an hour after the suite.
os.environ.setdefault("DAGSPEC_DBT_WARM", "240")

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from dagspec_runtime.lake import Lake  # noqa: E402
from moto_s3 import s3_options, start_moto  # noqa: E402,F401

PG_ADMIN = os.environ.get("DAGSPEC_TEST_PG", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")


@pytest.fixture(scope="session")
def pg_admin() -> str:
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:  # a missing server is an environment error, not a skip
        pytest.fail(
            f"PostgreSQL not reachable at {PG_ADMIN!r}: {exc}. Start it with: "
            "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
        )
    return PG_ADMIN


@pytest.fixture
def make_db(pg_admin: str) -> Iterator[Callable[[str], str]]:
    """Factory: ``make_db("extract")`` creates a fresh scratch database and returns its conninfo."""
    created: list[str] = []

    def make(purpose: str) -> str:
        name = f"dagspec_pytest_{purpose}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(pg_admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created.append(name)
        return f"host=127.0.0.1 port=5432 user=postgres dbname={name}"

    yield make
    with psycopg.connect(pg_admin, autocommit=True) as conn:
        for name in created:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a free loopback port, for the whole session."""
    proc, endpoint = start_moto()
    yield endpoint
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> str:
    """A fresh, empty bucket on the moto server."""
    import boto3

    name = f"dagspec-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=S3_KEY,
        aws_secret_access_key=S3_SECRET,
    )
    client.create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["local", "s3"])
def lake(request: pytest.FixtureRequest, tmp_path: Path) -> Lake:
    """The same tests against a local-directory lake and an S3 (moto) lake."""
    if request.param == "local":
        return Lake.from_uri(str(tmp_path / "lake"))
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = request.getfixturevalue("s3_bucket")
    return Lake.from_uri(f"s3://{bucket}/lake", storage_options=s3_options(endpoint))


@pytest.fixture
def local_lake(tmp_path: Path) -> Lake:
    return Lake.from_uri(f"file://{tmp_path / 'lake'}")
