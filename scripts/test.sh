#!/usr/bin/env bash
# `npm test`: every test, from a fresh clone. Installs what it needs (node_modules via npm ci, .venv
# from airflow/requirements.lock), makes sure PostgreSQL runs, then runs vitest and pytest.
# Both suites always run; the exit code is non-zero if either failed. pytest's summary line is last.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/ensure-node.sh || exit 1
bash scripts/setup-python.sh || exit 1
bash scripts/ensure-postgres.sh || exit 1

mkdir -p test-artifacts
npx vitest run
vitest_rc=$?

.venv/bin/pytest test/python -q -p no:cacheprovider "$@"
pytest_rc=$?

[ "$vitest_rc" -eq 0 ] && [ "$pytest_rc" -eq 0 ]
