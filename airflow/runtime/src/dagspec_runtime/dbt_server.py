"""The warm dbt server: a process per worker (machine or container, user and dbt installation) that
has imported dbt and holds the parsed manifests of the projects it has built, and forks a fresh
process for each ``dbt build`` (``dbt_warm`` is its client; ``dbt_runner.run_build`` uses it).

Why: a build in a new process spends more time importing dbt and loading the saved parse than
running the project's nodes (issue 11: 4.4 s of wall for 1.2 s of nodes on the demo day). A fork of
this process starts with both done. Each build still runs in a process of its own, forked from the
same state (dbt imported, the project parsed, nothing built), so builds share nothing mutable and
one build's dbt state cannot leak into the next: the run is as fresh and reproducible as a new
process's.

Like ``dbt_child`` this is a script run by dbt's own Python, importing nothing but dbt, the standard
library and ``dbt_child`` (loaded by path, so its folder stays off ``sys.path``).

The protocol (a ``SOCK_SEQPACKET`` Unix socket in the abstract namespace; ``dbt_warm`` names it by
user, mount namespace and installation, and the server accepts only its own user):

- the client sends one message: ``{"args": <dbt_child args>, "env": {...}, "cwd": ...}`` with the
  descriptors ``[output, *lease]``: the write end of a pipe for everything the build prints, and the
  warehouse lease descriptors the build must hold (``Warehouse.dbt_lease``);
- the server parses the project if it holds no manifest for it (its output goes to the client's
  pipe), forks, and closes its copies of the descriptors; the build process writes
  ``dagspec-dbt-pid <pid>`` first and ``dagspec-dbt-exit <status>`` last to the pipe;
- the build process dies with its task: it holds the client's connection and SIGKILLs its own
  process group when the connection ends before the build has (the kernel closes it when the task
  dies, even by SIGKILL); the lease descriptors it inherited keep a leftover fenced as before.

It exits after ``idle`` seconds without a request, and at once when dbt's installation changed under
it (a new dbt must not be served by the old one's imports).

Usage: ``python dbt_server.py <socket name> <idle seconds>``: prints ``ready`` (or ``taken`` when a
server of that name runs already) and returns; the server goes on in the background.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import hashlib
import importlib.util
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from typing import Any

PID = "dagspec-dbt-pid "
EXIT = "dagspec-dbt-exit "
ERROR = "dagspec-dbt-error "
_MAX_REQUEST = 1 << 22
_MAX_FDS = 64
_MANIFESTS_KEPT = 4
_REQUEST_TIMEOUT_S = 10.0

# As in dbt_child: this file's folder must not be on sys.path, or dbt's plugin discovery imports
# dbt_runner (and Airflow with it).
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]


def _load_child() -> Any:
    spec = importlib.util.spec_from_file_location("_dagspec_dbt_child", os.path.join(_HERE, "dbt_child.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


child = _load_child()


def _installation_stamp() -> tuple[int, ...]:
    """Changes when packages are installed into or removed from dbt's environment (pip rewrites the
    site-packages folder), or dbt's own files are replaced."""
    import dbt.version

    package = os.path.dirname(os.path.dirname(os.path.abspath(dbt.version.__file__)))
    return (os.stat(package).st_mtime_ns, os.stat(dbt.version.__file__).st_mtime_ns)


def _env_key(env: dict[str, str]) -> str:
    """What of the environment the parse depends on: the project reads only ``DAGSPEC_*`` variables
    (``env_var`` in the generated profile and macros; a spec cannot add others) and dbt its ``DBT_*``
    settings."""
    relevant = sorted((k, v) for k, v in env.items() if k.startswith(("DAGSPEC_", "DBT_")))
    relevant = [(k, v) for k, v in relevant if k != "DAGSPEC_DBT_LEASE_PG_KEY"]
    return hashlib.sha256(json.dumps(relevant).encode()).hexdigest()


@contextlib.contextmanager
def _as_request(out: int, env: dict[str, str], cwd: str) -> Iterator[None]:
    """Run in this process with the request's output, environment and folder, then restore ours."""
    saved_fds = (os.dup(1), os.dup(2))
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    sys.stdout.flush()
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved_fds[0], 1)
        os.dup2(saved_fds[1], 2)
        for fd in saved_fds:
            os.close(fd)
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)


def _release_logs() -> None:
    """The parse's log handlers write to the request's log file and output: drop them before the
    request ends (each build sets up its own)."""
    from dbt_common.events.event_manager_client import cleanup_event_logger

    cleanup_event_logger()


def _say(out: int, line: str) -> None:
    with contextlib.suppress(OSError):
        os.write(out, (line + "\n").encode())


class Server:
    def __init__(self, listener: socket.socket, idle: float) -> None:
        self.listener = listener
        self.idle = idle
        self.builds: set[int] = set()
        self.manifests: collections.OrderedDict[tuple[str, str], Any] = collections.OrderedDict()
        self.stamp = _installation_stamp()
        self.last = time.monotonic()

    def serve(self) -> None:
        while True:
            self._reap()
            if time.monotonic() - self.last > self.idle and not self.builds:
                return
            ready, _, _ = select.select([self.listener], [], [], 1.0)
            if not ready:
                continue
            conn, _ = self.listener.accept()
            with conn:
                # A client sends its request at once; one that does not holds up no other.
                conn.settimeout(_REQUEST_TIMEOUT_S)
                if not self._handle(conn):
                    return

    def _reap(self) -> None:
        for pid in list(self.builds):
            with contextlib.suppress(ChildProcessError):
                done, _ = os.waitpid(pid, os.WNOHANG)
                if not done:
                    continue
            self.builds.discard(pid)

    def _handle(self, conn: socket.socket) -> bool:
        """Serve one request; ``False`` when this server must stop (dbt was reinstalled)."""
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _, uid, _ = struct.unpack("3i", creds)
        try:
            data, fds, flags, _ = socket.recv_fds(conn, _MAX_REQUEST, _MAX_FDS)
        except OSError:
            return True
        try:
            if uid != os.getuid() or not fds or flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC):
                return True  # not ours, or not a whole request: nothing is run for it
            out = fds[0]
            self.last = time.monotonic()  # a request (a connection alone does not keep it up)
            if _installation_stamp() != self.stamp:
                _say(out, ERROR + "dbt's installation changed since this warm server started; it stops")
                return False
            try:
                self._build(conn, out, fds[1:], json.loads(data))
            except Exception as exc:  # the request's, not the server's: it goes on serving
                _say(out, ERROR + f"{type(exc).__name__}: {exc}")
            return True
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)

    def _build(self, conn: socket.socket, out: int, lease: list[int], request: dict[str, Any]) -> None:
        args, env, cwd = request["args"], request["env"], request["cwd"]
        manifest, parse_s = None, 0.0
        if args.get("parse_cache"):  # else the user asked for a full parse every build: in the fork
            key = (args["parse_cache"], _env_key(env))
            manifest = self.manifests.get(key)
            if manifest is None:
                started = time.perf_counter()
                with _as_request(out, env, cwd):
                    manifest = child.parse(args)
                    _release_logs()
                parse_s = time.perf_counter() - started
                if manifest is None:
                    _say(out, EXIT + "2")
                    return
                self.manifests[key] = manifest
                while len(self.manifests) > _MANIFESTS_KEPT:
                    self.manifests.popitem(last=False)
            self.manifests.move_to_end(key)
        pid = os.fork()
        if pid == 0:
            code = 2
            try:
                self.listener.close()
                code = _run_build(conn, out, lease, request, manifest, parse_s)
            except BaseException:
                traceback.print_exc()
                _say(1, EXIT + "2")
            finally:
                os._exit(code)
        self.builds.add(pid)


def _run_build(
    conn: socket.socket, out: int, lease: list[int], request: dict[str, Any], manifest: Any, parse_s: float
) -> int:
    """In the forked build process: tie it to the task, then parse (if the server did not) and build."""
    os.setsid()  # its own process group: the client stops it and whatever dbt started, together
    conn.settimeout(None)  # the watch below lasts as long as the build
    finished = threading.Event()

    def watch_task() -> None:
        with contextlib.suppress(OSError):
            conn.recv(1)  # returns when the task closes its end, or dies
        if not finished.is_set():
            os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=watch_task, daemon=True).start()
    os.dup2(out, 1)
    os.dup2(out, 2)
    _say(1, PID + str(os.getpid()))
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    args = request["args"]
    pg = child.pg_lease(int(args["pg_lease_key"])) if args.get("pg_lease_key") is not None else None
    started = time.perf_counter()
    if manifest is None:
        manifest = child.parse(args)
        if manifest is None:
            return _exit(finished, 2)
    loaded = time.perf_counter()
    code = child.build(args, manifest)
    child.print_timing(
        import_s=0.0, parse_s=parse_s + loaded - started, build_s=time.perf_counter() - loaded, warm=True
    )
    del pg, lease  # held until here (the lease descriptors close with the process)
    return _exit(finished, code)


def _exit(finished: threading.Event, code: int) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    finished.set()
    _say(1, EXIT + str(code))
    return code


def main(argv: list[str]) -> int:
    name, idle = argv[1], float(argv[2])
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        listener.bind("\0" + name)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        print("taken", flush=True)  # another task started it a moment ago
        return 0
    listener.listen(64)
    import dbt.cli.main  # noqa: F401  (the point of this process)

    if os.fork():
        print("ready", flush=True)
        return 0
    # The server itself, in the background: nothing of the task that started it stays open.
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # dbt's locks start multiprocessing's resource tracker on first use, a process that inherits the
    # standard streams of the moment: started now, it holds no request's output open.
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    Server(listener, idle).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
