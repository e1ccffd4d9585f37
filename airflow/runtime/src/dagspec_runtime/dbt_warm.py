"""The client of the warm dbt server (``dbt_server``): start a build in a process forked from one that
has dbt imported and the project parsed, starting that server first when none runs.

``start`` returns a ``WarmBuild`` that ``dbt_runner.run_build`` drives as it drives a child process
(its output lines, its pid, its exit status, stopping it), or ``None`` when no server can be had
(then the build runs in a new process, as without one). Nothing is built before the server has
forked the build's process, so falling back is always safe.

The server's name is private to this user (the server refuses other users), this mount namespace
(two containers sharing a kernel, or a host-network compose, never reach each other's server, whose
paths would be the other's files) and this installation (the Python, the server's code): a runtime
upgrade starts a new server and the old one idles out.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

__all__ = ["WarmBuild", "server_name", "start"]

log = logging.getLogger(__name__)

_HERE = os.path.dirname(os.path.abspath(__file__))
_SERVER = os.path.join(_HERE, "dbt_server.py")
_PID = "dagspec-dbt-pid "
_EXIT = "dagspec-dbt-exit "
_ERROR = "dagspec-dbt-error "
_START_TIMEOUT_S = 120.0


def server_name(python: str) -> str:
    digest = hashlib.sha256(os.path.abspath(python).encode() + b"\0")
    for name in ("dbt_server.py", "dbt_child.py"):
        with open(os.path.join(_HERE, name), "rb") as f:
            digest.update(hashlib.sha256(f.read()).digest())
    try:
        namespace = os.stat("/proc/self/ns/mnt").st_ino
    except OSError:
        namespace = 0
    return f"dagspec-dbt-warm/{os.getuid()}/{namespace}/{digest.hexdigest()[:20]}"


class WarmBuild:
    """One build in the warm server, seen as a child process: ``lines()``, ``pid``, ``wait()``, ``stop()``."""

    def __init__(self, conn: socket.socket, output: int) -> None:
        self._conn = conn
        self._output = os.fdopen(output, "r", encoding="utf-8", errors="replace", newline=None)
        self.pid: int | None = None
        self.returncode: int | None = None
        self.error: str | None = None  # the server could not run the request (nothing was built)

    def lines(self) -> Iterator[str]:
        """The build's output (the server's parse, then dbt's), without the protocol's own lines."""
        for raw in self._output:
            line = raw.rstrip("\n")
            if line.startswith(_PID):
                self.pid = int(line[len(_PID) :])
                log.info("dbt runs as pid %d (forked by the warm dbt server)", self.pid)
            elif line.startswith(_EXIT):
                self.returncode = int(line[len(_EXIT) :])
            elif line.startswith(_ERROR) and self.pid is None:
                self.error = line[len(_ERROR) :]
            else:
                yield line

    @property
    def started(self) -> bool:
        """Whether the server took the request: forked the build, or parsed and reported its failure.
        If not (it refused, or stopped first), nothing was built."""
        return self.pid is not None or self.returncode is not None

    def wait(self) -> int:
        """After ``lines()`` ended: the build's exit status (``-SIGKILL`` when it ended without one)."""
        self.close()
        if self.returncode is None:
            return -signal.SIGKILL
        return self.returncode

    def stop(self, grace_s: float) -> None:
        """SIGTERM to the build's process group, SIGKILL after ``grace_s``; closing the connection
        makes the build kill itself in any case."""
        if self.pid is not None and self.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + grace_s
            while _alive(self.pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
        self.close()

    def close(self) -> None:
        self._conn.close()
        self._output.close()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def start(
    *,
    python: str,
    args: Mapping[str, Any],
    env: Mapping[str, str],
    cwd: str,
    fds: Sequence[int],
    idle_s: float,
) -> WarmBuild | None:
    """Send the build to the warm server for ``python`` (starting it if needed); ``None`` if there is none."""
    name = server_name(python)
    conn = _connect(name)
    if conn is None:
        if not _spawn(python, name, env, idle_s):
            return None
        conn = _connect(name)
        if conn is None:
            log.warning("the warm dbt server %s started but does not answer; building without it", name)
            return None
    read, write = os.pipe()
    request = json.dumps({"args": dict(args), "env": dict(env), "cwd": cwd}).encode()
    try:
        socket.send_fds(conn, [request], [write, *fds])
    except OSError as exc:
        log.warning("the warm dbt server %s took no request (%s); building without it", name, exc)
        conn.close()
        os.close(read)
        return None
    finally:
        os.close(write)
    return WarmBuild(conn, read)


def _connect(name: str) -> socket.socket | None:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        conn.connect("\0" + name)
    except OSError:
        conn.close()
        return None
    return conn


def _spawn(python: str, name: str, env: Mapping[str, str], idle_s: float) -> bool:
    """Start a server (it answers ``ready``, or ``taken`` when another task started one first)."""
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [python, _SERVER, name, str(idle_s)],
            env=dict(env),
            cwd="/",
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=_START_TIMEOUT_S,
            # Its own session: stopping this task's process group leaves the server to the next task.
            start_new_session=True,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("could not start the warm dbt server (%s); building without it", exc)
        return False
    answer = proc.stdout.strip()
    if proc.returncode != 0 or answer not in ("ready", "taken"):
        log.warning(
            "the warm dbt server did not start (exit %s): %s; building without it",
            proc.returncode,
            (proc.stderr or answer).strip()[-2000:],
        )
        return False
    seconds = time.perf_counter() - started
    log.info("started the warm dbt server %s in %.1fs (idle timeout %.0fs)", name, seconds, idle_s)
    return True
