#!/usr/bin/env bash
# `npm run demo`: the morning report end to end on embedded defaults.
#   demo_shop on the local PostgreSQL (seeded, ~60 days) -> gen build -> Airflow metadata DB ->
#   local SMTP server -> `airflow dags test` of daily_metrics_pipeline for the latest complete day
#   -> the KPI table (pipeline vs. source), the archived report and the saved email.
# Everything it writes lives under .demo/ (git-ignored). Safe to run again.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
demo="$root/.demo"
pipeline=daily_metrics_pipeline
tz=America/New_York
days="${DEMO_DAYS:-60}"
orders_per_day="${DEMO_ORDERS_PER_DAY:-100000}"

step() { printf '\n== %s\n' "$*"; }

step "installing what is missing (node_modules, .venv)"
bash scripts/ensure-node.sh
bash scripts/setup-python.sh
bash scripts/ensure-postgres.sh

# The latest complete day in New York is yesterday; today's 06:00 run reports on it.
today="$(TZ=$tz date +%F)"
day="$(TZ=$tz date -d "$today - 1 day" +%F)"
logical_date="$(TZ=$tz date -d "$today 06:00" +%Y-%m-%dT%H:%M:%S%:z)"

step "demo_shop: $days days of orders ending $day ($orders_per_day orders/day)"
node bin/demo-shop.js --end-day "$day" --days "$days" --orders-per-day "$orders_per_day" --timezone "$tz" >"$demo-seed.json" 2>&1 \
  || { cat "$demo-seed.json"; exit 1; }
mkdir -p "$demo" && mv "$demo-seed.json" "$demo/seed.json"
if grep -q '"action": "seeded"' "$demo/seed.json"; then
  # A new source means earlier extracts, tables and sent mail describe other data: start clean.
  rm -rf "$demo/lake" "$demo/warehouse" "$demo/outbox" "$demo/pagerduty"
fi

step "gen build"
node bin/gen.js build

step "Airflow metadata database and connections"
export AIRFLOW_HOME="$demo/airflow"
mkdir -p "$AIRFLOW_HOME" "$demo/lake" "$demo/warehouse" "$demo/outbox" "$demo/pagerduty"
psql -h 127.0.0.1 -U postgres -d postgres -tAc "select 1 from pg_database where datname = 'dagspec_demo_airflow'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -d postgres -qc "create database dagspec_demo_airflow"
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="postgresql+psycopg2://postgres@127.0.0.1:5432/dagspec_demo_airflow"
export AIRFLOW__CORE__DAGS_FOLDER="$root/generated/dags"
export AIRFLOW__CORE__PLUGINS_FOLDER="$root/airflow/plugins"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export DAGSPEC_LAKE_ROOT="$demo/lake" DAGSPEC_WAREHOUSE_ROOT="$demo/warehouse" DAGSPEC_DBT_ROOT="$root/generated/dbt"
smtp_port="${DEMO_SMTP_PORT:-2525}"
pd_port="${DEMO_PAGERDUTY_PORT:-9095}"
export AIRFLOW_CONN_APP_DB="postgresql://postgres@127.0.0.1:5432/demo_shop"
export AIRFLOW_CONN_SMTP_DEFAULT="{\"conn_type\": \"smtp\", \"host\": \"127.0.0.1\", \"port\": $smtp_port, \"extra\": {\"disable_ssl\": true, \"disable_tls\": true, \"from_email\": \"dagspec-demo@localhost\"}}"
export AIRFLOW_CONN_PAGERDUTY_DEFAULT="{\"conn_type\": \"pagerduty_events\", \"host\": \"http://127.0.0.1:$pd_port\", \"password\": \"demo-routing-key\"}"
.venv/bin/airflow db migrate >"$demo/airflow-db-migrate.log" 2>&1 || { tail -n 30 "$demo/airflow-db-migrate.log"; exit 1; }

step "local SMTP server (saves to .demo/outbox) and PagerDuty receiver (.demo/pagerduty)"
PYTHONPATH="$root/airflow/local" .venv/bin/python -m dagspec_local.standins --smtp-port "$smtp_port" --outbox "$demo/outbox" \
  --pagerduty-port "$pd_port" --pagerduty-dir "$demo/pagerduty" >"$demo/local-services.log" 2>&1 &
services=$!
trap 'kill $services 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do grep -q "pagerduty events api" "$demo/local-services.log" && break; sleep 0.2; done

if [ ! -f "$demo/warehouse/$pipeline.duckdb" ]; then
  # The first build is a full build over the lake: give it two weeks of history for the trend.
  step "history: the 14 days before $day into the lake (first run only)"
  .venv/bin/python airflow/local/extract_history.py "generated/dags/$pipeline.py" \
    --through "$(date -d "$day - 1 day" +%F)" --days 14 | tail -n 3
fi

step "airflow dags test $pipeline $logical_date (reports on $day)"
.venv/bin/python airflow/local/airflow_cli.py dags test "$pipeline" "$logical_date" >"$demo/dags-test.log" 2>&1 \
  || { tail -n 60 "$demo/dags-test.log"; echo "the run failed: full log in .demo/dags-test.log" >&2; exit 1; }
grep -E "Marking run|state=" "$demo/dags-test.log" | tail -n 1 || true

node bin/demo-shop.js report --report "$demo/lake/$pipeline/reports/$pipeline/ds=$day" --day "$day" --outbox "$demo/outbox" --timezone "$tz"
