#!/usr/bin/env bash
# A private Docker engine for dagspec: `engine.sh start|stop|status|env`.
#
#   start   use the engine DOCKER_HOST (or /var/run/docker.sock) names if one answers; otherwise
#           install docker.io (apt) if dockerd is missing and start a private dockerd of our own:
#           no bridge, no iptables, overlay2, its own data root, exec root, socket and pid file, so
#           it touches nothing of the machine's network or of another engine.
#   stop    stop the private dockerd this script started (by the pid in its pid file).
#   status  whether an engine answers, which one, and its data root.
#   env     print `export DOCKER_HOST=...` for the engine `start` chose (eval it).
#
# Settings: DAGSPEC_DOCKER_HOME (default .cache/docker/ at the repository root) holds the private
# engine's folders: data/ (images, containers, volumes), exec/, docker.sock, dockerd.pid, dockerd.log.
# Removing that folder (after `stop`) removes every image and volume the private engine made.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
home="$(realpath -m "${DAGSPEC_DOCKER_HOME:-$root/.cache/docker}")"
sock="$home/docker.sock"
pidfile="$home/dockerd.pid"
log="$home/dockerd.log"

die() { echo "docker-engine: $*" >&2; exit 1; }
say() { echo "docker-engine: $*" >&2; }

answers() { DOCKER_HOST="$1" timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

private_pid() { # the pid of our dockerd, if it still runs
  [ -f "$pidfile" ] || return 1
  local pid
  pid="$(cat "$pidfile")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "dockerd.*$home" || return 1
  echo "$pid"
}

chosen_host() { # the engine to use: the private one if it runs, else an existing one that answers
  if private_pid >/dev/null; then echo "unix://$sock"; return 0; fi
  if [ -z "${DAGSPEC_DOCKER_PRIVATE:-}" ]; then
    if [ -n "${DOCKER_HOST:-}" ] && answers "$DOCKER_HOST"; then echo "$DOCKER_HOST"; return 0; fi
    if [ -S /var/run/docker.sock ] && answers unix:///var/run/docker.sock; then echo unix:///var/run/docker.sock; return 0; fi
  fi
  return 1
}

install_packages() { # docker.io (dockerd 20.10), debootstrap (offline base) and docker-compose 1.29
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v docker >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "needs ${missing[*]} (Debian packages) and root to install them; run: sudo apt-get install -y ${missing[*]}"
  command -v apt-get >/dev/null || die "needs ${missing[*]} and this machine has no apt-get to install them"
  say "installing ${missing[*]} (apt-get)"
  apt-get update -qq >/dev/null || die "apt-get update failed: cannot install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

cmd_start() {
  install_packages
  if host="$(chosen_host)"; then say "engine answers at $host"; return 0; fi
  [ "$(id -u)" -eq 0 ] || die "no Docker engine answers and starting one needs root (dockerd creates namespaces and mounts)"
  mkdir -p "$home/data" "$home/exec"
  rm -f "$sock"
  say "starting a private dockerd (data root $home/data, socket $sock)"
  # --bridge=none/--iptables=false: containers use the host network (compose: network_mode: host),
  # and the machine's firewall and interfaces stay as they are.
  setsid dockerd --bridge=none --iptables=false --ip6tables=false --storage-driver=overlay2 \
    --data-root="$home/data" --exec-root="$home/exec" -H "unix://$sock" --pidfile "$pidfile" \
    >"$log" 2>&1 </dev/null &
  local i
  for i in $(seq 1 60); do
    answers "unix://$sock" && { say "private dockerd $(docker -H "unix://$sock" version --format '{{.Server.Version}}') is up"; return 0; }
    if ! kill -0 $! 2>/dev/null; then
      echo "--- $log" >&2; tail -n 20 "$log" >&2
      die "dockerd exited at start-up; the reason is in its log above (a container sandbox that forbids mounts, cgroups or overlayfs cannot run an engine)"
    fi
    sleep 0.5
  done
  tail -n 20 "$log" >&2
  die "dockerd did not answer on $sock within 30 s (log: $log)"
}

unmount_leftovers() { # what dockerd leaves mounted under its folders (the netns of the host network)
  local m
  awk -v h="$home/" 'index($2, h) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
}

cmd_stop() {
  local pid
  pid="$(private_pid)" || { say "no private dockerd runs for $home"; unmount_leftovers; return 0; }
  kill -TERM "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { unmount_leftovers; say "private dockerd stopped"; return 0; }
    sleep 0.5
  done
  say "dockerd did not stop in 30 s: killing it"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 1
  unmount_leftovers
}

cmd_status() {
  local host
  host="$(chosen_host)" || { echo "no Docker engine answers (start one: airflow/docker/engine.sh start)"; return 1; }
  echo "engine:    $host ($(DOCKER_HOST=$host docker version --format '{{.Server.Version}}'))"
  echo "data root: $(DOCKER_HOST=$host docker info --format '{{.DockerRootDir}}')"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) host="$(chosen_host)" || die "no Docker engine answers (run: airflow/docker/engine.sh start)"; printf 'export DOCKER_HOST=%q\n' "$host" ;;
  *) echo "usage: airflow/docker/engine.sh start|stop|status|env" >&2; exit 2 ;;
esac
