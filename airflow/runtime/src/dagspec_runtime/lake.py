"""A small lake over fsspec: the interface and what every kind shares. The kinds are
``lake_local.LocalLake`` (plain or ``file://`` paths) and ``lake_s3.S3Lake`` (``s3://bucket/prefix``).

Besides plain reads, listing and deletes, the lake knows how to publish *partitions* (directories
of files plus a manifest) so that readers never see one half-written, and how to publish several
of them together with one *commit record* (``Lake.commit_partitions``): the record is written last,
in one atomic step, and readers that resolve through it see all the partitions or none.

- Local: files are staged in ``<lake>/_tmp/<token>/`` (same filesystem, outside every reader's
  glob), then each staged directory is swapped with the live one by ``renameat2(RENAME_EXCHANGE)``
  (one atomic step on Linux), keeping the previous contents in the staging directory. If a later
  partition or the record fails, the swaps already done are exchanged back, so the previous
  partitions are live again; only after the record is written are the old contents deleted.
  Where the exchange is unavailable it falls back to two renames, with a moment in which the
  partition is absent (never mixed).
- S3 has no rename. Files are uploaded under content-addressed names (``part-00000-<sha>.parquet``)
  so an upload can never overwrite a file of the committed partition with different bytes; the
  record is written last as the commit point (one PUT); then each partition's own manifest is
  written and files no committed manifest lists are deleted. Readers that list the prefix may see
  uploads that are not committed yet; readers that go by the record never do. An aborted write
  deletes only what it uploaded, and whatever an abort could not delete (the store was down) goes
  with the next successful commit of that partition.

Errors name the partition being written (``raw/orders/ds=2026-11-01``), never the staging folder.
Credentials are never logged. For ``s3://`` with ``conn_id`` they come from the Airflow AWS
connection (login/password, extra ``endpoint_url``, ``region_name``), looked up on first use.
"""

from __future__ import annotations

import abc
import contextlib
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = [
    "STAGING_DIR",
    "STALE_STAGING_S",
    "FileEntry",
    "Lake",
    "PartitionWriteError",
    "PartitionWriter",
    "sha256_file",
]

log = logging.getLogger(__name__)

STAGING_DIR = "_tmp"
STALE_STAGING_S = 24 * 3600  # far longer than any extract runs
_CHUNK = 1 << 20


class PartitionWriteError(OSError):
    """Staging or publishing a partition failed; the message names the partition, not where it was
    staged. Nothing of the write is visible: the previous partitions are still the committed ones."""


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


class Lake(abc.ABC):
    """A lake rooted at ``uri``; every ``rel`` argument is a ``/``-separated path below the root.

    One subclass per kind of storage (``lake_local.LocalLake``, ``lake_s3.S3Lake``), picked by
    ``from_uri``; callers never ask which one they have.
    """

    protocol: str  # fsspec's name for the storage: "file" or "s3"

    def __init__(self, root: str) -> None:
        self.root = root.rstrip("/") or "/"

    @classmethod
    def from_uri(
        cls, uri: str, *, conn_id: str | None = None, storage_options: dict[str, Any] | None = None
    ) -> Lake:
        """``/abs/path``, ``relative/path``, ``file:///abs/path`` or ``s3://bucket[/prefix]``.

        ``storage_options`` (fsspec/s3fs keyword arguments such as ``key``, ``secret``,
        ``client_kwargs``) override what the Airflow connection ``conn_id`` provides (S3 only).
        """
        parts = urlsplit(uri)
        if parts.scheme in ("", "file"):
            from dagspec_runtime.lake_local import LocalLake

            path = parts.path if parts.scheme == "file" else uri
            if parts.scheme == "file" and parts.netloc not in ("", "localhost"):
                raise ValueError(f"file URI with a host is not a local path: {uri!r}")
            return LocalLake(os.path.abspath(path))
        if parts.scheme in ("s3", "s3a"):
            from dagspec_runtime.lake_s3 import S3Lake

            if not parts.netloc:
                raise ValueError(f"s3 URI without a bucket: {uri!r}")
            root = f"{parts.netloc}/{parts.path.strip('/')}".rstrip("/")
            return S3Lake(root, storage_options=storage_options, conn_id=conn_id)
        raise ValueError(f"unsupported lake URI scheme {parts.scheme!r} in {uri!r}")

    def __repr__(self) -> str:  # no storage options: they hold secrets
        return f"{type(self).__name__}({self.uri!r})"

    @property
    def uri(self) -> str:
        return self.url()

    # -- what each kind provides -----------------------------------------------------------------
    @property
    @abc.abstractmethod
    def fs(self) -> AbstractFileSystem: ...

    @abc.abstractmethod
    def write_bytes(self, rel: str, data: bytes) -> None:
        """Write a small file in one step, never visible half-written."""

    @abc.abstractmethod
    def local_file(self, rel: str, *, sha256: str | None = None) -> contextlib.AbstractContextManager[str]:
        """A local path holding the file's bytes, checked against ``sha256`` when given (a check
        that catches a partition replaced or damaged after its manifest was read)."""

    @abc.abstractmethod
    def begin_partition(
        self,
        rel_dir: str,
        *,
        manifest_name: str,
        committed: Callable[[], Iterable[str]] | None = None,
    ) -> PartitionWriter:
        """Start writing the partition directory ``rel_dir``; see ``PartitionWriter``.

        ``committed()`` names the files of ``rel_dir`` that the committed state lists (by default
        those of the partition's own manifest): an abort never deletes them.
        """

    def commit_partitions(
        self,
        staged: Sequence[tuple[PartitionWriter, bytes]],
        *,
        record: tuple[str, bytes] | None = None,
    ) -> None:
        """Publish every staged ``(writer, manifest)`` and then ``record`` = ``(rel, bytes)``, the one
        write that commits them together; all of it or, on any failure, none of it.

        Readers that resolve through the record see the previous partitions until the record is
        written and the new ones after. On a failure before that, every partition already
        published is put back and the error, naming the partition, is raised.
        """
        for writer, _ in staged:
            writer.check_open()
        published: list[PartitionWriter] = []
        try:
            for writer, manifest in staged:
                with writer.naming_errors("publishing"):
                    writer._publish(manifest)
                published.append(writer)
            if record is not None:
                rel, data = record
                try:
                    self.write_bytes(rel, data)  # the commit point
                except Exception as exc:
                    raise _partition_error(exc, f"committing {self.url(rel)}") from _cause(exc)
        except BaseException:
            stuck = set()
            for writer in reversed(published):
                try:
                    writer._unpublish()
                except Exception:  # the original error matters more; this one is logged
                    log.exception("could not put back the previous %s", self.url(writer.rel_dir))
                    stuck.add(id(writer))  # its staging may hold the previous partition: keep it
            for writer, _ in staged:
                if id(writer) in stuck:
                    writer._done = True  # never abort it: that would delete what it holds
                else:
                    writer.abort()
            raise
        for writer, manifest in staged:
            writer._done = True
            with writer.naming_errors("cleaning up after committing"):
                writer._finish(manifest)
        self.remove_stale_staging()  # what killed attempts left, now that this one committed

    def _invalidate(self, rel: str) -> None:
        """Forget cached listings under ``rel`` (storages that cache them override this)."""
        return None

    # -- paths ---------------------------------------------------------------------------------
    def path(self, rel: str = "") -> str:
        """The filesystem path of ``rel`` (no protocol), as fsspec methods take it."""
        rel = rel.strip("/")
        if any(seg in ("..", ".") for seg in rel.split("/")):
            raise ValueError(f"lake path may not contain '.' or '..' segments: {rel!r}")
        return f"{self.root}/{rel}" if rel else self.root

    def url(self, rel: str = "") -> str:
        """The full URI of ``rel``, for logs, manifests' readers and DuckDB."""
        return f"{self.protocol}://{self.path(rel)}"

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

    def remove_stale_staging(self, older_than_s: float = STALE_STAGING_S) -> int:
        """Delete staging left by killed runs; returns how many (only local lakes stage in the lake)."""
        return 0


def _partition_error(exc: Exception, doing: str) -> PartitionWriteError:
    """``exc`` (an ``OSError`` of the filesystem or an S3 client error) as a ``PartitionWriteError``
    whose message says what was being written; a local ``OSError`` contributes only its reason,
    since its paths are the staging folder's."""
    if isinstance(exc, OSError) and exc.strerror:
        return PartitionWriteError(exc.errno, f"{doing}: {exc.strerror}")
    return PartitionWriteError(f"{doing}: {type(exc).__name__}: {exc}")


def _cause(exc: Exception) -> Exception | None:
    """The error to chain: not a local ``OSError``, whose paths name the staging folder."""
    return None if isinstance(exc, OSError) and exc.strerror else exc


def check_sha(rel: str, actual: str, expected: str) -> None:
    if actual != expected:
        raise OSError(f"{rel}: sha256 {actual} does not match the manifest's {expected}")


class PartitionWriter(abc.ABC):
    """Stages the files of one partition and publishes them, with the manifest, all at once.

    Use: ``scratch_dir`` to write each file locally, ``add_file`` to stage it under its final
    content-addressed name, then ``commit(manifest_bytes)`` (this partition alone) or
    ``Lake.commit_partitions`` (several, with a commit record), or ``abort()`` on failure. Until
    then the live partition is untouched.
    """

    def __init__(
        self,
        lake: Lake,
        rel_dir: str,
        manifest_name: str,
        scratch_dir: str,
        committed: Callable[[], Iterable[str]] | None = None,
    ) -> None:
        self.lake = lake
        self.rel_dir = rel_dir
        self.manifest_name = manifest_name
        self.scratch_dir = scratch_dir
        self._committed = committed
        self._entries: list[FileEntry] = []
        self._done = False

    def check_open(self) -> None:
        if self._done:
            raise RuntimeError(f"partition {self.rel_dir} already committed or aborted")

    @contextlib.contextmanager
    def naming_errors(self, doing: str) -> Iterator[None]:
        """Re-raise an ``OSError`` as a ``PartitionWriteError`` that names this partition. The
        original names the staging folder, which means nothing to whoever reads the error."""
        try:
            yield
        except PartitionWriteError:
            raise
        except Exception as exc:
            raise _partition_error(exc, f"{doing} partition {self.lake.url(self.rel_dir)}") from _cause(exc)

    def committed_files(self) -> set[str]:
        """Names in ``rel_dir`` that the committed state lists."""
        if self._committed is not None:
            return set(self._committed())
        live = self.lake.read_json(f"{self.rel_dir}/{self.manifest_name}") or {}
        return {f["path"] for f in live.get("files", [])}

    @property
    def entries(self) -> list[FileEntry]:
        return list(self._entries)

    def add_file(self, local_path: str, stem: str, suffix: str) -> FileEntry:
        """Stage a finished local file as ``<stem>-<sha256[:16]><suffix>``.

        The name is derived from the content, so the same data gets the same name on every run
        (reproducible partitions) and different data never overwrites a committed file on S3.
        """
        self.check_open()
        with self.naming_errors("staging"):
            with open(local_path, "rb") as f:
                os.fsync(f.fileno())  # durable before it can become visible
            digest = sha256_file(local_path)
            size = os.path.getsize(local_path)
            name = f"{stem}-{digest[:16]}{suffix}"
            self._stage(local_path, name)
        entry = FileEntry(name, size, digest)
        self._entries.append(entry)
        return entry

    def commit(self, manifest: bytes) -> None:
        """Publish the staged files with ``manifest``; the previous partition is replaced whole."""
        self.lake.commit_partitions([(self, manifest)])

    def abort(self) -> None:
        """Drop everything staged; the live partition stays as it was. Safe to call twice."""
        if self._done:
            return
        self._done = True
        shutil.rmtree(self.scratch_dir, ignore_errors=True)
        try:
            self._abort()
        except Exception as exc:  # e.g. the store is down: the next commit removes the leftovers
            log.warning("could not remove the uncommitted files of %s: %s", self.lake.url(self.rel_dir), exc)

    @abc.abstractmethod
    def _stage(self, local_path: str, name: str) -> None:
        """Move the finished file ``local_path`` to where ``commit`` will publish it as ``name``."""

    @abc.abstractmethod
    def _publish(self, manifest: bytes) -> None:
        """Make the staged files with ``manifest`` the live partition, undoably (``_unpublish``)."""

    def _unpublish(self) -> None:
        """Put the previous partition back after ``_publish`` (nothing, unless a kind overrides it)."""
        return None

    @abc.abstractmethod
    def _finish(self, manifest: bytes) -> None:
        """After the commit: remove what the previous partition left behind."""

    def _abort(self) -> None:
        """Undo what staging did outside ``scratch_dir`` (nothing, unless a kind overrides it)."""
        return None
