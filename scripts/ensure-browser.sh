#!/usr/bin/env bash
# The UI test drives Debian's chromium through playwright-core (no Playwright-downloaded browser).
# Install it when /usr/bin/chromium is missing; print its path. Needs root (or sudo) and apt.
set -euo pipefail
CHROMIUM="${DAGSPEC_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then echo "$CHROMIUM"; exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-browser: $CHROMIUM is missing and apt-get is not available; install chromium" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "ensure-browser: $CHROMIUM is missing; run as root: apt-get update && apt-get install -y chromium" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
# One installer at a time (parallel test sessions share the dpkg lock).
exec 9>"${TMPDIR:-/tmp}/dagspec-ensure-browser.lock"
flock 9
if [ ! -x "$CHROMIUM" ]; then
  echo "ensure-browser: installing Debian's chromium (apt-get)" >&2
  $SUDO apt-get update -qq >&2
  $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-liberation >&2
fi
[ -x "$CHROMIUM" ] || { echo "ensure-browser: $CHROMIUM still missing after apt-get" >&2; exit 1; }
echo "$CHROMIUM"
