#!/usr/bin/env bash
# Rebuilds airflow/requirements.lock from airflow/requirements.in in a scratch venv.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3.11 -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install -q uv==0.13.8
"$tmp/venv/bin/uv" pip install -q -p "$tmp/venv/bin/python" -r "$root/airflow/requirements.in"
{
  echo "# Full pin of dagspec's Python runtime, produced from a successful install of requirements.in"
  echo "# (uv pip freeze). Regenerate with: bash scripts/lock-python.sh"
  "$tmp/venv/bin/uv" pip freeze -p "$tmp/venv/bin/python" | grep -v '^uv=='
} > "$root/airflow/requirements.lock"
