#!/usr/bin/env bash
# `npm run demo`: the morning report end to end on embedded defaults. This installs what is missing;
# the local environment tool (airflow/local/dagspec_local/demo.py) does the rest:
#   demo_shop on the local PostgreSQL (seeded, ~60 days) -> gen build -> Airflow metadata DB ->
#   local SMTP server -> `airflow dags test` of daily_metrics_pipeline for the latest complete day
#   -> the KPI table (pipeline vs. source), the archived report and the saved email.
# Everything it writes lives under .demo/ (git-ignored). Safe to run again.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

printf '\n== %s\n' "installing what is missing (node_modules, .venv)"
bash scripts/ensure-node.sh
bash scripts/setup-python.sh
bash scripts/ensure-postgres.sh

PYTHONPATH="$root/airflow/local${PYTHONPATH:+:$PYTHONPATH}" exec .venv/bin/python -m dagspec_local demo
