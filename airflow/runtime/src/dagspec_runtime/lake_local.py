"""The local-folder lake: plain paths or ``file://``.

A partition is staged in ``<lake>/_tmp/<token>/`` (same filesystem, outside every reader's glob),
then swapped with the live directory by ``renameat2(RENAME_EXCHANGE)`` (one atomic step on Linux);
where the exchange is unavailable, two renames leave the partition briefly absent, never mixed.
After the swap the staging directory holds the previous partition until the commit record is
written, so a failed commit swaps it back.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import os
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING

from dagspec_runtime.lake import (
    STAGING_DIR,
    STALE_STAGING_S,
    Lake,
    PartitionWriteError,
    PartitionWriter,
    check_sha,
    sha256_file,
)

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = ["LocalLake", "LocalPartitionWriter"]

log = logging.getLogger(__name__)


class LocalLake(Lake):
    protocol = "file"

    @cached_property
    def fs(self) -> AbstractFileSystem:
        import fsspec

        return fsspec.filesystem("file")

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Write-then-rename: readers see the old bytes or the new ones."""
        path = self.path(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{uuid.uuid4().hex}.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    @contextlib.contextmanager
    def local_file(self, rel: str, *, sha256: str | None = None) -> Iterator[str]:
        # The file itself: nothing to download.
        local = self.path(rel)
        if sha256 is not None:
            check_sha(rel, sha256_file(local), sha256)
        yield local

    def begin_partition(
        self,
        rel_dir: str,
        *,
        manifest_name: str,
        committed: Callable[[], Iterable[str]] | None = None,
    ) -> PartitionWriter:
        self.remove_stale_staging()
        return LocalPartitionWriter(self, rel_dir.strip("/"), manifest_name, committed)

    def remove_stale_staging(self, older_than_s: float = STALE_STAGING_S) -> int:
        """Delete staging directories left by killed runs; returns how many.

        Readers never see them (they live outside ``raw/``), but they hold disk. A staging
        directory is named after the host and process that made it (``<host>-<pid>-<token>``), so
        one of this host whose process is gone is a dead run's; for the others (another host on a
        shared folder, or names from before) age tells a dead run's leftovers from work in progress.
        """
        staging = self.path(STAGING_DIR)
        if not os.path.isdir(staging):
            return 0
        cutoff = time.time() - older_than_s
        removed = 0
        for entry in os.scandir(staging):
            try:
                stale = _owner_is_gone(entry.name) or entry.stat(follow_symlinks=False).st_mtime < cutoff
            except FileNotFoundError:
                # Listed, then committed (renamed into place) or aborted by its live owner, such as
                # another day of the same range on another thread: nothing left to remove.
                continue
            if stale:
                shutil.rmtree(entry.path, ignore_errors=True)
                removed += 1
        if removed:
            log.warning("removed %d stale staging dir(s) under %s", removed, staging)
        return removed


class LocalPartitionWriter(PartitionWriter):
    def __init__(
        self,
        lake: LocalLake,
        rel_dir: str,
        manifest_name: str,
        committed: Callable[[], Iterable[str]] | None = None,
    ) -> None:
        # Staging inside the lake root keeps the final rename on one filesystem, and outside raw/
        # keeps it out of every reader's glob.
        scratch = lake.path(f"{STAGING_DIR}/{_HOST}-{os.getpid()}-{uuid.uuid4().hex}")
        try:
            os.makedirs(scratch)
        except OSError as exc:
            raise PartitionWriteError(
                exc.errno, f"staging partition {lake.url(rel_dir)}: {exc.strerror or exc}"
            ) from None
        super().__init__(lake, rel_dir, manifest_name, scratch, committed)
        self._swapped: bool | None = None  # None: not published; True: exchanged; False: renamed

    def _stage(self, local_path: str, name: str) -> None:
        os.replace(local_path, os.path.join(self.scratch_dir, name))

    def _publish(self, manifest: bytes) -> None:
        staged = self.scratch_dir
        with open(os.path.join(staged, self.manifest_name), "wb") as f:
            f.write(manifest)
            f.flush()
            os.fsync(f.fileno())
        _fsync_dir(staged)
        final = self.lake.path(self.rel_dir)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        if os.path.exists(final):
            _swap_dirs(staged, final)  # staged now holds the previous partition
            self._swapped = True
        else:
            os.rename(staged, final)
            self._swapped = False
        _fsync_dir(os.path.dirname(final))

    def _unpublish(self) -> None:
        final = self.lake.path(self.rel_dir)
        if self._swapped:
            _swap_dirs(self.scratch_dir, final)  # the previous partition is live again
        elif self._swapped is False:
            os.rename(final, self.scratch_dir)  # there was none: the partition is absent again
        self._swapped = None
        _fsync_dir(os.path.dirname(final))

    def _finish(self, manifest: bytes) -> None:
        shutil.rmtree(self.scratch_dir, ignore_errors=True)  # the previous partition, if any


_HOST = socket.gethostname().replace("-", "_")  # no '-': it separates the fields of the name


def _owner_is_gone(name: str) -> bool:
    """Whether the staging directory ``name`` was made on this host by a process that has ended."""
    host, _, rest = name.partition("-")
    pid, _, _ = rest.partition("-")
    if host != _HOST or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _swap_dirs(a: str, b: str) -> None:
    """Exchange two directories atomically (Linux ``renameat2``); else two renames."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is not None:
        rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
        if rc == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
            raise OSError(err, os.strerror(err), b)
    # Fallback (no exchange on this OS/filesystem): the partition is briefly absent, never mixed.
    aside = f"{a}.old"
    os.rename(b, aside)
    os.rename(a, b)
    os.rename(aside, a)
