"""A small lake over fsspec: local paths (plain or ``file://``) and ``s3://bucket/prefix``.

Besides plain reads, listing and deletes, the lake knows how to publish a *partition* (a directory
of files plus a manifest) so that readers never see it half-written:

- Local: files are staged in ``<lake>/_tmp/<token>/`` (same filesystem, outside every reader's
  glob), then the staged directory is swapped with the live one by ``renameat2(RENAME_EXCHANGE)``
  (one atomic step on Linux), and the old contents are deleted. Where the exchange is unavailable
  it falls back to two renames, with a moment in which the partition is absent (never mixed). A
  reader that listed the old files just before the swap may find them gone: an error, not a mix.
- S3 has no rename. Files are uploaded under content-addressed names (``part-00000-<sha>.parquet``)
  so an upload can never overwrite a file of the committed partition with different bytes; the
  manifest is written last as the commit point; then files the new manifest does not list are
  deleted. Readers that list the prefix may see old and new files together for a moment, readers
  that go by the manifest never do. An aborted write deletes only what it uploaded.

Credentials are never logged. For ``s3://`` with ``conn_id`` they come from the Airflow AWS
connection (login/password, extra ``endpoint_url``, ``region_name``), looked up on first use.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = ["FileEntry", "Lake", "PartitionWriter"]

log = logging.getLogger(__name__)

_STAGING_DIR = "_tmp"
_STALE_STAGING_S = 24 * 3600  # far longer than any extract runs
_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileEntry:
    """A committed file of a partition, as recorded in its manifest."""

    path: str  # relative to the partition directory
    bytes: int
    sha256: str


def sha256_file(local_path: str) -> str:
    digest = hashlib.sha256()
    with open(local_path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class Lake:
    """A lake rooted at ``uri``; every ``rel`` argument is a ``/``-separated path below the root."""

    def __init__(
        self,
        protocol: str,
        root: str,
        storage_options: dict[str, Any] | None = None,
        conn_id: str | None = None,
    ) -> None:
        if protocol not in ("file", "s3"):
            raise ValueError(f"unsupported lake protocol {protocol!r} (use a local path or s3://)")
        self.protocol = protocol
        self.root = root.rstrip("/") or "/"
        self._storage_options = dict(storage_options or {})
        self._conn_id = conn_id

    @classmethod
    def from_uri(
        cls, uri: str, *, conn_id: str | None = None, storage_options: dict[str, Any] | None = None
    ) -> Lake:
        """``/abs/path``, ``relative/path``, ``file:///abs/path`` or ``s3://bucket[/prefix]``.

        ``storage_options`` (fsspec/s3fs keyword arguments such as ``key``, ``secret``,
        ``client_kwargs``) override what the Airflow connection ``conn_id`` provides.
        """
        parts = urlsplit(uri)
        if parts.scheme in ("", "file"):
            path = parts.path if parts.scheme == "file" else uri
            if parts.scheme == "file" and parts.netloc not in ("", "localhost"):
                raise ValueError(f"file URI with a host is not a local path: {uri!r}")
            return cls("file", os.path.abspath(path), storage_options, conn_id)
        if parts.scheme in ("s3", "s3a"):
            if not parts.netloc:
                raise ValueError(f"s3 URI without a bucket: {uri!r}")
            return cls("s3", f"{parts.netloc}/{parts.path.strip('/')}".rstrip("/"), storage_options, conn_id)
        raise ValueError(f"unsupported lake URI scheme {parts.scheme!r} in {uri!r}")

    def __repr__(self) -> str:  # no storage options: they hold secrets
        return f"Lake({self.uri!r})"

    @property
    def uri(self) -> str:
        return f"file://{self.root}" if self.protocol == "file" else f"s3://{self.root}"

    @cached_property
    def fs(self) -> AbstractFileSystem:
        import fsspec

        if self.protocol == "file":
            return fsspec.filesystem("file")
        options: dict[str, Any] = {}
        if self._conn_id:
            options.update(_s3_options_from_airflow(self._conn_id))
        options.update(self._storage_options)
        # A private instance: fsspec's shared instances would share listing caches across lakes.
        options.setdefault("skip_instance_cache", True)
        return fsspec.filesystem("s3", **options)

    # -- paths ---------------------------------------------------------------------------------
    def path(self, rel: str = "") -> str:
        """The filesystem path of ``rel`` (no protocol), as fsspec methods take it."""
        rel = rel.strip("/")
        if any(seg in ("..", ".") for seg in rel.split("/")):
            raise ValueError(f"lake path may not contain '.' or '..' segments: {rel!r}")
        return f"{self.root}/{rel}" if rel else self.root

    def url(self, rel: str = "") -> str:
        """The full URI of ``rel``, for logs, manifests' readers and DuckDB."""
        return f"{'file://' if self.protocol == 'file' else 's3://'}{self.path(rel)}"

    # -- reads, listing, deletes ---------------------------------------------------------------
    def exists(self, rel: str) -> bool:
        self._invalidate(rel)
        return bool(self.fs.exists(self.path(rel)))

    def read_bytes(self, rel: str) -> bytes:
        return bytes(self.fs.cat_file(self.path(rel)))

    def read_json(self, rel: str) -> Any:
        """The parsed JSON at ``rel``, or ``None`` if there is no such file."""
        try:
            return json.loads(self.read_bytes(rel))
        except FileNotFoundError:
            return None

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Write a small file in one step (a single PUT on S3; write-then-rename locally)."""
        path = self.path(rel)
        if self.protocol == "file":
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.{uuid.uuid4().hex}.tmp"
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        else:
            self.fs.pipe_file(path, data)
            self._invalidate(rel)

    def list_files(self, rel_dir: str) -> list[str]:
        """Names of the files directly under ``rel_dir`` (sorted; empty if it does not exist)."""
        self._invalidate(rel_dir)
        try:
            entries = self.fs.ls(self.path(rel_dir), detail=True)
        except FileNotFoundError:
            return []
        return sorted(e["name"].rstrip("/").rsplit("/", 1)[-1] for e in entries if e["type"] == "file")

    def list_dirs(self, rel_dir: str) -> list[str]:
        """Names of the directories (S3: common prefixes) directly under ``rel_dir``."""
        self._invalidate(rel_dir)
        try:
            entries = self.fs.ls(self.path(rel_dir), detail=True)
        except FileNotFoundError:
            return []
        return sorted(e["name"].rstrip("/").rsplit("/", 1)[-1] for e in entries if e["type"] == "directory")

    def delete(self, rel: str, *, recursive: bool = False) -> None:
        """Delete a file (or a whole directory with ``recursive``); missing paths are fine."""
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(self.path(rel), recursive=recursive)
        self._invalidate(rel)

    def sha256(self, rel: str) -> str:
        digest = hashlib.sha256()
        with self.fs.open(self.path(rel), "rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    @contextlib.contextmanager
    def local_file(self, rel: str, *, sha256: str | None = None) -> Iterator[str]:
        """A local path holding the file's bytes, checked against ``sha256`` when given.

        Local lakes hand out the file itself; S3 downloads it to a temporary file (sequential GETs,
        bounded memory) that is removed afterwards. The check catches a partition that was
        replaced or damaged after its manifest was read.
        """
        if self.protocol == "file":
            local = self.path(rel)
            if sha256 is not None:
                _check_sha(rel, sha256_file(local), sha256)
            yield local
            return
        with tempfile.TemporaryDirectory(prefix="dagspec-lake-") as tmp:
            local = os.path.join(tmp, "file")
            self.fs.get_file(self.path(rel), local)
            if sha256 is not None:
                _check_sha(rel, sha256_file(local), sha256)
            yield local

    def _invalidate(self, rel: str) -> None:
        # s3fs caches listings; a lake that writes and then lists must not trust them.
        if self.protocol != "file":
            self.fs.invalidate_cache(self.path(rel))

    # -- atomic partitions ---------------------------------------------------------------------
    def begin_partition(self, rel_dir: str, *, manifest_name: str) -> PartitionWriter:
        """Start writing the partition directory ``rel_dir``; see ``PartitionWriter``."""
        if self.protocol == "file":
            self.remove_stale_staging()
        return PartitionWriter(self, rel_dir.strip("/"), manifest_name)

    def remove_stale_staging(self, older_than_s: float = _STALE_STAGING_S) -> int:
        """Delete local staging directories left by killed runs; returns how many.

        Readers never see them (they live outside ``raw/``), but they hold disk. Age is what tells
        a dead run's leftovers from a live run's work in progress. (On S3 the staging area is a
        local temporary directory, and uncommitted uploads are removed by the next commit.)
        """
        staging = self.path(_STAGING_DIR)
        if self.protocol != "file" or not os.path.isdir(staging):
            return 0
        cutoff = time.time() - older_than_s
        removed = 0
        for entry in os.scandir(staging):
            if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                shutil.rmtree(entry.path, ignore_errors=True)
                removed += 1
        if removed:
            log.warning("removed %d stale staging dir(s) under %s", removed, staging)
        return removed


def _check_sha(rel: str, actual: str, expected: str) -> None:
    if actual != expected:
        raise OSError(f"{rel}: sha256 {actual} does not match the manifest's {expected}")


class PartitionWriter:
    """Stages the files of one partition and publishes them, with the manifest, all at once.

    Use: ``scratch_dir`` to write each file locally, ``add_file`` to stage it under its final
    content-addressed name, then ``commit(manifest_bytes)``, or ``abort()`` on failure. Until
    ``commit`` the live partition is untouched.
    """

    def __init__(self, lake: Lake, rel_dir: str, manifest_name: str) -> None:
        self.lake = lake
        self.rel_dir = rel_dir
        self.manifest_name = manifest_name
        self._token = uuid.uuid4().hex
        self._entries: list[FileEntry] = []
        self._done = False
        if lake.protocol == "file":
            # Staging inside the lake root keeps the final rename on one filesystem, and outside
            # raw/ keeps it out of every reader's glob.
            self.scratch_dir = lake.path(f"{_STAGING_DIR}/{self._token}")
            os.makedirs(self.scratch_dir)
        else:
            self.scratch_dir = tempfile.mkdtemp(prefix="dagspec-stage-")

    @property
    def entries(self) -> list[FileEntry]:
        return list(self._entries)

    def add_file(self, local_path: str, stem: str, suffix: str) -> FileEntry:
        """Stage a finished local file as ``<stem>-<sha256[:16]><suffix>``.

        The name is derived from the content, so the same data gets the same name on every run
        (reproducible partitions) and different data never overwrites a committed file on S3.
        """
        if self._done:
            raise RuntimeError("partition already committed or aborted")
        with open(local_path, "rb") as f:
            os.fsync(f.fileno())  # durable before it can become visible
        digest = sha256_file(local_path)
        size = os.path.getsize(local_path)
        name = f"{stem}-{digest[:16]}{suffix}"
        if self.lake.protocol == "file":
            os.replace(local_path, os.path.join(self.scratch_dir, name))
        else:
            self.lake.fs.put_file(local_path, self.lake.path(f"{self.rel_dir}/{name}"))
            os.remove(local_path)
        entry = FileEntry(name, size, digest)
        self._entries.append(entry)
        return entry

    def commit(self, manifest: bytes) -> None:
        """Publish the staged files with ``manifest``; the previous partition is replaced whole."""
        if self._done:
            raise RuntimeError("partition already committed or aborted")
        if self.lake.protocol == "file":
            self._commit_local(manifest)
        else:
            self._commit_s3(manifest)
        self._done = True

    def abort(self) -> None:
        """Drop everything staged; the live partition stays as it was. Safe to call twice."""
        if self._done:
            return
        self._done = True
        if self.lake.protocol == "file":
            shutil.rmtree(self.scratch_dir, ignore_errors=True)
            return
        shutil.rmtree(self.scratch_dir, ignore_errors=True)
        # Uploaded files are content-addressed: one whose name the committed manifest lists holds
        # exactly the committed bytes, so only the others are ours to delete.
        live = self.lake.read_json(f"{self.rel_dir}/{self.manifest_name}") or {}
        keep = {f["path"] for f in live.get("files", [])}
        ours = [self.lake.path(f"{self.rel_dir}/{e.path}") for e in self._entries if e.path not in keep]
        if ours:
            with contextlib.suppress(FileNotFoundError):
                self.lake.fs.rm(ours)

    def _commit_local(self, manifest: bytes) -> None:
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
        else:
            os.rename(staged, final)
        _fsync_dir(os.path.dirname(final))
        shutil.rmtree(staged, ignore_errors=True)

    def _commit_s3(self, manifest: bytes) -> None:
        shutil.rmtree(self.scratch_dir, ignore_errors=True)
        # The manifest is the commit point: one PUT, atomic for readers.
        self.lake.write_bytes(f"{self.rel_dir}/{self.manifest_name}", manifest)
        keep = {e.path for e in self._entries} | {self.manifest_name}
        stale = [
            self.lake.path(f"{self.rel_dir}/{n}") for n in self.lake.list_files(self.rel_dir) if n not in keep
        ]
        if stale:
            self.lake.fs.rm(stale)
            log.info("removed %d stale file(s) from %s", len(stale), self.lake.url(self.rel_dir))


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


def _s3_options_from_airflow(conn_id: str) -> dict[str, Any]:
    """s3fs options from an Airflow AWS connection; never logged."""
    from airflow.sdk import BaseHook

    from dagspec_runtime.connections import aws_credentials

    creds = aws_credentials(conn_id)
    options: dict[str, Any] = {k: creds[k] for k in ("key", "secret", "token") if k in creds}
    client_kwargs = {
        name: creds[k]
        for k, name in (("endpoint_url", "endpoint_url"), ("region", "region_name"))
        if k in creds
    }
    if client_kwargs:
        options["client_kwargs"] = client_kwargs
    # e.g. {"s3": {"addressing_style": "path"}} for S3-compatible servers addressed by host name.
    if config_kwargs := (BaseHook.get_connection(conn_id).extra_dejson or {}).get("config_kwargs"):
        options["config_kwargs"] = config_kwargs
    return options
