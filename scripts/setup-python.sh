#!/usr/bin/env bash
# Creates .venv/ at the repository root from airflow/requirements.lock: the pinned Airflow 3,
# providers, dbt-core with dbt-duckdb and dbt-postgres, pyarrow, psycopg, ruff and pytest; then
# builds the runtime package (airflow/runtime) into a wheel and installs it, as a deployment would.
# A no-op (well under a second) when the venv already matches the lock and the runtime's sources;
# an edit under airflow/runtime rebuilds and reinstalls the wheel in a few seconds.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
lock="$root/airflow/requirements.lock"
runtime="$root/airflow/runtime"
stamp="$venv/.dagspec-lock.sha256"
runtime_stamp="$venv/.dagspec-runtime.sha256"
# The stamp also names how the venv was installed, so a change of install options reinstalls.
install_options="--compile-bytecode"
want="$( { sha256sum "$lock" | cut -d' ' -f1; echo "$install_options"; } | sha256sum | cut -d' ' -f1)"
# Every file the wheel is built from (the tracked layout, minus caches and build leftovers).
runtime_want="$(cd "$runtime" && find . -type f -not -path '*/__pycache__/*' -not -path './build/*' \
  -not -path '*.egg-info/*' -not -name '*.pyc' | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1)"

if ! { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/airflow" ]; }; then
  echo "setup-python: installing the pinned Python runtime into .venv (first run takes a few minutes)" >&2
  python="${DAGSPEC_PYTHON:-python3.11}"
  command -v "$python" >/dev/null 2>&1 || python=python3
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  "$venv/bin/python" -m pip --version >/dev/null 2>&1 || "$venv/bin/python" -m ensurepip >/dev/null
  # uv resolves nothing here (the lock is complete); it only installs faster than pip.
  "$venv/bin/python" -m pip install -q --disable-pip-version-check uv==0.13.8
  # Bytecode compiled at install (uv does not by default): with PYTHONDONTWRITEBYTECODE set, as on
  # our machines, every Airflow, dbt and pytest process would otherwise recompile thousands of
  # modules from source (about 5 s of CPU per dbt process, measured).
  "$venv/bin/uv" pip install -q -p "$venv/bin/python" --no-deps $install_options -r "$lock"
  echo "$want" > "$stamp"
  rm -f "$runtime_stamp"
fi

if [ "$(cat "$runtime_stamp" 2>/dev/null)" != "$runtime_want" ]; then
  # Built from a scratch copy, so setuptools' build/ and *.egg-info never land in the repo; with the
  # lock's setuptools (no build isolation), so building needs no network.
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  cp -r "$runtime" "$tmp/src"
  find "$tmp/src" -name __pycache__ -prune -exec rm -rf {} +
  "$venv/bin/uv" build -q -p "$venv/bin/python" --wheel --no-build-isolation --out-dir "$tmp/dist" "$tmp/src"
  "$venv/bin/uv" pip install -q -p "$venv/bin/python" --no-deps --reinstall $install_options "$tmp"/dist/dagspec_runtime-*.whl
  echo "$runtime_want" > "$runtime_stamp"
fi
