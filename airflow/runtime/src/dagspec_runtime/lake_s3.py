"""The S3 lake (``s3://bucket/prefix``, any S3-compatible endpoint), through s3fs.

S3 has no rename. A partition's files are uploaded under content-addressed names
(``part-00000-<sha>.parquet``) so an upload can never overwrite a file of the committed partition
with different bytes; the commit record (or, for a partition committed alone, its manifest) is
written last as the commit point; then each partition's manifest is written and files no
committed manifest lists are deleted. Readers that list the prefix may see uploads that are not
committed yet; readers that go by the record never do. An aborted write deletes only what it
uploaded; what it could not delete (the store was down) goes with the next successful commit.

Every write has a time limit (``S3Lake.write_timeout_s``): botocore asks for ``Expect:
100-continue`` on each PUT and aiohttp waits for that answer with no timeout of its own, so a store
that accepts connections and never answers (stopped, hung) would hold the extract forever.

Credentials come from the Airflow AWS connection ``conn_id`` (login/password, extra
``endpoint_url``, ``region_name``), looked up on first use, and are never logged.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

from dagspec_runtime.lake import Lake, PartitionWriter, check_sha, sha256_file

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = ["S3Lake", "S3PartitionWriter"]

log = logging.getLogger(__name__)


class S3Lake(Lake):
    protocol = "s3"
    # Seconds one PUT (a manifest, a record, a part file of at most tens of MB) may take before
    # the store counts as gone: generous for a slow link, finite for a hung store.
    write_timeout_s: float = 600.0

    def __init__(
        self, root: str, *, storage_options: dict[str, Any] | None = None, conn_id: str | None = None
    ) -> None:
        super().__init__(root)
        self._storage_options = dict(storage_options or {})
        self._conn_id = conn_id

    @cached_property
    def fs(self) -> AbstractFileSystem:
        import fsspec

        options: dict[str, Any] = {}
        if self._conn_id:
            options.update(_s3_options_from_airflow(self._conn_id))
        options.update(self._storage_options)
        # A private instance: fsspec's shared instances would share listing caches across lakes.
        options.setdefault("skip_instance_cache", True)
        return fsspec.filesystem("s3", **options)

    def write_bytes(self, rel: str, data: bytes) -> None:
        """A single PUT: atomic for readers."""
        self.fs.pipe_file(self.path(rel), data, timeout=self.write_timeout_s)
        self._invalidate(rel)

    @contextlib.contextmanager
    def local_file(self, rel: str, *, sha256: str | None = None) -> Iterator[str]:
        # Downloaded to a temporary file (sequential GETs, bounded memory), removed afterwards.
        with tempfile.TemporaryDirectory(prefix="dagspec-lake-") as tmp:
            local = os.path.join(tmp, "file")
            self.fs.get_file(self.path(rel), local)
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
        return S3PartitionWriter(self, rel_dir.strip("/"), manifest_name, committed)

    def _invalidate(self, rel: str) -> None:
        # s3fs caches listings; a lake that writes and then lists must not trust them.
        self.fs.invalidate_cache(self.path(rel))


class S3PartitionWriter(PartitionWriter):
    def __init__(
        self,
        lake: S3Lake,
        rel_dir: str,
        manifest_name: str,
        committed: Callable[[], Iterable[str]] | None = None,
    ) -> None:
        # Files are written locally first; uncommitted uploads are removed by abort or the next commit.
        scratch = tempfile.mkdtemp(prefix="dagspec-stage-")
        super().__init__(lake, rel_dir, manifest_name, scratch, committed)

    def _stage(self, local_path: str, name: str) -> None:
        lake = self.lake
        assert isinstance(lake, S3Lake)
        lake.fs.put_file(local_path, lake.path(f"{self.rel_dir}/{name}"), timeout=lake.write_timeout_s)
        os.remove(local_path)

    def _publish(self, manifest: bytes) -> None:
        # The files are in place already (content-addressed, so no committed file changed).
        shutil.rmtree(self.scratch_dir, ignore_errors=True)

    def _finish(self, manifest: bytes) -> None:
        # The partition's own manifest: one PUT, atomic for readers. When a commit record was
        # written first, this is the record's copy for tools that read one partition.
        self.lake.write_bytes(f"{self.rel_dir}/{self.manifest_name}", manifest)
        # Everything else in the folder is the previous partition or a failed attempt's leftovers.
        keep = {e.path for e in self._entries} | {self.manifest_name}
        stale = [
            self.lake.path(f"{self.rel_dir}/{n}") for n in self.lake.list_files(self.rel_dir) if n not in keep
        ]
        if stale:
            self.lake.fs.rm(stale)
            self.lake._invalidate(self.rel_dir)
            log.info("removed %d stale file(s) from %s", len(stale), self.lake.url(self.rel_dir))

    def _abort(self) -> None:
        # Uploaded files are content-addressed: one whose name the committed state lists holds
        # exactly the committed bytes, so only the others are ours to delete.
        keep = self.committed_files()
        ours = [self.lake.path(f"{self.rel_dir}/{e.path}") for e in self._entries if e.path not in keep]
        if ours:
            with contextlib.suppress(FileNotFoundError):
                self.lake.fs.rm(ours)
            self.lake._invalidate(self.rel_dir)


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
