"""Faults while a day is being published: one commit point per report day.

Each fault is real and injected at a precise point: a partition folder that cannot be written
(chmod, or the immutable attribute when the tests run as root, whom chmod does not stop) and an
S3-compatible store (a private moto server) made unreachable or hung (SIGSTOP) from the
extract's own hook between two tables' uploads or just before the commit. After each, the
previous committed day is what every reader sees, byte for byte, and the next successful run
commits and cleans up.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagspec_runtime.extract import extract_to_lake
from dagspec_runtime.lake import Lake, PartitionWriteError
from dagspec_runtime.manifest import COMMITTED_BY, dumps, read_day, read_manifest, read_manifests
from dagspec_runtime.warehouse_load import load_partitions_to_postgres
from moto_s3 import s3_options, start_moto
from netgate import TcpGate
from pgsource import DST_SPRING, TABLES, TZ, create_schema, customers, day_orders, insert

LAST = TABLES[-1]["name"]  # published last: a failure there comes after the others were swapped in


@pytest.fixture
def source(make_db: Any) -> str:
    conninfo = make_db("faults")
    create_schema(conninfo)
    insert(conninfo, "orders", day_orders(DST_SPRING, 300))
    insert(conninfo, "customers", customers(40))
    return conninfo


def extract(conninfo: str, lake: Lake, **kwargs: Any) -> dict[str, Any]:
    return extract_to_lake(
        conninfo, lake, pipeline_id="shop", ds=DST_SPRING, timezone=TZ, tables=TABLES, **kwargs
    )


def change_source(conninfo: str) -> None:
    """Changes that give every table of the day a different partition."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("DELETE FROM app.orders WHERE id > 100")
        conn.execute("UPDATE app.customers SET name = 'renamed' WHERE id = 1")


def committed_view(lake: Lake) -> dict[str, Any]:
    """What a reader sees of the day: the record, and every table's rows read through it."""
    view: dict[str, Any] = {"record": lake.read_bytes(f"_days/ds={DST_SPRING}.json")}
    for spec in TABLES:
        table = spec["name"]
        manifest = read_manifest(lake, table, DST_SPRING)
        parts = []
        for f in manifest["files"]:
            with lake.local_file(f"raw/{table}/ds={DST_SPRING}/{f['path']}", sha256=f["sha256"]) as local:
                parts.append(pq.read_table(local))
        view[table] = pa.concat_tables(parts).to_pylist()
    return view


def folder_matches_record(lake: Lake) -> None:
    """Every partition folder holds exactly its committed files: nothing left by failed attempts."""
    day = read_day(lake, DST_SPRING)
    assert day is not None
    for table, manifest in day.items():
        rel = f"raw/{table}/ds={DST_SPRING}"
        assert lake.list_files(rel) == sorted([f["path"] for f in manifest["files"]] + ["_manifest.json"])
        assert lake.read_json(f"{rel}/_manifest.json") == manifest  # the folder's copy agrees


@contextlib.contextmanager
def unwritable(folder: Path) -> Iterator[None]:
    """``folder`` cannot be written (entries neither added, removed nor renamed) until the end."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(folder)], capture_output=True).returncode:
        pytest.skip("running as root, and the filesystem has no immutable attribute (chattr +i) to stop root")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(folder)], check=True)


def test_later_table_failing_leaves_the_whole_day_at_its_previous_version(
    source: str, local_lake: Lake
) -> None:
    extract(source, local_lake)
    before = committed_view(local_lake)
    files_before = {t["name"]: local_lake.list_files(f"raw/{t['name']}/ds={DST_SPRING}") for t in TABLES}
    change_source(source)

    with unwritable(Path(local_lake.path(f"raw/{LAST}"))):
        with pytest.raises(PartitionWriteError) as failure:
            extract(source, local_lake)
    # The error names the partition being written, not where it was staged.
    assert f"raw/{LAST}/ds={DST_SPRING}" in str(failure.value)
    assert "_tmp" not in str(failure.value)

    # The tables published before the failing one were put back: the day is the previous one.
    assert committed_view(local_lake) == before
    assert {
        t["name"]: local_lake.list_files(f"raw/{t['name']}/ds={DST_SPRING}") for t in TABLES
    } == files_before
    assert local_lake.list_dirs("_tmp") == []

    # Once the folder is writable again, the next run commits the new day whole.
    extract(source, local_lake)
    after = committed_view(local_lake)
    assert len(after["orders"]) == 100 and after["customers"][0]["name"] == "renamed"
    folder_matches_record(local_lake)
    assert local_lake.list_dirs("_tmp") == []


def test_staging_errors_name_the_partition(source: str, local_lake: Lake) -> None:
    extract(source, local_lake)
    before = committed_view(local_lake)
    change_source(source)
    staging = Path(local_lake.path("_tmp"))
    staging.mkdir(exist_ok=True)
    with unwritable(staging):
        with pytest.raises(
            PartitionWriteError, match=rf"staging partition \S+/raw/\w+/ds={DST_SPRING}:"
        ) as e:
            extract(source, local_lake)
    assert "_tmp" not in str(e.value)
    assert committed_view(local_lake) == before


@dataclass
class FlakyS3:
    """A lake on a private moto server, behind a gate: the test makes the store go away
    (``down``: connections refused) or hang (``hung``: the server process stopped, SIGSTOP, so it
    accepts connections and never answers), and brings it back."""

    lake: Lake
    gate: TcpGate
    server: subprocess.Popen[bytes]

    def stop(self, how: str) -> None:
        if how == "down":
            self.gate.close()
        else:
            self.server.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.server.send_signal(signal.SIGCONT)
        if self.gate._listener is None:
            self.gate.open()


@pytest.fixture
def flaky_s3() -> Iterator[FlakyS3]:
    import boto3

    proc, endpoint = start_moto()
    try:
        gate = TcpGate(int(endpoint.rsplit(":", 1)[1]))
        bucket = f"dagspec-{uuid.uuid4().hex[:12]}"
        options = s3_options(gate.endpoint)
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=options["key"],
            aws_secret_access_key=options["secret"],
        ).create_bucket(Bucket=bucket)
        # One attempt per request and short timeouts: a refused or unanswered request fails in
        # about a second instead of after minutes of backoff.
        options["config_kwargs"] = {
            "connect_timeout": 1,
            "read_timeout": 1,
            "retries": {"max_attempts": 1, "mode": "standard"},
        }
        lake = Lake.from_uri(f"s3://{bucket}/lake", storage_options=options)
        lake.fs.retries = 1  # s3fs's own retry loop (a class attribute, not an option)
        lake.write_timeout_s = 2  # type: ignore[attr-defined]  # what a PUT to a hung store gets
        yield FlakyS3(lake, gate, proc)
        gate.close()
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("how", ["down", "hung"])
@pytest.mark.parametrize("stop_after", ["orders", LAST], ids=["between-uploads", "before-commit"])
def test_s3_store_stopped_mid_extract_keeps_the_committed_day(
    source: str, flaky_s3: FlakyS3, stop_after: str, how: str
) -> None:
    """The store goes away or hangs after one table's files are uploaded (the next table's uploads
    fail), or after every table's (the commit fails): no partial partition becomes visible."""
    lake = flaky_s3.lake
    extract(source, lake)
    before = committed_view(lake)
    change_source(source)

    def stop_store(table: str, summary: dict[str, Any]) -> None:
        if table == stop_after:
            flaky_s3.stop(how)

    started = time.monotonic()
    try:
        with pytest.raises(PartitionWriteError) as failure:
            extract(source, lake, on_table_extracted=stop_store, parallel_tables=1)
    finally:
        flaky_s3.resume()
    assert time.monotonic() - started < 60  # failed, not held: a hung store must not hang the run
    message = str(failure.value)
    assert f"/raw/{LAST}/ds={DST_SPRING}" in message or f"_days/ds={DST_SPRING}.json" in message, message
    assert "dagspec-stage" not in message

    # Readers see the previous day, byte for byte: the record and every file it names.
    assert committed_view(lake) == before
    if stop_after == "orders":  # the new orders files are up, but nothing names them
        assert set(lake.list_files(f"raw/orders/ds={DST_SPRING}")) > {
            f["path"] for f in read_manifest(lake, "orders", DST_SPRING)["files"]
        }

    # The uploads the abort could not delete (the store was gone) go with the next commit.
    extract(source, lake)
    after = committed_view(lake)
    assert len(after["orders"]) == 100 and after["customers"][0]["name"] == "renamed"
    folder_matches_record(lake)


def test_commit_record_failing_puts_every_partition_back(local_lake: Lake, tmp_path: Path) -> None:
    """Both partitions are swapped in, then the record cannot be written: both are swapped back."""

    def stage(rel: str, data: bytes) -> tuple[Any, bytes]:
        writer = local_lake.begin_partition(rel, manifest_name="_manifest.json")
        local = Path(writer.scratch_dir) / ".in"
        local.write_bytes(data)
        entry = writer.add_file(str(local), "part-00000", ".bin")
        return writer, json.dumps({"files": [{"path": entry.path}]}).encode()

    rels = ["raw/a/ds=2026-03-08", "raw/b/ds=2026-03-08"]
    local_lake.commit_partitions([stage(r, b"old") for r in rels], record=("_days/ds=2026-03-08.json", b"v1"))

    def contents() -> dict[str, dict[str, bytes]]:
        return {r: {n: local_lake.read_bytes(f"{r}/{n}") for n in local_lake.list_files(r)} for r in rels}

    before = contents()

    with unwritable(Path(local_lake.path("_days"))):
        with pytest.raises(PartitionWriteError, match=r"committing \S+/_days/ds=2026-03-08\.json"):
            local_lake.commit_partitions(
                [stage(r, b"new") for r in rels], record=("_days/ds=2026-03-08.json", b"v2")
            )
    assert {
        r: {n: local_lake.read_bytes(f"{r}/{n}") for n in local_lake.list_files(r)} for r in rels
    } == before
    assert local_lake.read_bytes("_days/ds=2026-03-08.json") == b"v1"
    assert local_lake.list_dirs("_tmp") == []


# The extract in a process of its own, killed (SIGKILL: no unwinding, no rollback) at the one point
# where a local lake holds every table's new partition swapped into place and no day record yet.
KILLED_BEFORE_THE_RECORD = """
import json, os, signal, sys
from dagspec_runtime.extract import extract_to_lake
from dagspec_runtime.lake import Lake
conninfo, uri, ds, tz, tables = sys.argv[1:]
lake = Lake.from_uri(uri)
write_bytes = type(lake).write_bytes
def killed_at_the_record(self, rel, data):
    if rel.startswith("_days/"):
        os.kill(os.getpid(), signal.SIGKILL)
    return write_bytes(self, rel, data)
type(lake).write_bytes = killed_at_the_record
extract_to_lake(conninfo, lake, pipeline_id="shop", ds=ds, timezone=tz, tables=json.loads(tables))
"""


def test_extract_killed_before_the_record_of_a_new_day_shows_nothing(
    source: str, local_lake: Lake, make_db: Any
) -> None:
    """Issue 10: an extract killed after swapping a day's partitions in and before writing the day
    record, for a day never committed, leaves partitions whose own manifests exist and no record.
    Those manifests say they wait for a record (``committed_by``), so no reader takes them for a
    legacy day's: the Python readers, the extract's own history lookup and PostgreSQL's load
    all find the day not committed. A real legacy partition (a manifest without the field) still reads."""
    args = [source, local_lake.uri, DST_SPRING, TZ, json.dumps(TABLES)]
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_BEFORE_THE_RECORD, *args], capture_output=True, text=True, timeout=120
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert local_lake.read_json(f"_days/ds={DST_SPRING}.json") is None
    for spec in TABLES:  # the half-written day: every partition in place with its manifest
        own = local_lake.read_json(f"raw/{spec['name']}/ds={DST_SPRING}/_manifest.json")
        assert own is not None and own[COMMITTED_BY] == "day_record"
        with pytest.raises(FileNotFoundError, match="not committed"):
            read_manifest(local_lake, spec["name"], DST_SPRING)
    with pytest.raises(FileNotFoundError, match="not committed"):
        read_manifests(local_lake, [t["name"] for t in TABLES], DST_SPRING)
    warehouse = make_db("faults_wh")
    with pytest.raises(FileNotFoundError, match="not committed"):
        load_partitions_to_postgres(warehouse, local_lake, ds=DST_SPRING, tables=TABLES, raw_schema="raw")
    with psycopg.connect(warehouse) as conn:  # failed before touching the warehouse
        assert conn.execute("SELECT to_regnamespace('raw') IS NULL").fetchone() == (True,)

    # The next run commits the day whole, over what the killed one left.
    extract(source, local_lake)
    view = committed_view(local_lake)
    assert len(view["orders"]) == 300 and len(view["customers"]) == 40
    folder_matches_record(local_lake)

    # A partition from before day records (its manifest has no committed_by, the day no record)
    # is a committed legacy day, read through its own manifest as before.
    record = local_lake.read_json(f"_days/ds={DST_SPRING}.json")
    os.remove(local_lake.path(f"_days/ds={DST_SPRING}.json"))
    for spec in TABLES:
        rel = f"raw/{spec['name']}/ds={DST_SPRING}/_manifest.json"
        legacy = {k: v for k, v in record["tables"][spec["name"]].items() if k != COMMITTED_BY}
        Path(local_lake.path(rel)).write_bytes(dumps(legacy))
    assert committed_view_legacy(local_lake) == {t: view[t] for t in view if t != "record"}
    assert read_manifests(local_lake, [t["name"] for t in TABLES], DST_SPRING)["orders"]["rows"] == 300


def committed_view_legacy(lake: Lake) -> dict[str, Any]:
    """``committed_view`` for a day without a record: every table's rows read through its manifest."""
    view: dict[str, Any] = {}
    for spec in TABLES:
        table = spec["name"]
        parts = []
        for f in read_manifest(lake, table, DST_SPRING)["files"]:
            with lake.local_file(f"raw/{table}/ds={DST_SPRING}/{f['path']}", sha256=f["sha256"]) as local:
                parts.append(pq.read_table(local))
        view[table] = pa.concat_tables(parts).to_pylist()
    return view
