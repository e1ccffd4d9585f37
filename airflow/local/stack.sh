#!/usr/bin/env bash
# The native local Airflow stack: `stack.sh up|down|status|cli <airflow args>` (also `gen airflow ...`).
#
#   up      migrate the metadata DB, load the demo connections, start the local SMTP server and
#           PagerDuty receiver, then api-server, scheduler, dag-processor and triggerer (LocalExecutor),
#           wait until the API reports every component healthy, print the UI address and login.
#   down    stop everything `up` started (each process group by its pid file).
#   status  what runs, the UI address and login, where the logs are.
#   cli     run the `airflow` command against this stack, e.g. `stack.sh cli backfill create ...`.
#
# Everything lives under $DAGSPEC_STACK_HOME (default .local-airflow/ at the repository root):
# AIRFLOW_HOME, stack.env (the settings `up` used), secrets.env, run/*.pid, logs/stack/*.log, the lake,
# the DuckDB warehouse, outbox/ (mail) and pagerduty/events.jsonl. The metadata DB is a database of
# its own on the local PostgreSQL. Settings (environment, read by `up` only; later commands read
# stack.env):
#   DAGSPEC_STACK_HOME         .local-airflow            DAGSPEC_STACK_DB        dagspec_local_airflow
#   DAGSPEC_STACK_PORT         8080 (UI and API)         DAGSPEC_STACK_USER      admin
#   DAGSPEC_STACK_PASSWORD     admin                     DAGSPEC_STACK_PARALLELISM  4
#   DAGSPEC_STACK_SMTP_PORT    2526                      DAGSPEC_STACK_PAGERDUTY_PORT 9096
#   DAGSPEC_STACK_DAGS         generated/dags            DAGSPEC_STACK_DBT_ROOT  generated/dbt
#   DAGSPEC_STACK_SOURCE_URL   postgresql://postgres@127.0.0.1:5432/demo_shop  (the app_db connection)
#   DAGSPEC_STACK_TIMEOUT      240 (seconds `up` waits for a healthy stack)
# Any AIRFLOW__SECTION__KEY or AIRFLOW_CONN_* in the caller's environment reaches every component.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.venv"
components=(local-services api-server scheduler dag-processor triggerer)

die() { echo "stack: $*" >&2; exit 1; }
say() { echo "stack: $*"; }

home="$(realpath -m "${DAGSPEC_STACK_HOME:-$root/.local-airflow}")"
rundir="$home/run"
logdir="$home/logs/stack"

pid_of() { # the pid recorded for a component, if that process still runs and is still ours
  local f="$rundir/$1.pid" pid
  [ -f "$f" ] || return 1
  pid="$(cat "$f")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  # A pid file that outlived its process (a reboot) may name an unrelated process by now.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qE "airflow|dagspec_local" || return 1
  echo "$pid"
}

write_settings() {
  local port="${DAGSPEC_STACK_PORT:-8080}" db="${DAGSPEC_STACK_DB:-dagspec_local_airflow}"
  local user="${DAGSPEC_STACK_USER:-admin}" password="${DAGSPEC_STACK_PASSWORD:-admin}"
  [[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] || die "DAGSPEC_STACK_DB must be a plain database name, got '$db'"
  [[ "$user" =~ ^[A-Za-z0-9_.-]+$ ]] || die "DAGSPEC_STACK_USER must be letters, digits, '_', '.', '-'"
  mkdir -p "$home" "$rundir" "$logdir" "$home/lake" "$home/warehouse" "$home/outbox" "$home/pagerduty"
  if [ ! -f "$home/secrets.env" ]; then # generated once: restarts keep sessions, tokens and the fernet key
    (umask 077 && "$venv/bin/python" - >"$home/secrets.env" <<'EOF'
import secrets
from cryptography.fernet import Fernet
print(f"export AIRFLOW__CORE__FERNET_KEY={Fernet.generate_key().decode()}")
print(f"export AIRFLOW__API__SECRET_KEY={secrets.token_urlsafe(32)}")
print(f"export AIRFLOW__API_AUTH__JWT_SECRET={secrets.token_urlsafe(64)}")  # HS512 wants >= 64 bytes
EOF
    )
  fi
  (umask 077 && "$venv/bin/python" -c 'import json, sys; print(json.dumps({sys.argv[1]: sys.argv[2]}))' \
    "$user" "$password" >"$home/passwords.json")
  local -a kv=(
    AIRFLOW_HOME "$home"
    DAGSPEC_STACK_PORT "$port" DAGSPEC_STACK_DB "$db" DAGSPEC_STACK_USER "$user"
    DAGSPEC_STACK_SMTP_PORT "${DAGSPEC_STACK_SMTP_PORT:-2526}"
    DAGSPEC_STACK_PAGERDUTY_PORT "${DAGSPEC_STACK_PAGERDUTY_PORT:-9096}"
    DAGSPEC_STACK_TIMEOUT "${DAGSPEC_STACK_TIMEOUT:-240}"
    DAGSPEC_STACK_SOURCE_URL "${DAGSPEC_STACK_SOURCE_URL:-postgresql://postgres@127.0.0.1:5432/demo_shop}"
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN "postgresql+psycopg2://postgres@127.0.0.1:5432/$db"
    AIRFLOW__CORE__EXECUTOR LocalExecutor
    AIRFLOW__CORE__PARALLELISM "${DAGSPEC_STACK_PARALLELISM:-4}"
    AIRFLOW__CORE__LOAD_EXAMPLES False
    AIRFLOW__CORE__DAGS_FOLDER "$(realpath -m "${DAGSPEC_STACK_DAGS:-$root/generated/dags}")"
    AIRFLOW__CORE__PLUGINS_FOLDER "$root/airflow/plugins"
    AIRFLOW__CORE__AUTH_MANAGER airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager
    AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS "$user:admin"
    AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE "$home/passwords.json"
    AIRFLOW__API__HOST 127.0.0.1 AIRFLOW__API__PORT "$port" AIRFLOW__API__WORKERS 1
    AIRFLOW__API__BASE_URL "http://127.0.0.1:$port"
    # One parsing process; new files in the dags folder show up within 30 s of a `gen build`.
    AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES 1 AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL 30
    DAGSPEC_LAKE_ROOT "$home/lake" DAGSPEC_WAREHOUSE_ROOT "$home/warehouse"
    DAGSPEC_DBT_ROOT "$(realpath -m "${DAGSPEC_STACK_DBT_ROOT:-$root/generated/dbt}")"
    DAGSPEC_DBT_DOCS_ROOT "$home/dbt-docs"
  )
  {
    echo "# Written by airflow/local/stack.sh up; read by down, status and cli. Set DAGSPEC_STACK_* instead."
    local i
    for ((i = 0; i < ${#kv[@]}; i += 2)); do printf 'export %s=%q\n' "${kv[i]}" "${kv[i + 1]}"; done
    printf '. %q\n' "$home/secrets.env"
  } >"$home/stack.env"
}

load_settings() {
  [ -f "$home/stack.env" ] || die "no stack at $home (run: airflow/local/stack.sh up)"
  # shellcheck disable=SC1091
  . "$home/stack.env"
}

port_free() {
  "$venv/bin/python" -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}

start() { # start NAME CMD...: its own session and process group, so down can stop its children too
  local name="$1"; shift
  setsid "$@" >"$logdir/$name.log" 2>&1 </dev/null &
  echo $! >"$rundir/$name.pid"
}

connections_file() {
  local f="$home/connections.json"
  "$venv/bin/python" - "$f" <<'EOF'
import json, os, sys
from urllib.parse import urlsplit

src = urlsplit(os.environ["DAGSPEC_STACK_SOURCE_URL"])
smtp, pd = os.environ["DAGSPEC_STACK_SMTP_PORT"], os.environ["DAGSPEC_STACK_PAGERDUTY_PORT"]
conns = {
    "app_db": {
        "conn_type": "postgres", "host": src.hostname or "127.0.0.1", "port": src.port or 5432,
        "login": src.username or "postgres", "password": src.password, "schema": src.path.lstrip("/"),
        "description": "dagspec demo source (demo_shop); bin/demo-shop.js seeds it",
    },
    "smtp_default": {
        "conn_type": "smtp", "host": "127.0.0.1", "port": int(smtp),
        "extra": json.dumps({"disable_ssl": True, "disable_tls": True, "from_email": "dagspec@localhost"}),
        "description": "local SMTP server of the stack: mail lands in outbox/ under the stack home",
    },
    "pagerduty_default": {
        "conn_type": "pagerduty_events", "host": f"http://127.0.0.1:{pd}", "password": "local-routing-key",
        "description": "local PagerDuty Events API v2 receiver: events land in pagerduty/events.jsonl",
    },
}
with open(sys.argv[1], "w") as f:
    json.dump(conns, f, indent=2)
EOF
  echo "$f"
}

wait_healthy() { # until /api/v2/monitor/health says every component is healthy
  local url="http://127.0.0.1:$DAGSPEC_STACK_PORT/api/v2/monitor/health" deadline=$((SECONDS + DAGSPEC_STACK_TIMEOUT)) body=""
  while [ $SECONDS -lt $deadline ]; do
    for c in "${components[@]}"; do
      pid_of "$c" >/dev/null || { tail -n 30 "$logdir/$c.log" >&2; die "$c exited during start-up (log: $logdir/$c.log)"; }
    done
    body="$(curl -fsS --max-time 5 "$url" 2>/dev/null || true)"
    if [ -n "$body" ] && "$venv/bin/python" -c '
import json, sys
h = json.loads(sys.argv[1])
sys.exit(0 if all(h.get(k, {}).get("status") == "healthy" for k in ("metadatabase", "scheduler", "triggerer", "dag_processor")) else 1)
' "$body"; then
      return 0
    fi
    sleep 2
  done
  die "not healthy after ${DAGSPEC_STACK_TIMEOUT}s: ${body:-no answer from $url} (logs: $logdir)"
}

print_login() {
  local password
  password="$("$venv/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$home/passwords.json" "$DAGSPEC_STACK_USER")"
  echo "  UI:     http://127.0.0.1:$DAGSPEC_STACK_PORT"
  echo "  login:  $DAGSPEC_STACK_USER / $password"
}

cmd_up() {
  local running=0 c
  for c in "${components[@]}"; do pid_of "$c" >/dev/null && running=$((running + 1)); done
  if [ "$running" -eq "${#components[@]}" ]; then
    load_settings
    say "already running"
    cmd_status
    return 0
  fi
  [ "$running" -eq 0 ] || die "partly running ($running of ${#components[@]} components): run 'down' first"
  bash "$root/scripts/setup-python.sh"
  bash "$root/scripts/ensure-postgres.sh"
  write_settings
  load_settings
  for p in "$DAGSPEC_STACK_PORT" "$DAGSPEC_STACK_SMTP_PORT" "$DAGSPEC_STACK_PAGERDUTY_PORT"; do
    port_free "$p" || die "port $p on 127.0.0.1 is taken (set DAGSPEC_STACK_PORT / _SMTP_PORT / _PAGERDUTY_PORT)"
  done
  [ -d "$AIRFLOW__CORE__DAGS_FOLDER" ] || die "no dags folder $AIRFLOW__CORE__DAGS_FOLDER (run: npx gen build)"

  local t0=$SECONDS
  psql -h 127.0.0.1 -U postgres -d postgres -tAc "select 1 from pg_database where datname = '$DAGSPEC_STACK_DB'" | grep -q 1 \
    || psql -h 127.0.0.1 -U postgres -d postgres -qc "create database $DAGSPEC_STACK_DB"
  say "migrating the metadata database $DAGSPEC_STACK_DB"
  "$venv/bin/airflow" db migrate >"$logdir/db-migrate.log" 2>&1 \
    || { tail -n 30 "$logdir/db-migrate.log" >&2; die "airflow db migrate failed (log: $logdir/db-migrate.log)"; }
  say "loading the demo connections (app_db, smtp_default, pagerduty_default)"
  "$venv/bin/airflow" connections import --overwrite "$(connections_file)" >"$logdir/connections.log" 2>&1 \
    || { tail -n 30 "$logdir/connections.log" >&2; die "loading connections failed"; }

  say "dbt docs (lineage graphs) for the projects in $DAGSPEC_DBT_ROOT"
  dbt_docs

  say "starting local services, api-server, scheduler, dag-processor, triggerer"
  trap 'say "start-up failed: stopping what started"; cmd_down' EXIT
  PYTHONPATH="$root/airflow/local" start local-services "$venv/bin/python" -m dagspec_local.standins \
    --smtp-port "$DAGSPEC_STACK_SMTP_PORT" --outbox "$home/outbox" \
    --pagerduty-port "$DAGSPEC_STACK_PAGERDUTY_PORT" --pagerduty-dir "$home/pagerduty"
  start api-server "$venv/bin/airflow" api-server
  # --skip-serve-logs: every component shares this machine's log folder, which the api-server reads
  # directly; the log servers would only add two processes listening on all interfaces.
  start scheduler "$venv/bin/airflow" scheduler --skip-serve-logs
  start dag-processor "$venv/bin/airflow" dag-processor
  start triggerer "$venv/bin/airflow" triggerer --skip-serve-logs
  wait_healthy
  trap - EXIT
  say "up in $((SECONDS - t0))s"
  cmd_status
}

dbt_docs() { # a self-contained static_index.html per project, served by airflow/plugins/dagspec_docs.py
  local project id
  for project in "$DAGSPEC_DBT_ROOT"/*/; do
    [ -f "$project/dbt_project.yml" ] || continue
    id="$(basename "$project")"
    # --empty-catalog: the lineage graph needs the manifest only, not a warehouse to introspect.
    (cd "$project" && DBT_SEND_ANONYMOUS_USAGE_STATS=false "$venv/bin/dbt" docs generate --static --empty-catalog \
      --profiles-dir . --target-path "$DAGSPEC_DBT_DOCS_ROOT/$id" --log-path "$logdir/dbt-docs" -q) \
      >>"$logdir/dbt-docs.log" 2>&1 || say "dbt docs for $id failed (log: $logdir/dbt-docs.log)"
  done
}

cmd_down() { # TERM every process group at once, KILL what is left after 20 s
  [ -d "$rundir" ] || { say "nothing runs at $home"; return 0; }
  local c pid pids=() names=()
  for c in "${components[@]}"; do
    if pid="$(pid_of "$c")"; then
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid"); names+=("$c")
    fi
    rm -f "$rundir/$c.pid"
  done
  [ ${#pids[@]} -gt 0 ] || { say "nothing runs at $home"; return 0; }
  local t0=$SECONDS alive i
  while :; do
    alive=()
    for i in "${!pids[@]}"; do kill -0 -- "-${pids[$i]}" 2>/dev/null && alive+=("$i"); done
    [ ${#alive[@]} -eq 0 ] && break
    if [ $((SECONDS - t0)) -ge 20 ]; then
      for i in "${alive[@]}"; do
        say "${names[$i]} did not stop in 20 s: killing it"
        kill -KILL -- "-${pids[$i]}" 2>/dev/null || true
      done
      break
    fi
    sleep 0.5
  done
  say "stopped ${names[*]} in $((SECONDS - t0))s"
}

cmd_status() {
  load_settings
  local c pid down=0
  for c in "${components[@]}"; do
    if pid="$(pid_of "$c")"; then printf '  %-15s running (pid %s)\n' "$c" "$pid"
    else printf '  %-15s not running\n' "$c"; down=1; fi
  done
  print_login
  echo "  dags:   $AIRFLOW__CORE__DAGS_FOLDER"
  echo "  mail:   $home/outbox (SMTP 127.0.0.1:$DAGSPEC_STACK_SMTP_PORT)"
  echo "  pages:  $home/pagerduty/events.jsonl (PagerDuty Events API v2 on 127.0.0.1:$DAGSPEC_STACK_PAGERDUTY_PORT)"
  echo "  logs:   $logdir"
  echo "  cli:    airflow/local/stack.sh cli <airflow args>   (or: npx gen airflow cli ...)"
  return $down
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  cli)
    shift
    load_settings
    exec "$venv/bin/python" "$root/airflow/local/airflow_cli.py" "$@"
    ;;
  *)
    echo "usage: airflow/local/stack.sh up|down|status|cli <airflow args>" >&2
    exit 2
    ;;
esac
