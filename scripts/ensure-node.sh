#!/usr/bin/env bash
# Installs node_modules from package-lock.json when missing or stale (npm ci), else does nothing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
stamp=node_modules/.dagspec-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
echo "ensure-node: npm ci" >&2
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
