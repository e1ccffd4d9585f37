#!/usr/bin/env bash
# Wheels for exactly airflow/requirements.lock, in the Docker build context: `wheelhouse.sh`.
#
# The image installs the lock with `pip install --no-index --find-links` from this folder, so a
# build needs no package index (none is reachable from a build on our machines, and an air-gapped
# site has none either). The wheels are made on the host, where pip reaches PyPI (or a mirror):
# `pip wheel` downloads each pinned wheel and builds one where a package ships only a source archive.
#
# The result is cached by the lock's hash under DAGSPEC_WHEEL_CACHE (default ~/.cache/dagspec/wheels),
# so a second run, or another clone, costs a hard-link copy. It lands in
# .cache/docker/wheelhouse/ at the repository root (git-ignored; the only .cache folder the
# .dockerignore lets into the build context). Prints the wheelhouse's path.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
lock="$root/airflow/requirements.lock"
want="$(sha256sum "$lock" | cut -c1-16)"
cache="$(realpath -m "${DAGSPEC_WHEEL_CACHE:-$HOME/.cache/dagspec/wheels}")/$want"
dest="$root/.cache/docker/wheelhouse"

say() { echo "wheelhouse: $*" >&2; }

if [ ! -f "$cache/.complete" ]; then
  say "downloading the wheels of airflow/requirements.lock into $cache (first time: a minute or two)"
  rm -rf "$cache.tmp"
  mkdir -p "$cache.tmp"
  python="${DAGSPEC_PYTHON:-python3.11}"
  command -v "$python" >/dev/null 2>&1 || python=python3
  # The image's Python is Debian bookworm's 3.11 (offline base) or the official image's 3.11.
  "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
    || { say "needs Python 3.11 on the host (the image's version) to fetch matching wheels"; exit 1; }
  grep -vE '^\s*(#|$)' "$lock" >"$cache.tmp/requirements.lock"
  # (grep: pip warns once per package about extra-index folders that do not exist on this machine)
  "$python" -m pip wheel -q --no-deps --disable-pip-version-check -r "$cache.tmp/requirements.lock" -w "$cache.tmp" \
    2> >(grep -v "is neither a file nor a directory" >&2) \
    || { say "pip wheel failed: is a package index (PyPI or a mirror in pip.conf) reachable?"; exit 1; }
  n_wheels="$(find "$cache.tmp" -name '*.whl' | wc -l)"
  n_pins="$(wc -l <"$cache.tmp/requirements.lock")"
  [ "$n_wheels" -eq "$n_pins" ] || { say "got $n_wheels wheels for $n_pins pins"; exit 1; }
  touch "$cache.tmp/.complete"
  rm -rf "$cache"
  mv "$cache.tmp" "$cache"
fi

if [ ! -f "$dest/.complete" ] || ! cmp -s "$dest/requirements.lock" "$cache/requirements.lock"; then
  rm -rf "$dest"
  mkdir -p "$(dirname "$dest")"
  cp -al "$cache" "$dest" 2>/dev/null || cp -a "$cache" "$dest" # hard links where the file system allows
fi
say "$(find "$dest" -name '*.whl' | wc -l) wheels, $(du -sh "$dest" | cut -f1), in $dest"
echo "$dest"
