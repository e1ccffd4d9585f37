#!/usr/bin/env bash
# The tests and the demo need the local PostgreSQL (127.0.0.1:5432, trust auth). Start it if down.
set -euo pipefail
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then exit 0; fi
if command -v pg_ctlcluster >/dev/null 2>&1; then
  version="$(ls /etc/postgresql | sort -V | tail -n1)"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
fi
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 1; done
echo "ensure-postgres: PostgreSQL is not reachable on 127.0.0.1:5432" >&2
exit 1
