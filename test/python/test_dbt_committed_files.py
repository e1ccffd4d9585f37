"""dbt on DuckDB reads the lake's committed files only (issue 10: nothing half-visible).

A day's partition folder can hold files that no committed record lists: on S3 a re-extract uploads
its new content-named files into ``raw/<table>/ds=<day>/`` before the day record commits them and
deletes the superseded ones only after; an aborted extract leaves what it could not delete; a
killed write can leave a damaged file. A glob of the folders (the sources' old external_location,
``raw/<table>/ds=*/*.parquet``) read all of them. The generated project now reads, through the
``committed_files`` macro its on-run-start hook defines, exactly the files of the committed day
records, and for a day from before day records, of its partition's ``_manifest.json``: only a
legacy one (no ``committed_by``); a manifest written to be committed by a day record whose record was
never written (an extract killed between swapping the partitions in and writing the record) is not read.

Real components: the runtime's extract from PostgreSQL into a local lake and into moto's S3 server,
the generated dbt pieces (profile with its fsspec S3 filesystem, ``dbt_project.yml`` with the hook,
the macro, the sources' external_location) of the golden case ``postgres_s3``, and ``dbt build`` on
DuckDB. The one model added counts what each source yields per day.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from dagspec_runtime.extract import extract_to_lake
from dagspec_runtime.lake import Lake
from dagspec_runtime.manifest import COMMITTED_BY, MANIFEST_NAME, dumps, read_manifest
from moto_s3 import s3_options
from pgsource import DST_SPRING, TABLES, TZ, create_schema, customers, day_orders, insert
from testenv import REPO

CASE = REPO / "test/cases/postgres_s3/expected/dbt/payments_daily"
DBT = Path(sys.executable).with_name("dbt")
LEGACY = (date.fromisoformat(DST_SPRING) - timedelta(days=1)).isoformat()  # before day records
ABORTED = (date.fromisoformat(DST_SPRING) + timedelta(days=1)).isoformat()  # never committed
KILLED = (date.fromisoformat(DST_SPRING) + timedelta(days=2)).isoformat()  # swapped in, no record

COUNTS = """\
{{ config(materialized="table") }}
{% for table in ['orders', 'customers'] %}
select '{{ table }}' as source_table, cast(ds as varchar) as ds, count(*) as n, count(distinct id) as ids
from {{ source('app', table) }}
group by all
{{ 'union all' if not loop.last }}
{% endfor %}
"""


def project(root: Path) -> Path:
    """The golden case's generated dbt pieces, with its source over this test's two lake tables."""
    work = root / "project"
    work.mkdir()
    for name in ("dbt_project.yml", "profiles.yml", "macros"):
        src = CASE / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, work / name)
    (source,) = yaml.safe_load((CASE / "models/sources.yml").read_text())["sources"]
    source["tables"] = [{"name": t["name"]} for t in TABLES]
    (work / "models").mkdir()
    (work / "models/sources.yml").write_text(yaml.safe_dump({"version": 2, "sources": [source]}))
    (work / "models/lake_counts.sql").write_text(COUNTS)
    return work


def build(
    work: Path, env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], dict[tuple[str, str], int]]:
    db = work.parent / "warehouse.duckdb"
    done = subprocess.run(
        [str(DBT), "build", "--project-dir", str(work), "--profiles-dir", str(work), "--target", "duckdb",
         "--vars", json.dumps({"ds": DST_SPRING})],
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DAGSPEC_DUCKDB_PATH": str(db), **env},
        cwd=work, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if done.returncode != 0:
        return done, {}
    with duckdb.connect(str(db), read_only=True) as conn:
        rows = conn.execute("select source_table, ds, n, ids from audit.lake_counts").fetchall()
    assert all(n == ids for _, _, n, ids in rows), rows  # a row read twice is a file read twice
    return done, {(t, ds): n for t, ds, n, _ in rows}


def legacy_day(lake: Lake, table: str, ds: str, *, killed: bool = False) -> int:
    """A partition committed with its own manifest and no day record, as extracts before day
    records wrote them: the committed day's file of ``table``, under ``ds``. With ``killed``, the
    manifest is the one an extract of today writes (``committed_by``), and the partition is what an
    extract killed before writing the day record leaves: in place, with no record."""
    manifest = read_manifest(lake, table, DST_SPRING)
    assert manifest[COMMITTED_BY] == "day_record"
    if not killed:
        manifest = {k: v for k, v in manifest.items() if k != COMMITTED_BY}
    writer = lake.begin_partition(f"raw/{table}/ds={ds}", manifest_name=MANIFEST_NAME)
    for f in manifest["files"]:
        with lake.local_file(f"raw/{table}/ds={DST_SPRING}/{f['path']}") as committed:
            local = os.path.join(writer.scratch_dir, "part")
            shutil.copyfile(committed, local)
            writer.add_file(local, "part-00000", ".parquet")
    writer.commit(dumps({**manifest, "ds": ds, "files": [{"path": e.path} for e in writer.entries]}))
    return int(manifest["rows"])


def put(lake: Lake, rel: str, data: bytes) -> None:
    """A file written straight into the lake, beside the extract's machinery (the fault)."""
    if lake.protocol == "file":
        path = Path(lake.path(rel))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    else:
        lake.fs.pipe_file(lake.path(rel), data)
        lake._invalidate(rel)


@pytest.fixture
def source(make_db: Any) -> str:
    conninfo = make_db("committed_files")
    create_schema(conninfo)
    insert(conninfo, "orders", day_orders(DST_SPRING, 300))
    insert(conninfo, "customers", customers(40))
    return conninfo


def test_dbt_reads_only_the_committed_files(source: str, lake: Lake, tmp_path: Path, request: Any) -> None:
    if not DBT.exists():
        pytest.fail(f"dbt is not installed at {DBT}: run scripts/setup-python.sh")
    extract_to_lake(source, lake, pipeline_id="shop", ds=DST_SPRING, timezone=TZ, tables=TABLES)
    committed = {(t["name"], DST_SPRING): read_manifest(lake, t["name"], DST_SPRING)["rows"] for t in TABLES}
    committed["orders", LEGACY] = legacy_day(lake, "orders", LEGACY)
    assert committed["orders", DST_SPRING] == 300 and committed["customers", DST_SPRING] == 40

    env = {"DAGSPEC_LAKE_URI": lake.uri}
    if lake.protocol == "s3":
        options = s3_options(request.getfixturevalue("s3_endpoint"))
        env |= {
            "DAGSPEC_S3_KEY": options["key"],
            "DAGSPEC_S3_SECRET": options["secret"],
            "DAGSPEC_S3_ENDPOINT_URL": options["client_kwargs"]["endpoint_url"],
        }
    else:
        env["DAGSPEC_LAKE_URI"] = lake.path()  # as the runtime hands a local lake to dbt
    work = project(tmp_path)
    done, counts = build(work, env)
    assert done.returncode == 0, done.stdout[-4000:]
    assert counts == committed
    # What a dbt user reads in the compiled model: the committed files of the table, by name.
    compiled = next((work / "target/compiled").rglob("lake_counts.sql")).read_text()
    assert "\"finance_raw\".committed_files('orders')" in compiled, compiled

    # The faults, each of which a glob of the folders reads: in the committed day's folder, an
    # upload of a re-extract that has not committed (or a superseded file not yet deleted), here
    # another content-named copy of the day's orders; and the uploads of an aborted extract of a
    # day never committed.
    (orders,) = read_manifest(lake, "orders", DST_SPRING)["files"]
    with lake.local_file(f"raw/orders/ds={DST_SPRING}/{orders['path']}") as local:
        data = Path(local).read_bytes()
    put(lake, f"raw/orders/ds={DST_SPRING}/part-00000-0123456789abcdef.parquet", data)
    put(lake, f"raw/orders/ds={ABORTED}/{orders['path']}", data)
    done, counts = build(work, env)
    assert done.returncode == 0, done.stdout[-4000:]
    assert counts == committed  # no row twice, no uncommitted day

    # A day's partition swapped into place by an extract killed before it wrote the day's record:
    # its manifest waits for a record (committed_by), so it is no legacy day's, and not read.
    legacy_day(lake, "orders", KILLED, killed=True)
    assert lake.read_json(f"raw/orders/ds={KILLED}/{MANIFEST_NAME}") is not None
    done, counts = build(work, env)
    assert done.returncode == 0, done.stdout[-4000:]
    assert counts == committed  # the legacy day read, the half-written one not

    # A damaged file beside the committed ones (a write cut short) is never opened.
    put(lake, f"raw/customers/ds={DST_SPRING}/part-00001-fedcba9876543210.parquet", b"PAR1 cut short")
    done, counts = build(work, env)
    assert done.returncode == 0, done.stdout[-4000:]
    assert counts == committed

    # A day record names the day's files even where its folder's own manifest says otherwise.
    record = json.loads(lake.read_bytes(f"_days/ds={DST_SPRING}.json"))
    put(lake, f"raw/orders/ds={DST_SPRING}/{MANIFEST_NAME}", b"{}")
    done, counts = build(work, env)
    assert done.returncode == 0 and counts == committed, done.stdout[-4000:]
    assert json.loads(lake.read_bytes(f"_days/ds={DST_SPRING}.json")) == record


def test_a_lake_with_nothing_committed_names_the_table(tmp_path: Path) -> None:
    """Only uncommitted uploads in the lake: the build fails naming the table, reads nothing."""
    lake = Lake.from_uri(str(tmp_path / "lake"))
    put(lake, f"raw/orders/ds={ABORTED}/part-00000-0123456789abcdef.parquet", b"PAR1 cut short")
    with tempfile.TemporaryDirectory() as scratch:
        work = project(Path(scratch))
        done, _ = build(work, {"DAGSPEC_LAKE_URI": lake.path()})
    assert done.returncode != 0
    assert "commits no partition of orders" in done.stdout, done.stdout[-4000:]


def test_one_parse_serves_builds_of_a_changing_lake(source: str, local_lake: Lake, tmp_path: Path) -> None:
    """Through the runtime's build (``dbt_runner.run_build``: saved parse, day as a build var): the
    files are listed when each build starts, so a day committed after the parse is read by the
    next build without a new parse."""
    from dagspec_runtime.dbt_runner import run_build

    extract_to_lake(source, local_lake, pipeline_id="shop", ds=DST_SPRING, timezone=TZ, tables=TABLES)
    work = project(tmp_path)
    db = tmp_path / "warehouse.duckdb"
    env = {"DAGSPEC_LAKE_URI": local_lake.path(), "DAGSPEC_DUCKDB_PATH": str(db)}

    def runtime_build(name: str) -> tuple[str, dict[tuple[str, str], int]]:
        result = run_build(
            dbt_bin=str(DBT), project_dir=str(work), target="duckdb", ds=DST_SPRING,
            work_dir=str(tmp_path / name), env=env, parse_cache_root=str(tmp_path / "parse"),
        )  # fmt: skip
        out = "\n".join(result.log_tail)
        assert result.returncode == 0, out
        with duckdb.connect(str(db), read_only=True) as conn:
            rows = conn.execute("select source_table, ds, n from audit.lake_counts").fetchall()
        return out, {(t, ds): n for t, ds, n in rows}

    out, counts = runtime_build("first")
    assert "saved this project's parse" in out, out
    assert counts == {("orders", DST_SPRING): 300, ("customers", DST_SPRING): 40}
    legacy_day(local_lake, "orders", LEGACY)
    out, counts = runtime_build("second")
    assert "saved this project's parse" not in out and "parsing" not in out.lower(), out
    assert counts == {("orders", DST_SPRING): 300, ("customers", DST_SPRING): 40, ("orders", LEGACY): 300}
