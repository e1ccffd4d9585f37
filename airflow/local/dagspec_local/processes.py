"""Long-running processes by name: each in its own session and process group (so stopping it stops
its children too: workers, dbt), with a pid file and a log file."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

# A pid file that outlived its process (a reboot) may name an unrelated process by now: ours run
# `airflow ...` or `python -m dagspec_local...`.
_OURS = (b"airflow", b"dagspec_local")


class Processes:
    def __init__(self, run_dir: Path, log_dir: Path) -> None:
        self.run_dir = run_dir
        self.log_dir = log_dir

    def log(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def pid(self, name: str) -> int | None:
        """The pid recorded for ``name`` if that process still runs and is still ours."""
        try:
            pid = int((self.run_dir / f"{name}.pid").read_text().strip())
            os.kill(pid, 0)
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        return pid if any(word in cmdline for word in _OURS) else None

    def alive(self, name: str) -> bool:
        """Whether the process recorded for ``name`` still runs, without asking if it is ours: for a
        process this object started moments ago. ``pid`` would misread it while the process sets its
        title (the api-server's setproctitle rewrites /proc/<pid>/cmdline in place at start-up)."""
        try:
            pid = int((self.run_dir / f"{name}.pid").read_text().strip())
            os.kill(pid, 0)
            # Our own child that exited stays a zombie (nobody waits for it) until we exit.
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, ValueError, IndexError):
            return False
        return state != "Z"

    def start(self, name: str, argv: list[str], env: Mapping[str, str]) -> int:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log(name).open("wb") as log:
            proc = subprocess.Popen(
                argv, env=dict(env), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        (self.run_dir / f"{name}.pid").write_text(f"{proc.pid}\n")
        return proc.pid

    def stop(self, names: list[str], grace: float = 20, say: Callable[[str], None] = print) -> list[str]:
        """TERM every group at once, KILL what is left after ``grace`` seconds; the names stopped."""
        groups: dict[str, int] = {}
        for name in names:
            pid = self.pid(name)
            if pid is not None:
                _signal_group(pid, signal.SIGTERM)
                groups[name] = pid
            (self.run_dir / f"{name}.pid").unlink(missing_ok=True)
        deadline = time.monotonic() + grace
        while groups:
            alive = {n: p for n, p in groups.items() if _group_alive(p)}
            if not alive:
                break
            if time.monotonic() > deadline:
                for name, pid in alive.items():
                    say(f"{name} did not stop in {grace:.0f} s: killing it")
                    _signal_group(pid, signal.SIGKILL)
                break
            time.sleep(0.5)
        return list(groups)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, sig)


def _group_alive(pgid: int) -> bool:
    # A leader that is our own child (`up` failing and stopping what it started) stays a zombie,
    # and so a member of its group, until reaped.
    try:
        os.waitpid(pgid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
