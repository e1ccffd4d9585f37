#!/usr/bin/env bash
# The offline images, made from Debian packages where no image registry answers: `offline-base.sh`.
#
#   dagspec-offline/airflow-base:3.3.2-python3.11   what airflow/Dockerfile builds on with
#       --build-arg BASE=...; it honours the official apache/airflow image's contract: user airflow
#       (uid 50000, gid 0), AIRFLOW_HOME=/opt/airflow, /home/airflow/.local/bin on PATH (where pip
#       puts the lock's commands), ENTRYPOINT dumb-init -- /entrypoint. Python is bookworm's 3.11.
#   dagspec-offline/postgres:15, dagspec-offline/redis:7   the compose file's metadata database and
#       Celery broker, standing in for postgres:16 / redis:7.2-bookworm with the same interface
#       (POSTGRES_USER/PASSWORD/DB, PGPORT; `redis-server` args).
#
# Each image starts from a Debian bookworm root file system made by `debootstrap --variant=minbase`
# with the packages it needs, imported with `docker import`; no build step downloads anything. The
# root file systems are cached as tarballs under DAGSPEC_ROOTFS_CACHE (default ~/.cache/dagspec/rootfs),
# keyed by their package list, so a rerun (or a clean Docker data root) costs an import, not a
# debootstrap. Needs root (debootstrap) and DOCKER_HOST naming a running engine (engine.sh start).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="$(realpath -m "${DAGSPEC_ROOTFS_CACHE:-$HOME/.cache/dagspec/rootfs}")"
mirror="${DAGSPEC_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
suite=bookworm

say() { echo "offline-base: $*" >&2; }
die() { say "$*"; exit 1; }

# Packages per root file system. airflow: python3.11 with venv/ensurepip (pip installs the lock),
# dumb-init (the official image's PID 1), curl (health checks), tzdata (zoneinfo), procps (ps/kill).
declare -A packages=(
  [airflow]="python3,python3-venv,dumb-init,curl,ca-certificates,tzdata,procps"
  [services]="postgresql-15,redis-server,redis-tools,tzdata,procps"
)

rootfs_tar() { # NAME: path of the cached tarball for that package list, made if missing
  local name="$1" key tar dir
  key="$(printf '%s %s %s' "$suite" "$mirror" "${packages[$name]}" | sha256sum | cut -c1-12)"
  tar="$cache/$suite-$name-$key.tar"
  if [ ! -f "$tar" ]; then
    command -v debootstrap >/dev/null || die "debootstrap is missing (apt-get install -y debootstrap)"
    [ "$(id -u)" -eq 0 ] || die "debootstrap needs root"
    dir="$(mktemp -d "${TMPDIR:-/tmp}/dagspec-rootfs-$name.XXXXXX")"
    say "debootstrap $suite ($name: ${packages[$name]}) from $mirror (about a minute)"
    debootstrap --variant=minbase --include="${packages[$name]}" "$suite" "$dir" "$mirror" >"$dir.log" 2>&1 \
      || { tail -n 20 "$dir.log" >&2; rm -rf "$dir"; die "debootstrap failed (log above)"; }
    # Not part of an image: apt's package lists and downloaded .debs, and the cluster
    # postgresql-common creates at install time (the image's entrypoint makes its own).
    rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/postgresql/15/main "$dir"/etc/postgresql/15/main
    mkdir -p "$cache"
    tar --numeric-owner -C "$dir" -cf "$tar.tmp" .
    mv "$tar.tmp" "$tar"
    rm -rf "$dir" "$dir.log"
  fi
  echo "$tar"
}

import_rootfs() { # NAME: the image holding that root file system, imported if the engine lacks it
  local name="$1" tar image
  tar="$(rootfs_tar "$name")"
  image="dagspec-offline/$suite-$name:$(basename "$tar" .tar | awk -F- '{print $NF}')"
  if ! docker image inspect "$image" >/dev/null 2>&1; then
    say "importing $(basename "$tar") as $image"
    docker import "$tar" "$image" >/dev/null
  fi
  echo "$image"
}

build() { # TAG DOCKERFILE ROOTFS_IMAGE
  say "building $1"
  local out
  # (the output is shown only on failure: the docker client's legacy-builder notice is noise here)
  out="$(docker build -q --network host --build-arg "ROOTFS=$3" -t "$1" -f "$here/offline/$2" "$here/offline" 2>&1)" \
    || { echo "$out" >&2; die "docker build of $1 failed"; }
}

docker version >/dev/null 2>&1 || die "no Docker engine answers at ${DOCKER_HOST:-the default socket} (run: airflow/docker/engine.sh start)"
airflow_rootfs="$(import_rootfs airflow)"
services_rootfs="$(import_rootfs services)"
build dagspec-offline/airflow-base:3.3.2-python3.11 airflow-base.Dockerfile "$airflow_rootfs"
build dagspec-offline/postgres:15 postgres.Dockerfile "$services_rootfs"
build dagspec-offline/redis:7 redis.Dockerfile "$services_rootfs"
say "offline images ready: dagspec-offline/airflow-base:3.3.2-python3.11, dagspec-offline/postgres:15, dagspec-offline/redis:7"
