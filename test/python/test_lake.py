"""The lake: URIs, reads and listing, and atomic partition commits on local disk and moto S3."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from dagspec_runtime.lake import Lake
from testenv import S3_KEY, S3_SECRET


def test_from_uri_forms(tmp_path: Path) -> None:
    assert Lake.from_uri(str(tmp_path)).uri == f"file://{tmp_path}"
    assert Lake.from_uri(f"file://{tmp_path}/").root == str(tmp_path)
    s3 = Lake.from_uri("s3://bucket/some/prefix/")
    assert (s3.protocol, s3.root, s3.url("raw/x")) == (
        "s3",
        "bucket/some/prefix",
        "s3://bucket/some/prefix/raw/x",
    )
    assert Lake.from_uri("s3://bucket").path("a") == "bucket/a"
    for bad in ("gs://bucket/x", "s3:///nobucket", "file://otherhost/x"):
        with pytest.raises(ValueError):
            Lake.from_uri(bad)
    with pytest.raises(ValueError, match=r"'\.\.'"):
        Lake.from_uri(str(tmp_path)).path("raw/../../etc")


def _stage(lake: Lake, rel_dir: str, tmp: Path, contents: list[bytes]) -> tuple[object, list[str]]:
    writer = lake.begin_partition(rel_dir, manifest_name="_manifest.json")
    names = []
    for i, data in enumerate(contents):
        local = Path(writer.scratch_dir) / f".in-{i}"
        local.write_bytes(data)
        names.append(writer.add_file(str(local), f"part-{i:05d}", ".bin").path)
    return writer, names


def test_partition_commit_replaces_whole_partition(lake: Lake, tmp_path: Path) -> None:
    rel = "raw/t/ds=2026-03-08"
    w1, first = _stage(lake, rel, tmp_path, [b"old-0", b"old-1", b"old-2"])
    assert lake.list_files(rel) == [] or lake.protocol == "s3"  # local: invisible until commit
    w1.commit(json.dumps({"files": [{"path": n} for n in first]}).encode())  # type: ignore[attr-defined]
    assert lake.list_files(rel) == sorted([*first, "_manifest.json"])

    w2, second = _stage(lake, rel, tmp_path, [b"new-0"])
    # Until the commit, readers still see exactly the first partition.
    assert lake.read_json(f"{rel}/_manifest.json")["files"] == [{"path": n} for n in first]
    w2.commit(json.dumps({"files": [{"path": n} for n in second]}).encode())  # type: ignore[attr-defined]
    assert lake.list_files(rel) == sorted([*second, "_manifest.json"])
    assert lake.read_bytes(f"{rel}/{second[0]}") == b"new-0"
    if lake.protocol == "file":  # no staging leftovers
        assert os.listdir(lake.path("_tmp")) == []


def test_partition_abort_keeps_committed_partition(lake: Lake, tmp_path: Path) -> None:
    rel = "raw/t/ds=2026-03-08"
    w1, first = _stage(lake, rel, tmp_path, [b"same", b"old"])
    w1.commit(json.dumps({"files": [{"path": n} for n in first]}).encode())  # type: ignore[attr-defined]
    before = {n: lake.read_bytes(f"{rel}/{n}") for n in lake.list_files(rel)}

    # Same bytes -> same content-addressed name; the abort must not delete the committed copy.
    w2, second = _stage(lake, rel, tmp_path, [b"same", b"different"])
    assert second[0] == first[0] and second[1] != first[1]
    w2.abort()  # type: ignore[attr-defined]
    assert {n: lake.read_bytes(f"{rel}/{n}") for n in lake.list_files(rel)} == before


def test_write_read_list_delete(lake: Lake) -> None:
    lake.write_bytes("a/b/one.json", b'{"x": 1}')
    lake.write_bytes("a/b/two.txt", b"two")
    lake.write_bytes("a/b/sub/three.txt", b"3")
    assert lake.read_json("a/b/one.json") == {"x": 1}
    assert lake.read_json("a/b/missing.json") is None
    assert lake.list_files("a/b") == ["one.json", "two.txt"]
    assert lake.list_dirs("a/b") == ["sub"]
    assert lake.list_files("nope") == []
    assert lake.exists("a/b/two.txt")
    lake.delete("a/b/two.txt")
    assert not lake.exists("a/b/two.txt")
    lake.delete("a", recursive=True)
    assert lake.list_files("a/b") == []


def test_s3_credentials_from_airflow_connection(
    s3_endpoint: str, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real Airflow connection lookup (environment-variable secrets backend) supplies creds + endpoint."""
    conn = {
        "conn_type": "aws",
        "login": S3_KEY,
        "password": S3_SECRET,
        "extra": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_DAGSPEC_TEST_LAKE", json.dumps(conn))
    lake = Lake.from_uri(f"s3://{s3_bucket}/viaconn", conn_id="dagspec_test_lake")
    lake.write_bytes("hello.txt", b"hi")
    assert lake.read_bytes("hello.txt") == b"hi"
    assert S3_SECRET not in repr(lake)


def test_stale_local_staging_is_removed(local_lake: Lake) -> None:
    old = Path(local_lake.path("_tmp/deadbeef"))
    old.mkdir(parents=True)
    (old / ".part-00000.inprogress").write_bytes(b"half")
    os.utime(old, (0, 0))  # a run killed long ago
    writer = local_lake.begin_partition("raw/t/ds=2026-03-08", manifest_name="_manifest.json")
    assert not old.exists() and Path(writer.scratch_dir).is_dir()  # a live staging dir stays
    assert local_lake.remove_stale_staging() == 0
    writer.abort()


def test_staging_of_a_dead_process_goes_with_the_next_commit(local_lake: Lake) -> None:
    """A killed run's staging (this host, its process gone) is removed by the next commit, however
    young; a live process's is kept."""
    import socket
    import subprocess

    host = socket.gethostname().replace("-", "_")
    dead = subprocess.Popen(["true"])
    dead.wait()
    killed = Path(local_lake.path(f"_tmp/{host}-{dead.pid}-deadbeef"))
    alive = Path(local_lake.path(f"_tmp/{host}-{os.getpid()}-cafe"))
    for d in (killed, alive):
        d.mkdir(parents=True)
        (d / ".part-00000.inprogress").write_bytes(b"half")
    writer = local_lake.begin_partition("raw/t/ds=2026-03-08", manifest_name="_manifest.json")
    writer.commit(b"{}")
    assert not killed.exists() and alive.is_dir()


def test_staging_that_goes_while_being_checked_is_no_error(
    local_lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer of this process (a parallel day of a one-pass backfill) commits or aborts its
    staging dir between the listing and the age check: the check skips it, the caller goes on."""
    live = Path(local_lake.path("_tmp/elsewhere-1-live"))
    live.mkdir(parents=True)
    listing = os.scandir

    def listed_then_gone(path: str) -> Any:
        entries = list(listing(path))
        live.rmdir()  # the owner renamed it into raw/ (or aborted) right after the listing
        return iter(entries)

    monkeypatch.setattr(os, "scandir", listed_then_gone)
    assert local_lake.remove_stale_staging() == 0
