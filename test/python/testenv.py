"""Constants shared by the Python tests. Kept out of conftest.py so tests can import them by name:
pytest loads several conftest modules (one per folder) and only one can be importable as `conftest`."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLUGINS = REPO / "airflow" / "plugins"
RUNTIME = REPO / "airflow" / "runtime"
LOCAL = REPO / "airflow" / "local"  # the dagspec_local package: the local environment tool
S3_KEY, S3_SECRET = "dagspec-test-key", "dagspec-test-secret"
