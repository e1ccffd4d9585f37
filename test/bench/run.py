"""`npm run bench`: side-by-side benchmarks, interleaved runs, medians; never asserted in tests.

    .venv/bin/python test/bench/run.py [--sizes 1000000 5000000] [--reps 5] [--fresh]
        [--only extract gen users dbt backfill] [--backfill-reps 1]

Writes test-artifacts/bench/bench.md (the table the README's performance section shows) and
bench.json (every sample). Run it under the shared lock on a machine others use:
``flock /tmp/dagspec-heavy.lock npm run bench``; the report records the load average before and
after, since other work on the machine inflates wall times.

Comparisons:
- extract of one day of orders (1M and 5M rows) into Parquet: dagspec's extract vs ``psql \\copy``
  of the same query to /dev/null (the practical ceiling) vs the pandas path SqlToS3Operator takes
  vs an ADBC ``fetch_arrow_table`` + ``write_table`` script (in a scratch venv made here);
- ``gen build`` of the seed spec and of 50 pipelines, each a fresh process;
- the seed's ``users`` for one report day of a 60-day demo source (``node bin/demo-shop.js``):
  copied whole (``mode: "snapshot"``) vs only its changed rows (``mode: "history"``);
- the ``dbt_build`` task's dbt run on a demo-sized day (test/bench/dbt_lake.py): wall time against
  the sum of its nodes' execution times, the way it ran before (``dbt build`` CLI, a full parse
  every day) against ``run_build`` now (forked by the warm dbt server), in a new process with the
  parse reused or in full, and dbt's programmatic runner in the same process; and the daily build
  with 60 against 15 days of history;
- a backfill of 30 report days of the seed pipeline in a real local Airflow stack
  (test/bench/backfill_contenders.py): ``airflow backfill create`` as ``gen airflow backfill`` runs
  it (one DAG run per day) against one run of the ``<pipeline_id>__backfill`` DAG, wall time, task
  seconds per task id and the KPI rows each published. Its own rounds: ``--backfill-reps`` (1).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import backfill_contenders  # noqa: E402
import orders_source as src  # noqa: E402
from harness import Contender, interleaved, summarise  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "test-artifacts" / "bench"
PYTHON = str(REPO / ".venv" / "bin" / "python")
ADBC_VENV = REPO / ".cache" / "bench" / "adbc-venv"
# The ADBC contender's packages, from PyPI; pyarrow is the version dagspec's runtime pins, so the
# Parquet writer is the same on both sides.
ADBC_PACKAGES = ["adbc-driver-postgresql==1.13.0", "adbc-driver-manager==1.13.0", "pyarrow==26.0.1"]
# pandas (with numpy) is no dependency of dagspec: the pandas contender imports it from this folder,
# installed from PyPI next to the project venv's Airflow, its provider hooks and SQLAlchemy.
PANDAS_SITE = REPO / ".cache" / "bench" / "pandas-site"
PANDAS_PACKAGES = ["pandas==2.3.3", "numpy==2.3.5"]
HERE = Path(__file__).resolve().parent


def log(msg: str) -> None:
    print(msg, flush=True)


# -- machine -----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    pg = subprocess.run(
        ["psql", "-X", "-At", "-d", src.ADMIN, "-c", "SHOW server_version"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_gib, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "node": subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip(),
        "postgres": pg,
        "commit": subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip(),
    }


# -- extract -----------------------------------------------------------------------------------


def adbc_python() -> str:
    """The scratch venv's interpreter, creating the venv from PyPI on first use."""
    stamp = ADBC_VENV / ".packages"
    want = "\n".join(ADBC_PACKAGES)
    py = ADBC_VENV / "bin" / "python"
    if not (stamp.exists() and stamp.read_text() == want and py.exists()):
        log(f"creating the ADBC scratch venv {ADBC_VENV.relative_to(REPO)} ({', '.join(ADBC_PACKAGES)})")
        shutil.rmtree(ADBC_VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(ADBC_VENV)], check=True)
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *ADBC_PACKAGES], check=True
        )
        stamp.write_text(want)
    return str(py)


def pandas_site() -> str:
    """A --target folder holding pandas and numpy for the project venv, made on first use."""
    stamp = PANDAS_SITE / ".packages"
    want = "\n".join(PANDAS_PACKAGES)
    if not (stamp.exists() and stamp.read_text() == want):
        log(f"installing {', '.join(PANDAS_PACKAGES)} into {PANDAS_SITE.relative_to(REPO)}")
        shutil.rmtree(PANDAS_SITE, ignore_errors=True)
        # --no-deps: their other dependencies (python-dateutil, pytz, tzdata) come with Airflow.
        subprocess.run(
            [
                PYTHON,
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "--no-deps",
                "--target",
                str(PANDAS_SITE),
                *PANDAS_PACKAGES,
            ],
            check=True,
        )
        stamp.write_text(want)
    return str(PANDAS_SITE)


def parquet_facts(out_dir: Path, expected_sum: Decimal, check_values: bool) -> dict[str, Any]:
    """Types the contender stored amount and created_at as, and whether amounts kept every cent."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    files = sorted(out_dir.rglob("*.parquet"))
    facts: dict[str, Any] = {"parquet_bytes": sum(f.stat().st_size for f in files)}
    if not files:
        return facts
    schema = pq.read_schema(files[0])
    amount_type = schema.field("amount").type
    facts["amount_type"] = _type_label(amount_type)
    facts["created_at_type"] = _type_label(schema.field("created_at").type)
    if check_values:
        col = pq.read_table(files, columns=["amount"]).column("amount")
        if isinstance(amount_type, pa.BaseExtensionType):
            # e.g. ADBC's arrow.opaque for numeric: judge the values it stores.
            col = pa.chunked_array([c.storage for c in col.chunks], type=amount_type.storage_type)
            facts["amount_type"] = _type_label(amount_type)
            amount_type = amount_type.storage_type
        if pa.types.is_decimal(amount_type):
            total = pc.sum(col).as_py()
        elif pa.types.is_string(amount_type) or pa.types.is_large_string(amount_type):
            # pandas' astype(str) writes NULL as the text 'None'.
            total = sum((Decimal(v) for v in col.to_pylist() if v not in (None, "None")), Decimal(0))
        else:
            # A binary float cannot hold 0.01: not exact, whatever its sum happens to print as.
            total = None
        facts["amount_sum_exact"] = total == expected_sum
    return facts


def _type_label(t: Any) -> str:
    import pyarrow as pa

    if isinstance(t, pa.BaseExtensionType):
        return f"{t.extension_name} over {t.storage_type}"
    return str(t)


def extract_contenders(
    rows: int, scratch: Path, compare: list[tuple[str, str]], with_pandas: bool
) -> list[Contender]:
    expected = _expected_sum(rows)
    checked: set[str] = set()

    def after(name: str, out_dir: Path):
        def inspect() -> dict[str, Any]:
            # The value check reads every amount back: once per contender and size is enough.
            facts = parquet_facts(out_dir, expected, check_values=name not in checked)
            checked.add(name)
            shutil.rmtree(out_dir, ignore_errors=True)
            return facts

        return inspect

    def out(name: str) -> Path:
        return scratch / f"{name}-{rows}"

    copy_cmd = f"\\copy ({src.QUERY}) to '/dev/null' (format csv)"
    adbc_py = adbc_python()
    # Other versions of the runtime (--compare LABEL=PATH), e.g. main before a change.
    others = [
        Contender(
            f"dagspec extract ({label})",
            [PYTHON, str(HERE / "extract_contenders.py"), "dagspec", str(rows), str(out(label))],
            env={"DAGSPEC_BENCH_RUNTIME": path},
            shown=f"DAGSPEC_BENCH_RUNTIME={path} .venv/bin/python test/bench/extract_contenders.py "
            f"dagspec {rows} <lake>",
            after=after(label, out(label)),
        )
        for label, path in compare
    ]
    pandas = [
        Contender(
            "pandas (SqlToS3Operator)",
            [PYTHON, str(HERE / "extract_contenders.py"), "pandas", str(rows), str(out("pandas"))],
            env={"PYTHONPATH": pandas_site()},
            # Ten times slower than the rest and already far off: one run per size is enough.
            max_runs=1,
            shown=f"PYTHONPATH=.cache/bench/pandas-site .venv/bin/python test/bench/extract_contenders.py "
            f"pandas {rows} <dir>",
            after=after("pandas", out("pandas")),
        ),
    ]
    return (
        others
        + [
            Contender(
                "psql \\copy to /dev/null",
                ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-d", src.conninfo(rows), "-c", copy_cmd],
                shown=f"psql -X -d {src.database_name(rows)} "
                "-c \"\\copy (<query>) to '/dev/null' (format csv)\"",
            ),
            Contender(
                "dagspec extract",
                [PYTHON, str(HERE / "extract_contenders.py"), "dagspec", str(rows), str(out("dagspec"))],
                shown=f".venv/bin/python test/bench/extract_contenders.py dagspec {rows} <lake>",
                after=after("dagspec", out("dagspec")),
            ),
            Contender(
                "ADBC fetch_arrow_table",
                [adbc_py, str(HERE / "adbc_extract.py"), src.uri(rows), src.QUERY, str(out("adbc"))],
                shown=".cache/bench/adbc-venv/bin/python test/bench/adbc_extract.py "
                f"{src.uri(rows)} <query> <dir>",
                after=after("adbc", out("adbc")),
            ),
        ]
        + (pandas if with_pandas else [])
    )


def _expected_sum(rows: int) -> Decimal:
    import psycopg

    q = f"SELECT sum(amount) FROM ({src.QUERY}) q"
    with psycopg.connect(src.conninfo(rows)) as conn:
        row = conn.execute(q).fetchone()
    return row[0] if row else Decimal(0)


def extract_section(
    rows: int, reps: int, fresh: bool, scratch: Path, compare: list[tuple[str, str]], with_pandas: bool
) -> dict[str, Any]:
    src.ensure_database(rows, fresh=fresh, log=log)
    contenders = extract_contenders(rows, scratch, compare, with_pandas)
    log(f"\nextract, {rows} rows of one day, {reps} interleaved rounds")
    runs = interleaved(contenders, reps, log)
    results = []
    for c in contenders:
        rs = runs[c.name]
        # psql has no in-process timer: its process wall is its work (start-up is a few ms).
        s = summarise(rs, seconds=lambda r: r.report.get("seconds", r.wall_s))
        s["rows_per_s_median"] = round(rows / s["median_s"])
        s["process_wall_median_s"] = round(statistics.median(r.wall_s for r in rs), 3)
        facts = {k: v for r in rs for k, v in r.report.items() if k not in ("seconds", "rows", "bytes")}
        for r in rs:
            if "rows" in r.report and r.report["rows"] != rows:
                raise RuntimeError(f"{c.name} wrote {r.report['rows']} rows, expected {rows}")
        results.append({"name": c.name, "command": c.shown, **s, **facts})
    base = next(r for r in results if r["name"].startswith("psql"))
    for r in results:
        r["x_psql"] = round(r["rows_per_s_median"] / base["rows_per_s_median"], 2)
    return {"rows": rows, "contenders": results}


# -- gen build ---------------------------------------------------------------------------------


def gen_fixture(root: Path, copies: int) -> Path:
    """A project with ``copies`` copies of the seed spec under distinct pipeline ids."""
    text = (REPO / "specs" / "daily_metrics.pipeline.ts").read_text()
    specs = root / "specs"
    specs.mkdir(parents=True)
    for i in range(copies):
        renamed = text.replace('id: "daily_metrics_pipeline"', f'id: "daily_metrics_pipeline_{i:02d}"')
        if renamed == text:
            raise RuntimeError("seed spec id not found: update test/bench/run.py")
        (specs / f"daily_metrics_{i:02d}.pipeline.ts").write_text(renamed)
    return root


def gen_section(reps: int, scratch: Path, compare: list[tuple[str, str]]) -> dict[str, Any]:
    fifty = gen_fixture(scratch / "gen-50", 50)
    gen = str(REPO / "bin" / "gen.js")
    contenders = [
        Contender(
            "gen build --check (seed spec)",
            ["node", gen, "build", "--check"],
            cwd=str(REPO),
            shown="node bin/gen.js build --check",
        ),
        Contender(
            "same, no transpile cache",
            ["node", gen, "build", "--check"],
            cwd=str(REPO),
            env={"JITI_FS_CACHE": "false"},
            shown="JITI_FS_CACHE=false node bin/gen.js build --check",
        ),
        Contender(
            "gen build, 50 pipelines",
            ["node", gen, "build", "--root", str(fifty)],
            shown="node bin/gen.js build --root <50 copies of the seed spec>",
        ),
        # Another checkout's compiler (--compare-gen LABEL=CHECKOUT) on its own seed spec.
        *(
            Contender(
                f"gen build --check ({label})",
                ["node", f"{path}/bin/gen.js", "build", "--check"],
                cwd=path,
                shown=f"cd {path} && node bin/gen.js build --check",
            )
            for label, path in compare
        ),
    ]
    # One unrecorded run fills jiti's transpile cache, as any earlier `gen` command would have.
    interleaved(contenders[:1], 1, lambda _m: None)
    log(f"\ngen build, {reps} interleaved rounds (each a fresh process; type check included)")
    runs = interleaved(contenders, reps, log)
    results = [
        {"name": c.name, "command": c.shown, **summarise(runs[c.name], seconds=lambda r: r.wall_s)}
        for c in contenders
    ]
    return {"contenders": results}


# -- users: snapshot vs history --------------------------------------------------------------

USERS_DB = "dagspec_bench_users"
USERS_DAYS = 60
USERS_END_DAY = "2026-11-26"


def users_section(reps: int, scratch: Path) -> dict[str, Any]:
    """One report day of ``app.users`` after 60 days of a demo source, both ways.

    The demo generator (re-used when already seeded with the same parameters) writes users who sign
    up every day and a few per mille who change their profile each day, with ``updated_at``. The
    report day is the source's last day, so its changed rows are one day's changes, as in daily
    operation (an earlier day would also hold every later change, the source keeping only the
    newest form of a row). The history run builds on the day before's partition, extracted once.
    """
    url = f"postgresql://postgres@127.0.0.1:5432/{USERS_DB}"
    log(f"\nusers: demo source of {USERS_DAYS} days through {USERS_END_DAY} ({USERS_DB})")
    subprocess.run(
        ["node", str(REPO / "bin" / "demo-shop.js"), "--database-url", url, "--days", str(USERS_DAYS),
         "--end-day", USERS_END_DAY],
        check=True, cwd=REPO, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    conninfo = f"host=127.0.0.1 port=5432 user=postgres dbname={USERS_DB}"
    day = USERS_END_DAY
    before = (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()
    script = str(HERE / "users_contenders.py")
    lakes = {mode: scratch / f"users-{mode}" for mode in ("snapshot", "history")}
    # The day before, once and untimed: the partition a changed-rows day builds on.
    subprocess.run([PYTHON, script, "history", conninfo, before, str(lakes["history"])], check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    contenders = [
        Contender(
            f"users as {mode}",
            [PYTHON, script, mode, conninfo, day, str(lakes[mode])],
            shown=f".venv/bin/python test/bench/users_contenders.py {mode} <{USERS_DB}> {day} <lake>",
        )
        for mode in ("snapshot", "history")
    ]
    log(f"\nusers of {day}, {reps} interleaved rounds")
    runs = interleaved(contenders, reps, log)
    import psycopg

    with psycopg.connect(conninfo) as conn:
        (table_rows,) = conn.execute("SELECT count(*) FROM app.users").fetchone() or (0,)
    results = []
    for c in contenders:
        rs = runs[c.name]
        s = summarise(rs, seconds=lambda r: r.report["seconds"])
        last = rs[-1].report
        results.append({"name": c.name, "command": c.shown, **s, "rows": last["rows"],
                        "bytes": last["bytes"], "taken": last["taken"]})  # fmt: skip
    return {"day": day, "days": USERS_DAYS, "table_rows": table_rows, "contenders": results}


# -- dbt build -----------------------------------------------------------------------------------

DBT_DAY = dt.date(2026, 11, 26)  # the demo's report day in the README


def dbt_section(reps: int, scratch: Path) -> dict[str, Any]:
    from dbt_lake import make_lake

    project = scratch / "dbt" / "daily_metrics_pipeline"
    shutil.copytree(REPO / "generated" / "dbt" / "daily_metrics_pipeline", project)
    cache = scratch / "dbt-parse"
    driver = str(HERE / "dbt_contenders.py")

    def setup(days: int) -> dict[str, str]:
        lake = make_lake(scratch / f"dbt-lake-{days}", last_day=DBT_DAY, days=days)
        db = scratch / f"dbt-warehouse-{days}" / "daily_metrics_pipeline.duckdb"
        db.parent.mkdir(parents=True)
        return {"DAGSPEC_LAKE_URI": str(lake), "DAGSPEC_DUCKDB_PATH": str(db)}

    h15, h60 = setup(15), setup(60)
    runs_dir = scratch / "dbt-runs"

    def contender(name: str, mode: str, env: dict[str, str], shown: str, *, cached: bool = True) -> Contender:
        def clean() -> dict[str, Any]:
            shutil.rmtree(runs_dir, ignore_errors=True)
            return {}

        # One saved parse per lake and warehouse: the project reads their paths with env_var(),
        # so dbt rightly parses again when they change, and contenders on the 15- and 60-day lakes
        # sharing one cache would each find the other's parse stale (as two deployments never do).
        saved = [str(cache / Path(env["DAGSPEC_LAKE_URI"]).name)] if cached else []
        return Contender(
            name,
            [PYTHON, driver, mode, str(project), DBT_DAY.isoformat(), str(runs_dir), *saved],
            env=env,
            shown=shown,
            after=clean,
        )

    day = DBT_DAY.isoformat()
    off = {"DAGSPEC_DBT_WARM": "off"}
    # The warm server the bench starts goes away 5 minutes after its last build.
    h15, h60 = {**h15, "DAGSPEC_DBT_WARM": "300"}, {**h60, "DAGSPEC_DBT_WARM": "300"}
    contenders = [
        contender(
            "dbt build CLI, full parse (before)",
            "cli",
            h15,
            f'dbt build --vars \'{{"ds": "{day}"}}\' --target-path <fresh> (15 days of history)',
        ),
        contender(
            "run_build, warm dbt server",
            "run_build",
            h15,
            f".venv/bin/python test/bench/dbt_contenders.py run_build <project> {day} <work> <cache> "
            "(the default: forked by the warm server, which the first build started)",
        ),
        contender(
            "run_build, new process, parse reused",
            "run_build",
            {**h15, **off},
            "same with DAGSPEC_DBT_WARM=off (a new dbt process per build, as before this change)",
        ),
        contender(
            "run_build, new process, full parse",
            "run_build",
            {**h15, **off, "DAGSPEC_DBT_PARSE_CACHE": "off"},
            "same with DAGSPEC_DBT_WARM=off DAGSPEC_DBT_PARSE_CACHE=off and no cache",
            cached=False,
        ),
        contender(
            "dbtRunner in-process, parse reused",
            "inprocess",
            h15,
            f".venv/bin/python test/bench/dbt_contenders.py inprocess <project> {day} <work> <cache>",
        ),
        contender(
            "run_build, warm dbt server, 60 days of history",
            "run_build",
            h60,
            "run_build (warm) as above on a lake and warehouse holding 60 days",
        ),
    ]
    # Unrecorded: each warehouse's first build (incremental marts built whole over the history)
    # and each parse cache filled, as the first build after a deploy does.
    log("\ndbt build: first builds (unrecorded)")
    # The warm contenders' first builds also start the warm server and let it parse each project.
    interleaved([contenders[1], contenders[2], contenders[4], contenders[5]], 1, log)
    log(f"\ndbt build of {day}, {reps} interleaved rounds")
    runs = interleaved(contenders, reps, log)
    results = []
    for c in contenders:
        rs = runs[c.name]
        s = summarise(rs, seconds=lambda r: r.report["seconds"])
        nodes = statistics.median(r.report["nodes_s"] for r in rs)
        ratios = [r.report["seconds"] / r.report["nodes_s"] for r in rs]
        split = {
            k: round(statistics.median(r.report[k] for r in rs), 3)
            for k in ("import_s", "parse_s", "build_s")
            if all(k in r.report for r in rs)
        }
        results.append(
            {
                "name": c.name,
                "command": c.shown,
                **s,
                "nodes_median_s": round(nodes, 3),
                "x_nodes": round(statistics.median(ratios), 2),
                "nodes": rs[0].report["nodes"],
                **split,
            }
        )
    return {"day": day, "contenders": results}


# -- report ------------------------------------------------------------------------------------


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        "# dagspec benchmarks",
        "",
        f"`{report['command']}` at {report['started']} (commit {m['commit']}).",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}; "
        f"PostgreSQL {m['postgres']} on loopback; Python {m['python']}, Node {m['node']}. "
        "Load average before/after: "
        f"{report['load_before']} / {report['load_after']} (other work on the machine inflates wall times).",
        "",
        "Medians over interleaved rounds, each run a fresh process; peak RSS is that process's own.",
        "",
    ]
    for section in report.get("extract", []):
        lines += [
            f"## Extract: {section['rows']:,} orders of one day into Parquet",
            "",
            "| contender | runs | median s | min s | rows/s | x psql | peak RSS MiB "
            "| amount stored as | amounts exact |",
            "|---|---:|---:|---:|---:|---:|---:|---|---|",
        ]
        for c in section["contenders"]:
            exact = {True: "yes", False: "**no**"}.get(c.get("amount_sum_exact"), "n/a")
            lines.append(
                f"| {c['name']} | {c['runs']} | {c['median_s']:.2f} | {c['min_s']:.2f} "
                f"| {c['rows_per_s_median']:,} | {c['x_psql']:.2f} | {c['peak_rss_mib_median']:.0f} "
                f"| {c.get('amount_type', 'n/a')} | {exact} |"
            )
        lines += ["", "Commands:", ""]
        lines += [f"- {c['name']}: `{c['command']}`" for c in section["contenders"]]
        lines += [""]
    if report.get("extract"):
        lines += [
            "Seconds are each contender's own timing of connect + read + write (after its imports);",
            "psql's is its process wall. The query is the one dagspec's extract issues",
            "(test/bench/orders_source.py).",
            "",
        ]
    if "gen" in report:
        lines += [
            "## gen build (fresh process each run, TypeScript type check included)",
            "",
            "| what | runs | median s | min s | peak RSS MiB | command |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for c in report["gen"]["contenders"]:
            lines.append(
                f"| {c['name']} | {c['runs']} | {c['median_s']:.2f} | {c['min_s']:.2f} "
                f"| {c['peak_rss_mib_median']:.0f} | `{c['command']}` |"
            )
        lines += [""]
    if "users" in report:
        u = report["users"]
        lines += [
            f"## users per report day ({u['day']}, after {u['days']} days: {u['table_rows']:,} users)",
            "",
            "| how taken | runs | rows | lake MiB | median s | min s | peak RSS MiB | command |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for c in u["contenders"]:
            lines.append(
                f"| {c['name']} ({c['taken']}) | {c['runs']} | {c['rows']:,} | {c['bytes'] / 2**20:.2f} "
                f"| {c['median_s']:.2f} | {c['min_s']:.2f} | {c['peak_rss_mib_median']:.0f} "
                f"| `{c['command']}` |"
            )
        lines += [""]
    if "dbt" in report:
        lines += [
            f"## dbt build of one demo-sized day ({report['dbt']['day']}; fresh process each run)",
            "",
            "| contender | runs | median wall s | min s | nodes s | wall / nodes | import s | parse s "
            "| build s | peak RSS MiB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for c in report["dbt"]["contenders"]:
            split = " | ".join(f"{c[k]:.2f}" if k in c else "n/a" for k in ("import_s", "parse_s", "build_s"))
            lines.append(
                f"| {c['name']} | {c['runs']} | {c['median_s']:.2f} | {c['min_s']:.2f} "
                f"| {c['nodes_median_s']:.2f} | {c['x_nodes']:.2f} | {split} "
                f"| {c['peak_rss_mib_median']:.0f} |"
            )
        lines += ["", "Commands:", ""]
        lines += [f"- {c['name']}: `{c['command']}`" for c in report["dbt"]["contenders"]]
        lines += [
            "",
            "Wall is the build as the task waits for it; nodes is the sum of run_results.json's",
            "execution times; import/parse/build is the dbt process's own split (dbt_child; a warm",
            "build's import is 0: it was forked by a server that had imported dbt and parsed the project).",
            "",
        ]
    if "backfill" in report:
        lines += backfill_contenders.render(report["backfill"])
    lines += ["## Targets (issue 11)", ""] + [f"- {t}" for t in targets(report)] + [""]
    return "\n".join(lines)


def targets(report: dict[str, Any]) -> list[str]:
    out = []
    by_size = {s["rows"]: {c["name"]: c for c in s["contenders"]} for s in report.get("extract", [])}
    for rows, cs in sorted(by_size.items()):
        ours, adbc = cs["dagspec extract"], cs["ADBC fetch_arrow_table"]
        ok = ours["x_psql"] >= 0.6 and ours["rows_per_s_median"] > adbc["rows_per_s_median"]
        out.append(
            f"extract at {rows:,} rows: {ours['x_psql']:.2f}x psql (target >= 0.6), "
            f"{ours['rows_per_s_median'] / adbc['rows_per_s_median']:.2f}x ADBC (target > 1): "
            f"{'met' if ok else 'missed'}"
        )
    if len(by_size) >= 2:
        small, large = min(by_size), max(by_size)
        a, b = by_size[small]["dagspec extract"], by_size[large]["dagspec extract"]
        ratio = b["peak_rss_mib_median"] / a["peak_rss_mib_median"]
        out.append(
            f"extract peak RSS {large:,} / {small:,} rows: {b['peak_rss_mib_median']:.0f} / "
            f"{a['peak_rss_mib_median']:.0f} MiB = {ratio:.2f} (target <= 1.3): "
            f"{'met' if ratio <= 1.3 else 'missed'}"
        )
    if "users" in report:
        snap, hist = report["users"]["contenders"]
        out.append(
            f"users per day, history vs snapshot: {hist['bytes'] / snap['bytes']:.3f}x the lake bytes, "
            f"{hist['median_s'] / snap['median_s']:.2f}x the extract time, {hist['rows']:,} of "
            f"{snap['rows']:,} rows (target: grows with the day's changes, not the table): "
            f"{'met' if hist['bytes'] < 0.1 * snap['bytes'] else 'missed'}"
        )
    if "dbt" in report:
        cs = {c["name"]: c for c in report["dbt"]["contenders"]}
        now, before = cs["run_build, warm dbt server"], cs["dbt build CLI, full parse (before)"]
        out.append(
            f"dbt_build wall / sum of node times: {now['x_nodes']:.2f} (before: {before['x_nodes']:.2f}; "
            f"target <= 2): {'met' if now['x_nodes'] <= 2 else 'missed'}"
        )
        h60 = cs["run_build, warm dbt server, 60 days of history"]
        ratio = h60["median_s"] / now["median_s"]
        out.append(
            f"daily dbt time, 60 / 15 days of history: {h60['median_s']:.2f} / {now['median_s']:.2f} s "
            f"= {ratio:.2f} (target <= 1.25): {'met' if ratio <= 1.25 else 'missed'}"
        )
    if "backfill" in report:
        out.append(backfill_contenders.target(report["backfill"]))
    if "gen" in report:
        seed = report["gen"]["contenders"][0]
        out.append(
            f"gen build of the seed spec: median {seed['median_s']:.2f} s (target <= 1.5 s): "
            f"{'met' if seed['median_s'] <= 1.5 else 'missed'}"
        )
    return out


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--reps", type=int, default=5, help="interleaved rounds per comparison")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=["extract", "gen", "users", "dbt", "backfill"],
        default=["extract", "gen", "users", "dbt", "backfill"],
    )
    parser.add_argument(
        "--backfill-reps",
        type=int,
        default=1,
        help="interleaved rounds of the backfill comparison (each contender takes minutes)",
    )
    parser.add_argument(
        "--backfill-orders-per-day",
        type=int,
        default=100_000,
        help="orders a day of the backfill's demo source (npm run demo's default)",
    )
    parser.add_argument("--fresh", action="store_true", help="drop and re-seed the scratch databases")
    parser.add_argument(
        "--pandas-max-rows",
        type=int,
        default=10**12,
        help="run the pandas contender only up to this size (it needs minutes and GiBs at 5M rows)",
    )
    parser.add_argument(
        "--compare-gen",
        nargs="+",
        default=[],
        metavar="LABEL=CHECKOUT",
        help="also time `gen build --check` of another checkout of dagspec (with its node_modules)",
    )
    parser.add_argument(
        "--compare",
        nargs="+",
        default=[],
        metavar="LABEL=PATH",
        help="also run the extract of another dagspec_runtime (PATH: the folder holding the package)",
    )
    args = parser.parse_args()

    report: dict[str, Any] = {
        "command": "npm run bench -- " + " ".join(sys.argv[1:]) if sys.argv[1:] else "npm run bench",
        "started": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "load_before": load_average(),
    }
    with tempfile.TemporaryDirectory(prefix="dagspec-bench-") as tmp:
        scratch = Path(tmp)
        if "gen" in args.only:
            report["gen"] = gen_section(
                args.reps,
                scratch,
                [tuple(c.split("=", 1)) for c in args.compare_gen],  # type: ignore[misc]
            )
        if "dbt" in args.only:
            report["dbt"] = dbt_section(args.reps, scratch)
        if "extract" in args.only:
            compare = [tuple(c.split("=", 1)) for c in args.compare]
            report["extract"] = [
                extract_section(  # type: ignore[arg-type]
                    rows, args.reps, args.fresh, scratch, compare, rows <= args.pandas_max_rows
                )
                for rows in args.sizes
            ]
        if "users" in args.only:
            report["users"] = users_section(args.reps, scratch)
        if "backfill" in args.only:
            report["backfill"] = backfill_contenders.backfill_section(
                args.backfill_reps, scratch, log, args.backfill_orders_per_day
            )
    report["load_after"] = load_average()

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    md = render(report)
    (OUT / "bench.md").write_text(md)
    log("\n" + md)
    log(f"wrote {(OUT / 'bench.md').relative_to(REPO)} and bench.json")


if __name__ == "__main__":
    main()
