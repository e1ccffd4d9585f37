#!/usr/bin/env bash
# Creates .venv/ at the repository root from airflow/requirements.lock: the pinned Airflow 3,
# providers, dbt-core with dbt-duckdb and dbt-postgres, pyarrow, psycopg, ruff and pytest.
# A no-op (well under a second) when the venv already matches the lock.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
lock="$root/airflow/requirements.lock"
stamp="$venv/.dagspec-lock.sha256"
want="$(sha256sum "$lock" | cut -d' ' -f1)"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/airflow" ]; then
  exit 0
fi

echo "setup-python: installing the pinned Python runtime into .venv (first run takes a few minutes)" >&2
python="${DAGSPEC_PYTHON:-python3.11}"
command -v "$python" >/dev/null 2>&1 || python=python3
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip --version >/dev/null 2>&1 || "$venv/bin/python" -m ensurepip >/dev/null
# uv resolves nothing here (the lock is complete); it only installs faster than pip.
"$venv/bin/python" -m pip install -q --disable-pip-version-check uv==0.13.8
"$venv/bin/uv" pip install -q -p "$venv/bin/python" --no-deps -r "$lock"
echo "$want" > "$stamp"
